"""One blueprint module per entry point; each trigger parses, calls one service, maps the result."""
