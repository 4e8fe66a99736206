"""Alembic environment: the engine comes from ``config.attributes['engine']``
(museforge.storage.db), never from an ini file."""

from alembic import context
from sqlalchemy import text

from museforge.storage.schema import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    if connection.dialect.name == "postgresql":
        # Held until commit, and PostgreSQL runs every revision in one transaction: a
        # second process starting at the same time waits, then reads the revision made.
        # (SQLite commits revision by revision: db.upgrade holds a file lock around us.)
        connection.execute(text("SELECT pg_advisory_xact_lock(7243019)"))
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
