"""Change requests: a revised due date or KPI target, and the decision on one.

Every form is Flask-WTF's (a CSRF token on each), drawn with GOV.UK Frontend widgets."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovDateInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import Field, RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, StopValidation, ValidationError

from tracker.forms.common import typed_number

# -- change requests (revised due dates and KPI targets) ------------------------------------


class DayMonthYearField(Field):
    """A date typed as day, month and year (GOV.UK's date input), with GOV.UK's messages:
    "... must include a month", "... must be a real date"."""

    widget = GovDateInput()

    def __init__(self, label: str | None = None, validators: Any = None, *,
                 noun: str = "The date", **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.noun = noun
        self.problem: str | None = None

    def _value(self) -> str:
        return ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        parts = [str(value).strip() for value in valuelist[:3]]
        parts += [""] * (3 - len(parts))
        self.raw_data = parts  # always day, month and year: the widget shows them back
        self.data, self.problem = None, None
        if not any(parts):
            return
        missing = [name for name, part in zip(("day", "month", "year"), parts, strict=True)
                   if not part]
        if missing:
            self.problem = f"{self.noun} must include a {' and a '.join(missing)}"
            return
        if not all(part.isdigit() for part in parts):
            self.problem = f"{self.noun} must be a real date, in numbers, like 31 3 2027"
            return
        if len(parts[2]) != 4:
            self.problem = f"{self.noun}'s year must include 4 numbers, like 2027"
            return
        try:
            self.data = date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            self.problem = f"{self.noun} must be a real date"

    def pre_validate(self, form: Any) -> None:
        if self.problem:
            raise StopValidation(self.problem)


class ChangeDueDateForm(FlaskForm):
    """Ask for a revised due date: the action's, or one of its milestones'."""

    item = RadioField("Which date do you want to change?", widget=GovRadioInput(),
                      validate_choice=False,
                      validators=[InputRequired("Choose which date you want to change")])
    new_date = DayMonthYearField(
        "Revised due date", noun="The revised due date",
        description="For example, 31 3 2027",
        validators=[InputRequired("Enter the revised due date")])
    reason = TextAreaField(
        "Why is the change needed?", widget=GovCharacterCount(),
        description="Whoever decides reads this. Say what has changed and what the new date "
                    "depends on.",
        validators=[DataRequired("Enter why the change is needed"),
                    Length(max=5000, message="The reason must be 5,000 characters or fewer")])
    submit = SubmitField("Send the request", widget=GovSubmitInput())


class ChangeTargetForm(FlaskForm):
    """Ask for a revised KPI target: one year's, or the whole plan's."""

    period = RadioField("Which target do you want to change?", widget=GovRadioInput(),
                        validate_choice=False,
                        validators=[InputRequired("Choose which target you want to change")])
    value = StringField("Revised target", widget=GovTextInput(),
                        validators=[InputRequired("Enter the revised target")])
    reason = TextAreaField(
        "Why is the change needed?", widget=GovCharacterCount(),
        description="Whoever decides reads this. Say what has changed since the target was "
                    "set.",
        validators=[DataRequired("Enter why the change is needed"),
                    Length(max=5000, message="The reason must be 5,000 characters or fewer")])
    submit = SubmitField("Send the request", widget=GovSubmitInput())

    def number(self) -> float | None:
        return typed_number(self.value.data)


class ChangeDecisionForm(FlaskForm):
    decision = RadioField(
        "Your decision",
        choices=[SelectChoice("approve", "Approve: the revised date or target counts from now"),
                 SelectChoice("decline", "Decline: the current one stays")],
        widget=GovRadioInput(), validators=[InputRequired("Choose approve or decline")])
    comment = TextAreaField("Comment", widget=GovTextArea(),
                            description="Required when you decline: the person who asked "
                                        "reads it",
                            validators=[Length(max=5000, message="The comment must be 5,000 "
                                               "characters or fewer")])
    submit = SubmitField("Save decision", widget=GovSubmitInput())

    def validate_comment(self, field: TextAreaField) -> None:
        if self.decision.data == "decline" and not (field.data or "").strip():
            raise ValidationError("Enter why the request is declined")
