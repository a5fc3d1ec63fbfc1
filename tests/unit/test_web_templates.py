"""Templates: user input is escaped, every input has a label, errors are tied to their fields."""

import re

from shared.accounts.registration import SignupForm
from shared.web.templating import render

BASE = {
    "account": None,
    "csrf_field": "csrf_token",
    "csrf_token": "t",
    "flash": (),
    "css_url": "/static/app.css",
}


def _signup(form: SignupForm, errors: dict[str, str]) -> str:
    return render("signup.html", title="Register", form=form, errors=errors, already_registered=False, **BASE)


def test_markup_in_a_company_name_is_shown_as_text() -> None:
    page = _signup(SignupForm("Ana", "<script>alert(1)</script>", "ana@example.com", True), {})

    assert "<script>" not in page
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in page


def test_every_input_has_a_label_and_errors_are_described() -> None:
    errors = SignupForm("", "", "nope", False).problems()
    page = _signup(SignupForm("", "", "nope", False), errors)

    inputs = re.findall(r'<input id="([a-z]+)"', page)
    assert set(inputs) == {"name", "company", "email", "terms"}
    for name in inputs:
        assert f'<label for="{name}">' in page
        assert f'id="{name}-error"' in page
        assert re.search(rf'<input id="{name}"[^>]*aria-describedby="[^"]*{name}-error', page, re.S)
    assert 'role="alert"' in page and 'name="csrf_token" value="t"' in page
