"""Configuration from the environment.

Every setting comes from a ``TRACKER_*`` environment variable. Development (the default
for ``make run`` and the tests) falls back to a SQLite file under ``instance/`` and a
random per-process secret; production refuses to start without a secret key or with
debug on.
"""

from __future__ import annotations

import os
import secrets
from datetime import date
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the app can safely run with."""


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
        if not secret or len(secret) < 32:
            raise ConfigError(
                "TRACKER_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production, e.g. the output of: python -c 'import secrets; "
                "print(secrets.token_hex(32))'"
            )
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
    https = env.get("TRACKER_HTTPS", "1" if mode == "production" else "0").strip().lower() \
        in {"1", "true", "yes", "on"}
    config: dict[str, Any] = {
        "ENV_NAME": mode,
        "DEBUG": debug,
        "TESTING": mode == "testing",
        "SECRET_KEY": secret or secrets.token_hex(32),
        "DATABASE_URL": env.get("TRACKER_DATABASE_URL") or _default_database_url(instance_path),
        "PLAN_FILE": env.get("TRACKER_PLAN_FILE") or str(PROJECT_ROOT / "plans.yaml"),
        "PUBLIC_READ": env.get("TRACKER_PUBLIC_READ", "1" if mode != "production" else "0")
        in {"1", "true", "yes", "on"},
        "PAGE_CACHE": env.get("TRACKER_PAGE_CACHE", "1") in {"1", "true", "yes", "on"},
        "BASE_URL": (env.get("TRACKER_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "HTTPS": https,
        "PROXIES": _integer(env, "TRACKER_PROXIES", 0),
        "SESSION_IDLE_MINUTES": _integer(env, "TRACKER_SESSION_IDLE_MINUTES", 60),
        "SESSION_ABSOLUTE_HOURS": _integer(env, "TRACKER_SESSION_ABSOLUTE_HOURS", 12),
        # the cookie only carries a random token; the session itself lives in the database
        "SESSION_COOKIE_NAME": "tracker_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
    }
    config.update(_mail_settings(env))
    return config
