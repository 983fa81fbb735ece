"""Adapters: the SQL store and in-memory fakes, translating between storage and domain types."""
