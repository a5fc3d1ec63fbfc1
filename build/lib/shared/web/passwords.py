"""Password rules and argon2id hashing (argon2-cffi's PasswordHasher defaults: argon2id, RFC 9106 low-memory).

argon2 is imported on first use, not at import time: cold start is measured."""

from __future__ import annotations

import functools
import string
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_LENGTH = 12
MAX_LENGTH = 1000  # hashing a megabyte-long "password" would be a cheap denial of service
_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits)


def _character_class(char: str) -> int:
    for index, members in enumerate(_CLASSES):
        if char in members:
            return index
    return len(_CLASSES)  # everything else: punctuation, spaces, letters beyond ASCII


def password_problem(password: str, email: str) -> str | None:
    """What is wrong with a new password, in words the form can show; None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if len({_character_class(char) for char in password}) < 2:
        return (
            "Mix at least two kinds of character: lower-case letters, capitals, digits, or symbols "
            "and spaces."
        )
    folded, address = password.strip().casefold(), email.strip().casefold()
    if address and folded in (address, address.split("@", 1)[0]):
        return "Do not use your e-mail address as your password."
    return None


@functools.cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    if not stored_hash:
        burn_time(password)  # an account without a password answers as slowly as one with
        return False
    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher().check_needs_rehash(stored_hash)


@functools.cache
def _dummy_hash() -> str:
    return _hasher().hash("not a password anybody has")


def burn_time(password: str) -> None:
    """Spend the time a real check takes, so response times do not tell which addresses exist."""
    from argon2.exceptions import VerificationError

    try:
        _hasher().verify(_dummy_hash(), password)
    except VerificationError:
        pass
