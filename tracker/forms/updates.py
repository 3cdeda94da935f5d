"""Quarterly updates, their review, a quarter's lock, and resolving an escalation.

Every form is Flask-WTF's (a CSRF token on each), drawn with GOV.UK Frontend widgets."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

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
