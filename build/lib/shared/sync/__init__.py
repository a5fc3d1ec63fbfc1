"""Invoice push and reference-data sync: Dataverse in, Xero out, results back."""
