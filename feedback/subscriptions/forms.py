from __future__ import annotations

from collections.abc import Collection

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import (
    BooleanField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Optional

try:  # wtforms 3.3 deprecates (value, label) tuples in favour of SelectChoice
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older wtforms
    SelectChoice = None

from feedback.core.languages import display_name, enabled_languages, language_options
from feedback.extensions import db
from feedback.subscriptions.models import CADENCE_LABELS
from feedback.translation.display import content_choices


def as_choices(pairs) -> list:
    """(value, label) pairs in the form this wtforms version prefers."""
    if SelectChoice is None:
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]


CADENCE_CHOICES = as_choices((c.value, label) for c, label in CADENCE_LABELS.items())
WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
            _l("Saturday"), _l("Sunday"))


def _term_choices(kind) -> list:
    from feedback.updates.models import Term

    rows = db.session.execute(select(Term.slug, Term.name).where(Term.kind == kind)
                              .order_by(Term.name)).all()
    return content_choices((row.slug, row.name) for row in rows)


def topic_choices() -> list:
    """Topics used by updates (matched by slug)."""
    from feedback.updates.models import TermKind

    return _term_choices(TermKind.TOPIC)


def area_choices() -> list:
    from feedback.updates.models import TermKind

    return _term_choices(TermKind.AREA)


def organisation_choices() -> list[tuple[str, str]]:
    from feedback.organisations.models import Organisation, OrganisationKind

    rows = db.session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.kind == OrganisationKind.NHS).order_by(Organisation.name)).all()
    return content_choices((str(row.id), row.name) for row in rows)


def language_choices(only: Collection[str] | None = None) -> list:
    """Each language by its own name, marked with its language (``lang`` on the option):
    the site's languages, or those of them in ``only``."""
    return language_options([language for language in enabled_languages()
                             if only is None or language.code in only])


class FilterFields:
    """Topics, areas and organisations, filled with choices when the form is made."""

    def fill_choices(self) -> None:
        self.topics.choices = topic_choices()
        self.areas.choices = area_choices()
        self.organisation_ids.choices = organisation_choices()
        self.language.choices = language_choices()


class SubscribeForm(FilterFields, FlaskForm):
    email = StringField(_l("Email address"), validators=[DataRequired(_l(
        "Enter your email address"))])
    language = SelectField(_l("Language"), validate_choice=False)
    cadence = RadioField(_l("How often"), default="weekly",
                         choices=CADENCE_CHOICES)
    topics = SelectMultipleField(_l("Topics (optional)"), validate_choice=False)
    areas = SelectMultipleField(_l("Areas (optional)"), validate_choice=False)
    organisation_ids = SelectMultipleField(_l("Organisations (optional)"),
                                           validate_choice=False)
    phone = StringField(_l("Mobile number for text messages (optional)"),
                        validators=[Optional()])


class PreferencesForm(FilterFields, FlaskForm):
    name = StringField(_l("Your name (optional)"), validators=[Optional()])
    language = SelectField(_l("Language"), validate_choice=False)
    cadence = RadioField(_l("How often"),
                         choices=CADENCE_CHOICES)
    topics = SelectMultipleField(_l("Topics (optional)"), validate_choice=False)
    areas = SelectMultipleField(_l("Areas (optional)"), validate_choice=False)
    organisation_ids = SelectMultipleField(_l("Organisations (optional)"),
                                           validate_choice=False)
    resubscribe = BooleanField(_l("Start sending me updates again"))


class NewsletterForm(FlaskForm):
    name = StringField(_l("Newsletter name"))
    intro = TextAreaField(_l("Introduction (Markdown, optional)"))
    outro = TextAreaField(_l("Closing words (Markdown, optional)"))
    sender_name = StringField(_l("Sender name"), description=_l(
        "Shown as who the email is from, for example your organisation's name"))
    languages = SelectMultipleField(_l("Languages"), validate_choice=False)
    topics = SelectMultipleField(_l("Only these topics (optional)"), validate_choice=False)
    areas = SelectMultipleField(_l("Only these areas (optional)"), validate_choice=False)
    organisation_ids = SelectMultipleField(_l("Only these organisations (optional)"),
                                           validate_choice=False)
    cadence = RadioField(_l("How often"), default="weekly",
                         choices=CADENCE_CHOICES)
    send_weekday = SelectField(_l("Day (weekly newsletters)"), default="0",
                               choices=as_choices((str(i), day) for i, day in enumerate(WEEKDAYS)))
    send_hour = SelectField(_l("Time (UK time)"), default="9",
                            choices=as_choices((str(h), f"{h:02d}:00") for h in range(24)))
    paused = BooleanField(_l("Pause the newsletter"))
    send_when_empty = BooleanField(_l("Send even when there is nothing new"))
    allow_machine_translation = BooleanField(
        _l("Use machine translations that nobody has checked yet, labelled as such"),
        description=_l("Leave this off to send only translations a person has checked. "
                       "Text without a checked translation is then sent in English with a "
                       "note saying a checked translation is coming."))

    def fill_choices(self) -> None:
        self.languages.choices = [(language.code, display_name(language))
                                  for language in enabled_languages()]
        self.topics.choices = topic_choices()
        self.areas.choices = area_choices()
        self.organisation_ids.choices = organisation_choices()


class ContactForm(FlaskForm):
    # Own ids: this form shares a page with the settings and import forms.
    email = StringField(_l("Email address"), id="contact-email")
    phone = StringField(_l("Mobile number for text messages (optional)"), id="contact-phone",
                        description=_l("Give a mobile number only for someone with no email "
                                       "address: they get the newsletter by text message."))
    name = StringField(_l("Name (optional)"), id="contact-name")
    language = SelectField(_l("Language"), validate_choice=False, id="contact-language")
    attested = BooleanField(_l("This person has already agreed to hear from us"),
                            id="contact-attested")
    basis = TextAreaField(_l("How they agreed (needed if you tick the box above)"),
                          id="contact-basis")


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file: email, name (optional), language (optional), mobile "
                        "number (optional; needed when there is no email address)"),
                     id="import-file")
    attested = BooleanField(_l("Everyone in this file has already agreed to hear from us"),
                            id="import-attested")
    basis = TextAreaField(_l("How they agreed (needed if you tick the box above)"),
                          id="import-basis")


class AudienceForm(FlaskForm):
    name = StringField(_l("Audience name"), id="audience-name", description=_l(
        "For example “Women's group, Urdu” or “Youth, English”"))


class MoveContactForm(FlaskForm):
    audience_id = SelectField(_l("Move to"), validate_choice=False, id="move-audience")
