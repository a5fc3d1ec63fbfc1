"""Moved to tests/support/stack.py (the tests' and benchmarks' support, not something `make run` uses);
this name stays only while branches written against it land. Import from tests.support.stack."""

from tests.support.stack import ENV, PROJECT_ROOT, LocalStack, forget_app, install_app

__all__ = ["ENV", "PROJECT_ROOT", "LocalStack", "forget_app", "install_app"]
