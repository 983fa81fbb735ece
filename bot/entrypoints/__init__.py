"""Entry points: the command-line interface (and, later, web and chat channels)."""
