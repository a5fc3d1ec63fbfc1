"""What runs only on a developer's machine: the local Functions host, Azurite helpers, the sandboxes."""
