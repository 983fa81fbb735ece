"""Services: use cases over the core, with storage and content sources injected."""
