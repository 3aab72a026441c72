"""SQL history and image files: the only package that imports SQLAlchemy.

- ``db``: engine creation (SQLite WAL / PostgreSQL), URL normalisation, connection checks.
- ``tables``: the declarative models; ``migrations/`` creates exactly this schema.
- ``migrate``: Alembic upgrade / downgrade / current, configured in code.
- ``repos``: ``SqlHistoryStore``, the ``HistoryStore`` port.
- ``artifacts``: ``FileArtifactStore``, the ``ArtifactStore`` port.
"""
