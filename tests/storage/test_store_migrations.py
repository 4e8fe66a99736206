"""The Alembic revisions build exactly the ORM schema, on SQLite and PostgreSQL, and
opening a store again (or from several processes at once) changes nothing."""

from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from museforge.storage import db
from museforge.storage.models import Actor, Scope
from museforge.storage.schema import Base
from museforge.storage.store import Store


def test_the_migrations_build_the_orm_schema(store):
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)

    assert diff == []
    current, head = db.migration_status(store.engine)
    assert current == head is not None


def test_the_revisions_form_one_line():
    script = ScriptDirectory.from_config(db._alembic_config(None))
    revisions = list(script.walk_revisions())

    assert len(script.get_heads()) == 1
    assert revisions[-1].down_revision is None
    assert all(r.revision[:4].isdigit() for r in revisions)  # named and ordered: 0001_...


def test_opening_the_store_again_is_idempotent(db_url, museforge_home, files):
    with Store(db_url, museforge_home) as first:
        me = Actor(first.local_user())
        chat = first.session(me, Scope.local("default"))
        first.create_artwork(me, chat, "image", title="fox", operation="generate_image",
                             recipe={}, files=files())
        tables = sorted(inspect(first.engine).get_table_names())

    for _ in range(2):
        with Store(db_url, museforge_home) as again:
            assert sorted(inspect(again.engine).get_table_names()) == tables
            with again.engine.connect() as conn:
                rows = list(conn.execute(text("SELECT version_num FROM alembic_version")))
                assert rows == [(db.migration_status(again.engine)[1],)]
                assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
            me = Actor(again.local_user())
            chat = again.local_session(me, "default")
            assert [a.title for a in again.list_artworks(me, chat)] == ["fox"]


OPEN = "import sys, pathlib; from museforge.storage.store import Store; " \
       "Store(sys.argv[1], pathlib.Path(sys.argv[2])).close()"


def test_processes_starting_together_on_a_fresh_database(db_url, museforge_home):
    """A server and a CLI started at the same moment: both migrate, neither fails."""
    procs = [subprocess.Popen([sys.executable, "-c", OPEN, db_url, str(museforge_home)],
                              stderr=subprocess.PIPE, text=True) for _ in range(5)]
    errors = [p.communicate(timeout=120)[1] for p in procs]

    assert [p.returncode for p in procs] == [0] * 5, "\n".join(errors)
    with Store(db_url, museforge_home) as store, store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert len(list(conn.execute(text("SELECT version_num FROM alembic_version")))) == 1
