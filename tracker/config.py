"""Configuration from the environment.

Every setting comes from a ``TRACKER_*`` environment variable. Development (the default
for ``make run`` and the tests) falls back to a SQLite file under ``instance/`` and a
random per-process secret. Production refuses to start with a missing or guessable secret
key (judged by its length, the entropy of its characters and a zxcvbn estimate), with
debug on, or with ``TRACKER_HTTPS=0``: it is always reached over HTTPS (a reverse proxy
may terminate TLS, and ``TRACKER_PROXIES`` then says how many proxies stand in front), its
session cookie is ``__Host-`` prefixed and Secure, and every response carries HSTS. Single
sign-on (``TRACKER_OIDC_*``) is all set or not at all, its issuer is https in production,
and password sign-in may be turned off only when it is set. Each refusal is one line that
says how to put it right.
"""

from __future__ import annotations

import math
import os
import re
import secrets
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PACKAGE = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE.parent

# Where the app's files are, installed or not. One rule: a wheel carries the templates inside
# the package (tracker/templates/, put there by setup.py's build step), a checkout keeps them
# at its top (templates/) and has none inside the package; so the package's own folder when
# it is there (an installed tracker), else the checkout's. An installed tracker keeps its
# instance folder (the development SQLite file) where Flask puts an installed app's,
# PREFIX/var/tracker-instance; a checkout keeps it in instance/.
INSTALLED = (PACKAGE / "templates").is_dir()
TEMPLATES = PACKAGE / "templates" if INSTALLED else PROJECT_ROOT / "templates"
INSTANCE = (Path(sys.prefix) / "var" / "tracker-instance" if INSTALLED
            else PROJECT_ROOT / "instance")


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the app can safely run with."""


SECRET_MIN_LENGTH = 32
SECRET_MIN_BITS = 100
"""A production secret key must be this long and carry about this many bits (see
:func:`secret_bits`): 36 ``a``s carry none, and ``secrets.token_hex(32)`` about 200."""
SECRET_ADVICE = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


def secret_bits(secret: str) -> float:
    """About how many bits of randomness ``secret`` holds (see :data:`SECRET_MIN_BITS`): the
    lesser of its length times the Shannon entropy of its characters and the zxcvbn estimate
    of the guesses it would take (which sees words, repeats and sequences: 'password' five
    times has varied letters, but is one word repeated)."""
    if not secret:
        return 0.0
    from zxcvbn import zxcvbn  # noqa: PLC0415 - its word lists (13 MB) are read only when a secret is checked

    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    guessed = float(zxcvbn(secret[:72])["guesses_log10"]) * math.log2(10)
    if len(secret) > 72:  # zxcvbn reads 72 characters at most: the rest by their entropy
        guessed += per_char * (len(secret) - 72)
    return max(0.0, min(per_char * len(secret), guessed))


ON, OFF = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _default_database_url(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "tracker.db")


def _integer(env: Any, name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} must be a whole number") from None
    if value < 0:
        raise ConfigError(f"{name}={raw!r} must not be negative")
    return value


SMTP_SECURITY = ("starttls", "ssl", "none")
SMTP_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


def _mail_settings(env: Any) -> dict[str, Any]:
    """``TRACKER_SMTP_*`` and ``TRACKER_MAIL_FROM``: without a host, email stays in the outbox."""
    host = env.get("TRACKER_SMTP_HOST", "").strip()
    security = (env.get("TRACKER_SMTP_SECURITY", "").strip().lower() or "starttls")
    if security not in SMTP_SECURITY:
        raise ConfigError(f"TRACKER_SMTP_SECURITY={security!r} is not known: use starttls, "
                          "ssl or none.")
    port = _integer(env, "TRACKER_SMTP_PORT", SMTP_DEFAULT_PORTS[security])
    if not 0 < port < 65536:
        raise ConfigError(f"TRACKER_SMTP_PORT={port} must be a port number, 1 to 65535")
    mail_from = env.get("TRACKER_MAIL_FROM", "").strip()
    if any(c in mail_from for c in "\r\n"):
        raise ConfigError("TRACKER_MAIL_FROM must be on one line")
    if host and "@" not in mail_from:
        raise ConfigError("TRACKER_MAIL_FROM must be set to the address emails come from "
                          "(e.g. tracker@council.example.org) when TRACKER_SMTP_HOST is set")
    return {
        "SMTP_HOST": host,
        "SMTP_PORT": port,
        "SMTP_USER": env.get("TRACKER_SMTP_USER", "").strip(),
        "SMTP_PASSWORD": env.get("TRACKER_SMTP_PASSWORD", ""),
        "SMTP_SECURITY": security,
        "MAIL_FROM": mail_from or "tracker@localhost",
    }


SSO_LABEL = "Sign in with your organisation's account"
SSO_SETTINGS = ("TRACKER_OIDC_ISSUER", "TRACKER_OIDC_CLIENT_ID", "TRACKER_OIDC_CLIENT_SECRET")
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")


def _switch(env: Any, name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ON | OFF:
        raise ConfigError(f"{name}={raw!r} is not on or off: use 1 or 0.")
    return raw in ON


def _allowed_domains(env: Any) -> tuple[str, ...]:
    """``TRACKER_OIDC_ALLOWED_DOMAINS``: email domains whose verified people get an account
    (a member's, in no group) the first time they sign in through single sign-on."""
    raw = env.get("TRACKER_OIDC_ALLOWED_DOMAINS", "").strip()
    if not raw:
        return ()
    domains = [part.strip().lower().removeprefix("@") for part in raw.split(",")]
    for domain in domains:
        if not _DOMAIN.match(domain):
            shown = "".join(c if c.isprintable() else "?" for c in domain)[:80]
            raise ConfigError(
                f"TRACKER_OIDC_ALLOWED_DOMAINS has {shown!r}, which is not an email domain: "
                "give domains separated by commas, e.g. council.gov.uk,partner.org.uk")
    return tuple(dict.fromkeys(domains))


def _sign_in_settings(env: Any, mode: str) -> dict[str, Any]:
    """Single sign-on (OpenID Connect, ``TRACKER_OIDC_*``) and whether passwords sign in.

    SSO is on when the issuer, client id and client secret are all set; setting some of
    them only is refused, as is password sign-in turned off without SSO to replace it.
    """
    given = {name: env.get(name, "").strip() for name in SSO_SETTINGS}
    missing = [name for name, value in given.items() if not value]
    if given["TRACKER_OIDC_ISSUER"] or given["TRACKER_OIDC_CLIENT_ID"] or \
            given["TRACKER_OIDC_CLIENT_SECRET"]:
        if missing:
            raise ConfigError(f"Single sign-on is half set up: set {' and '.join(missing)} "
                              "too, or unset every TRACKER_OIDC_ setting to turn it off.")
    issuer = given["TRACKER_OIDC_ISSUER"].rstrip("/")
    if issuer:
        parts = urlsplit(issuer)
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.query \
                or parts.fragment:
            raise ConfigError(f"TRACKER_OIDC_ISSUER={issuer!r} must be the identity "
                              "provider's issuer URL, e.g. "
                              "https://login.microsoftonline.com/TENANT-ID/v2.0")
        if parts.scheme != "https" and mode == "production":
            raise ConfigError(f"TRACKER_OIDC_ISSUER={issuer!r} must use https in "
                              "production: sign-in tokens would cross the network in the "
                              "clear.")
    label = " ".join(env.get("TRACKER_OIDC_LABEL", "").split()) or SSO_LABEL
    if len(label) > 80:
        raise ConfigError("TRACKER_OIDC_LABEL must be 80 characters or fewer.")
    domains = _allowed_domains(env)
    if domains and not issuer:
        raise ConfigError("TRACKER_OIDC_ALLOWED_DOMAINS needs single sign-on: set "
                          f"{' and '.join(SSO_SETTINGS)} too, or unset it.")
    password = _switch(env, "TRACKER_PASSWORD_SIGN_IN", True)
    if not password and not issuer:
        raise ConfigError("TRACKER_PASSWORD_SIGN_IN=0 would leave nobody a way to sign in: "
                          f"set up single sign-on ({', '.join(SSO_SETTINGS)}) first.")
    return {
        "OIDC_ISSUER": issuer,
        "OIDC_CLIENT_ID": given["TRACKER_OIDC_CLIENT_ID"],
        "OIDC_CLIENT_SECRET": given["TRACKER_OIDC_CLIENT_SECRET"],
        "OIDC_LABEL": label,
        "OIDC_ALLOWED_DOMAINS": domains,
        "PASSWORD_SIGN_IN": password,
    }


MFA_REQUIRED_CHOICES = ("admin,board", "everyone")


def _mfa_required(env: Any) -> str:
    """``TRACKER_MFA_REQUIRED``: who must use two-factor sign-in with a password."""
    raw = env.get("TRACKER_MFA_REQUIRED", "")
    value = ",".join(part.strip() for part in raw.strip().lower().split(","))
    if value in ("", "board,admin"):
        value = "admin,board"
    if value not in MFA_REQUIRED_CHOICES:
        raise ConfigError(f"TRACKER_MFA_REQUIRED={raw!r} is not known: use admin,board (the "
                          "default: administrators and board members) or everyone.")
    return value


LOG_FORMATS = ("text", "json")


def _log_format(env: Any) -> str:
    """``TRACKER_LOG_FORMAT``: text lines (the default), or one JSON object a line."""
    raw = env.get("TRACKER_LOG_FORMAT", "").strip().lower() or "text"
    if raw not in LOG_FORMATS:
        shown = "".join(c if c.isprintable() else "?" for c in raw)[:40]
        raise ConfigError(f"TRACKER_LOG_FORMAT={shown!r} is not known: use text (the "
                          "default) or json.")
    return raw


def load_config(instance_path: str, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Read the configuration from ``environ`` (default: ``os.environ``)."""
    env = os.environ if environ is None else environ
    mode = env.get("TRACKER_ENV", "development").strip().lower()
    if mode not in {"development", "production", "testing"}:
        raise ConfigError(
            f"TRACKER_ENV={mode!r} is not known: use development, testing or production."
        )
    debug = env.get("TRACKER_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}
    secret = env.get("TRACKER_SECRET_KEY", "")
    if mode == "production":
        if not secret.strip():
            raise ConfigError("TRACKER_SECRET_KEY must be set in production, to a random "
                              f"value made by: {SECRET_ADVICE}")
        if len(secret) < SECRET_MIN_LENGTH or secret_bits(secret) < SECRET_MIN_BITS:
            raise ConfigError(
                f"TRACKER_SECRET_KEY is too easy to guess ({len(secret)} characters, about "
                f"{secret_bits(secret):.0f} bits of randomness; production needs at least "
                f"{SECRET_MIN_LENGTH} characters and {SECRET_MIN_BITS} bits): make one with: "
                f"{SECRET_ADVICE}")
        if debug:
            raise ConfigError("TRACKER_DEBUG must be off in production.")
    if env.get("TRACKER_TODAY", "").strip():
        if mode == "production":
            raise ConfigError("TRACKER_TODAY pins the date for demonstrations and tests: unset "
                              "it in production.")
        try:
            date.fromisoformat(env["TRACKER_TODAY"].strip())
        except ValueError:
            raise ConfigError(f"TRACKER_TODAY={env['TRACKER_TODAY']!r} must be a date, "
                              "YYYY-MM-DD") from None
    https_setting = env.get("TRACKER_HTTPS", "").strip().lower()
    if https_setting and https_setting not in ON | OFF:
        raise ConfigError(f"TRACKER_HTTPS={https_setting!r} is not on or off: use 1 or 0.")
    if mode == "production" and https_setting in OFF:
        raise ConfigError(
            "TRACKER_HTTPS=0 is refused in production: passwords and session cookies would "
            "cross the network in the clear. Unset it; if a reverse proxy terminates TLS, set "
            "TRACKER_PROXIES to the number of proxies in front of the tracker.")
    https = mode == "production" or https_setting in ON
    config: dict[str, Any] = {
        "ENV_NAME": mode,
        "DEBUG": debug,
        "TESTING": mode == "testing",
        "SECRET_KEY": secret or secrets.token_hex(32),
        "DATABASE_URL": env.get("TRACKER_DATABASE_URL") or _default_database_url(instance_path),
        "PLAN_FILE": env.get("TRACKER_PLAN_FILE") or str(PROJECT_ROOT / "plans.yaml"),
        "PUBLIC_READ": env.get("TRACKER_PUBLIC_READ", "1" if mode != "production" else "0")
        in {"1", "true", "yes", "on"},
        # the public progress page for residents (/public), off unless asked for
        "PUBLIC_PAGE": _switch(env, "TRACKER_PUBLIC_PAGE", False),
        "PAGE_CACHE": env.get("TRACKER_PAGE_CACHE", "1") in {"1", "true", "yes", "on"},
        "BASE_URL": (env.get("TRACKER_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "HTTPS": https,
        "PROXIES": _integer(env, "TRACKER_PROXIES", 0),
        "SESSION_IDLE_MINUTES": _integer(env, "TRACKER_SESSION_IDLE_MINUTES", 60),
        "SESSION_ABSOLUTE_HOURS": _integer(env, "TRACKER_SESSION_ABSOLUTE_HOURS", 12),
        # the cookie only carries a random token; the session itself lives in the database
        # __Host-: the browser keeps it for this host alone, sent only over HTTPS, path /
        "SESSION_COOKIE_NAME": "__Host-tracker_session" if https else "tracker_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "MFA_REQUIRED": _mfa_required(env),
        # requests one read API token may make a minute (tracker.services.api_tokens)
        "API_RATE_LIMIT": _integer(env, "TRACKER_API_RATE_LIMIT", 120),
        "LOG_FORMAT": _log_format(env),
    }
    config.update(_mail_settings(env))
    config.update(_sign_in_settings(env, mode))
    return config
