"""Forms (Flask-WTF: every form carries a CSRF token), rendered with GOV.UK widgets."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovPasswordInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
               message="Enter an email address in the correct format, like name@example.org")



def typed_number(typed: str | None) -> float | None:
    """A number as people type it ("1,250", "42%", " 7 "); ``None`` if it is not one."""
    raw = (typed or "").strip().replace(",", "").rstrip("%").strip()
    try:
        return float(raw)
    except ValueError:
        return None


class SignInForm(FlaskForm):
    email = StringField("Email address", widget=GovTextInput(),
                        validators=[InputRequired("Enter your email address"), EMAIL,
                                    Length(max=320)])
    password = PasswordField("Password", widget=GovPasswordInput(),
                             validators=[InputRequired("Enter your password")])
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password", widget=GovPasswordInput(),
        description="At least 12 characters. Three random words make a good password.",
        validators=[InputRequired("Enter a new password")])
    confirm = PasswordField(
        "Confirm new password", widget=GovPasswordInput(),
        validators=[InputRequired("Enter the new password again"),
                    EqualTo("password", "The passwords do not match: enter the same password "
                            "twice")])
    submit = SubmitField("Set password", widget=GovSubmitInput())


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField("Current password", widget=GovPasswordInput(),
                            validators=[InputRequired("Enter your current password")])
    submit = SubmitField("Change password", widget=GovSubmitInput())


CODE_HINT = ("The 6-digit code your authenticator app shows now. If you cannot use the app, "
             "enter one of your recovery codes instead.")


def _code_field(label: str, hint: str, missing: str) -> StringField:
    return StringField(label, widget=GovTextInput(), description=hint,
                       validators=[InputRequired(missing), Length(max=40, message=(
                           "A code is 6 digits, and a recovery code 12 letters and numbers: "
                           "enter one of them"))])


class SecondFactorForm(FlaskForm):
    """A code from the app, or a recovery code: at sign-in, and before changing two-factor."""

    code = _code_field("Security code", CODE_HINT,
                       "Enter the 6-digit code from your authenticator app, or a recovery code")
    submit = SubmitField("Continue", widget=GovSubmitInput())


class SetUpTwoFactorForm(FlaskForm):
    code = _code_field("Code from the app", "The 6-digit code the app shows after you add "
                       "the tracker to it.", "Enter the 6-digit code your authenticator app "
                       "shows for the tracker")
    submit = SubmitField("Turn on two-factor authentication", widget=GovSubmitInput())


class SetUpAgainForm(SetUpTwoFactorForm):
    """Setting up on a new phone: a code from the current one (or a recovery code) first."""

    current = _code_field("Code from your current app, or a recovery code", CODE_HINT,
                          "Enter a code from the app you use now, or a recovery code")
    code = _code_field("Code from the new app", "The 6-digit code the new app shows after you "
                       "add the tracker to it.", "Enter the 6-digit code the new app shows "
                       "for the tracker")
    submit = SubmitField("Use the new app", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A button that changes something (sign out, lock a quarter): CSRF and nothing else."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


RAG_CHOICES = [
    SelectChoice("green", "Green: on track"),
    SelectChoice("amber", "Amber: some problems, recoverable"),
    SelectChoice("red", "Red: serious problems, off track"),
    SelectChoice("blue", "Complete: the action is finished"),
]
URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


class PercentField(IntegerField):
    """A whole-number percentage; '40%' and ' 40 ' are read as 40."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        raw = valuelist[0].strip().rstrip("%").strip()
        if not raw:
            self.data = None
            return
        try:
            self.data = int(raw)
        except ValueError:
            self.data = None
            raise ValueError("Enter how much of the action is complete as a whole number "
                             "from 0 to 100, like 40") from None


class UpdateForm(FlaskForm):
    """An owner's quarterly update. Text fields are generous: nothing typed is cut off."""

    rag = RadioField("How is the action going?", choices=RAG_CHOICES,
                     widget=GovRadioInput(),
                     validators=[InputRequired("Select how the action is going")])
    percent_complete = PercentField(
        "How much of the action is complete?", widget=GovTextInput(),
        description="A percentage from 0 to 100", default=None,
        validators=[InputRequired("Enter how much of the action is complete, from 0 to 100"),
                    NumberRange(0, 100, "Enter a percentage from 0 to 100")])
    narrative = TextAreaField(
        "Progress this quarter", widget=GovCharacterCount(),
        description="What was done, and what difference it made",
        validators=[DataRequired("Describe the progress this quarter"),
                    Length(max=5000, message="Progress must be 5,000 characters or fewer")])
    next_steps = TextAreaField("Next steps", widget=GovTextArea(),
                               validators=[Optional(), Length(max=5000)])
    risks = TextAreaField("Risks and issues", widget=GovTextArea(),
                          validators=[Optional(), Length(max=5000)])
    corrective_action = TextAreaField(
        "Corrective action", widget=GovTextArea(),
        description="Required when the action is Amber or Red: what is being done to recover",
        validators=[Length(max=5000)])
    is_concern = BooleanField("Escalate this as an area of concern to the board",
                              widget=GovCheckboxInput())
    concern_reason = TextAreaField("Why is this an area of concern?", widget=GovTextArea(),
                                   validators=[Length(max=5000)])
    evidence = TextAreaField("Evidence links", widget=GovTextArea(),
                             description="Optional. One web link per line, starting https://",
                             validators=[Length(max=5000)])
    milestones = SelectMultipleField("Milestones completed", widget=GovCheckboxesInput(),
                                     coerce=int, validators=[Optional()], validate_choice=False)
    confirm_lower = BooleanField("Yes, progress went down", widget=GovCheckboxInput())
    base_version = HiddenField()
    submit = SubmitField("Submit update", widget=GovSubmitInput())

    # the percentage the update last stood at, and where it says so ("your 2026/27 Q1
    # update"): a lower one is a slip of the keyboard as often as news, so it is confirmed
    lower_than: int | None = None
    lower_source: str = ""

    def expect_at_least(self, percent: int, source: str) -> None:
        self.lower_than, self.lower_source = percent, source

    def is_lower(self) -> bool:
        """Whether the percentage typed is below the one the update last stood at."""
        percent = self.percent_complete.data
        return (self.lower_than is not None and isinstance(percent, int)
                and percent < self.lower_than)

    def validate_percent_complete(self, field: PercentField) -> None:
        if field.errors or not self.is_lower() or self.confirm_lower.data:
            return
        raise ValidationError(
            f"{field.data}% is less than the {self.lower_than}% in {self.lower_source}: "
            "correct the percentage, or tick \u201cYes, progress went down\u201d")

    def validate_corrective_action(self, field: TextAreaField) -> None:
        if self.rag.data in ("amber", "red") and not (field.data or "").strip():
            colour = "Amber" if self.rag.data == "amber" else "Red"
            raise ValidationError(f"Enter the corrective action: it is required when the "
                                  f"action is {colour}")

    def validate_concern_reason(self, field: TextAreaField) -> None:
        if self.is_concern.data and not (field.data or "").strip():
            raise ValidationError("Enter why this is an area of concern")

    def validate_evidence(self, field: TextAreaField) -> None:
        for line in self.evidence_links():
            if not URL.match(line):
                raise ValidationError(f"'{line[:60]}' is not a web link: each line must start "
                                      "with https:// or http://")

    def evidence_links(self) -> list[str]:
        return [line.strip() for line in (self.evidence.data or "").splitlines()
                if line.strip()]


class ReviewForm(FlaskForm):
    decision = RadioField(
        "Your decision", choices=[SelectChoice("approve", "Approve: the board can see it"),
                                  SelectChoice("return", "Send it back to the owner")],
        widget=GovRadioInput(), validators=[InputRequired("Select approve or send back")])
    comment = TextAreaField("Comment", widget=GovTextArea(),
                            description="Required when you send the update back",
                            validators=[Length(max=5000)])
    submit = SubmitField("Save decision", widget=GovSubmitInput())

    def validate_comment(self, field: TextAreaField) -> None:
        if self.decision.data == "return" and not (field.data or "").strip():
            raise ValidationError("Enter what needs to change: a comment is required when "
                                  "you send an update back")


class ResolveForm(FlaskForm):
    note = TextAreaField(
        "How was it resolved?", widget=GovTextArea(),
        description="For example, what the board decided, or why it no longer needs the "
                    "board's attention. Everyone who can see the escalation will read this.",
        validators=[InputRequired("Enter how the escalation was resolved"), Length(max=5000)])
    submit = SubmitField("Resolve the escalation", widget=GovSubmitInput())


class LockForm(FlaskForm):
    note = TextAreaField("Note", widget=GovTextArea(), validators=[Optional(), Length(max=2000)])
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class KpiValueForm(FlaskForm):
    period = StringField("Period", widget=GovTextInput(),
                         validators=[InputRequired("Enter the period the value is for")])
    value = StringField("Value", widget=GovTextInput(),
                        validators=[InputRequired("Enter the value")])
    note = TextAreaField("Note", widget=GovTextArea(),
                         description="Optional. Say why, if this corrects an earlier value",
                         validators=[Length(max=2000)])
    data_source = StringField("Source", widget=GovTextInput(),
                              description="Where the figure comes from, e.g. the MPS crime "
                              "dashboard, extracted 3 October 2026",
                              validators=[Length(max=500)])
    # the newest value of the KPI when the form was drawn: one saved since is not overwritten
    # unseen
    seen = HiddenField()
    submit = SubmitField("Save value", widget=GovSubmitInput())

    def seen_id(self) -> int | None:
        raw = (self.seen.data or "").strip()
        return int(raw) if raw.isdigit() else None

    def number(self) -> float | None:
        return typed_number(self.value.data)


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
