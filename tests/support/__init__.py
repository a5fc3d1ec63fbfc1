"""What the tests share: one fixture module (fixtures.py) and the helpers the test modules use (a test
module never imports another: tests/unit/test_import_layers.py)."""
