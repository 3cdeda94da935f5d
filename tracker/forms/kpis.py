"""A KPI's value for a period, typed by its owner; a file of values, or police.uk files, to
import (admins).

Every form is Flask-WTF's (a CSRF token on each), drawn with GOV.UK Frontend widgets."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovFileInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from tracker.forms.common import typed_number


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


class KpiImportForm(FlaskForm):
    file = FileField("Upload a file", widget=GovFileInput(),
                     description="A CSV or XLSX file, up to 5 MB",
                     validators=[FileRequired("Select a CSV or XLSX file to import")])
    dry_run = BooleanField("Check the file only (nothing is saved)", widget=GovCheckboxInput())
    submit = SubmitField("Import values", widget=GovSubmitInput())


class PoliceImportForm(FlaskForm):
    files = MultipleFileField(
        "Upload data.police.uk files", widget=GovFileInput(multiple=True),
        description="One or more street-level crime CSV files, up to 200 MB in all",
        validators=[FileRequired("Select one or more police.uk CSV files to import")])
    dry_run = BooleanField("Check the files only (nothing is saved)", widget=GovCheckboxInput())
    submit = SubmitField("Import crime counts", widget=GovSubmitInput())
