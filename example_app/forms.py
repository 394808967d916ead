"""The portal's own forms (Flask-WTF). Labels and messages are message ids of texts.py."""

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

try:  # WTForms 3.3 names select options; older versions take (value, label) pairs
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover
    SelectChoice = None

MAX_AMOUNT = 10_000_000_000

DONATIONS = {
    "": "No donation this year",
    "menhely": "Mintaváros Animal Shelter Foundation",
    "mentok": "Mintaváros Ambulance Foundation",
    "tavak": "Friends of Lake Példa Association",
}

SCOPES = {
    "tax": "Tax matters",
    "health": "Health care",
    "vehicle": "Vehicles and driving licence",
    "all": "All matters",
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
            raise ValueError("Enter an amount in forints, digits only.")
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
        "Title",
        validators=[InputRequired("Write a title."), Length(3, 120, "Use 3 to 120 characters.")],
    )
    body = TextAreaField(
        "Message",
        validators=[
            InputRequired("Write your message."),
            Length(max=2000, message="Use at most 2000 characters."),
        ],
    )


class TaxReturnForm(FlaskForm):
    income = ForintField(
        "Income from employment (HUF)",
        validators=[
            InputRequired("Enter an amount in forints."),
            NumberRange(0, MAX_AMOUNT, "Enter an amount in forints."),
        ],
    )
    withheld = ForintField(
        "Tax advance withheld (HUF)",
        validators=[
            InputRequired("Enter an amount in forints."),
            NumberRange(0, MAX_AMOUNT, "Enter an amount in forints."),
        ],
    )
    donation = SelectField("1% donation", choices=choices(DONATIONS))
    declare = BooleanField(
        "I declare that the data above are true and complete.",
        validators=[DataRequired("Tick this box to submit the return.")],
    )


def _in_future(_form: FlaskForm, field: DateField) -> None:
    if field.data is None:
        return
    today = date.today()
    if field.data <= today:
        raise ValidationError("Choose a day after today.")
    if field.data > today + timedelta(days=5 * 366):
        raise ValidationError("A mandate can last at most five years.")


class MandateForm(FlaskForm):
    agent = StringField(
        "Name of the person you authorise",
        validators=[InputRequired("Enter a name."), Length(3, 100, "Use 3 to 100 characters.")],
    )
    scope = SelectField("Matters", choices=choices(SCOPES))
    valid_until = DateField(
        "Valid until",
        validators=[InputRequired("Enter a date."), _in_future],
        format="%Y-%m-%d",
    )


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
