"""The store's Alembic migrations (``borderflow db upgrade``; see docs/operations.md).

``versions/`` holds one revision per schema change, on top of ``0001_baseline``;
``tests/store/test_migrations.py`` fails when a table model changes without one.
"""
