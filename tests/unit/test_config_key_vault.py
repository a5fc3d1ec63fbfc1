"""A Key Vault reference App Service could not resolve reaches the app as its literal text (Learn, "Use Key
Vault references as app settings", Troubleshoot). The app reads it as unset and names it; it never uses the
reference text as a key or a signing secret."""

from __future__ import annotations

import pytest

from shared.config import SETTING_NAMES, MissingSettingError, Settings
from shared.crypto import KeyConfigError, KeyRing
from shared.web.csrf import csrf_token

VAULT = "https://kv-abc123.vault.azure.net/secrets"


def test_unresolved_references_are_read_as_unset_and_named() -> None:
    # GIVEN the first start, before the identity's Key Vault role took effect
    env = {
        "TOKEN_ENCRYPTION_KEYS": f"@Microsoft.KeyVault(SecretUri={VAULT}/token-encryption-keys)",
        "SESSION_SECRET": f"@Microsoft.KeyVault(SecretUri={VAULT}/session-secret)",
        "MS_CLIENT_SECRET": "@microsoft.keyvault(VaultName=kv-abc123;SecretName=ms-client-secret)",
        "XERO_CLIENT_SECRET": "resolved-secret-value",
    }
    # WHEN the settings are read
    settings = Settings.from_env(env)
    # THEN each reference is unset and named, and a resolved one is kept
    assert settings.token_encryption_keys == "" and settings.session_secret == ""
    assert settings.ms_client_secret == ""
    assert settings.xero_client_secret == "resolved-secret-value"
    assert settings.unresolved_references == ("MS_CLIENT_SECRET", "TOKEN_ENCRYPTION_KEYS", "SESSION_SECRET")


def test_the_reference_text_never_becomes_a_signing_secret_or_a_key() -> None:
    # An attacker who guesses the vault's URI knows the reference text: signing with it must be impossible.
    reference = f"@Microsoft.KeyVault(SecretUri={VAULT}/session-secret)"
    settings = Settings.from_env({"SESSION_SECRET": reference, "TOKEN_ENCRYPTION_KEYS": reference})
    with pytest.raises(RuntimeError, match="SESSION_SECRET is not set"):
        csrf_token(settings.session_secret, "csrf-secret-of-a-session")
    with pytest.raises(KeyConfigError, match="TOKEN_ENCRYPTION_KEYS is not set"):
        KeyRing.from_setting(settings.token_encryption_keys)


def test_a_value_that_merely_mentions_key_vault_is_kept() -> None:
    value = "k1:AAAA@Microsoft.KeyVault(not-a-reference)"
    settings = Settings.from_env({"TOKEN_ENCRYPTION_KEYS": value})
    assert settings.token_encryption_keys == value and settings.unresolved_references == ()


def test_a_required_setting_left_unresolved_says_why() -> None:
    # No setting is required today; one that is (a field without a default) names the cause when unresolved.
    from dataclasses import make_dataclass

    from shared.config import _setting

    strict = make_dataclass("Strict", [("api_key", str, _setting("API_KEY"))], bases=(Settings,), frozen=True)
    with pytest.raises(MissingSettingError, match="API_KEY is still the literal @Microsoft.KeyVault"):
        strict.from_env({"API_KEY": f"@Microsoft.KeyVault(SecretUri={VAULT}/api-key)"})


def test_the_list_of_unresolved_settings_is_not_itself_a_setting() -> None:
    assert "unresolved_references" not in SETTING_NAMES and None not in SETTING_NAMES
