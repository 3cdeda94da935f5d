"""Single sign-on: OpenID Connect to the council's identity provider, through Authlib.

Any provider is found by its issuer (``TRACKER_OIDC_ISSUER``): its discovery document,
``ISSUER/.well-known/openid-configuration``, gives the endpoints and the signing keys. The
authorization code flow is used with a state (kept in this browser's session, and taken
from it at the first callback, so a replayed callback finds none), a nonce and PKCE (S256).
The ID token's signature is checked against the provider's keys (JWKS), and its issuer,
audience, expiry (with :data:`LEEWAY_SECONDS` for clocks that differ) and nonce against
what was asked. The person's email must be verified by the provider (``email_verified``, or
Microsoft Entra ID's ``xms_edov``). Every outbound request has a bounded timeout.

What goes wrong is a :class:`Refused`: the reason for the security log, and what the
person is told and can do about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, request, session
from werkzeug.wrappers import Response

if TYPE_CHECKING:
    from authlib.integrations.flask_client import FlaskOAuth2App

# Authlib, joserfc and requests are imported where a sign-in uses them, not with this module:
# together they are about 17 MB in every process, and most of the tracker's processes (the
# pack builder's children, the scheduler, the commands) never sign anyone in.

NAME = "sso"
SCOPE = "openid email profile"
TIMEOUT_SECONDS = 10
LEEWAY_SECONDS = 60
NEXT_KEY = "sso_next"
STATE_PREFIX = f"_state_{NAME}_"  # where Authlib keeps a sign-in's state in the session
TRY_AGAIN = "Go back to the sign-in page and try again."
ASK_TEAM = ("If it happens again, tell the community safety team what you were doing and the "
            "time.")


class Refused(Exception):
    """A single sign-on that did not sign anyone in: ``reason`` for the security log,
    ``title`` and ``advice`` for the person, ``status`` for the page."""

    def __init__(self, reason: str, title: str, advice: str, *, status: int = 403,
                 email: str = "") -> None:
        super().__init__(reason)
        self.reason, self.title, self.advice = reason, title, advice
        self.status, self.email = status, email


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in: a verified email, and their name if it gave one."""

    email: str
    name: str
    subject: str


def is_on(app: Flask | None = None) -> bool:
    config = (app or current_app).config
    return bool(config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID"))


def init_app(app: Flask) -> None:
    """Nothing is made until a sign-in starts: the client is made then, from the
    configuration as it is (see :func:`_client`)."""


def _client() -> FlaskOAuth2App:
    from authlib.integrations.flask_client import OAuth  # noqa: PLC0415 - loaded only when single sign-on is configured

    config = current_app.config
    issuer = config["OIDC_ISSUER"].rstrip("/")
    key = (issuer, config["OIDC_CLIENT_ID"], config["OIDC_CLIENT_SECRET"])
    made = current_app.extensions.get("tracker.sso")
    if made is None or made[0] != key:
        oauth: OAuth = (current_app.extensions.get("authlib.integrations.flask_client")
                        or OAuth(current_app))
        oauth._clients.pop(NAME, None)  # a changed configuration makes a new client
        client = oauth.register(
            NAME, client_id=key[1], client_secret=key[2],
            server_metadata_url=f"{issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": SCOPE, "code_challenge_method": "S256",
                           "default_timeout": TIMEOUT_SECONDS})
        made = (key, client)
        current_app.extensions["tracker.sso"] = made
    found: FlaskOAuth2App = made[1]
    return found


def _unreachable(reason: str) -> Refused:
    return Refused(reason, "Your organisation's sign-in service could not be reached",
                   "Nothing is wrong with your account. Wait a few minutes and try again; "
                   "meanwhile you can still read the published plan. " + ASK_TEAM, status=400)


def _metadata(client: FlaskOAuth2App) -> dict[str, Any]:
    import requests  # noqa: PLC0415 - loaded only when single sign-on is configured

    try:
        metadata: dict[str, Any] = client.load_server_metadata()
    except (requests.RequestException, ValueError) as error:
        raise _unreachable(f"provider unreachable: {type(error).__name__} reading its "
                           "discovery document") from None
    expected = current_app.config["OIDC_ISSUER"].rstrip("/")
    if str(metadata.get("issuer", "")).rstrip("/") != expected:
        raise Refused(f"discovery document names issuer {str(metadata.get('issuer'))[:100]!r},"
                      f" not {expected!r}", "Single sign-on is not set up correctly",
                      "The tracker's single sign-on settings do not match your organisation's "
                      "sign-in service. Tell the community safety team, who can check "
                      "TRACKER_OIDC_ISSUER.", status=400)
    return metadata


def start(redirect_uri: str, next_path: str) -> Response:
    """The redirect to the provider's sign-in, with a new state, nonce and PKCE verifier."""
    import requests  # noqa: PLC0415 - loaded only when single sign-on is configured
    from authlib.common.errors import AuthlibBaseError  # noqa: PLC0415 - loaded only when single sign-on is configured

    client = _client()
    _metadata(client)
    session[NEXT_KEY] = next_path
    try:
        response: Response = client.authorize_redirect(redirect_uri)
    except (requests.RequestException, AuthlibBaseError, RuntimeError) as error:
        raise _unreachable(f"could not start: {type(error).__name__}") from None
    return response


def taken_next() -> str | None:
    next_path: str | None = session.pop(NEXT_KEY, None)
    return next_path


def finish() -> Identity:
    """The verified identity the provider's redirect back carries, or :class:`Refused`."""
    import requests  # noqa: PLC0415 - loaded only when single sign-on is configured
    from authlib.common.errors import AuthlibBaseError  # noqa: PLC0415 - loaded only when single sign-on is configured
    from joserfc.errors import ClaimError, ExpiredTokenError, JoseError  # noqa: PLC0415 - loaded only when single sign-on is configured

    _check_redirect()
    client = _client()
    issuer = str(_metadata(client)["issuer"])  # as the provider writes it (a "/" at the end?)
    options = {"iss": {"essential": True, "value": issuer},
               "aud": {"essential": True, "value": current_app.config["OIDC_CLIENT_ID"]},
               "sub": {"essential": True}, "exp": {"essential": True},
               "iat": {"essential": True}}
    try:
        token = client.authorize_access_token(claims_options=options, leeway=LEEWAY_SECONDS)
    except requests.RequestException as error:
        raise _unreachable(f"provider unreachable at the token exchange: "
                           f"{type(error).__name__}") from None
    except ExpiredTokenError:
        raise _bad_token("ID token expired") from None
    except ClaimError as error:
        raise _bad_token(f"ID token claim {error.claim!r} is wrong or missing") from None
    except JoseError as error:
        raise _bad_token(f"ID token refused: {type(error).__name__}") from None
    except ValueError as error:  # the provider's answer was not JSON
        raise _bad_token(f"token response not understood: {type(error).__name__}") from None
    except AuthlibBaseError as error:
        raise _bad_token(f"token exchange refused: {getattr(error, 'error', '')} "
                         f"{getattr(error, 'description', '') or ''}".strip()) from None
    claims = token.get("userinfo") if isinstance(token, dict) else None
    if not claims:
        raise _bad_token("no ID token in the token response")
    return _identity(dict(claims))


def _check_redirect() -> None:
    """The provider's error, or a state this browser was not given (or has used)."""
    error = request.args.get("error")
    if error:
        described = request.args.get("error_description", "")
        raise Refused(f"provider said {error[:60]!r}: {described[:200]}",
                      "Your organisation's sign-in did not finish",
                      "Your organisation's sign-in service did not sign you in"
                      + (" because you cancelled it" if error == "access_denied" else "")
                      + ". " + TRY_AGAIN + " " + ASK_TEAM, status=400)
    state = request.args.get("state", "")
    if not state or not request.args.get("code"):
        raise Refused("the redirect back had no state or no code", "Sign-in did not finish",
                      "This page is only reached from your organisation's sign-in. "
                      + TRY_AGAIN, status=400)
    if STATE_PREFIX + state not in session:
        raise Refused("state not issued to this browser, or already used (a replayed "
                      "or forged callback)", "This sign-in link has already been used",
                      "Each sign-in works once, in the browser that started it. "
                      + TRY_AGAIN, status=400)


def _bad_token(reason: str) -> Refused:
    return Refused(reason, "Your organisation's sign-in could not be checked",
                   "The tracker could not confirm who you are from your organisation's "
                   "sign-in, so you have not been signed in. " + TRY_AGAIN + " " + ASK_TEAM,
                   status=400)


def _verified(claims: dict[str, Any]) -> bool:
    """``email_verified`` true; or, from Entra ID (which never sends it), its optional
    claim ``xms_edov`` (the email's domain is verified by the tenant) true."""
    for name in ("email_verified", "xms_edov"):
        value = claims.get(name)
        if value is True or (isinstance(value, str) and value.lower() == "true"):
            return True
    return False


def _identity(claims: dict[str, Any]) -> Identity:
    email = str(claims.get("email") or "").strip()
    if not email:
        raise Refused("the ID token has no email claim", "Your email address was not shared",
                      "Your organisation's sign-in did not tell the tracker your email "
                      "address, which it needs to find your account. Ask your IT team to "
                      "include the email claim, as the tracker's README describes.")
    if not _verified(claims):
        raise Refused(f"email {email[:100]} not verified by the provider",
                      "Your email address is not verified",
                      f"Your organisation's sign-in says {email} has not been verified, so "
                      "the tracker cannot be sure the account is yours. Ask your IT team to "
                      "verify the address, or sign in another way.", email=email)
    name = " ".join(str(claims.get("name") or "").split())
    return Identity(email=email, name=name, subject=str(claims.get("sub", "")))
