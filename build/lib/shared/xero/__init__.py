"""Xero: OAuth 2.0 client and the token service."""
