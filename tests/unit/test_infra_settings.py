"""infra/ and local.settings.sample.json set exactly the settings the app reads (shared/config.py), secrets
reach the app only as Key Vault references, and azd can deploy it (azure.yaml, main.parameters.json)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from shared.config import SETTING_NAMES
from tests.unit.bicep_reader import bicep_settings, block_after, name_value_entries, object_entries, params

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MAIN = (INFRA / "main.bicep").read_text()

# Settings the host or the Azure SDK read, not shared/config.py: allowed in main.bicep and/or the sample.
HOST_SETTINGS = {
    "FUNCTIONS_WORKER_RUNTIME",  # the sample only: Flex Consumption takes the runtime from functionAppConfig
    "AzureWebJobsStorage",  # the sample only (a connection string); Azure uses the identity-based __ settings
    "AzureWebJobsStorage__credential",  # "managedidentity"
    "AzureWebJobsStorage__clientId",  # which user-assigned identity the host uses
    "AzureWebJobsStorage__blobServiceUri",  # the host's leases and timers
    "AZURE_CLIENT_ID",  # DefaultAzureCredential picks the user-assigned identity by it
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",  # Entra ID ingestion (local auth is off)
    "AzureWebJobsDisableHomepage",
}
# Development-only settings: in the sample, never in Azure.
LOCAL_ONLY = {"LOCAL_FUNCTION_KEY", "LOCAL_MASTER_KEY", "AzureWebJobsStorage", "FUNCTIONS_WORKER_RUNTIME"}
LOCAL_ONLY_PREFIX = "DEV_"
# Settings that hold secrets: Key Vault references in Azure.
SECRET_SETTINGS = {
    "XERO_CLIENT_SECRET",
    "MS_CLIENT_SECRET",
    "TOKEN_ENCRYPTION_KEYS",
    "SESSION_SECRET",
    "WEBHOOK_KEY_SECRETS",
    "SMTP_PASSWORD",
    "ACS_ACCESS_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "XERO_WEBHOOK_KEY",
}
KEY_VAULT_REFERENCE = re.compile(
    r"'@Microsoft\.KeyVault\(SecretUri=\$\{secretUri\}/(?P<secret>[a-z0-9-]+)\)'"
)


def _local_only(name: str) -> bool:
    return name in LOCAL_ONLY or name.startswith(LOCAL_ONLY_PREFIX)


def sample_settings() -> set[str]:
    return set(json.loads((ROOT / "local.settings.sample.json").read_text())["Values"])


def test_every_setting_the_app_reads_is_set_in_azure() -> None:
    # GIVEN the settings shared/config.py reads, less those that exist only on a developer's machine
    needed = {name for name in SETTING_NAMES if not _local_only(name)}
    # WHEN main.bicep's settings are read
    missing = needed - bicep_settings().keys()
    # THEN none is forgotten
    assert not missing, f"set these in infra/main.bicep (var appSettings): {sorted(missing)}"


def test_every_setting_the_app_reads_is_in_the_local_sample() -> None:
    missing = set(SETTING_NAMES) - sample_settings()
    assert not missing, f"add these to local.settings.sample.json: {sorted(missing)}"


def test_azure_sets_nothing_the_app_does_not_read() -> None:
    unknown = bicep_settings().keys() - set(SETTING_NAMES) - HOST_SETTINGS
    assert not unknown, f"main.bicep sets settings nobody reads: {sorted(unknown)}"


def test_the_sample_holds_nothing_the_app_does_not_read() -> None:
    unknown = {n for n in sample_settings() - set(SETTING_NAMES) - HOST_SETTINGS if not _local_only(n)}
    assert not unknown, f"local.settings.sample.json holds settings nobody reads: {sorted(unknown)}"


def test_development_settings_never_reach_azure() -> None:
    leaked = {name for name in bicep_settings() if _local_only(name)}
    assert not leaked, f"development-only settings in main.bicep: {sorted(leaked)}"


def test_secret_settings_are_key_vault_references_to_secrets_main_bicep_stores() -> None:
    # GIVEN the secrets main.bicep hands to the Key Vault module, each from a @secure() parameter
    declared = params(MAIN)
    stored = object_entries(block_after(MAIN, r"\bsecrets\s*:"))
    assert all(declared[value].secure for value in stored.values()), stored
    settings = bicep_settings()
    for name in SECRET_SETTINGS:
        # WHEN the setting's value is read
        references = KEY_VAULT_REFERENCE.findall(settings[name])
        # THEN it references one of those secrets, and holds no other value
        assert len(references) == 1 and references[0] in stored, (name, settings[name])
        assert re.sub(r"empty\(\w+\)|\? ''|:", "", KEY_VAULT_REFERENCE.sub("", settings[name])).strip() == ""


def test_secure_parameters_reach_only_key_vault() -> None:
    # GIVEN main.bicep's @secure() parameters
    secure = [p.name for p in params(MAIN).values() if p.secure]
    assert len(secure) >= len(SECRET_SETTINGS)
    secrets_block = block_after(MAIN, r"\bsecrets\s*:")
    for name in secure:
        # WHEN every use outside the declaration, the Key Vault secrets and empty() tests is counted
        text = MAIN.replace(secrets_block, "").replace(f"empty({name})", "")
        uses = re.findall(rf"\b{name}\b", text)
        # THEN only the declaration is left: no app setting, output or other resource sees the value
        assert uses == [name], f"@secure() parameter {name} is used outside Key Vault"
    for value in bicep_settings().values():
        assert not any(re.search(rf"\b{name}\b", value.replace(f"empty({name})", "")) for name in secure)


def test_no_storage_key_or_connection_string_anywhere_in_infra() -> None:
    for path in INFRA.rglob("*.bicep"):
        text = path.read_text()
        assert "listKeys" not in text and "AccountKey" not in text, path
    storage = (INFRA / "core" / "storage.bicep").read_text()
    for rule in (
        "allowSharedKeyAccess: false",
        "allowBlobPublicAccess: false",
        "minimumTlsVersion: 'TLS1_2'",
        "supportsHttpsTrafficOnly: true",
    ):
        assert rule in storage, rule
    assert bicep_settings()["AzureWebJobsStorage__credential"] == "'managedidentity'"


def test_the_function_app_is_flex_consumption_python_and_locked_down() -> None:
    api = (INFRA / "app" / "api.bicep").read_text()
    for rule in (
        "name: 'FC1'",
        "name: 'python'",
        "version: pythonVersion",
        "instanceMemoryMB: instanceMemoryMB",
        "httpsOnly: true",
        "minTlsVersion: '1.2'",
        "http20Enabled: true",
        "type: 'UserAssignedIdentity'",
        "'azd-service-name': 'api'",
    ):
        assert rule in api, rule
    assert "instanceMemoryMB: 2048" in MAIN
    policies = re.findall(
        r"basicPublishingCredentialsPolicies@[\w-]+' = \{\s+parent: site\s+name: '(\w+)'", api
    )
    assert sorted(policies) == ["ftp", "scm"] and api.count("allow: false") == 2
    assert "'*'" not in api  # no CORS wildcard


def test_key_vault_is_rbac_only_with_soft_delete() -> None:
    vault = (INFRA / "core" / "keyvault.bicep").read_text()
    for rule in ("enableRbacAuthorization: true", "enableSoftDelete: true"):
        assert rule in vault, rule


def test_azd_parameters_match_main_bicep() -> None:
    # GIVEN main.bicep's parameters and azd's parameter file
    declared = params(MAIN)
    given = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    # THEN every given parameter exists, every required one is given, and each comes from azd's environment
    assert set(given) <= set(declared), set(given) - set(declared)
    required = {name for name, p in declared.items() if not p.has_default}
    assert required <= set(given), required - set(given)
    for name, entry in given.items():
        assert re.fullmatch(r"\$\{[A-Z_]+(=[^}]*)?\}", entry["value"]), (name, entry)
    assert given["environmentName"]["value"] == "${AZURE_ENV_NAME}"
    assert given["location"]["value"] == "${AZURE_LOCATION}"


def test_azure_yaml_deploys_this_folder_as_the_function_app() -> None:
    services = yaml.safe_load((ROOT / "azure.yaml").read_text())["services"]
    assert services == {"api": {"project": ".", "language": "python", "host": "function"}}


@pytest.mark.parametrize(
    "text",
    [
        "var appSettings = {\n  A: 'x'\n  B: f('}', {\n    c: 1\n  })\n}\n",
        "var appSettings = {\n  // a comment: with a colon\n  A: 'x'\n  B: 'it\\'s ${y ? '{' : '}'}'\n}\n",
    ],
)
def test_the_reader_finds_keys_past_braces_in_strings_and_comments(text: str) -> None:
    assert set(object_entries(block_after(text, r"var appSettings\s*="))) == {"A", "B"}


def test_the_reader_reads_name_value_arrays() -> None:
    text = "appSettings: [\n  {\n    name: 'A'\n    value: 'x'\n  }\n  { name: 'B', value: y }\n]\n"
    assert name_value_entries(block_after(text, r"appSettings\s*:")) == {"A": "'x'", "B": "y"}
