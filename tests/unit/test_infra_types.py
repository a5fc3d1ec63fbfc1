"""Every resource body in infra/ against Azure's generated type definitions for its API version
(../shared/reference/azure/bicep-types/): property paths, read-only and required properties, value types,
ranges, patterns and allowed values. No Bicep compiler can run here; this is the check it would make."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reference_material import AZURE_BICEP_TYPES, require
from tests.unit.bicep_reader import Resource, resources
from tests.unit.bicep_types import REFERENCE, TypeIndex

INFRA = Path(__file__).resolve().parents[2] / "infra"
DECLARED = [
    (path.relative_to(INFRA).as_posix(), resource)
    for path in sorted(INFRA.rglob("*.bicep"))
    for resource in resources(path.read_text())
]


@pytest.fixture(scope="module")
def index() -> TypeIndex:
    return TypeIndex(require(AZURE_BICEP_TYPES))


def test_the_reader_found_every_resource_declaration() -> None:
    # a reader that silently skipped declarations would make every check below pass
    declared = sum(path.read_text().count("\nresource ") for path in INFRA.rglob("*.bicep"))
    assert len(DECLARED) == declared and declared >= 25


@pytest.mark.parametrize(("path", "resource"), DECLARED, ids=[f"{p}:{r.symbol}" for p, r in DECLARED])
def test_each_resource_type_and_api_version_has_a_definition(
    path: str, resource: Resource, index: TypeIndex
) -> None:
    assert index.knows(resource.type, resource.api_version), (
        f"{path}: {resource.type}@{resource.api_version} is not in {REFERENCE.name}/ (a wrong API version, "
        "or a new provider whose definitions must be added there)"
    )


@pytest.mark.parametrize(
    ("path", "resource"),
    [(p, r) for p, r in DECLARED if not r.existing],
    ids=[f"{p}:{r.symbol}" for p, r in DECLARED if not r.existing],
)
def test_each_resource_body_matches_its_type_definition(
    path: str, resource: Resource, index: TypeIndex
) -> None:
    assert index.problems(resource) == [], path


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        # a property path that does not exist (case matters to ARM's schema validation)
        ("properties: { httpsonly: true }", "properties.httpsonly: SiteProperties has no such property"),
        # a read-only property
        ("properties: { defaultHostName: 'x' }", "properties.defaultHostName: read-only"),
        # an allowed value
        ("properties: { siteConfig: { minTlsVersion: '1.5' } }", "'1.5' is not one of the allowed values"),
        # an open enum: the definition also takes any string, this check does not
        ("properties: { functionAppConfig: { runtime: { name: 'python3' } } }", "'python3' is not one of"),
        # a type
        (
            "properties: { functionAppConfig: { scaleAndConcurrency: { maximumInstanceCount: '40' } } }",
            "an integer expected",
        ),
    ],
)
def test_the_check_refuses_what_azure_refuses(body: str, problem: str, index: TypeIndex) -> None:
    header = "resource site 'Microsoft.Web/sites@2024-04-01' = {\n  name: 'x'\n  location: 'y'\n"
    text = f"{header}  {body}\n}}\n"
    (resource,) = resources(text)
    assert any(problem in found for found in index.problems(resource)), index.problems(resource)


def test_the_check_refuses_a_missing_required_property_and_an_unknown_variant(index: TypeIndex) -> None:
    vault, config = resources(
        "resource v 'Microsoft.KeyVault/vaults@2023-07-01' = {\n  name: 'kv-abc'\n  location: 'x'\n"
        "  properties: {\n    tenantId: tenant().tenantId\n  }\n}\n"
        "resource c 'Microsoft.Web/sites/config@2024-04-01' = {\n"
        "  name: 'app-settings'\n  properties: {}\n}\n"
    )
    assert "v.properties.sku: required by VaultProperties but not set" in index.problems(vault)
    assert any(p.startswith("c.name: one of ['appsettings'") for p in index.problems(config))
