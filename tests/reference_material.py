"""The published material some tests check against (../shared/reference, or REFERENCE_DIR), and what a test
does when it is absent.

A fresh clone does not have that folder, so a test that needs it is skipped with a reason that names the
material, and conftest.py sums those skips up in one line that says how to get it. Where the material must
be present (CI: REFERENCE_REQUIRED=1, set by .ci/run), its absence fails the test instead: a contract test
that silently skips would prove nothing."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DIR = Path(os.environ.get("REFERENCE_DIR", PROJECT_ROOT.parent / "shared" / "reference"))
SKIP_PREFIX = "reference material absent: "


@dataclass(frozen=True)
class Material:
    name: str
    path: str  # relative to REFERENCE_DIR
    source: str  # where a newcomer gets it

    def location(self) -> Path:
        return REFERENCE_DIR / self.path


XERO_SPECS = Material(
    "Xero's OpenAPI specs",
    "xero",
    "xero_accounting.yaml and xero-identity.yaml from https://github.com/XeroAPI/Xero-OpenAPI (folder xero/)",
)
DATAVERSE_WEBHOOK_SAMPLES = Material(
    "Microsoft's Dataverse webhook samples",
    "dataverse/webhook-samples",
    "the JSON bodies on the Learn page 'Use webhooks to create external handlers for server events' "
    "(https://learn.microsoft.com/power-apps/developer/data-platform/use-webhooks; "
    "folder dataverse/webhook-samples/)",
)
AZURE_BICEP_TYPES = Material(
    "Azure's Bicep type definitions",
    "azure/bicep-types",
    "https://github.com/Azure/bicep-types-az (folder azure/bicep-types/)",
)
AZURE_YAML_SCHEMA = Material(
    "the azure.yaml schema",
    "azure/azure.yaml.schema.json",
    "https://github.com/Azure/azure-dev (schemas/v1.0/azure.yaml.json, saved as "
    "azure/azure.yaml.schema.json)",
)
STRIPE_FIXTURES = Material(
    "Stripe's OpenAPI fixtures",
    "stripe/fixtures3.json",
    "https://github.com/stripe/openapi (openapi/fixtures3.json, saved as stripe/fixtures3.json)",
)
# Sandbox Xero tests that ran without their answers checked against Xero's spec (it was absent).
UNCHECKED_AGAINST_XERO_SPEC: list[str] = []
MATERIALS = (XERO_SPECS, DATAVERSE_WEBHOOK_SAMPLES, AZURE_BICEP_TYPES, AZURE_YAML_SCHEMA, STRIPE_FIXTURES)


MATERIAL_NAMES = frozenset(name for name, value in list(globals().items()) if isinstance(value, Material))


def uses_material(item: pytest.Item) -> bool:
    """Whether a test, or a fixture it uses, names one of the materials above (for --reference-only)."""
    fixtures = getattr(item, "_fixtureinfo", None)
    definitions = [d for defs in fixtures.name2fixturedefs.values() for d in defs] if fixtures else []
    functions = [getattr(item, "function", None), *(d.func for d in definitions)]
    code = [f.__code__ for f in functions if hasattr(f, "__code__")]
    return any(MATERIAL_NAMES & set(c.co_names) for c in code)


def required() -> bool:
    return os.environ.get("REFERENCE_REQUIRED", "") not in ("", "0")


def present(material: Material) -> bool:
    location = material.location()
    return location.is_file() or (location.is_dir() and any(location.iterdir()))


def require(material: Material) -> Path:
    """The material's path; skips the calling test when it is absent (fails when REFERENCE_REQUIRED)."""
    if present(material):
        return material.location()
    message = f"{material.name} not found at {material.location()}"
    if required():
        pytest.fail(f"{message} (REFERENCE_REQUIRED is set)")
    pytest.skip(f"{SKIP_PREFIX}{material.name}")


def summary(skip_reasons: list[str], unchecked: int = 0) -> str | None:
    """One line for the end of the run: what was skipped for want of which material, and how to get it."""
    counts = {m: sum(1 for r in skip_reasons if r.endswith(SKIP_PREFIX + m.name)) for m in MATERIALS}
    missing = [m for m in MATERIALS if counts[m] or (m is XERO_SPECS and unchecked)]
    if not missing:
        return None
    parts = "; ".join(f"{counts[m]} need {m.name}: {m.source}" for m in missing)
    ran = (
        f"; {unchecked} sandbox Xero tests ran without checking answers against the spec" if unchecked else ""
    )
    return (
        f"{sum(counts.values())} tests skipped, reference material absent from {REFERENCE_DIR} "
        f"(put it there or set REFERENCE_DIR) — {parts}{ran}"
    )
