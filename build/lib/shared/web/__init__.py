"""The portal's web layer: templates, the stylesheet, sessions, CSRF, passwords, throttling, responses.

Nothing here is imported by function_app.py at start: the triggers import it inside their bodies."""
