"""Dataverse (Dynamics 365) side: Web API client, webhook parsing, the connector's schema."""
