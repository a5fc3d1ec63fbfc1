"""Is a new password among the half-billion that Have I Been Pwned's Pwned Passwords has seen in breaches?

The local list (shared/accounts/passwords.py) catches the most common passwords; this asks the full
corpus, by k-anonymity, where the service is reachable (issue 16: "k-anonymity service where
reachable"). What leaves the process is the first five hexadecimal characters of the password's SHA-1,
never the password or its full hash: `GET {base}/range/{PREFIX}` answers every hash suffix under that
prefix as `SUFFIX:COUNT` lines (haveibeenpwned.com/API/v3#PwnedPasswords, "Searching by range"). With
`Add-Padding: true` the answer is padded with made-up suffixes of count 0, so its size does not give the
prefix away to someone watching the wire (Cloudflare, "Pwned Passwords Padding"); a count of 0 therefore
means "not seen".

Unreachable, slow, or answering anything but 200: the check says "unknown" and the local list stands
alone — a sign-up never waits on or fails because of a third party. The answer is read up to MAX_BYTES
(a padded range is 800–1,000 lines of about 40 bytes), with no redirects."""

from __future__ import annotations

import hashlib
import logging

import requests

log = logging.getLogger("portal.accounts")
ALONE = "the local list alone applies"

TIMEOUT_SECONDS = 2.0
MAX_BYTES = 256 * 1024


class PwnedPasswords:
    def __init__(self, base_url: str, session: requests.Session, timeout: float = TIMEOUT_SECONDS):
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.timeout = timeout

    def seen(self, password: str) -> bool | None:
        """True when the corpus holds the password, False when not, None when the service did not say."""
        digest = hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).hexdigest().upper()
        prefix, suffix = digest[:5], digest[5:]
        try:
            with self.session.get(
                f"{self.base_url}/range/{prefix}",
                headers={"Add-Padding": "true"},
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
            ) as answer:
                if answer.status_code != 200:
                    log.warning("Pwned Passwords answered %s: %s", answer.status_code, ALONE)
                    return None
                body = answer.raw.read(MAX_BYTES + 1, decode_content=True)
        except (requests.RequestException, OSError) as error:
            log.warning("Pwned Passwords unreachable (%s): %s", type(error).__name__, ALONE)
            return None
        if len(body) > MAX_BYTES:
            log.warning("Pwned Passwords answered over %s bytes: %s", MAX_BYTES, ALONE)
            return None
        for line in body.decode("ascii", "replace").splitlines():
            listed, _, count = line.strip().partition(":")
            if listed.upper() == suffix:
                return count.isdigit() and int(count) > 0
        return False
