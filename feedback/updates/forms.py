from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from feedback.updates.models import (
    ANSWER_MAX,
    BODY_MAX,
    KIND_LABELS,
    OPT_OUT_LABELS,
    QUESTION_MAX,
    REASON_MAX,
    REPORT_REASON_LABELS,
    SUMMARY_MAX,
    TITLE_MAX,
)


def _too_long(label, limit: int) -> Length:
    return Length(max=limit, message=_l("%(label)s must be %(limit)s characters or fewer",
                                        label=label, limit=f"{limit:,}"))


def _split_names(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class UpdateForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Enter a title")),
                                                 _too_long(_l("Title"), TITLE_MAX)])
    summary = TextAreaField(
        _l("Summary"), description=_l("In plain English, at most 300 characters. It is shown "
                                      "in lists and digests. Aim for a reading age of 9 to 11."),
        validators=[DataRequired(_l("Enter a summary")), _too_long(_l("Summary"), SUMMARY_MAX)])
    kind = RadioField(_l("What kind of update is this?"),
                      choices=[SelectChoice(kind.value, label)
                               for kind, label in KIND_LABELS.items()],
                      validators=[DataRequired(_l("Choose what kind of update this is"))])
    body = TextAreaField(_l("The full story"),
                         description=_l("What data was used and what you found. You can use "
                                        "Markdown: ## headings, **bold**, lists and links."),
                         validators=[_too_long(_l("The full story"), BODY_MAX)])
    what_changed = TextAreaField(_l("What changed"))
    who_benefits = TextAreaField(_l("Who benefits"))
    datasets = SelectMultipleField(_l("Datasets used"), choices=[], validate_choice=False,
                                   description=_l("Choose at least one"))
    services = SelectMultipleField(_l("Services affected"), choices=[],
                                   validate_choice=False)
    topics = SelectMultipleField(_l("Topics"), choices=[], validate_choice=False,
                                 description=_l("Choose from the list that moderators keep"))
    new_topics = StringField(
        _l("Suggest a topic that is not on the list (optional)"),
        description=_l("Separate them with commas. Moderators check each new topic before "
                       "readers see it."))
    areas = StringField(_l("Areas"), description=_l("For example: Birmingham, Solihull"))
    community_tags = StringField(
        _l("Who this is for"), description=_l("In your own words, separated by commas, for "
                                              "example: Black Caribbean families, young "
                                              "carers"))
    evidence_links = TextAreaField(
        _l("Evidence links"), description=_l("One a line: a title, a | and the web address, "
                                             "for example: Audit report | https://..."))
    purpose = TextAreaField(_l("Purpose of the data use"))
    legal_basis = TextAreaField(_l("Legal basis"),
                                description=_l("For example: direct care, or section 251 "
                                               "support"))
    opt_out_applied = RadioField(_l("Were national data opt-outs applied?"),
                                 choices=[SelectChoice(k.value, label) for k, label in
                                          OPT_OUT_LABELS.items()],
                                 default="not_applicable")
    content_checked_on = StringField(_l("Content checked on (optional)"))
    next_check_due = StringField(_l("Next check due (optional)"))
    answers_priority_id = SelectField(
        _l("Research priority this answers (optional)"), choices=[], validate_choice=False,
        description=_l("People following that priority are emailed when this is published"))
    change_note = TextAreaField(
        _l("What changed in this edit"),
        description=_l("Shown publicly as \"Updated on ...\", so readers can see every edit"),
        validators=[_too_long(_l("What changed in this edit"), REASON_MAX)])

    def service_data(self) -> dict[str, Any]:
        """The form's answers in the shape the update services read."""
        names = ("title", "summary", "kind", "body", "what_changed", "who_benefits",
                 "datasets", "services", "topics", "areas", "community_tags",
                 "evidence_links", "purpose", "legal_basis", "opt_out_applied",
                 "content_checked_on", "next_check_due", "answers_priority_id")
        data = {name: getattr(self, name).data for name in names}
        data["topics"] = [*(self.topics.data or []), *_split_names(self.new_topics.data)]
        return data


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Why are you withdrawing this update?"),
                           description=_l("This is shown publicly on the update page"),
                           validators=[DataRequired(_l("Enter the reason")),
                                       _too_long(_l("The reason"), REASON_MAX)])


class QuestionForm(FlaskForm):
    body = TextAreaField(_l("Ask a question about this update"),
                         description=_l("A moderator checks questions before they are shown. "
                                        "Do not include personal or health details."),
                         validators=[DataRequired(_l("Enter your question")),
                                     _too_long(_l("Your question"), QUESTION_MAX)])


class AnswerForm(FlaskForm):
    body = TextAreaField(_l("Your answer"),
                         validators=[DataRequired(_l("Enter your answer")),
                                     _too_long(_l("Your answer"), ANSWER_MAX)])


class ReportForm(FlaskForm):
    reason = SelectField(_l("Why are you reporting this?"),
                         choices=[SelectChoice(r.value, label)
                                  for r, label in REPORT_REASON_LABELS.items()])


class FollowForm(FlaskForm):
    target_type = HiddenField()
    target_id = HiddenField()
    next = HiddenField()
