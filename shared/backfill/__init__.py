"""The backfill: older Dynamics invoices sent to Xero in batches, page by page, resumable."""
