"""Opens a store (migrating the database) and exits (run by the migration race tests).

usage: migrator.py URL HOME [PAUSE_DIR]
Logs at INFO to stderr. With PAUSE_DIR, the upgrade stops between its first and second
revision (the first committed, no database lock held): it creates PAUSE_DIR/paused, then
waits for PAUSE_DIR/go before it goes on.
"""

import logging
import sys
import time
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

from museforge.storage.store import Store

PAUSE_WAIT_S = 120

logging.basicConfig(level=logging.INFO, stream=sys.stderr)

if len(sys.argv) > 3:
    pause_dir = Path(sys.argv[3])
    write_begins = 0

    # On every engine, ahead of its own "begin" listener (which sends BEGIN IMMEDIATE):
    # the second write transaction of the upgrade is its second revision.
    @event.listens_for(Engine, "begin")
    def _pause_before_the_second_revision(conn):  # type: ignore[no-untyped-def]
        global write_begins
        if not conn.get_execution_options().get("museforge_write"):
            return
        write_begins += 1
        if write_begins != 2:
            return
        (pause_dir / "paused").touch()
        deadline = time.monotonic() + PAUSE_WAIT_S
        while not (pause_dir / "go").exists():
            if time.monotonic() > deadline:
                sys.exit(f"nobody said go within {PAUSE_WAIT_S} s")
            time.sleep(0.01)

Store(sys.argv[1], Path(sys.argv[2])).close()
print("done", flush=True)
