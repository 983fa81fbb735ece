"""civicbot: a grounded FAQ assistant for Taiwanese government agencies."""

__version__ = "0.1.0"
