"""The database: SQLModel tables (``models``), the engine with SQLite's pragmas and the
Alembic migrations that every start applies (``engine``, ``migrations/``)."""
