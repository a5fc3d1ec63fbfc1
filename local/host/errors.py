"""Start-up problems the host reports as one clear line, never a traceback wall."""


class HostStartupError(Exception):
    """The host cannot start: the message names the file or function and the problem."""
