"""SQLAlchemy 2.x implementation of the storage interfaces."""
