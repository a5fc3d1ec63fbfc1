"""Moved to tests/support/dynamics_user.py; this name stays only while branches written against it land.
Import from tests.support.dynamics_user."""

from tests.support.dynamics_user import DynamicsUser

__all__ = ["DynamicsUser"]
