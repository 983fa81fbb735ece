"""SQLAlchemy 2.x implementation of the storage interfaces."""

# The newest Alembic revision; checked without importing Alembic (a test keeps it in step).
SCHEMA_HEAD = "0006"
