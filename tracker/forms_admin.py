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
from wtforms import Field, RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from tracker.models.people import ROLES
from tracker.services.accounts import ROLE_NAMES

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_UK = re.compile(r"^(\d{1,2})[/ .-](\d{1,2})[/ .-](\d{4})$")


def parse_date(text: str) -> date | None:
    """``2026-11-25`` (what a date input sends) or ``25/11/2026``; None if neither."""
    text = text.strip()
    if found := _ISO.match(text):
        year, month, day = (int(part) for part in found.groups())
    elif found := _UK.match(text):
        day, month, year = (int(part) for part in found.groups())
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
                                  "25/11/2026")


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
                           description="For example, 25/11/2026")
    date_to = DateFilter("Date to", widget=GovTextInput(), description="For example, 25/11/2026")

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
