"""Accounts as an admin manages them: links, disabling, enabling and roles.

Each change is recorded in the audit trail in the caller's transaction (services flush, the
boundary commits). Invitation and reset links are also emailed: queued in the outbox
(``tracker.services.outbox``) in the same transaction, delivered once it is committed.
An admin cannot lock themselves out: they cannot disable their own account
or take away their own admin role, so there is always at least one admin who can sign in.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker import auth
from tracker.models import AccountToken, User, utcnow
from tracker.models.people import ROLES
from tracker.services import audit, outbox, two_factor

ROLE_NAMES = {
    "admin": "Administrator (community safety team)",
    "board": "Board member",
    "lead": "Group lead",
    "member": "Action owner",
}
ACTIVE, NO_PASSWORD, DISABLED = "active", "no password yet", "disabled"


class AccountRefused(Exception):
    """The change is not allowed; the message says why, for the admin who asked."""


NAME_LENGTH = 200


def checked_email(text: str) -> str:
    """One email address, as the account keeps it (lower case); :class:`AccountRefused`
    says what is wrong with it: a list of addresses, a display name, a line break, a bad
    domain. Checked by the email-validator library, without asking DNS."""
    cleaned = text.strip()
    if any(mark in cleaned for mark in (",", ";")):
        raise AccountRefused(f"'{_shown(cleaned)}' is more than one email address: give one "
                             "address for each account")
    try:
        found = validate_email(cleaned, check_deliverability=False,
                               allow_display_name=False, allow_quoted_local=False)
    except EmailNotValidError as error:
        raise AccountRefused(f"'{_shown(cleaned)}' is not an email address: {error}") from None
    return found.normalized.lower()


def checked_name(text: str) -> str:
    """A person's name as shown on pages and in emails: one line of printable text."""
    cleaned = " ".join(text.split(" ")).strip()
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in cleaned):
        raise AccountRefused("A name must be one line of text, without line breaks, tabs or "
                             "other control characters")
    if not cleaned:
        raise AccountRefused("Enter the person's name")
    if len(cleaned) > NAME_LENGTH:
        raise AccountRefused(f"A name must be {NAME_LENGTH} characters or fewer")
    return " ".join(cleaned.split())


def _shown(text: str) -> str:
    """Text typed by someone, safe to repeat in one line of a message."""
    return "".join(c if c.isprintable() else "?" for c in text)[:120]


PASSWORDS_OFF = ("Password sign-in is turned off (TRACKER_PASSWORD_SIGN_IN=0): people sign in "
                 "with their organisation's account, so there is no password to reset")


@dataclass(frozen=True)
class NewLink:
    url: str
    purpose: str  # invite, reset, or sso (an invitation to sign in with the organisation's account)
    expires_at: datetime | None  # None: the sign-in page's address, which does not expire
    is_emailed: bool = False  # queued in the outbox (not when the address is unusable)


def state(user: User) -> str:
    if not user.is_active:
        return DISABLED
    return ACTIVE if user.has_password else NO_PASSWORD


def find_user(session: Session, user_id: int) -> User | None:
    """An account by its id."""
    return session.get(User, user_id)


def accounts(session: Session, role: str | None = None) -> list[User]:
    """Every account (or those with ``role``), with their groups, in two queries."""
    query = (select(User).options(selectinload(User.groups))
             .order_by(User.name, User.email))
    if role:
        query = query.where(User.role == role)
    return list(session.scalars(query))


def new_link(session: Session, admin: User, user: User, mail: outbox.MailTemplates) -> NewLink:
    """An invitation (no password yet) or reset link; earlier links stop working."""
    if not user.is_active:
        raise AccountRefused(f"{user.name}'s account is disabled: enable it before sending "
                             "a link")
    purpose = "reset" if user.has_password and mail.password_sign_in else "invite"
    link = email_link(session, user, purpose, mail)
    if link.purpose == "sso":
        audit.record(session, admin, "account.invited", "account", user.email,
                     "invited to sign in with their organisation's account")
    elif purpose == "invite":
        audit.record(session, admin, "account.invited", "account", user.email,
                     "new invitation link")
    else:
        audit.record(session, admin, "account.reset_link", "account", user.email,
                     "new password reset link")
    session.flush()
    return link


def email_link(session: Session, user: User, purpose: str,
               mail: outbox.MailTemplates) -> NewLink:
    """Issue an invitation or reset link and queue an email with it. Flushes.

    The email's outbox key names the link's token, so each link is emailed once. An
    address the outbox refuses (it could not be delivered safely) gets no email: the link
    is still returned, for whoever asked to pass on.

    When password sign-in is off, an invitation is an email saying to sign in with the
    organisation's account (no password link), and a reset is refused.
    """
    if not mail.password_sign_in:
        if purpose != "invite":
            raise AccountRefused(PASSWORDS_OFF)
        return _email_sso_invitation(session, user, mail)
    url = auth.issue_link(session, user, purpose, mail.base_url)
    token = session.scalars(select(AccountToken).where(AccountToken.user_id == user.id)
                            .order_by(AccountToken.id.desc()).limit(1)).one()
    kind = "invitation" if purpose == "invite" else "reset"
    partnership = outbox.partnership_name(session)
    text, html = mail.render(kind, partnership_name=partnership, name=user.name, url=url,
                             expires_at=token.expires_at, sso_label=mail.sso_label,
                             sign_in_url=f"{mail.base_url}/sign-in")
    subject = (f"Your invitation to the {partnership} tracker" if purpose == "invite"
               else f"Set a new password for the {partnership} tracker")
    try:
        queued = outbox.queue(session, key=f"account|{kind}|{token.id}|{user.email}",
                              kind=kind, to=user.email, subject=subject, text=text, html=html)
    except outbox.InvalidAddress:
        queued = None
    return NewLink(url=url, purpose=purpose, expires_at=token.expires_at,
                   is_emailed=queued is not None)


def _email_sso_invitation(session: Session, user: User, mail: outbox.MailTemplates
                          ) -> NewLink:
    """An email inviting ``user`` to sign in with their organisation's account. Flushes."""
    url = f"{mail.base_url}/sign-in"
    partnership = outbox.partnership_name(session)
    text, html = mail.render("invitation_sso", partnership_name=partnership, name=user.name,
                             url=url, sso_label=mail.sso_label)
    try:
        queued = outbox.queue(session, key=f"account|invitation_sso|{user.id}|"
                              f"{utcnow().isoformat()}", kind="invitation", to=user.email,
                              subject=f"Your invitation to the {partnership} tracker",
                              text=text, html=html)
    except outbox.InvalidAddress:
        queued = None
    return NewLink(url=url, purpose="sso", expires_at=None, is_emailed=queued is not None)


def disable(session: Session, admin: User | str, user: User) -> int:
    """Disable ``user``: they cannot sign in and their sessions end now. Returns how many."""
    if isinstance(admin, User) and user.id == admin.id:
        raise AccountRefused("You cannot disable your own account: ask another administrator "
                             "to do it")
    if not user.is_active:
        raise AccountRefused(f"{user.name}'s account is already disabled")
    user.is_active = False
    ended = auth.end_sessions(session, user, "account disabled")
    audit.record(session, admin, "account.disabled", "account", user.email,
                 f"{ended} session{'s' if ended != 1 else ''} ended",
                 old={"is_active": True}, new={"is_active": False})
    session.flush()
    return ended


def enable(session: Session, admin: User | str, user: User) -> None:
    if user.is_active:
        raise AccountRefused(f"{user.name}'s account is already active")
    user.is_active = True
    audit.record(session, admin, "account.enabled", "account", user.email,
                 old={"is_active": False}, new={"is_active": True})
    session.flush()


def change_role(session: Session, admin: User | str, user: User, role: str) -> None:
    if role not in ROLES:
        raise AccountRefused("Select a role")
    if isinstance(admin, User) and user.id == admin.id and role != "admin":
        raise AccountRefused("You cannot remove your own administrator role: ask another "
                             "administrator to do it")
    if user.role == role:
        raise AccountRefused(f"{user.name}'s role is already {ROLE_NAMES[role].lower()}")
    old = user.role
    user.role = role
    ended = two_factor.end_if_now_required(session, user, role)
    audit.record(session, admin, "account.role_changed", "account", user.email,
                 f"{ROLE_NAMES[old]} to {ROLE_NAMES[role]}"
                 + (f"; two-factor is needed and not set up: {ended} session"
                    f"{'s' if ended != 1 else ''} ended" if ended else ""),
                 old={"role": old}, new={"role": role})
    session.flush()
