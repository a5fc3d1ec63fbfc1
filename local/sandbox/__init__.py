"""Local stand-ins for Xero and Dataverse that speak their real protocols (development and tests only)."""
