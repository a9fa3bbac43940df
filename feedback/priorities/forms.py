from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from feedback.priorities.identity import AGE_BANDS, ETHNICITY_LABELS
from feedback.priorities.models import (
    GROUP_LABELS,
    PHASE_LABELS,
    RESPONSE_LABELS,
    VOTING_METHOD_LABELS,
    SuggestionStatus,
)

try:  # WTForms 3.3 deprecates (value, label) tuples
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None

# Lengths are checked by the services, which reject over-long text with a message.


def choice_list(pairs) -> list:
    """Choices in the form this WTForms version wants."""
    if SelectChoice is None:
        return [(str(value), label) for value, label in pairs]
    return [SelectChoice(str(value), label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


GROUP_CHOICES = choice_list((g.value, label) for g, label in GROUP_LABELS.items())


VOTING_METHOD_CHOICES = [(m.value, label) for m, label in VOTING_METHOD_LABELS.items()]


class RoundForm(FlaskForm):
    organisation = SelectField(_l("Organisation running the round"), choices=[],
                               validate_choice=False)
    partners = MultiCheckboxField(
        _l("Invite other organisations to run it with you (optional)"),
        description=_l("Each is named on the round, and can help run it, only after one "
                       "of its admins accepts."), choices=[], validate_choice=False)
    title = StringField(_l("Title"), description=_l("For example: Sickle cell research "
                                                    "priorities 2026"))
    scope = TextAreaField(_l("The question the round asks, in plain English"),
                          description=_l("For example: What should research using patient "
                                         "data about sickle cell look at first?"))
    topics = StringField(_l("Topics (optional)"), description=_l("Separate them with commas"))
    area = StringField(_l("Area (optional)"), description=_l("For example: Birmingham"))
    groups = MultiCheckboxField(_l("Who is asked"), choices=GROUP_CHOICES,
                                validate_choice=False)
    voting_method = RadioField(_l("How people vote"), default="choose",
                               choices=choice_list(VOTING_METHOD_CHOICES),
                               validate_choice=False)
    max_choices = IntegerField(_l("N: how many priorities each person can choose or rank"),
                               default=3, validators=[Optional()])
    hide_counts = BooleanField(_l("Hide the counts until voting closes"), default=True)
    suggestions_open_at = DateField(_l("Suggestions open (optional)"), validators=[Optional()])
    review_at = DateField(_l("Suggestions close for review (optional)"),
                          validators=[Optional()])
    voting_opens_at = DateField(_l("Voting opens (optional)"), validators=[Optional()])
    voting_closes_at = DateField(_l("Voting closes (optional)"), validators=[Optional()])
    responses_at = DateField(_l("Responses due (optional)"), validators=[Optional()])


class PhaseForm(FlaskForm):
    phase = SelectField(_l("Move the round to"), validate_choice=False,
                        choices=choice_list((p.value, label) for p, label in PHASE_LABELS.items()))


class SuggestionForm(FlaskForm):
    question = TextAreaField(_l("Your question"),
                             description=_l("What would you like research using patient data "
                                            "to find out?"))
    why_it_matters = TextAreaField(_l("Why it matters to you or your community (optional)"))


class OnBehalfForm(SuggestionForm):
    event = StringField(_l("Where it was gathered"),
                        description=_l("For example: coffee morning, Handsworth community "
                                       "centre, 12 March"))


class ModerateForm(FlaskForm):
    status = RadioField(_l("Decision"), validate_choice=False, choices=choice_list([
        (SuggestionStatus.PUBLISHED.value, _l("Accept it")),
        (SuggestionStatus.OUT_OF_SCOPE.value, _l("Out of scope (give the reason)")),
        (SuggestionStatus.ANSWERED.value, _l("Already answered by research (give the "
                                             "reason)")),
        (SuggestionStatus.REMOVED.value, _l("Remove it (abusive or personal information)")),
    ]))
    reason = TextAreaField(_l("Public reason"))


class MergeForm(FlaskForm):
    into = SelectField(_l("Merge into"), choices=[], validate_choice=False)


class PriorityForm(FlaskForm):
    title = StringField(_l("Priority, as a question"))
    description = TextAreaField(_l("Plain-English description"))
    suggestions = MultiCheckboxField(_l("Suggestions it comes from"), choices=[],
                                     validate_choice=False)


class ShortlistForm(FlaskForm):
    priorities = MultiCheckboxField(_l("Priorities on the shortlist"), choices=[],
                                    validate_choice=False)
    note = TextAreaField(_l("What changed (optional)"))


class ChooseBallotForm(FlaskForm):
    choices = MultiCheckboxField(_l("Your choices"), choices=[], validate_choice=False)
    follow = BooleanField(_l("Email me when the organisations respond to the priorities I "
                             "chose"))


class CodeBallotForm(ChooseBallotForm):
    code = StringField(_l("Your ballot code"),
                       description=_l("It is on your code sheet, like ABCD-EFGH-JK23"))


class PaperBallotForm(ChooseBallotForm):
    reference = StringField(_l("Reference number printed on the paper"))
    location = StringField(_l("Where it was filled in"))
    filled_in_on = DateField(_l("Date it was filled in"), validators=[Optional()])
    code = StringField(_l("Ballot code written on the paper (optional)"))


def add_rank_fields(form_class: type, max_choices: int) -> type:
    """A ballot form with one select per place, for rank rounds."""
    ordinals = {1: _l("1st choice"), 2: _l("2nd choice"), 3: _l("3rd choice")}
    fields = {f"rank_{n}": SelectField(ordinals.get(n, _l("Choice %(n)s", n=n)), choices=[],
                                       validate_choice=False)
              for n in range(1, max_choices + 1)}
    return type(f"Ranked{form_class.__name__}", (form_class,), fields)


class CodeBatchForm(FlaskForm):
    size = IntegerField(_l("How many codes"), default=20, validators=[Optional()])
    label = StringField(_l("Label (optional)"), description=_l("For example: Handsworth "
                                                               "community day"))


class DescriptionForm(FlaskForm):
    ethnicity_text = StringField(_l("How would you describe your ethnicity? (optional)"),
                                 description=_l("In your own words"))
    ethnicity_options = MultiCheckboxField(_l("Or choose any that apply (optional)"),
                                           choices=choice_list(ETHNICITY_LABELS.items()),
                                           validate_choice=False)
    age_band = RadioField(_l("Age (optional)"), choices=choice_list((a, a) for a in AGE_BANDS),
                          validate_choice=False, validators=[Optional()])
    postcode_district = StringField(_l("First part of your postcode (optional)"),
                                    description=_l("Only the first part, like B15 or BD7"))
    group = RadioField(_l("Are you answering mainly as (optional)"), choices=GROUP_CHOICES,
                       validate_choice=False, validators=[Optional()])


class ResponseForm(FlaskForm):
    status = RadioField(_l("Response"), choices=choice_list((s.value, label) for s, label in
                                                            RESPONSE_LABELS.items()),
                        validate_choice=False)
    text = TextAreaField(_l("What will happen, and why"),
                         description=_l("If it is not being taken forward, say why."))


class HelpForm(FlaskForm):
    """A partner's offer to help collect a round's paper ballots."""
    organisation = SelectField(_l("Your organisation"), choices=[], validate_choice=False)
    note = TextAreaField(_l("How you could help (optional)"),
                         description=_l("For example: we run a coffee morning in Handsworth "
                                        "every Tuesday and can collect ballots there. Only "
                                        "the round's organisers see this."))
