"""Fields and forms every area uses: an email address, a number as people type it, a
confirm button.

Every form is Flask-WTF's (a CSRF token on each), drawn with GOV.UK Frontend widgets."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField
from wtforms.validators import Regexp

EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
               message="Enter an email address in the correct format, like name@example.org")



def typed_number(typed: str | None) -> float | None:
    """A number as people type it ("1,250", "42%", " 7 "); ``None`` if it is not one."""
    raw = (typed or "").strip().replace(",", "").rstrip("%").strip()
    try:
        return float(raw)
    except ValueError:
        return None


class ConfirmForm(FlaskForm):
    """A button that changes something (sign out, lock a quarter): CSRF and nothing else."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())
