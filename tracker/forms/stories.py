"""The form staff use to submit a good-news story for the public progress page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from tracker.models.stories import BODY_MAX, TITLE_MAX


class StoryForm(FlaskForm):
    title = StringField(
        "Title", widget=GovTextInput(),
        validators=[DataRequired("Enter a title for the story"),
                    Length(max=TITLE_MAX,
                           message=f"The title must be {TITLE_MAX} characters or fewer")])
    body = TextAreaField(
        "The story", widget=GovTextArea(),
        validators=[DataRequired("Enter the story"),
                    Length(max=BODY_MAX,
                           message=f"The story must be {BODY_MAX:,} characters or fewer")])
    commitment = SelectField("Commitment it tells of (optional)", widget=GovSelect(),
                             validate_choice=False)
    submit = SubmitField("Submit the story", widget=GovSubmitInput())
