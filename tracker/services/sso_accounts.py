"""Which account a single sign-on signs in: matched by email, never made up by sign-in
unless the deployment allows the person's email domain.

Roles stay the tracker's: the identity provider says who someone is, never what they may
do here. A new account (allowed domains only) is a member's, in no group, for an admin to
give a role and groups; it is recorded in the audit trail like any other new account.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.models import User
from tracker.services import accounts, audit
from tracker.sso import Identity, Refused

SIGNED_IN_BY_SSO = "through single sign-on"


def account_for(session: Session, identity: Identity, allowed_domains: Collection[str]
                ) -> User:
    """The active account for ``identity``'s email (case-insensitively), or a new member's
    account when the email's domain is allowed; :class:`Refused` otherwise. Flushes."""
    email = identity.email.strip().lower()
    user = session.scalars(select(User).where(func.lower(User.email) == email)).first()
    if user is not None:
        if not user.is_active:
            raise Refused(f"account {email} is disabled", "Your account is disabled",
                          f"The tracker account for {email} has been disabled, so you "
                          "cannot sign in. If you still need it, ask the community safety "
                          "team to enable it again.", email=email)
        return user
    domain = email.rpartition("@")[2]
    if domain not in allowed_domains:
        raise Refused(f"no account for {email}", "You do not have an account yet",
                      f"Your organisation's sign-in worked, but the tracker has no account "
                      f"for {email}. Ask the community safety team to add an account for "
                      f"{email}, then sign in again.", email=email)
    return _new_member(session, email, identity.name)


def _new_member(session: Session, email: str, name: str) -> User:
    try:
        email = accounts.checked_email(email)
        name = accounts.checked_name(name or email.partition("@")[0])
    except accounts.AccountRefused as refused:
        raise Refused(f"cannot make an account for {email[:100]}: {refused}",
                      "An account could not be made for you",
                      f"{refused}. Ask the community safety team to add your account.",
                      email=email) from None
    user = User(email=email, name=name, role="member", groups=[])
    session.add(user)
    session.flush()
    audit.record(session, user, "account.created", "account", email,
                 f"{name} added as member at their first sign-in {SIGNED_IN_BY_SSO} "
                 "(their email domain is allowed)",
                 new={"name": name, "role": "member", "groups": []})
    return user
