"""Single sign-on: the redirect to the council's identity provider, and the way back.

``/sign-in/sso`` is a link (a GET): starting a sign-in writes nothing but this browser's
session (the state, nonce and PKCE verifier), and an identity provider's app portal (such as
Microsoft's My Apps) can link to it. ``/sign-in/sso/callback`` is where the provider sends
the person back, with a GET; it signs them in, so it is a GET that writes (see
:func:`tracker.db.writes_on_get`). Both answer 404 when single sign-on is not set up.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker import access, auth, sso
from tracker.db import get_session, writes_on_get
from tracker.services import audit
from tracker.services.sso_accounts import SIGNED_IN_BY_SSO, account_for
from tracker.views import note_security

bp = Blueprint("sso", __name__)


def _needs_sso() -> None:
    if not sso.is_on():
        abort(404)


def problem_page(heading: str, paragraphs: list[str], status: int) -> tuple[str, int]:
    """A page saying why nobody was signed in and what to do, with the sign-in button."""
    return render_template("auth/sign_in_notice.html", heading=heading, paragraphs=paragraphs,
                           next_path=None), status


@bp.get("/sign-in/sso")
@access.public
def start() -> Response | tuple[str, int]:
    _needs_sso()
    next_path = access.safe_next(request.args.get("next"), "")
    if current_user.is_authenticated:
        return redirect(next_path or url_for(access.home_endpoint(current_user)))
    try:
        return sso.start(url_for("sso.callback", _external=True), next_path)
    except sso.Refused as refused:
        note_security("sso.failed", "", refused.reason)
        return problem_page(refused.title, [refused.advice], refused.status)


@bp.get("/sign-in/sso/callback")
@access.public
@writes_on_get
def callback() -> Response | tuple[str, int]:
    _needs_sso()
    next_path = sso.taken_next()
    db = get_session()
    try:
        identity = sso.finish()
        user = account_for(db, identity, current_app.config.get("OIDC_ALLOWED_DOMAINS", ()))
    except sso.Refused as refused:
        note_security("sso.failed", refused.email, refused.reason, with_request=True)
        return problem_page(refused.title, [refused.advice], refused.status)
    auth.sign_in(db, user, method="sso")
    audit.record(db, user, "account.signed_in", "account", user.email, SIGNED_IN_BY_SSO)
    return redirect(access.safe_next(next_path, url_for(access.home_endpoint(user))))
