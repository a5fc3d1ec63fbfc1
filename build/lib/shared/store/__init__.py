"""Connection metadata in Azure Tables: accounts, connections, short-lived OAuth state.

Never business data: no invoice, customer or product is ever stored here."""
