"""Bad input and a bad environment: an unreachable database, a full or read-only disk.
Each is one line a person can act on, and leaves nothing half-done behind."""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from museforge.storage import assets
from museforge.storage.errors import DatabaseUnavailable, StorageError
from museforge.storage.models import FileIn
from museforge.storage.store import Store


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:secret@127.0.0.1:1/x", "postgresql://u:***@127.0.0.1:1/x"),
        ("postgresql+psycopg://u:secret@127.0.0.1:1/x", "u:***@127.0.0.1:1/x"),
        ("postgresql://u:secret@db.invalid/x", "u:***@db.invalid/x"),
        ("postgresql://u:secret@127.0.0.1:notaport/x", "u:***@127.0.0.1:notaport/x"),
        ("mysql://u:secret@127.0.0.1:1/x", "mysql://u:***@127.0.0.1:1/x"),
        ("nosuchdb://u:secret@host/x", "nosuchdb://u:***@host/x"),
        ("not a url", "not a url"),
    ],
)
def test_an_unusable_database_url_is_refused_without_its_password(url, shown, museforge_home):
    with pytest.raises(DatabaseUnavailable) as exc:
        Store(url, museforge_home)

    message = str(exc.value)
    assert "secret" not in message
    assert shown in message
    assert "\n" not in message


def test_a_sqlite_file_that_cannot_be_made_is_refused(museforge_home):
    blocker = museforge_home / "a-file"
    blocker.write_text("not a folder")

    with pytest.raises(DatabaseUnavailable, match="a-file") as exc:
        Store(f"sqlite:///{blocker / 'museforge.db'}", museforge_home)
    assert "\n" not in str(exc.value)


def test_a_file_that_is_not_a_database_is_refused(museforge_home):
    path = museforge_home / "notes.db"
    path.write_bytes(os.urandom(8192))

    with pytest.raises(DatabaseUnavailable, match="not a database") as exc:
        Store(f"sqlite:///{path}", museforge_home)
    assert "notes.db" in str(exc.value)


@contextmanager
def failing_asset_writes(at: str, code: int) -> Iterator[None]:
    """The disk fails (``code``) when a file under assets/ is opened or written to;
    the database, on its own file or server, goes on working."""
    real_open, real_write = os.open, os.write
    asset_fds: set[int] = set()

    def fake_open(path, flags, *args, **kwargs):
        is_asset = Path(path).name.startswith(assets.TMP_PREFIX)
        if is_asset and at == "open":
            raise OSError(code, os.strerror(code), str(path))
        fd = real_open(path, flags, *args, **kwargs)
        if is_asset:
            asset_fds.add(fd)
        return fd

    def fake_write(fd, data):
        if fd in asset_fds and at == "write":
            assert real_write(fd, bytes(data)[: len(data) // 2])  # a partial file, then full
            raise OSError(code, os.strerror(code))
        return real_write(fd, data)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(assets.os, "open", fake_open)
        mp.setattr(assets.os, "write", fake_write)
        yield


def temp_files(home: Path) -> list[Path]:
    return [p for p in (home / "assets").rglob(f"{assets.TMP_PREFIX}*")]


FAILURES = [
    pytest.param("write", errno.ENOSPC, "disk is full", id="ENOSPC"),
    pytest.param("open", errno.EROFS, "read-only", id="EROFS"),
    pytest.param("write", errno.EDQUOT, "quota", id="EDQUOT"),
]


@pytest.mark.parametrize(("at", "code", "says"), FAILURES)
def test_a_failed_asset_write_records_no_version(store, me, chat, files, museforge_home,
                                                 at, code, says):
    store.create_artwork(me, chat, "image", title="fox", operation="generate_image",
                         recipe={}, files=files())
    before = store.versions(me, chat, 1)

    with failing_asset_writes(at, code), pytest.raises(StorageError, match=says) as exc:
        store.add_version(me, chat, 1, operation="edit_image", recipe={},
                          files={"png": FileIn(os.urandom(300_000), "image/png")})

    assert "\n" not in str(exc.value)
    assert store.versions(me, chat, 1) == before
    assert store.artwork(me, chat, 1).head_number == 1
    assert temp_files(museforge_home) == []
    assert store.add_version(me, chat, 1, operation="edit_image", recipe={},
                             files=files()).number == 2  # no gap: v2, not v3


@pytest.mark.parametrize(("at", "code", "says"), FAILURES)
def test_a_failed_asset_write_creates_no_artwork(store, me, chat, files, museforge_home,
                                                 at, code, says):
    store.create_artwork(me, chat, "image", title="fox", operation="generate_image",
                         recipe={}, files=files())

    with failing_asset_writes(at, code), pytest.raises(StorageError, match=says):
        store.create_artwork(me, chat, "music", title="waltz", operation="compose_music",
                             recipe={}, files={"mid": FileIn(os.urandom(50_000), "audio/midi"),
                                               "ogg": FileIn(os.urandom(50_000), "audio/ogg")})

    assert [a.number for a in store.list_artworks(me, chat)] == [1]
    assert store.local_session(me, "default").artwork_count == 1
    assert temp_files(museforge_home) == []
    assert store.integrity_problems(hash_files=True) == []
    art, _ = store.create_artwork(me, chat, "music", title="waltz", operation="compose_music",
                                  recipe={}, files={"mid": FileIn(b"MThd", "audio/midi")})
    assert art.number == 2  # no gap: #2, not #3


def test_a_version_needs_a_file_and_an_artwork_a_known_kind(store, me, chat, files):
    with pytest.raises(ValueError, match="at least one file"):
        store.create_artwork(me, chat, "image", title="x", operation="generate_image",
                             recipe={}, files={})
    with pytest.raises(ValueError, match="image"):
        store.create_artwork(me, chat, "video", title="x", operation="generate_video",
                             recipe={}, files=files())
    assert store.list_artworks(me, chat) == []


def test_clean_orphans_spares_a_file_whose_row_is_being_written(store, me, chat, files,
                                                                  monkeypatch):
    """A cleaner that runs between a version's file write and its commit (another process,
    ``museforge doctor``) must not delete the file, even one reused from an old orphan."""
    data = {"png": FileIn(b"made before, lost in a crash", "image/png")}
    stray = store.assets.put(data["png"].data, "image/png")
    long_ago = time.time() - 3600
    os.utime(store.assets.abspath(stray.path), (long_ago, long_ago))
    assert store.orphans() == [stray.path]

    put_files = store._put_files

    def put_then_clean(f):
        written = put_files(f)
        assert store.clean_orphans() == []  # the cleaner's turn, mid-write
        return written

    monkeypatch.setattr(store, "_put_files", put_then_clean)
    store.create_artwork(me, chat, "image", title="x", operation="generate_image",
                         recipe={}, files=data)

    assert store.orphans() == []
    assert store.integrity_problems(hash_files=True) == []
    assert store.resolve(me, chat, "#1")[1].files["png"].is_file()


def test_clean_orphans_removes_old_strays_only(store, me, chat, files):
    _, v1 = store.create_artwork(me, chat, "image", title="x", operation="generate_image",
                                 recipe={}, files=files())
    old_stray = store.assets.put(b"old stray", "image/png").path
    young_stray = store.assets.put(b"young stray", "image/png").path
    old_tmp = Path(old_stray).parent / f"{assets.TMP_PREFIX}cut-short"
    (store.home / old_tmp).write_bytes(b"half")
    long_ago = time.time() - 3600
    for rel in (old_stray, old_tmp):
        os.utime(store.home / rel, (long_ago, long_ago))
    os.utime(v1.files["png"], (long_ago, long_ago))

    assert sorted(store.orphans()) == sorted([old_stray, young_stray, str(old_tmp)])
    assert sorted(store.clean_orphans()) == sorted([old_stray, str(old_tmp)])
    assert store.orphans() == [young_stray]
    assert v1.files["png"].is_file()
    assert store.integrity_problems(hash_files=True) == []


def test_integrity_problems_names_a_damaged_file(store, me, chat, files):
    _, v1 = store.create_artwork(me, chat, "image", title="x", operation="generate_image",
                                 recipe={}, files=files())
    _, v2 = store.create_artwork(me, chat, "image", title="y", operation="generate_image",
                                 recipe={}, files=files())
    _, v3 = store.create_artwork(me, chat, "image", title="z", operation="generate_image",
                                 recipe={}, files=files())
    v1.files["png"].unlink()
    v2.files["png"].write_bytes(b"x")
    size = v3.files["png"].stat().st_size
    v3.files["png"].write_bytes(b"\0" * size)

    quick = store.integrity_problems()
    full = store.integrity_problems(hash_files=True)

    assert [p.split()[0] for p in quick] == ["missing", "partial"]
    assert [p.split()[0] for p in full] == ["missing", "partial", "corrupt"]
    assert v3.files["png"].name in full[2]
