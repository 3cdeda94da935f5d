"""Signing in and out, setting a password from an invitation or reset link, the account page."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker import access, auth
from tracker.db import get_session
from tracker.forms.accounts import ChangePasswordForm, SetPasswordForm, SignInForm
from tracker.forms.common import ConfirmForm
from tracker.models import User, utcnow
from tracker.passwords import hash_password, problem_with, verify_password
from tracker.services import audit, two_factor
from tracker.views import note_security
from tracker.views import two_factor as second_factor
from tracker.views.forms_support import EXPIRED_MESSAGE, csrf_expired, keeps_text
from tracker.views.sso import problem_page

bp = Blueprint("auth", __name__)
bp.register_blueprint(second_factor.bp)  # its pages are auth.two_factor.*

WRONG = "Enter a correct email address and password"


def _passwords_off() -> tuple[str, int] | None:
    """The refusal when password sign-in is turned off (``TRACKER_PASSWORD_SIGN_IN=0``):
    people sign in with their organisation's account, and passwords are neither used nor
    set."""
    if current_app.config.get("PASSWORD_SIGN_IN", True):
        return None
    return problem_page("Password sign-in is turned off", [
        "The tracker no longer signs anyone in with a password, and passwords cannot be set "
        "or reset.",
        f"Use the \u201c{current_app.config['OIDC_LABEL']}\u201d button below: it signs you in "
        "with the account you use for your organisation's email.",
    ], 403)


@bp.route("/sign-in", methods=["GET", "POST"])
@access.public
@keeps_text
def sign_in() -> str | Response:
    asked = request.args.get("next")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(access.safe_next(asked, url_for(access.home_endpoint(current_user))))
    if request.method == "POST" and (off := _passwords_off()):
        return off  # type: ignore[return-value]
    second_factor.forget()  # the password step starts again: nothing pending carries over
    if csrf_expired():
        form = SignInForm()  # not validated: it only gives the page a fresh token
        form.password.data = ""
        return render_template("auth/sign_in.html", form=form, problem=EXPIRED_MESSAGE), 400  # type: ignore[return-value]
    form = SignInForm()
    problem = None
    if form.validate_on_submit():
        email = (form.email.data or "").strip()
        db = get_session()
        problem = auth.throttled(db, email)
        if problem is not None:
            note_security("sign_in.throttled", email, problem, with_request=True)
        else:
            user = auth.authenticate(db, email, form.password.data or "")
            auth.record_attempt(db, email, user is not None)
            if user is None:
                note_security("sign_in.failed", email, "wrong email or password, or no "
                              "active account with a password", with_request=True)
            if user is not None and second_factor.needs_second_factor(user):
                return second_factor.start(user, asked)  # not signed in until the code
            if user is not None:
                auth.sign_in(db, user)
                audit.record(db, user, "account.signed_in", "account", user.email)
                # where they were going, or their role's home
                return redirect(access.safe_next(asked, url_for(access.home_endpoint(user))))
            problem = WRONG
            form.email.errors = [WRONG]
    # a failed attempt is kept (it counts towards the throttle): this page commits too
    form.password.data = ""
    status = 200 if problem is None and not form.errors else 400
    return render_template("auth/sign_in.html", form=form, problem=problem), status  # type: ignore[return-value]


@bp.post("/sign-out")
@access.signed_in
def sign_out() -> Response:
    form = ConfirmForm()
    if form.validate_on_submit():
        db = get_session()
        audit.record(db, current_user, "account.signed_out", "account", current_user.email)
        auth.sign_out(db)
        flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/account/set-password/<token>", methods=["GET", "POST"])
@access.public
def set_password(token: str) -> str | Response:
    if off := _passwords_off():
        return off  # type: ignore[return-value]
    db = get_session()
    link = auth.find_link(db, token)
    if link is None:
        return render_template("auth/link_expired.html"), 404  # type: ignore[return-value]
    user = link.user
    form = SetPasswordForm()
    if form.validate_on_submit():
        problem = problem_with(form.password.data or "", user.email, user.name)
        if problem:
            form.password.errors = [problem]
        else:
            user.password_hash = hash_password(form.password.data or "")
            user.password_changed_at = utcnow()
            link.used_at = utcnow()
            auth.end_sessions(db, user, "password changed")
            how = "an invitation" if link.purpose == "invite" else "a reset link"
            audit.record(db, user, "account.password_set", "account", user.email,
                         f"password set from {how}")
            if second_factor.needs_second_factor(user):
                flash("Your password is set. Now " + ("enter a code from your authenticator "
                      "app" if user.has_two_factor else "set up two-factor authentication")
                      + " to sign in.", "success")
                return second_factor.start(user, None)
            auth.sign_in(db, user)
            flash("Your password is set and you are signed in.", "success")
            return redirect(url_for(access.home_endpoint(user)))
    return render_template("auth/set_password.html", form=form, user=user,  # type: ignore[return-value]
                           purpose=link.purpose), (400 if form.errors else 200)


@bp.route("/account", methods=["GET", "POST"])
@access.signed_in
def account() -> str | Response:
    user: User = current_user
    if request.method == "POST" and (off := _passwords_off()):
        return off  # type: ignore[return-value]
    form = ChangePasswordForm()
    if form.validate_on_submit():
        db = get_session()
        if not verify_password(user.password_hash, form.current.data or ""):
            form.current.errors = ["Your current password is not right"]
        elif problem := problem_with(form.password.data or "", user.email, user.name):
            form.password.errors = [problem]
        else:
            user.password_hash = hash_password(form.password.data or "")
            user.password_changed_at = utcnow()
            auth.end_sessions(db, user, "password changed", keep=g.get("user_session_id"))
            audit.record(db, user, "account.password_changed", "account", user.email)
            flash("Your password has been changed. You have been signed out everywhere else.",
                  "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, user=user,  # type: ignore[return-value]
                           led=access.led_group_ids(user), **_two_factor_state(user)), \
        (400 if form.errors else 200)


def _two_factor_state(user: User) -> dict[str, object]:
    """What the account page says about two-factor authentication."""
    return {
        "mfa_required": two_factor.is_required(user),
        "codes_left": (two_factor.recovery_codes_left(get_session(), user)
                       if user.has_two_factor else 0),
        "by_sso": session.get("signed_in_with") == "sso",
    }
