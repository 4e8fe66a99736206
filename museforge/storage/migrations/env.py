"""Alembic environment: the engine comes from ``config.attributes['engine']``
(museforge.storage.db), never from an ini file."""

from alembic import context
from sqlalchemy import text

from museforge.storage.schema import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    if connection.dialect.name == "postgresql":
        # Held until commit: a second process starting at the same time waits, then finds
        # the tables made. (SQLite: db.upgrade begins with BEGIN IMMEDIATE.)
        connection.execute(text("SELECT pg_advisory_xact_lock(7243019)"))
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
