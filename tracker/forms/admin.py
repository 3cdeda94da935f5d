"""The admin pages' forms: filters (GET, in the URL, no CSRF token) and the role change."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import Field, IntegerField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError

from tracker.models.people import ROLES
from tracker.services.accounts import ROLE_NAMES

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_UK = re.compile(r"^(\d{1,2})[/ .-](\d{1,2})[/ .-](\d{4})$")
_WORDS = re.compile(r"^(\d{1,2})\s+([a-z]+)\s+(\d{4})$", re.IGNORECASE)
MONTHS = {name: number for number, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"), start=1)}
DATE_EXAMPLE = "1/12/2026 or 2026-12-01"


def parse_date(text: str) -> date | None:
    """``2026-12-01`` (what a date input sends), ``1/12/2026`` or ``01/12/2026`` (day first),
    or ``1 December 2026`` (``1 Dec 2026``); None if it is none of those, or no real day."""
    text = text.strip()
    if found := _ISO.match(text):
        year, month, day = (int(part) for part in found.groups())
    elif found := _UK.match(text):
        day, month, year = (int(part) for part in found.groups())
    elif found := _WORDS.match(text):
        word = found.group(2).lower()
        months = [n for name, n in MONTHS.items() if len(word) >= 3 and name.startswith(word)]
        if len(months) != 1:
            return None
        day, month, year = int(found.group(1)), months[0], int(found.group(3))
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


class DateFilter(StringField):
    """A date typed or picked; ``.date`` holds it once the form has validated."""

    date: date | None = None

    def pre_validate(self, form: Any) -> None:
        self.date = None
        text = (self.data or "").strip()
        if not text:
            return
        self.date = parse_date(text)
        if self.date is None:
            raise ValidationError(f"{self.label.text} must be a real date, for example "
                                  f"{DATE_EXAMPLE}")


class FilterForm(FlaskForm):
    """A GET form: its values live in the URL, so a filtered page can be bookmarked.

    The template draws its button without a name, so the URL holds the filters alone.
    """

    class Meta:
        csrf = False

    def __init__(self, formdata: Any, **kwargs: Any) -> None:
        super().__init__(formdata=formdata, **kwargs)


class AuditFilterForm(FilterForm):
    actor = StringField("Who", widget=GovTextInput(),
                        description="Part of their email address, or \u201ccommand line\u201d",
                        validators=[Length(max=320)])
    action = SelectField("What", widget=GovSelect(), validate_choice=False)
    object_type = SelectField("Kind of item", widget=GovSelect(), validate_choice=False)
    object_ref = StringField("Item", widget=GovTextInput(),
                             description="Part of its reference, for example SKP-001, 2.c or "
                                         "an email address",
                             validators=[Length(max=300)])
    date_from = DateFilter("Date from", widget=GovTextInput(),
                           description=f"For example, {DATE_EXAMPLE}")
    date_to = DateFilter("Date to", widget=GovTextInput(),
                         description=f"For example, {DATE_EXAMPLE}")

    def set_choices(self, actions: list[str], object_types: list[str]) -> None:
        for select, values, anything in ((self.action, actions, "Any action"),
                                         (self.object_type, object_types, "Any kind")):
            chosen = select.data or ""
            if chosen and chosen not in values:
                values = sorted([*values, chosen])  # still shown: the URL asked for it
            select.choices = [SelectChoice("", anything)] + [SelectChoice(v, v) for v in values]

    def validate_date_to(self, field: Field) -> None:
        start, end = self.date_from.date, self.date_to.date
        if start and end and end < start:
            raise ValidationError("Date to must be the same as or after date from")


class UsersFilterForm(FilterForm):
    role = SelectField("Role", widget=GovSelect(),
                       choices=[SelectChoice("", "All roles")]
                       + [SelectChoice(role, ROLE_NAMES[role]) for role in ROLES],
                       validate_choice=False)

    @property
    def chosen_role(self) -> str | None:
        return self.role.data if self.role.data in ROLES else None


class RoleForm(FlaskForm):
    role = RadioField("Role", widget=GovRadioInput(),
                      choices=[SelectChoice(role, ROLE_NAMES[role]) for role in ROLES],
                      validators=[InputRequired("Select a role")])
    submit = SubmitField("Change role", widget=GovSubmitInput())


class SecurityFilterForm(FilterForm):
    kind = SelectField("What", widget=GovSelect(), validate_choice=False)
    account = StringField("Account", widget=GovTextInput(),
                          description="Part of its email address",
                          validators=[Length(max=320, message="Account must be 320 "
                                             "characters or fewer")])
    source = StringField("From address", widget=GovTextInput(),
                         description="The whole address, for example 203.0.113.9",
                         validators=[Length(max=64, message="From address must be 64 "
                                            "characters or fewer")])

    def set_kinds(self, kinds: dict[str, str]) -> None:
        self.kind.choices = [SelectChoice("", "Anything")] + [
            SelectChoice(value, label) for value, label in kinds.items()]

    def validate_kind(self, field: Field) -> None:
        if field.data and field.data not in dict(
                (c.value, c.label) for c in field.choices or []):
            raise ValidationError("Choose what kind of event to show from the list")


class DaysField(IntegerField):
    """A whole number of days; anything else is refused saying what to enter."""

    def process_formdata(self, valuelist: list[str]) -> None:
        raw = valuelist[0].strip() if valuelist else ""
        if not raw:
            self.data = None
            return
        try:
            self.data = int(raw)
        except ValueError:
            self.data = None
            raise ValueError("Enter how many days the token lasts as a whole number, from "
                             "1 to 366") from None


class ApiTokenForm(FlaskForm):
    """A new API token: what it is for, and how many days until it expires."""

    purpose = StringField("What the token is for", widget=GovTextInput(),
                          description="For example: Power BI board report. Shown in the list "
                                      "of tokens and the audit trail.",
                          validators=[InputRequired("Enter what the token is for"),
                                      Length(max=200, message="What the token is for must "
                                             "be 200 characters or fewer")])
    days = DaysField("Expires in (days)", widget=GovTextInput(), default=90,
                        description="From 1 to 366 days: make a new token before it expires",
                        validators=[InputRequired("Enter how many days the token lasts, "
                                                  "from 1 to 366"),
                                    NumberRange(min=1, max=366, message="A token lasts from "
                                                "1 to 366 days")])
    submit = SubmitField("Make token", widget=GovSubmitInput())
