"""What the type definitions allow but a first `azd up` on Flex Consumption would still trip over: site
properties and app settings Flex refuses, a region without Flex, a Python version a region lacks, a Key
Vault name blocked after `azd down`, and roles wider than the app needs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.unit.bicep_reader import (
    Expression,
    Resource,
    allowed_values,
    bicep_settings,
    decorators,
    params,
    resources,
)

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MAIN = (INFRA / "main.bicep").read_text()
README = (ROOT / "README.md").read_text()

# Learn, "App settings reference for Azure Functions", section "Flex Consumption plan deprecations"
# (https://learn.microsoft.com/azure/azure-functions/functions-app-settings#flex-consumption-plan-deprecations,
# ms.date 2025-07-11): "these site properties and application settings are deprecated and shouldn't be used
# when creating function app resources". Sending a site property of this table fails provisioning with
# error 51021 ("...site configuration properties (Site.SiteConfig.FtpsState, ...) for Flex Consumption
# sites is invalid"); the settings are refused here as well, the stricter choice.
FLEX_REFUSED_SITE_PROPERTIES = {
    "alwaysOn",
    "containerSize",
    "ftpsState",
    "isReserved",
    "IsXenon",
    "javaVersion",
    "LinuxFxVersion",
    "netFrameworkVersion",
    "powerShellVersion",
    "functionAppScaleLimit",
    "preWarmedInstanceCount",
    "use32BitWorkerProcess",
    "vnetBackupRestoreEnabled",
    "vnetContentShareEnabled",
    "vnetImagePullEnabled",
    "vnetRouteAllEnabled",
    "windowsFxVersion",
}
FLEX_REFUSED_APP_SETTINGS = {
    "ENABLE_ORYX_BUILD",
    "FUNCTIONS_EXTENSION_VERSION",
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_WORKER_RUNTIME_VERSION",
    "FUNCTIONS_MAX_HTTP_CONCURRENCY",
    "FUNCTIONS_WORKER_PROCESS_COUNT",
    "FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED",
    "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "WEBSITE_CONTENTOVERVNET",
    "WEBSITE_CONTENTSHARE",
    "WEBSITE_DNS_SERVER",
    "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT",
    "WEBSITE_NODE_DEFAULT_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_SKIP_CONTENTSHARE_VALIDATION",
    "WEBSITE_VNET_ROUTE_ALL",
}

# Regions that offer Flex Consumption: the @allowed list of Microsoft's Flex Consumption azd template
# (Azure-Samples/functions-quickstart-python-http-azd, infra/main.bicep at 7ed4638, 2025-11-24), without its
# canary region eastus2euap (open to allow-listed subscriptions only). Learn points to
# `az functionapp list-flexconsumption-locations` for the live list ("View currently supported regions").
FLEX_REGIONS = {
    "australiaeast", "australiasoutheast", "brazilsouth", "canadacentral", "centralindia", "centralus",
    "eastasia", "eastus", "eastus2", "francecentral", "germanywestcentral", "italynorth", "japaneast",
    "koreacentral", "northcentralus", "northeurope", "norwayeast", "southafricanorth", "southcentralus",
    "southeastasia", "southindia", "spaincentral", "swedencentral", "uaenorth", "uksouth", "ukwest",
    "westcentralus", "westeurope", "westus", "westus2", "westus3",
}  # fmt: skip

# Built-in role ids (Learn, "Azure built-in roles").
BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
QUEUE_MESSAGE_PROCESSOR = "8a0f0c08-91a1-4084-bc3d-661d67233fed"
QUEUE_MESSAGE_SENDER = "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a"
TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"


def _resource(path: str, symbol: str) -> Resource:
    (found,) = [r for r in resources((INFRA / path).read_text()) if r.symbol == symbol]
    return found


def refused_site_properties(site: dict[str, Any]) -> set[str]:
    """Keys of a Microsoft.Web/sites body's properties and siteConfig that Flex Consumption refuses."""
    properties = site.get("properties", {})
    keys = set(properties) | set(properties.get("siteConfig", {}) if isinstance(properties, dict) else {})
    refused = {name.lower() for name in FLEX_REFUSED_SITE_PROPERTIES}
    return {key for key in keys if key.lower() in refused}


def test_the_site_sets_no_property_flex_consumption_refuses() -> None:
    found = refused_site_properties(_resource("app/api.bicep", "site").body)
    assert not found, f"Flex Consumption refuses these site properties (error 51021): {sorted(found)}"


def test_the_check_finds_the_ftps_state_of_the_first_api_bicep() -> None:
    (site,) = resources(
        "resource site 'Microsoft.Web/sites@2024-04-01' = {\n  name: name\n  properties: {\n"
        "    httpsOnly: true\n    siteConfig: {\n      minTlsVersion: '1.2'\n      ftpsState: 'Disabled'\n"
        "      AlwaysOn: false\n    }\n  }\n}\n"
    )
    assert refused_site_properties(site.body) == {"ftpsState", "AlwaysOn"}


def test_no_app_setting_flex_consumption_refuses() -> None:
    found = bicep_settings().keys() & FLEX_REFUSED_APP_SETTINGS
    assert not found, f"Flex Consumption refuses these app settings: {sorted(found)}"


def test_location_offers_only_flex_consumption_regions_and_azd_asks_for_one() -> None:
    allowed = allowed_values(MAIN, "location")
    assert allowed, "main.bicep's location takes any region: give it an @allowed list of Flex regions"
    outside = set(allowed) - FLEX_REGIONS
    assert not outside, f"not Flex Consumption regions: {sorted(outside)}"
    assert len(allowed) == len(set(allowed))
    # azd's location prompt (and `azd env set AZURE_LOCATION`) is limited to the list
    assert re.search(r"@metadata\(\{\s*azd:\s*\{\s*type:\s*'location'", decorators(MAIN, "location"))


def test_python_version_is_a_parameter_with_a_documented_fallback() -> None:
    # GIVEN the version the site runs
    runtime = _resource("app/api.bicep", "site").body["properties"]["functionAppConfig"]["runtime"]
    assert runtime["name"] == "python"
    assert runtime["version"] == Expression("pythonVersion"), "the Python version must be a parameter"
    # THEN azd passes it through, 3.13 by default, 3.12 allowed where a region lacks 3.13
    assert allowed_values(MAIN, "pythonVersion") == ["3.12", "3.13"]
    given = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert given["pythonVersion"]["value"] == "${PYTHON_VERSION=3.13}"
    assert "list-flexconsumption-runtimes" in README and "PYTHON_VERSION 3.12" in README


def test_the_key_vault_name_can_be_used_again_after_azd_down() -> None:
    # GIVEN a vault named from the subscription, environment and region alone
    vault = _resource("core/keyvault.bicep", "vault")
    assert "kv-${resourceToken}" in MAIN
    # THEN it is not purge protected (a protected vault keeps its name for the whole retention period and
    # cannot be purged), and README says how to free the name
    assert vault.body["properties"].get("enablePurgeProtection") is None, (
        "purge protection blocks the vault's fixed name for 90 days after azd down; the API refuses false, "
        "so leave the property out"
    )
    assert "azd down --purge" in README and "az keyvault purge" in README


def _assignments() -> dict[str, list[dict[str, Any]]]:
    """principal parameter -> its role assignment property bodies (loops expanded over their role map)."""
    text = (INFRA / "app" / "rbac.bicep").read_text()
    roles = {name: value.strip("'") for name, value in _var_object(text, "storageRoles").items()}
    found: dict[str, list[dict[str, Any]]] = {}
    for resource in resources(text):
        if resource.type != "Microsoft.Authorization/roleAssignments":
            continue
        body = dict(resource.body["properties"])
        role = body["roleDefinitionId"].text
        ids = list(roles.values()) if "role.value" in role else [_role_id(text, role)]
        for role_id in ids:
            assignment = {**body, "role": role_id, "scope": resource.body}
            found.setdefault(body["principalId"].text, []).append(assignment)
    return found


def _var_object(text: str, name: str) -> dict[str, str]:
    from tests.unit.bicep_reader import block_after, object_entries

    return object_entries(block_after(text, rf"\bvar {name}\s*="))


def _role_id(text: str, expression: str) -> str:
    variable = re.search(r"roleDefinitions',\s*(\w+)\)", expression)[1]  # type: ignore[index]
    return re.search(rf"\bvar {variable}\s*=\s*'([0-9a-f-]+)'", text)[1]  # type: ignore[index]


def test_the_app_identity_holds_only_the_roles_it_needs() -> None:
    app = {a["role"] for a in _assignments()["principalId"]}
    assert app == {
        BLOB_DATA_OWNER,  # the host's leases, timers and keys
        QUEUE_DATA_CONTRIBUTOR,  # includes the message processor and sender data actions
        TABLE_DATA_CONTRIBUTOR,
        KEY_VAULT_SECRETS_USER,
        MONITORING_METRICS_PUBLISHER,
    }, "redundant or missing roles (Queue Data Contributor already covers processing and sending)"


def test_the_app_identity_cannot_write_the_deployment_package() -> None:
    # GIVEN the app identity's blob role
    (owner,) = [a for a in _assignments()["principalId"] if a["role"] == BLOB_DATA_OWNER]
    rbac = (INFRA / "app" / "rbac.bicep").read_text()
    assert isinstance(owner.get("condition"), Expression) and owner.get("conditionVersion") == "2.0", (
        "Storage Blob Data Owner on the whole account lets the app replace its own package"
    )
    # THEN its condition refuses every blob write in the deployment container (Learn, "Example Azure role
    # assignment conditions for Blob Storage": Owner also holds runAsSuperUser/action)
    for action in ("write", "add/action", "delete", "runAsSuperUser/action"):
        assert f"!(ActionMatches{{\\'${{blobs}}/{action}\\'}})" in rbac, action
    assert "containers:name] StringNotEquals \\'${deploymentContainerName}\\'" in rbac
    # AND the package is written by a second identity that holds nothing but that container
    deploy = _assignments()["deployPrincipalId"]
    assert [a["role"] for a in deploy] == [BLOB_DATA_CONTRIBUTOR]
    assert deploy[0]["scope"]["scope"] == Expression("deploymentContainer")
    config = _resource("app/api.bicep", "site").body["properties"]["functionAppConfig"]
    assert config["deployment"]["storage"]["authentication"]["userAssignedIdentityResourceId"] == Expression(
        "deployIdentityId"
    )


@pytest.mark.parametrize("role", [QUEUE_MESSAGE_PROCESSOR, QUEUE_MESSAGE_SENDER])
def test_no_queue_role_beside_queue_data_contributor(role: str) -> None:
    assert role not in (INFRA / "app" / "rbac.bicep").read_text()


def test_every_secure_parameter_still_reaches_only_key_vault() -> None:
    assert {p.name for p in params(MAIN).values() if p.secure} >= {"tokenEncryptionKeys", "sessionSecret"}
