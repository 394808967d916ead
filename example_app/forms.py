"""The portal's own forms (Flask-WTF). Labels and messages are lazy texts of the portal's
domain: a form class is built once, and each request shows them in its own language."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import TextInput

from .i18n import gettext
from .i18n import lazy_gettext as _l

try:  # WTForms 3.3 names select options; older versions take (value, label) pairs
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover
    SelectChoice = None

MAX_AMOUNT = 10_000_000_000

DONATIONS = {
    "": _l("No donation this year"),
    "menhely": _l("Mintaváros Animal Shelter Foundation"),
    "mentok": _l("Mintaváros Ambulance Foundation"),
    "tavak": _l("Friends of Lake Példa Association"),
}

SCOPES = {
    "tax": _l("Tax matters"),
    "health": _l("Health care"),
    "vehicle": _l("Vehicles and driving licence"),
    "all": _l("All matters"),
}


def choices(options: dict[str, str]) -> list[Any]:
    """``SelectField`` choices from ``{value: label}``."""
    if SelectChoice is None:  # pragma: no cover
        return list(options.items())
    return [SelectChoice(value=value, label=label) for value, label in options.items()]


class ForintField(IntegerField):
    """An amount in forints; ``6 240 000``, ``6.240.000`` and ``6240000 Ft`` all work."""

    widget = TextInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        text = str(valuelist[0]).replace("Ft", "").replace("HUF", "")
        digits = "".join(ch for ch in text if not ch.isspace() and ch not in ".,")
        if not digits.isdigit():
            self.data = None
            raise ValueError(gettext("Enter an amount in forints, digits only."))
        self.data = int(digits)

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:  # not a number: one message is enough
            raise StopValidation()

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return f"{self.data:,}".replace(",", " ") if self.data is not None else ""


class PostForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[
            InputRequired(_l("Write a title.")),
            Length(3, 120, _l("Use 3 to 120 characters.")),
        ],
    )
    body = TextAreaField(
        _l("Message"),
        validators=[
            InputRequired(_l("Write your message.")),
            Length(max=2000, message=_l("Use at most 2000 characters.")),
        ],
    )


class TaxReturnForm(FlaskForm):
    income = ForintField(
        _l("Income from employment (HUF)"),
        validators=[
            InputRequired(_l("Enter an amount in forints.")),
            NumberRange(0, MAX_AMOUNT, _l("Enter an amount in forints.")),
        ],
    )
    withheld = ForintField(
        _l("Tax advance withheld (HUF)"),
        validators=[
            InputRequired(_l("Enter an amount in forints.")),
            NumberRange(0, MAX_AMOUNT, _l("Enter an amount in forints.")),
        ],
    )
    # "1%" is a value, not text: gettext would take the "% d" of "1% donation" for a placeholder
    donation = SelectField(_l("%(share)s donation", share="1%"), choices=choices(DONATIONS))
    declare = BooleanField(
        _l("I declare that the data above are true and complete."),
        validators=[DataRequired(_l("Tick this box to submit the return."))],
    )


def _in_future(_form: FlaskForm, field: DateField) -> None:
    if field.data is None:
        return
    today = date.today()
    if field.data <= today:
        raise ValidationError(gettext("Choose a day after today."))
    if field.data > today + timedelta(days=5 * 366):
        raise ValidationError(gettext("A mandate can last at most five years."))


class MandateForm(FlaskForm):
    agent = StringField(
        _l("Name of the person you authorise"),
        validators=[
            InputRequired(_l("Enter a name.")),
            Length(3, 100, _l("Use 3 to 100 characters.")),
        ],
    )
    scope = SelectField(_l("Matters"), choices=choices(SCOPES))
    valid_until = DateField(
        _l("Valid until"),
        validators=[InputRequired(_l("Enter a date.")), _in_future],
        format="%Y-%m-%d",
    )


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
