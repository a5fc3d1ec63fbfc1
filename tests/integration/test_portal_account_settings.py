"""What a paying customer expects of their account, over real HTTP (the local host in-process, Azurite,
an SMTP sink): redirect after sign-up, the trial's days, the terms, no loop on a used verification link,
changing the password and the e-mail address, deleting the account."""

from __future__ import annotations

import re
import uuid
from html import unescape

from shared import bootstrap
from shared.store.accounts import AccountStore
from tests.browser.portal_stack import Portal
from tests.integration.form_client import FormClient

PASSWORD = "correct horse 42 battery"
NEW_PASSWORD = "Another Horse 43 battery"


def _store() -> AccountStore:
    return AccountStore.from_settings(bootstrap.worker().settings)


def _email() -> str:
    return f"ana.{uuid.uuid4().hex[:8]}@example.com"


def _notes(html: str, role: str) -> list[str]:
    return [unescape(text) for text in re.findall(rf'<p class="flash[^"]*" role="{role}">([^<]*)</p>', html)]


def _section(page: str, name: str) -> str:
    found = re.search(rf'<section aria-labelledby="{name}">(.*?)</section>', page, re.S)
    assert found, f"no section {name}"
    return found.group(1)


class Customer(FormClient):
    def __init__(self, portal: Portal) -> None:
        super().__init__(portal.url)
        self.portal = portal

    def registered(self, email: str) -> None:
        """Registered, confirmed and signed in, through the pages."""
        self.get("/signup")
        sent = self.post("/signup", {"name": "Ana", "company": "Kiwi", "email": email, "terms": "accepted"})
        assert sent.status_code == 303, sent.text
        link = self.portal.link_in_last_email_to(email)
        self.get(link)
        token = link.split("token=", 1)[1]
        done = self.post("/verify", {"token": token, "password": PASSWORD, "confirm": PASSWORD})
        assert done.status_code == 303, done.text
        self.get(done.headers["Location"])  # the welcome note is shown there

    def follow(self, answer: object) -> str:
        location = answer.headers["Location"]  # type: ignore[attr-defined]
        return self.get(location).text

    def signs_in(self, email: str, password: str) -> bool:
        self.get("/signin")
        return self.post("/signin", {"email": email, "password": password}).status_code == 303


def test_sign_up_redirects_after_post_so_a_reload_registers_nothing_twice(portal: Portal) -> None:
    visitor, email = Customer(portal), _email()
    visitor.get("/signup")

    sent = visitor.post("/signup", {"name": "Ana", "company": "Kiwi", "email": email, "terms": "accepted"})
    page = visitor.get(sent.headers["Location"])
    reloaded = visitor.get(sent.headers["Location"])

    assert sent.status_code == 303 and sent.headers["Location"] == "/signup/sent"
    assert page.status_code == 200 and f"We sent a link to <strong>{email}</strong>" in page.text
    assert reloaded.status_code == 200 and "Check your e-mail" in reloaded.text
    assert len(portal.emails_to(email)) == 1


def test_the_terms_box_links_to_terms_and_the_footer_to_privacy_and_support(portal: Portal) -> None:
    visitor = Customer(portal)
    signup = visitor.get("/signup").text

    assert re.search(
        r'<label for="terms">I accept the <a href="/terms"[^>]*>terms of the free trial</a>', signup
    )
    for path, heading in (
        ("/terms", "Terms of the free trial"),
        ("/privacy", "Privacy"),
        ("/support", "Support"),
    ):
        page = visitor.get(path)
        assert page.status_code == 200 and f"<h1>{heading}" in page.text, path
        assert f'href="{path}"' in page.text  # in every page's footer


def test_the_trial_counts_fourteen_days_just_after_it_began(portal: Portal) -> None:
    customer, email = Customer(portal), _email()
    customer.registered(email)

    account_page = customer.get("/account").text

    assert re.search(r'<dd id="trial">14 days left \(ends ', account_page), account_page


def test_a_used_verification_link_opened_while_signed_in_leads_on_not_round(portal: Portal) -> None:
    customer, email = Customer(portal), _email()
    customer.registered(email)
    link = portal.link_in_last_email_to(email)
    mails = len(portal.emails_to(email))

    opened = customer.get(link)

    assert opened.status_code == 303 and opened.headers["Location"] == "/connections"
    assert _notes(customer.follow(opened), "status") == [
        "Your e-mail address is already confirmed and your password is set."
    ]
    assert len(portal.emails_to(email)) == mails  # nothing promised, nothing sent


def test_changing_the_password_needs_the_current_one_and_signs_out_other_sessions(portal: Portal) -> None:
    customer, email = Customer(portal), _email()
    customer.registered(email)
    elsewhere = Customer(portal)
    assert elsewhere.signs_in(email, PASSWORD)

    customer.get("/account")
    wrong = customer.post(
        "/account/password", {"current_password": "guess", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    changed = customer.post(
        "/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )

    assert wrong.status_code == 400 and "That is not your current password." in wrong.text
    assert changed.status_code == 303 and changed.headers["Location"] == "/account#change-password"
    page = customer.follow(changed)  # this session carries on
    assert _notes(_section(page, "change-password"), "status") == [
        "Your password is changed, and every other session was signed out."
    ]
    assert elsewhere.get("/account").status_code == 303  # sent to sign in
    assert not Customer(portal).signs_in(email, PASSWORD)
    assert Customer(portal).signs_in(email, NEW_PASSWORD)


def test_a_leaked_password_is_refused_as_the_new_one_and_the_old_one_still_works(portal: Portal) -> None:
    customer, email = Customer(portal), _email()
    customer.registered(email)
    customer.get("/account")

    # "1q2w3e4r5t6y" passes the length and character rules but is in the leaked list (any case)
    refused = customer.post(
        "/account/password",
        {"current_password": PASSWORD, "password": "1Q2W3E4R5T6Y", "confirm": "1Q2W3E4R5T6Y"},
    )

    assert refused.status_code == 400
    assert "This password appears in lists of leaked passwords — choose another." in refused.text
    assert Customer(portal).signs_in(email, PASSWORD)
    assert not Customer(portal).signs_in(email, "1Q2W3E4R5T6Y")


def test_changing_the_e_mail_address_takes_a_link_sent_to_the_new_one(portal: Portal) -> None:
    customer, old, new = Customer(portal), _email(), _email()
    customer.registered(old)
    customer.get("/account")

    wrong = customer.post("/account/email", {"new_email": new, "email_password": "guess"})
    asked = customer.post("/account/email", {"new_email": new, "email_password": PASSWORD})

    assert wrong.status_code == 400 and "That is not your current password." in wrong.text
    assert asked.status_code == 303 and asked.headers["Location"] == "/account#change-email"
    [sent] = _notes(_section(customer.follow(asked), "change-email"), "status")
    assert f"We sent a link to {new}." in sent
    assert _store().get_by_email(old) is not None and _store().get_by_email(new) is None  # not yet
    [notice] = [m for m in portal.emails_to(old) if "being changed" in str(m["Subject"])]
    assert new in notice.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]

    confirmed = customer.get(portal.link_in_last_email_to(new))

    assert confirmed.status_code == 303 and confirmed.headers["Location"] == "/account#change-email"
    assert _notes(customer.follow(confirmed), "status") == [f"Your e-mail address is now {new}."]
    account = _store().get_by_email(new)
    assert account is not None and account.email_verified and account.pending_email == ""
    assert _store().get_by_email(old) is None
    assert Customer(portal).signs_in(new, PASSWORD) and not Customer(portal).signs_in(old, PASSWORD)
    again = customer.get(portal.link_in_last_email_to(new))
    assert again.status_code == 410  # the link works once


def test_a_new_address_another_account_uses_is_refused(portal: Portal) -> None:
    customer, theirs = Customer(portal), _email()
    Customer(portal).registered(theirs)
    customer.registered(_email())
    customer.get("/account")

    refused = customer.post("/account/email", {"new_email": theirs.upper(), "email_password": PASSWORD})

    assert refused.status_code == 400 and "Another account uses this e-mail address." in refused.text


def test_deleting_the_account_needs_the_password_then_removes_it_and_signs_out(portal: Portal) -> None:
    customer, email = Customer(portal), _email()
    customer.registered(email)
    account = _store().get_by_email(email)
    assert account is not None
    confirm = customer.get("/account/delete")
    assert confirm.status_code == 200 and "Delete your account?" in confirm.text

    wrong = customer.post("/account/delete", {"delete_password": "guess"})
    assert wrong.status_code == 400 and _store().get(account.id) is not None
    deleted = customer.post("/account/delete", {"delete_password": PASSWORD})

    assert deleted.status_code == 303 and deleted.headers["Location"] == "/"
    assert "Your account and its connections are deleted." in customer.follow(deleted)
    assert _store().get(account.id) is None and _store().get_by_email(email) is None
    assert customer.get("/account").status_code == 303  # signed out
    assert not Customer(portal).signs_in(email, PASSWORD)


def test_a_stolen_session_cannot_guess_the_password_through_the_account_forms(portal: Portal) -> None:
    # GIVEN someone holding a signed-in session but not the password
    thief, email = Customer(portal), _email()
    thief.registered(email)
    account = _store().get_by_email(email)
    assert account is not None
    thief.get("/account/delete")

    # WHEN they try five guesses, then the right password
    guesses = [thief.post("/account/delete", {"delete_password": f"guess {n}"}) for n in range(5)]
    right = thief.post("/account/delete", {"delete_password": PASSWORD})

    # THEN the sixth check is refused whatever it holds, and nothing was deleted
    assert all(g.status_code == 400 and "That is not your current password." in g.text for g in guesses)
    assert right.status_code == 400 and "Too many tries with the password. Try again in" in right.text
    assert _store().get(account.id) is not None


def test_asking_for_e_mail_change_links_again_and_again_is_refused(portal: Portal) -> None:
    customer, new = Customer(portal), _email()
    customer.registered(_email())
    customer.get("/account")

    first = customer.post("/account/email", {"new_email": new, "email_password": PASSWORD})
    again = customer.post("/account/email", {"new_email": new, "email_password": PASSWORD})

    assert first.status_code == 303
    assert again.status_code == 400 and "We sent a link there moments ago." in again.text
    assert len([m for m in portal.emails_to(new) if "new e-mail address" in str(m["Subject"])]) == 1
