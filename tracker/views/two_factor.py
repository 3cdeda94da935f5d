"""Two-factor sign-in pages: the code after the password, setting up, and the account's
two-factor settings (:mod:`tracker.services.two_factor`).

After the right password, an account that has a second factor, or must have one, is not
signed in yet: a short-lived *pending* state (the account, when, how many wrong codes,
where it was going) is kept in the signed session cookie, and the person is sent to the
code page or to set up. Only a right code starts the session. Nothing here writes to the
database on a GET: a secret being set up waits, encrypted, in the session cookie too.
"""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker import access, auth
from tracker.db import get_session
from tracker.forms.accounts import SecondFactorForm, SetUpAgainForm, SetUpTwoFactorForm
from tracker.models import User
from tracker.services import accounts, audit, two_factor
from tracker.services.outbox import partnership_name
from tracker.views import note_security

bp = Blueprint("two_factor", __name__)

PENDING = "two_factor_pending"
SETUP = "two_factor_setup"
PENDING_SECONDS = 5 * 60
WRONG_CODES_ALLOWED = 5  # in one pending sign-in; the sign-in throttle counts them all too

WRONG = ("The code is not right: enter the 6-digit code your authenticator app shows now, or "
         "a recovery code")
REUSED = "That code has been used already: wait for your app to show a new code, and enter that"
UNREADABLE = ("Your two-factor set-up can no longer be read (the tracker's secret key has changed "
              "since you set it up). Ask an administrator to reset your two-factor "
              "authentication, then sign in and set it up again")
EXPIRED = "You took longer than 5 minutes to enter the code. Sign in again to carry on."
TOO_MANY = "Too many wrong codes. Sign in again with your password to carry on."


# -- the pending sign-in -------------------------------------------------------------------


def start(user: User, next_url: str | None) -> Response:
    """The password was right and ``user`` needs a second factor: keep the pending state
    and send them on to enter a code, or to set up two-factor."""
    session.pop(SETUP, None)
    session[PENDING] = {"user": user.id, "at": time.time(), "wrong": 0, "next": next_url or ""}
    return redirect(url_for("auth.two_factor.set_up" if not user.has_two_factor
                            else "auth.two_factor.code"))


def needs_second_factor(user: User) -> bool:
    return user.has_two_factor or two_factor.must_enrol(user)


def forget() -> None:
    """The password step starts again: whatever was pending is gone."""
    session.pop(PENDING, None)
    session.pop(SETUP, None)


def _pending() -> tuple[dict[str, Any], User] | None:
    state = session.get(PENDING)
    if not isinstance(state, dict):
        return None
    if time.time() - float(state.get("at", 0)) > PENDING_SECONDS:
        forget()
        flash(EXPIRED, "info")
        return None
    user = accounts.find_user(get_session(), int(state.get("user", 0)))
    if user is None or not user.is_active or not user.has_password:
        forget()
        return None
    return state, user


def _go_sign_in() -> Response:
    if not session.get("_flashes"):
        flash("Sign in with your email address and password first.", "info")
    return redirect(url_for("auth.sign_in"))


def _finish(user: User, state: dict[str, Any], how: str) -> Response:
    db = get_session()
    auth.record_attempt(db, user.email, True)
    auth.sign_in(db, user, method="password")  # a new session: the pending state goes
    audit.record(db, user, "account.signed_in", "account", user.email, how)
    return redirect(access.safe_next(state.get("next") or None,
                                     url_for(access.home_endpoint(user))))


def _count_wrong(user: User, state: dict[str, Any], detail: str) -> Response | None:
    """A wrong code at sign-in: counted against the sign-in throttle and logged; after too
    many, the pending sign-in ends."""
    auth.record_attempt(get_session(), user.email, False)
    note_security("mfa.failed", user.email, detail, with_request=True)
    state["wrong"] = int(state.get("wrong", 0)) + 1
    session[PENDING] = state
    if state["wrong"] >= WRONG_CODES_ALLOWED:
        forget()
        flash(TOO_MANY, "info")
        return redirect(url_for("auth.sign_in"))
    return None


def _problem(checked: two_factor.Checked) -> str:
    return {two_factor.REUSED: REUSED, two_factor.UNREADABLE: UNREADABLE}.get(
        checked.outcome, WRONG)


def _after_recovery_code(user: User) -> None:
    left = two_factor.recovery_codes_left(get_session(), user)
    note_security("mfa.recovery_used", user.email, f"{left} recovery codes left",
                  with_request=True)
    flash(f"You signed in with a recovery code: it will not work again. You have {left} "
          "left. If you have lost your phone, set up two-factor again on your account page.",
          "info")


@bp.route("/sign-in/code", methods=["GET", "POST"])
@access.public
def code() -> str | Response:
    """The second step of signing in: a code from the app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for(access.home_endpoint(current_user)))
    found = _pending()
    if found is None:
        return _go_sign_in()
    state, user = found
    if not user.has_two_factor:
        return redirect(url_for("auth.two_factor.set_up"))
    form = SecondFactorForm()
    problem = None
    if form.validate_on_submit():
        db = get_session()
        problem = auth.throttled(db, user.email)
        if problem is not None:
            note_security("sign_in.throttled", user.email, problem, with_request=True)
        else:
            checked = two_factor.check(db, user, form.code.data or "")
            if checked.ok:
                done = _finish(user, state, "with a recovery code" if checked.by_recovery_code
                               else "with a code from an authenticator app")
                if checked.by_recovery_code:
                    _after_recovery_code(user)
                return done
            ended = _count_wrong(user, state, f"sign-in code refused ({checked.outcome})")
            if ended is not None:
                return ended
            problem = _problem(checked)
            form.code.errors = [problem]
    form.code.data = ""
    status = 200 if problem is None and not form.errors else 400
    return render_template("auth/two_factor_code.html", form=form, problem=problem,  # type: ignore[return-value]
                           user=user), status


# -- setting up --------------------------------------------------------------------------


def _setup_secret(user: User) -> str:
    """The secret being set up for ``user``: kept, encrypted, in the session cookie until a
    code confirms it, so that a reload shows the same QR code (and a GET writes nothing)."""
    kept = session.get(SETUP)
    if isinstance(kept, dict) and kept.get("user") == user.id:
        secret = two_factor.unseal(str(kept.get("secret", "")))
        if secret is not None:
            return secret
    secret = two_factor.new_secret()
    session[SETUP] = {"user": user.id, "secret": two_factor.seal(secret)}
    return secret


def _set_up_page(user: User, form: SetUpTwoFactorForm, secret: str, problem: str | None,
                 *, at_sign_in: bool) -> tuple[str, int]:
    issuer = f"{partnership_name(get_session())} tracker"
    uri = two_factor.provisioning_uri(secret, user.email, issuer)
    form.code.data = ""
    return render_template(
        "auth/two_factor_set_up.html", form=form, problem=problem, user=user,
        qr=two_factor.qr_svg(uri), key=two_factor.grouped(secret), issuer=issuer,
        at_sign_in=at_sign_in, again=isinstance(form, SetUpAgainForm),
        required=two_factor.is_required(user),
    ), (400 if problem or form.errors else 200)


def _recovery_page(user: User, codes: list[str], next_url: str, *, first: bool) -> str:
    return render_template("auth/recovery_codes.html", user=user, codes=codes,
                           next_url=next_url, first=first)


def _enrolled(user: User, secret: str, step: int) -> list[str]:
    db = get_session()
    two_factor.enrol(db, user, secret, step)
    codes = two_factor.new_recovery_codes(db, user)
    audit.record(db, user, "account.two_factor_enrolled", "account", user.email,
                 "authenticator app set up; 10 recovery codes made")
    note_security("mfa.enrolled", user.email, "authenticator app set up", with_request=True)
    session.pop(SETUP, None)
    return codes


@bp.route("/sign-in/set-up-two-factor", methods=["GET", "POST"])
@access.public
def set_up() -> str | Response:
    """At sign-in, for an account that must have two-factor and has none yet."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.two_factor.account_set_up"))
    found = _pending()
    if found is None:
        return _go_sign_in()
    state, user = found
    if user.has_two_factor:
        return redirect(url_for("auth.two_factor.code"))
    secret = _setup_secret(user)
    form = SetUpTwoFactorForm()
    problem = None
    if form.validate_on_submit():
        db = get_session()
        problem = auth.throttled(db, user.email)
        step = None if problem else two_factor.matching_step(secret, form.code.data or "")
        if problem is not None:
            note_security("sign_in.throttled", user.email, problem, with_request=True)
        elif step is None:
            ended = _count_wrong(user, state, "set-up code refused")
            if ended is not None:
                return ended
            problem = ("The code is not right: enter the 6-digit code the app shows now "
                       "for the tracker")
            form.code.errors = [problem]
        else:
            codes = _enrolled(user, secret, step)
            next_url = state.get("next") or ""
            _finish(user, state, "after setting up two-factor authentication")
            flash("Two-factor authentication is on.", "success")
            return _recovery_page(user, codes, access.safe_next(
                next_url or None, url_for(access.home_endpoint(user))), first=True)
    return _set_up_page(user, form, secret, problem, at_sign_in=True)  # type: ignore[return-value]


def _confirmed(form: SecondFactorForm | SetUpAgainForm, field: str) -> bool:
    """Whether the signed-in person's code (or recovery code) in ``field`` is right; a wrong
    one counts against the sign-in throttle and is logged."""
    user: User = current_user
    db = get_session()
    target = getattr(form, field)
    problem = auth.throttled(db, user.email)
    if problem is not None:
        note_security("sign_in.throttled", user.email, problem, with_request=True)
        target.errors = [problem]
        return False
    checked = two_factor.check(db, user, target.data or "")
    if checked.ok:
        if checked.by_recovery_code:
            note_security("mfa.recovery_used", user.email, "to change two-factor settings",
                          with_request=True)
        return True
    auth.record_attempt(db, user.email, False)
    note_security("mfa.failed", user.email, f"account code refused ({checked.outcome})",
                  with_request=True)
    target.errors = [_problem(checked)]
    return False


@bp.route("/account/two-factor/set-up", methods=["GET", "POST"])
@access.signed_in
def account_set_up() -> str | Response:
    """Set up two-factor from the account page, or again on a new phone."""
    user: User = current_user
    secret = _setup_secret(user)
    form: SetUpTwoFactorForm = SetUpAgainForm() if user.has_two_factor else SetUpTwoFactorForm()
    if form.validate_on_submit():
        again = user.has_two_factor
        if again and not _confirmed(form, "current"):
            return _set_up_page(user, form, secret, None, at_sign_in=False)  # type: ignore[return-value]
        step = two_factor.matching_step(secret, form.code.data or "")
        if step is None:
            form.code.errors = ["The code is not right: enter the 6-digit code the new app "
                                "shows now for the tracker"]
        elif again:
            db = get_session()
            two_factor.enrol(db, user, secret, step)
            audit.record(db, user, "account.two_factor_enrolled", "account", user.email,
                         "set up again on a new authenticator app")
            note_security("mfa.enrolled", user.email, "set up again on a new app",
                          with_request=True)
            session.pop(SETUP, None)
            flash("Two-factor authentication now uses your new app: codes from the old one "
                  "no longer work. Your recovery codes are unchanged.", "success")
            return redirect(url_for("auth.account"))
        else:
            codes = _enrolled(user, secret, step)
            flash("Two-factor authentication is on.", "success")
            return _recovery_page(user, codes, url_for("auth.account"), first=True)
    return _set_up_page(user, form, secret, None, at_sign_in=False)  # type: ignore[return-value]


def _code_check_page(action: str, form: SecondFactorForm) -> tuple[str, int]:
    form.code.data = ""
    return render_template("auth/two_factor_check.html", form=form, action=action,
                           user=current_user), (400 if form.errors else 200)


@bp.route("/account/two-factor/recovery-codes", methods=["GET", "POST"])
@access.signed_in
def recovery_codes() -> str | Response:
    """New recovery codes (the old ones stop working), after a current code."""
    user: User = current_user
    if not user.has_two_factor:
        return redirect(url_for("auth.two_factor.account_set_up"))
    form = SecondFactorForm()
    if form.validate_on_submit() and _confirmed(form, "code"):
        db = get_session()
        codes = two_factor.new_recovery_codes(db, user)
        audit.record(db, user, "account.recovery_codes_renewed", "account", user.email,
                     "10 new recovery codes; the old ones no longer work")
        note_security("mfa.recovery_renewed", user.email, "10 new recovery codes",
                      with_request=True)
        return _recovery_page(user, codes, url_for("auth.account"), first=False)
    return _code_check_page("recovery", form)  # type: ignore[return-value]


@bp.route("/account/two-factor/turn-off", methods=["GET", "POST"])
@access.signed_in
def turn_off() -> str | Response:
    """Turn two-factor off: only for an account whose role does not require it."""
    user: User = current_user
    if not user.has_two_factor:
        return redirect(url_for("auth.account"))
    if two_factor.is_required(user):
        abort(403)
    form = SecondFactorForm()
    if form.validate_on_submit() and _confirmed(form, "code"):
        db = get_session()
        two_factor.clear(db, user)
        audit.record(db, user, "account.two_factor_off", "account", user.email,
                     "second factor and recovery codes cleared")
        note_security("mfa.turned_off", user.email, "by the account's owner",
                      with_request=True)
        flash("Two-factor authentication is off. You sign in with your password alone.",
              "success")
        return redirect(url_for("auth.account"))
    return _code_check_page("turn-off", form)  # type: ignore[return-value]


# -- every request -------------------------------------------------------------------------


def enforce() -> Response | None:
    """Before every request: a session signed in with a password, whose account must have
    two-factor and has none (its role changed while it was signed in, or the setting did),
    is ended here, and the person sent to sign in, where they set it up. Sessions through
    single sign-on rely on the council's own multi-factor rules."""
    if session.get("signed_in_with") == "sso" or not current_user.is_authenticated:
        return None
    user: User = current_user
    if not two_factor.must_enrol(user):
        return None
    auth.sign_out(get_session(), "two-factor required")
    flash("Your account now needs two-factor authentication. Sign in again to set it up.",
          "info")
    return current_app.login_manager.unauthorized()  # type: ignore[attr-defined,no-any-return]
