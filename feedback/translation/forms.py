from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget


class ReviewForm(FlaskForm):
    text = TextAreaField(_l("Translation"))


class GrantForm(FlaskForm):
    user_id = SelectField(_l("Person"), choices=[], coerce=int)
    languages = SelectMultipleField(_l("Languages they will review"), choices=[],
                                    option_widget=CheckboxInput(),
                                    widget=ListWidget(prefix_label=False))
