"""Passwords: the policy (NCSC-style) and hashing.

The policy follows the NCSC's advice: a minimum length of 12 characters, no composition
rules (no demands for digits, capitals or symbols), no expiry, and a deny list of common
passwords. A password is refused if it, or what is left of it once leading and trailing
digits and symbols are removed ("Summer2024!" leaves "summer"), is on the list shipped in
``tracker/data/common-passwords.txt``, if it is one character repeated, or if it contains
the person's own email address or name. Hashes use Werkzeug's current default (scrypt).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 12
MAX_LENGTH = 200
DENY_LIST = Path(__file__).resolve().parent / "data" / "common-passwords.txt"
_EDGES = re.compile(r"^[^a-z]+|[^a-z]+$")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = DENY_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def problem_with(password: str, email: str = "", name: str = "") -> str | None:
    """Why ``password`` is refused, in words for the person choosing it; None if it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    lowered = password.lower()
    compact = re.sub(r"\s+", "", lowered)
    stem = _EDGES.sub("", compact)
    common = common_passwords()
    if compact in common or (stem and stem in common) or len(set(compact)) <= 2:
        return ("Password is too common and easy to guess: choose something else, for "
                "example three random words")
    local = email.split("@", 1)[0].lower()
    if len(local) >= 4 and local in compact:
        return "Password must not contain your email address"
    for part in name.lower().split():
        if len(part) >= 4 and part in compact:
            return "Password must not contain your name"
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        return False
    return check_password_hash(stored_hash, password)
