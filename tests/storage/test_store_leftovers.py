"""What a killed writer leaves under assets/: its temp files are swept when a store opens,
once they are old enough that no live writer can own them; an unreferenced whole file
stays for ``museforge doctor --clean`` (``clean_orphans``)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from museforge.storage.assets import TMP_PREFIX, TMP_STALE_AGE_S
from museforge.storage.models import Actor, Scope
from museforge.storage.store import Store


def left_behind(home: Path, name: str, age_s: float) -> Path:
    """A temp file as a writer killed ``age_s`` seconds ago leaves it."""
    path = home / "assets" / ".tmp" / f"{TMP_PREFIX}{name}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"half a png")
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


def test_opening_a_store_removes_stale_temp_files_only(db_url, museforge_home, files):
    with Store(db_url, museforge_home) as store:
        me = Actor(store.local_user())
        chat = store.session(me, Scope.local("default"))
        _, v1 = store.create_artwork(me, chat, "image", title="fox",
                                     operation="generate_image", recipe={}, files=files())
        stray = store.assets.put(b"a whole file whose row was never committed", "image/png")
    stale = left_behind(museforge_home, "stale", 3600)
    almost = left_behind(museforge_home, "almost", TMP_STALE_AGE_S - 60)
    fresh = left_behind(museforge_home, "fresh", 0)
    long_ago = time.time() - 3600
    os.utime(museforge_home / stray.path, (long_ago, long_ago))

    with Store(db_url, museforge_home) as store:
        assert not stale.exists()
        assert almost.exists() and fresh.exists()  # maybe another process's write
        assert stray.path in store.orphans()  # doctor --clean's to remove, not ours
        assert v1.files["png"].is_file()
        assert store.integrity_problems(hash_files=True) == []


def test_asset_writes_leave_no_temp_file(store, me, chat, files):
    store.create_artwork(me, chat, "image", title="fox", operation="generate_image",
                         recipe={}, files=files())

    assert list((store.home / "assets" / ".tmp").iterdir()) == []
    assert store.orphans() == []


def test_a_scratch_store_deletes_nothing(museforge_home):
    stale = left_behind(museforge_home, "stale", 3600)

    Store.scratch(museforge_home).close()  # stands in for a reader (ask --plan-only)

    assert stale.exists()
