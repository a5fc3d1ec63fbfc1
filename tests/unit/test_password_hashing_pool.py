"""Attack test for issue 16 (memory): many parallel password checks — sign-ins for known or unknown
addresses — must not each take their own argon2 memory. Run in a fresh interpreter so its peak RSS is
its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shared.accounts import passwords
from shared.accounts.passwords import HASH_SLOTS, MEMORY_KIB, HashingBusy, hash_password, verify_password

ROOT = Path(__file__).resolve().parents[2]
ATTACK = """
import json, resource, threading
from shared.accounts.passwords import HashingBusy, burn_time, hash_password, verify_password
stored = hash_password("correct horse 42 battery")
burn_time("warm the dummy hash up")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
busy = []
def guess(n):
    try:
        (verify_password(stored, f"guess {n}") if n % 2 else burn_time(f"guess {n}"))
    except HashingBusy:
        busy.append(n)
threads = [threading.Thread(target=guess, args=(n,)) for n in range(60)]
[t.start() for t in threads]
[t.join() for t in threads]
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"grew_kib": after - before, "busy": len(busy)}))
"""


def test_sixty_parallel_password_checks_stay_within_the_pool() -> None:
    answer = subprocess.run(
        [sys.executable, "-c", ATTACK], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    measured = json.loads(answer.stdout.strip().splitlines()[-1])
    # at most HASH_SLOTS hashes' memory at once (plus thread stacks and allocator slack); 60 unbounded
    # 64 MiB hashes grew by 2.6 GB on this machine before the pool; with it: about 100 MB
    assert measured["grew_kib"] < (HASH_SLOTS + 3) * MEMORY_KIB, measured


def test_the_current_owasp_parameters_are_used_and_old_hashes_are_redone() -> None:
    stored = hash_password("correct horse 42 battery")
    assert "$argon2id$" in stored and f"m={MEMORY_KIB},t=2,p=1" in stored
    from argon2 import PasswordHasher

    old = PasswordHasher().hash("correct horse 42 battery")  # argon2-cffi's 64 MiB default, as before
    assert verify_password(old, "correct horse 42 battery") and passwords.needs_rehash(old)


def test_a_check_that_finds_every_slot_taken_is_refused_not_queued_for_ever() -> None:
    taken = [passwords._slots.acquire(timeout=5) for _ in range(HASH_SLOTS)]
    try:
        assert all(taken)
        with pytest.raises(HashingBusy):
            verify_password(hash_password.__doc__ or "$argon2id$x", "guess")
    finally:
        for _ in taken:
            passwords._slots.release()
