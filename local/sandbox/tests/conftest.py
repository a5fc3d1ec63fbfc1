"""The sandboxes' tests: each sandbox answers as the real service does, per its published contract.
They run in `make test` (testpaths) and alone (`pytest local/sandbox/tests`), with the same plugins."""

pytest_plugins = [
    "tests.xero_contract_plugin",  # every answer the sandbox Xero gives is checked against Xero's contract
    "tests.support.reference_fixtures",
    "local.sandbox.fixtures",
]
