from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from feedback.accounts.models import DISPLAY_NAME_MAX, EMAIL_MAX, OrgRole


class SignInForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(_l("Enter your email address")),
                    Length(max=EMAIL_MAX, message=_l("Email address must be 254 characters "
                                                     "or fewer"))],
    )
    next = HiddenField()


class ProfileForm(FlaskForm):
    display_name = StringField(
        _l("Display name"),
        description=_l("This is the only name others see. Do not use your real name if you "
                       "would rather not."),
        validators=[DataRequired(_l("Enter a display name")),
                    Length(max=DISPLAY_NAME_MAX, message=_l("Display name must be 60 "
                                                            "characters or fewer"))],
    )
    language = SelectField(_l("Language"), choices=[])


class DeleteAccountForm(FlaskForm):
    confirm = BooleanField(
        _l("I understand that my email address and display name will be deleted"),
        validators=[InputRequired(_l("Confirm that you want to delete your account"))],
    )


class InviteForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(_l("Enter the email address of the person to invite")),
                    Length(max=EMAIL_MAX, message=_l("Email address must be 254 characters "
                                                     "or fewer"))],
    )
    role = RadioField(
        _l("Role"),
        choices=[SelectChoice(OrgRole.EDITOR.value, _l("Editor: can add and change content")),
                 SelectChoice(OrgRole.ADMIN.value,
                              _l("Organisation admin: can also manage members"))],
        default=OrgRole.EDITOR.value,
        validators=[InputRequired(_l("Choose a role"))],
    )


class MemberRoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[SelectChoice(OrgRole.EDITOR.value, _l("Editor")),
                                            SelectChoice(OrgRole.ADMIN.value,
                                                         _l("Organisation admin"))])
