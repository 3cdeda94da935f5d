"""Signing in, passwords and two-factor authentication.

Every form is Flask-WTF's (a CSRF token on each), drawn with GOV.UK Frontend widgets."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import EqualTo, InputRequired, Length

from tracker.forms.common import EMAIL


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
