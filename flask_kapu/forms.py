"""Flask-WTF forms of the HTML pages; the rules themselves live in the services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from .i18n import lazy_gettext as _l

__all__ = [
    "ActionForm",
    "ChangePasswordForm",
    "CloseAccountForm",
    "CodeEntryForm",
    "CodeForm",
    "EidCheckForm",
    "EidRegisterForm",
    "EmailEnrolForm",
    "ForgotForm",
    "LoginForm",
    "PluszCodeForm",
    "RegisterForm",
    "TotpEnrolForm",
    "UsernameForm",
]

_REQUIRED = _l("This field is required.")
_LONG = _l("This value is too long.")


def _text(label: object, max_length: int = 256) -> StringField:
    return StringField(
        label, validators=[InputRequired(_REQUIRED), Length(max=max_length, message=_LONG)]
    )


def _password(label: object) -> PasswordField:
    return PasswordField(
        label, validators=[InputRequired(_REQUIRED), Length(max=4096, message=_LONG)]
    )


class LoginForm(FlaskForm):
    username = _text(_l("Username"))
    password = _password(_l("Password"))


class UsernameForm(FlaskForm):
    """A new username for an imported account whose old one breaks the rules."""

    username = _text(_l("New username"))


class ActionForm(FlaskForm):
    """Only the CSRF token: for buttons that change state (log out, send a code, remove)."""


class CodeEntryForm(FlaskForm):
    """A second-factor code: six digits, or a recovery code."""

    code = _text(_l("Code"), 64)


class PluszCodeForm(CodeEntryForm):
    """A code on the step-up page; finishing a login, its owner may have the browser remembered."""

    remember_browser = BooleanField(_l("Remember this browser"))


class EmailEnrolForm(CodeEntryForm):
    """The mailed code; the current password too when it is the first factor of a login
    more than a few minutes old (the service decides)."""

    password = PasswordField(_l("Current password"), validators=[Length(max=4096, message=_LONG)])


class TotpEnrolForm(FlaskForm):
    label = StringField(
        _l("Name of this authenticator (optional)"), validators=[Length(max=64, message=_LONG)]
    )
    password = _password(_l("Current password"))
    code = _text(_l("Code shown by the app"), 64)


class RegisterForm(FlaskForm):
    username = _text(_l("Username"))
    email = EmailField(
        _l("E-mail address"), validators=[InputRequired(_REQUIRED), Length(max=254, message=_LONG)]
    )
    family_name = _text(_l("Family name"), 200)
    given_name = _text(_l("Given name"), 200)
    birth_date = DateField(
        _l("Date of birth"),
        validators=[DataRequired(_l("Enter a date in the past as YYYY-MM-DD."))],
    )
    accept_terms = BooleanField(
        _l("I accept the terms of use"),
        validators=[DataRequired(_l("You must accept the terms of use."))],
    )


class EidCheckForm(FlaskForm):
    document_id = _text(_l("Document ID"), 32)
    registration_code = _text(_l("Registration code"), 32)


class EidRegisterForm(FlaskForm):
    token = HiddenField(validators=[InputRequired(_REQUIRED), Length(max=4096)])
    username = _text(_l("Username"))
    email = EmailField(
        _l("E-mail address"), validators=[InputRequired(_REQUIRED), Length(max=254, message=_LONG)]
    )
    accept_terms = BooleanField(
        _l("I accept the terms of use"),
        validators=[DataRequired(_l("You must accept the terms of use."))],
    )


class CodeForm(FlaskForm):
    """Activation and password reset: username, the mailed code, a new password."""

    username = _text(_l("Username"))
    code = _text(_l("Code from the e-mail"), 64)
    new_password = _password(_l("New password"))
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            InputRequired(_REQUIRED),
            EqualTo("new_password", _l("The two passwords differ.")),
        ],
    )


class ForgotForm(FlaskForm):
    username = _text(_l("Username"))
    email = EmailField(
        _l("E-mail address"), validators=[InputRequired(_REQUIRED), Length(max=254, message=_LONG)]
    )


class ChangePasswordForm(FlaskForm):
    current_password = _password(_l("Current password"))
    new_password = _password(_l("New password"))
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            InputRequired(_REQUIRED),
            EqualTo("new_password", _l("The two passwords differ.")),
        ],
    )


class CloseAccountForm(FlaskForm):
    """Closing the account: an explicit yes; the current password too when the account has
    no second factor and its login is more than a few minutes old (the service decides)."""

    confirm = BooleanField(
        _l("I understand that closing my account cannot be undone"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
    password = PasswordField(_l("Current password"), validators=[Length(max=4096, message=_LONG)])
