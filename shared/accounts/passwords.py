"""Password rules and argon2id hashing.

Parameters: OWASP Password Storage Cheat Sheet (cheatsheetseries.owasp.org, "Argon2id": "a minimum
configuration of 19 MiB of memory, an iteration count of 2, and 1 degree of parallelism"). argon2-cffi's
default (RFC 9106's low-memory choice) takes 64 MiB a hash, which is what let ~30 parallel sign-ins
exhaust an instance (issue 16). Hashes made with the old parameters are redone at the next sign-in
(needs_rehash).

Every hash and check runs on a pool of HASH_SLOTS threads of its own, and a caller first takes one of
HASH_SLOTS slots: at most HASH_SLOTS hashes run at once in a process, and only those threads ever hold
argon2 memory (glibc keeps a freed 19 MiB block in the arena of the thread that used it, so hashing on
every request thread would leave one block per thread: measured 280 MB after 60 parallel checks). A
caller that cannot get a slot within HASH_WAIT_SECONDS gets HashingBusy, which the portal answers with
429 (shared/web/pages.py).

A new password (sign-up, reset, change) is refused when it appears in a list of leaked passwords, as
NIST SP 800-63B (rev. 3) section 5.1.1.2 asks of verifiers ("passwords obtained from previous breach
corpuses"). The list is local, so nothing about the password leaves the process: the 30,000 most
common passwords of Mark Burnett's 10-million-password corpus (xato.net) as shipped in the zxcvbn
package (PyPI "zxcvbn", MIT licence, zxcvbn/frequency_lists.py, "passwords"). Compared
case-insensitively, since the list is lower case.

argon2 and the leaked list are imported on first use, not at import time: cold start is measured."""

from __future__ import annotations

import functools
import os
import string
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_LENGTH = 12
MAX_LENGTH = 1000  # hashing a megabyte-long "password" would be a cheap denial of service
_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits)
MEMORY_KIB, TIME_COST, PARALLELISM = 19 * 1024, 2, 1  # OWASP's argon2id minimum (see above)
# Hashes at once per process: at most 2 × 19 MiB, and always one core left to webhooks and queue work
# (bench/abuse.py on 2 cores: with a hash on each core, webhook p95 rose from 8 to 23 ms during a flood).
HASH_SLOTS = max(1, min(2, (os.cpu_count() or 1) - 1))
HASH_WAIT_SECONDS = 2.0
_slots = threading.BoundedSemaphore(HASH_SLOTS)
T = TypeVar("T")


class HashingBusy(Exception):
    """Every hashing slot stayed taken: try again in a moment (the portal answers 429)."""


HASH_NICENESS = 10  # hashing yields the CPU to webhooks and queue work (Linux: per-thread nice value)


def _lower_priority() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: hashing keeps the normal priority
        pass


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(
        max_workers=HASH_SLOTS, thread_name_prefix="argon2", initializer=_lower_priority
    )


def _in_slot(work: Callable[[], T]) -> T:
    if not _slots.acquire(timeout=HASH_WAIT_SECONDS):
        raise HashingBusy()
    try:
        return _pool().submit(work).result()
    finally:
        _slots.release()


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
    if folded in _leaked_passwords():
        return LEAKED_MESSAGE
    return None


LEAKED_MESSAGE = "This password appears in lists of leaked passwords — choose another."


@functools.cache
def _leaked_passwords() -> frozenset[str]:
    """The leaked passwords a new password could still match after the rules above (MIN_LENGTH+)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"] if len(word) >= MIN_LENGTH)


@functools.cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM)


def hash_password(password: str) -> str:
    return _in_slot(lambda: _hasher().hash(password))


def verify_password(stored_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    if not stored_hash:
        burn_time(password)  # an account without a password answers as slowly as one with
        return False
    try:
        return _in_slot(lambda: _hasher().verify(stored_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher().check_needs_rehash(stored_hash)


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not a password anybody has")


def burn_time(password: str) -> None:
    """Spend the time a real check takes, so response times do not tell which addresses exist."""
    from argon2.exceptions import VerificationError

    dummy = _dummy_hash()
    try:
        _in_slot(lambda: _hasher().verify(dummy, password))
    except VerificationError:
        pass
