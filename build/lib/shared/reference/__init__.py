"""Xero's reference data (tax rates, accounts, branding themes, tracking categories, currencies) copied
into the connector's Dynamics tables so Dynamics users pick values Xero accepts."""
