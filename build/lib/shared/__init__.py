"""The connector's own code: configuration, stores, clients, mapping and sync services."""

__version__ = "0.1.0"
