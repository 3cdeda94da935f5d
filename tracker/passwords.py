"""Passwords: the policy (NCSC-style) and hashing.

The policy follows the NCSC's advice: a minimum length of 12 characters, no composition
rules (no demands for digits, capitals or symbols), no expiry, and no guessable passwords.
Spaces at the ends, and runs of spaces, do not count towards the length. A password is
refused if it, or what is left of it once leading and trailing digits and symbols are
removed ("Summer2024!" leaves "summer"), is on the list shipped in
``tracker/data/common-passwords.txt``; if it is one or two characters repeated; if it
contains the person's email address (whole, or the part before the @) or a part of their
name of four letters or more; or if the zxcvbn strength estimate (dictionaries, names,
keyboard patterns, dates, repeats, with the person's email and name added to its words)
puts it below :data:`MIN_SCORE`: three random words pass. Hashes use Werkzeug's current
default (scrypt); the password is hashed as typed.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 200
DENY_LIST = Path(__file__).resolve().parent / "data" / "common-passwords.txt"
_EDGES = re.compile(r"^[^a-z]+|[^a-z]+$")
MIN_SCORE = 3
"""zxcvbn's score, 0 to 4: 3 is "safely unguessable" (some hundred million guesses or
more), which 'kettle-orbit-marigold' passes and 'Summer2024' does not."""
ESTIMATED = 72
"""zxcvbn looks at this many characters at most (its own limit); past them, length alone
makes a password strong enough."""
TOO_COMMON = ("Password is too common and easy to guess: choose something else, for "
              "example three random words")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = DENY_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def problem_with(password: str, email: str = "", name: str = "") -> str | None:
    """Why ``password`` is refused, in words for the person choosing it; None if it is fine."""
    counted = " ".join(password.split())  # spaces at the ends and repeated do not count
    if len(counted) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    lowered = counted.lower()
    compact = re.sub(r"\s+", "", lowered)
    stem = _EDGES.sub("", compact)
    common = common_passwords()
    if compact in common or (stem and stem in common) or len(set(compact)) <= 2:
        return TOO_COMMON
    address = email.strip().lower()
    local = address.split("@", 1)[0]
    if (address and address in compact) or (len(local) >= 4 and local in compact):
        return "Password must not contain your email address"
    names = [part for part in re.split(r"[^\w]+", name.lower()) if len(part) >= 4]
    if any(part in compact for part in names):
        return "Password must not contain your name"
    words = [w for w in (address, local, *re.split(r"[^\w]+", local), *names) if w]
    if zxcvbn(counted[:ESTIMATED], user_inputs=words)["score"] < MIN_SCORE:
        return TOO_COMMON
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        return False
    return check_password_hash(stored_hash, password)
