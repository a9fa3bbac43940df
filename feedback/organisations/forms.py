from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from feedback.organisations.models import (
    AREA_MAX,
    DESCRIPTION_MAX,
    KIND_LABELS,
    NAME_MAX,
    URL_MAX,
)


def _too_long(label: str, limit: int) -> Length:
    return Length(max=limit, message=_l("%(label)s must be %(limit)s characters or fewer",
                                        label=label, limit=f"{limit:,}"))


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name")),
                                               _too_long(_l("Name"), NAME_MAX)])
    kind = RadioField(_l("Kind of organisation"),
                      choices=[SelectChoice(kind.value, label)
                               for kind, label in KIND_LABELS.items()],
                      validators=[DataRequired(_l("Choose what kind of organisation this is"))])
    ods_code = StringField(_l("ODS code (optional)"),
                           description=_l("For NHS organisations, for example RJ1"),
                           validators=[Optional(), _too_long(_l("ODS code"), 10)])
    area = StringField(_l("Area"), description=_l("For example Birmingham, or North West "
                                                  "London"),
                       validators=[_too_long(_l("Area"), AREA_MAX)])
    website = URLField(_l("Website (optional)"), validators=[Optional(),
                                                             _too_long(_l("Website"), URL_MAX)])
    description = TextAreaField(_l("Description"),
                                validators=[_too_long(_l("Description"), DESCRIPTION_MAX)])


class DatasetForm(FlaskForm):
    name = StringField(_l("Dataset name"), validators=[DataRequired(_l("Enter the dataset name")),
                                                       _too_long(_l("Dataset name"), NAME_MAX)])
    custodian_id = SelectField(_l("Custodian organisation"), choices=[], validate_choice=False,
                               description=_l("The organisation responsible for the data"))
    custodian_name = StringField(_l("Or the custodian's name, if it is not listed"),
                                 validators=[_too_long(_l("Custodian name"), NAME_MAX)])
    description = TextAreaField(_l("What information it holds"),
                                validators=[_too_long(_l("Description"), DESCRIPTION_MAX)])
    link = URLField(_l("Link to more information (optional)"),
                    validators=[Optional(), _too_long(_l("Link"), URL_MAX)])


class ServiceForm(FlaskForm):
    name = StringField(_l("Service name"), validators=[DataRequired(_l("Enter the service name")),
                                                       _too_long(_l("Service name"), NAME_MAX)])
    area = StringField(_l("Area"), validators=[_too_long(_l("Area"), AREA_MAX)])
    description = TextAreaField(_l("Description"),
                                validators=[_too_long(_l("Description"), DESCRIPTION_MAX)])
