"""Two-factor sign-in for password accounts: TOTP codes and single-use recovery codes.

Codes follow RFC 6238 (pyotp): 6 digits, a new one every 30 seconds, and the step before
and after the current one are accepted too, for a phone's clock a little out. The last
step accepted is kept for each account, and only a later step is accepted after it, so a
code (seen over a shoulder, or replayed) works once.

The TOTP secret must be readable to check codes, so it is stored encrypted (Fernet: AES
and an HMAC) with a key derived from the app's secret key (``TRACKER_SECRET_KEY``). A
copy of the database alone does not give the secrets away; if the secret key changes,
the stored secrets can no longer be read and each account that had two-factor must have
it reset (``tracker users reset-two-factor EMAIL``) and set up again.

Recovery codes carry 60 random bits each, so a slow password hash would add nothing but
time to a sign-in: they are kept as an HMAC-SHA256 keyed by a second key derived from the
same secret key, and found by that hash in one indexed query.

Who must use it: administrators and board members, or everyone
(``TRACKER_MFA_REQUIRED``); anyone else may choose to. Sign-ins through the council's
single sign-on rely on the council's own multi-factor rules.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from markupsafe import Markup
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from tracker import auth
from tracker.db import hold
from tracker.models import RecoveryCode, User, utcnow
from tracker.models.people import ROLES
from tracker.services import audit

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1  # steps either side of now
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's: no i, l, o or u
RECOVERY_LENGTH = 12  # 60 bits
DEFAULT_REQUIRED = ("admin", "board")

OK, WRONG, REUSED, UNREADABLE = "ok", "wrong", "reused", "unreadable"


# -- who must use it ---------------------------------------------------------------------


def required_roles(setting: str | None = None) -> tuple[str, ...]:
    """The roles that must use two-factor with a password (``TRACKER_MFA_REQUIRED``)."""
    if setting is None:
        setting = current_app.config.get("MFA_REQUIRED", "admin,board")
    return ROLES if setting == "everyone" else DEFAULT_REQUIRED


def is_required(user: User, role: str | None = None) -> bool:
    return (role or user.role) in required_roles()


def must_enrol(user: User) -> bool:
    """Must set up two-factor before it may use the tracker with a password."""
    return is_required(user) and not user.has_two_factor


# -- keys and secrets --------------------------------------------------------------------


def _derived(secret_key: str, purpose: bytes) -> bytes:
    return hmac.new(secret_key.encode("utf-8"), purpose, hashlib.sha256).digest()


def _fernet(secret_key: str) -> Fernet:
    # imported here: cryptography is megabytes that processes signing nobody in never need
    return Fernet(base64.urlsafe_b64encode(_derived(secret_key, b"tracker totp secret v1")))


def _app_key() -> str:
    return str(current_app.config["SECRET_KEY"])


def seal(plain: str, secret_key: str | None = None) -> str:
    """``plain`` (a TOTP secret) encrypted for storing."""
    return _fernet(secret_key or _app_key()).encrypt(plain.encode("ascii")).decode("ascii")


def unseal(sealed: str, secret_key: str | None = None) -> str | None:
    """The TOTP secret, or None if it cannot be read (the secret key has changed)."""
    try:
        return _fernet(secret_key or _app_key()).decrypt(sealed.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError):
        return None


def is_readable(user: User) -> bool:
    return user.totp_secret is not None and unseal(user.totp_secret) is not None


def new_secret() -> str:
    return pyotp.random_base32()  # 32 characters: 160 bits, as RFC 4226 recommends


def grouped(secret: str) -> str:
    """The secret as a person types it into an app: groups of four."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=issuer)


def qr_svg(uri: str) -> Markup:
    """The ``otpauth://`` address as a QR code, an inline SVG (no script, no image file)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=4, dark="#0b0c0c",
                                                light="#ffffff")
    # the code is drawn from our own address: nothing typed by anyone reaches it as text
    return Markup(svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1))  # noqa: S704


# -- codes -------------------------------------------------------------------------------


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def _digits(typed: str) -> str:
    return re.sub(r"[\s-]", "", typed)


def looks_like_totp(typed: str) -> bool:
    return re.fullmatch(rf"\d{{{DIGITS}}}", _digits(typed)) is not None


def matching_step(secret: str, typed: str, now: float | None = None) -> int | None:
    """The latest step within the window whose code is ``typed``, or None."""
    code = _digits(typed)
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    step = current_step(now)
    found = None
    for candidate in range(step - WINDOW, step + WINDOW + 1):
        if hmac.compare_digest(totp.at(candidate * STEP_SECONDS), code):
            found = candidate
    return found


def check_totp(db: Session, user: User, typed: str, now: float | None = None) -> str:
    """OK (and the step is taken, so that code never works again), WRONG, REUSED or
    UNREADABLE. The account's row is held while the step is compared and taken, so two
    requests with one code cannot both pass."""
    if user.totp_secret is None or not looks_like_totp(typed):
        return WRONG
    secret = unseal(user.totp_secret)
    if secret is None:
        return UNREADABLE
    step = matching_step(secret, typed, now)
    if step is None:
        return WRONG
    hold(db, user)
    if user.totp_last_step is not None and step <= user.totp_last_step:
        return REUSED
    user.totp_last_step = step
    db.flush()
    return OK


# -- recovery codes ----------------------------------------------------------------------


READ_AS = str.maketrans("oil", "011")  # letters a person may read for 0 and 1


def recovery_hash(code: str, secret_key: str | None = None) -> str:
    normal = _digits(code).lower().translate(READ_AS)
    return hmac.new(_derived(secret_key or _app_key(), b"tracker recovery codes v1"),
                    normal.encode("utf-8"), hashlib.sha256).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, RECOVERY_LENGTH, 4))


def new_recovery_codes(db: Session, user: User) -> list[str]:
    """Ten new recovery codes for ``user`` (the old ones stop working): returned to be shown
    once, stored only hashed. Flushes."""
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.add_all(RecoveryCode(user_id=user.id, code_hash=recovery_hash(code)) for code in codes)
    db.flush()
    return codes


def recovery_codes_left(db: Session, user: User) -> int:
    return db.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def use_recovery_code(db: Session, user: User, typed: str) -> bool:
    """Whether ``typed`` is one of ``user``'s unused recovery codes; it is used up now (one
    conditional UPDATE: of two requests with one code, only one passes)."""
    if not user.has_two_factor or not _digits(typed):
        return False
    done = db.execute(update(RecoveryCode)
                      .where(RecoveryCode.user_id == user.id,
                             RecoveryCode.code_hash == recovery_hash(typed),
                             RecoveryCode.used_at.is_(None))
                      .values(used_at=utcnow()))
    return bool(done.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Checked:
    outcome: str  # OK, WRONG, REUSED or UNREADABLE
    by_recovery_code: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome == OK


def check(db: Session, user: User, typed: str) -> Checked:
    """A code from the app, or a recovery code."""
    if looks_like_totp(typed):
        return Checked(check_totp(db, user, typed))
    if use_recovery_code(db, user, typed):
        return Checked(OK, by_recovery_code=True)
    return Checked(WRONG)


# -- setting up, turning off, resetting --------------------------------------------------


def enrol(db: Session, user: User, secret: str, step: int) -> None:
    """Keep ``secret`` (just confirmed by a code of ``step``) as ``user``'s. Flushes."""
    user.totp_secret = seal(secret)
    user.totp_enrolled_at = utcnow()
    user.totp_last_step = step
    db.flush()


def clear(db: Session, user: User) -> None:
    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.flush()


class Refused(Exception):
    """The change is not allowed; the message says why."""


def reset_refusal(actor: User | str, user: User) -> str | None:
    """Why ``actor`` may not reset ``user``'s second factor, or None."""
    if isinstance(actor, User) and actor.id == user.id:
        return ("You cannot reset your own two-factor authentication here: set it up again "
                "from your account page, or ask another administrator")
    if not user.has_two_factor:
        return (f"{user.name} has not set up two-factor authentication: there is nothing "
                "to reset")
    return None


def reset(db: Session, actor: User | str, user: User) -> int:
    """An admin (or the command line) clears ``user``'s second factor and ends their
    sessions: they set it up again at their next sign-in. Returns how many sessions ended."""
    if (why := reset_refusal(actor, user)) is not None:
        raise Refused(why)
    clear(db, user)
    ended = auth.end_sessions(db, user, "two-factor reset")
    audit.record(db, actor, "account.two_factor_reset", "account", user.email,
                 f"second factor and recovery codes cleared; {ended} session"
                 f"{'s' if ended != 1 else ''} ended")
    return ended


def end_if_now_required(db: Session, user: User, role: str) -> int:
    """After a role change: a role that needs two-factor, for an account without it, ends
    its sessions, so that it sets one up at its next sign-in."""
    if is_required(user, role) and not user.has_two_factor:
        return auth.end_sessions(db, user, "two-factor required")
    return 0
