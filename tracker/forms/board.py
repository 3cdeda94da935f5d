"""Forms of the board's pages: commentary, and the board pack's layouts."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    HiddenField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from tracker.services.commentary import MAX_LENGTH


class CommentaryForm(FlaskForm):
    text = TextAreaField(
        "Commentary", widget=GovTextArea(),
        validators=[DataRequired("Enter the commentary"),
                    Length(max=MAX_LENGTH, message=f"The commentary must be {MAX_LENGTH:,} "
                                                   "characters or fewer")])
    base_version = HiddenField()
    submit = SubmitField("Save the commentary", widget=GovSubmitInput())

    def base(self) -> int:
        raw = (self.base_version.data or "0").strip()
        return int(raw) if raw.isdigit() else -1  # tampered: never matches, so refused


class LayoutForm(FlaskForm):
    name = StringField("Name", widget=GovTextInput(),
                       description="For example: Board briefing, or Priority 2 deep dive",
                       validators=[DataRequired("Enter a name for the layout"),
                                   Length(max=100, message="The name must be 100 characters "
                                                           "or fewer")])
    sections = SelectMultipleField("Sections", widget=GovCheckboxesInput(),
                                   description="What the pack holds, in this order")
    priorities = SelectMultipleField("Priorities", widget=GovCheckboxesInput(),
                                     description="Leave them all unticked for every priority")
    kpis = SelectMultipleField("KPIs", widget=GovCheckboxesInput(),
                               description="Leave them all unticked for every KPI")
    cover_note = TextAreaField(
        "Cover note", widget=GovTextArea(),
        description="Optional. The pack's first page: what the board should look at, and why",
        validators=[Length(max=MAX_LENGTH, message=f"The cover note must be {MAX_LENGTH:,} "
                                                   "characters or fewer")])
    is_for_board = BooleanField(
        "Email this pack to the board when a quarter is locked", widget=GovCheckboxInput())
    version = HiddenField()
    submit = SubmitField("Save the layout", widget=GovSubmitInput())
