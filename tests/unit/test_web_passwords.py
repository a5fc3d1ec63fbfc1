"""Password rules say which rule failed; hashes are argon2id and verify only the right password."""

import pytest

from shared.accounts.passwords import hash_password, needs_rehash, password_problem, verify_password

EMAIL = "ana@example.com"


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Short1!", "Use at least 12 characters."),
        ("abcdefghijklmnop", "Mix at least two kinds of character"),
        ("123456789012345", "Mix at least two kinds of character"),
        ("ANA@EXAMPLE.COM", "Do not use your e-mail address"),
        ("ana@example.com", "Do not use your e-mail address"),
        ("x" * 1001 + "1", "Use at most 1000 characters."),
        # in the leaked list (zxcvbn's "passwords"), compared whatever the case and surrounding spaces
        ("password1234", "This password appears in lists of leaked passwords"),
        ("QwertyUIOP123", "This password appears in lists of leaked passwords"),
        (" 1qaz2wsx3edc ", "This password appears in lists of leaked passwords"),
    ],
)
def test_each_rule_names_itself(password: str, expected: str) -> None:
    problem = password_problem(password, EMAIL)

    assert problem is not None and problem.startswith(expected)


@pytest.mark.parametrize(
    "password", ["correct horse battery", "Twelve chars", "p4ssw0rdp4ssw0rd", "ana@example.co1"]
)
def test_acceptable_passwords_pass(password: str) -> None:
    assert password_problem(password, EMAIL) is None


def test_the_hash_is_argon2id_and_checks_the_password() -> None:
    stored = hash_password("correct horse battery")

    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")
    assert not verify_password("", "anything")
    assert not verify_password("not-a-hash", "anything")
    assert not needs_rehash(stored)
