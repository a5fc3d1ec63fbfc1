"""Outgoing e-mail: the sender interface, an SMTP sender, an Azure Communication Services sender, and the
messages the portal sends (verification and password-reset links)."""
