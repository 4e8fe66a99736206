"""Assets in an object store, against a real S3 API on 127.0.0.1 (moto's server mode in
a subprocess, spoken to over HTTP by boto3: nothing of boto3 is mocked)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server")

from museforge.storage import maintenance  # noqa: E402
from museforge.storage.assets import FolderAssetStore, open_asset_store  # noqa: E402
from museforge.storage.errors import AssetsUnavailable, StorageError  # noqa: E402
from museforge.storage.models import Actor, FileIn, Scope  # noqa: E402
from museforge.storage.s3assets import S3AssetStore, parse_s3_url  # noqa: E402
from museforge.storage.store import Store  # noqa: E402

KINDS = {
    "image/png": "png", "audio/midi": "mid", "audio/ogg": "ogg", "audio/wav": "wav",
    "application/json": "json", "application/x-safetensors": "safetensors",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_moto(env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                             "-p", str(port)], env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, url
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    pytest.fail("moto's S3 server did not start")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    proc, url = _start_moto()
    yield url
    _stop(proc)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch, tmp_path: Path) -> None:
    """Credentials from the standard chain (env), and nothing from this machine's own."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "museforge-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "museforge-test-secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
                 "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    name = f"museforge-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def machine(s3_endpoint: str, bucket: str, tmp_path: Path):
    """``machine("a")``: an S3 asset store with its own data dir, as on another host."""

    def make(name: str, **options) -> S3AssetStore:
        store = open_asset_store(f"s3://{bucket}/shared/art", tmp_path / name,
                                 endpoint_url=s3_endpoint, **options)
        assert isinstance(store, S3AssetStore)
        return store

    return make


def _calls(store: S3AssetStore, operation: str) -> list[str]:
    """Records each ``operation`` request the store's real client sends."""
    seen: list[str] = []
    store.client.meta.events.register(f"before-call.s3.{operation}",
                                      lambda **_: seen.append(operation))
    return seen


def test_each_asset_kind_round_trips(machine, s3_endpoint, bucket):
    store = machine("a")
    for mime, ext in KINDS.items():
        data = f"bytes of a {ext} file".encode() + os.urandom(8)
        written = store.put(data, mime)
        assert written.path.startswith("assets/") and written.path.endswith(f".{ext}")
        assert store.abspath(written.path).read_bytes() == data
        head = boto3.client("s3", endpoint_url=s3_endpoint).head_object(
            Bucket=bucket, Key=store.key(written.path))
        assert head["ContentType"] == mime and head["ContentLength"] == len(data)
        assert store.key(written.path) == f"shared/art/{written.path.removeprefix('assets/')}"
    assert len(store.all_files()) == len(KINDS)


def test_an_equal_put_uploads_nothing(machine):
    store = machine("a")
    puts = _calls(store, "PutObject")
    first = store.put(b"the same picture", "image/png")
    second = store.put(b"the same picture", "image/png")
    assert first == second
    assert puts == ["PutObject"]
    assert store.all_files() == [first.path]


def test_an_old_object_is_made_young_again_by_an_equal_put(machine, monkeypatch):
    import museforge.storage.s3assets as s3assets

    store = machine("a")
    written = store.put(b"an orphan about to be named again", "image/png")
    copies = _calls(store, "CopyObject")
    monkeypatch.setattr(s3assets, "REFRESH_AGE_S", -1.0)  # as if it were old already
    store.put(b"an orphan about to be named again", "image/png")
    assert copies == ["CopyObject"]
    assert store.abspath(written.path).read_bytes() == b"an orphan about to be named again"


def test_another_machine_reads_what_one_wrote(machine):
    writer, reader = machine("gpu-box"), machine("front-end")
    written = writer.put(b"a melody in D minor", "audio/midi")
    gets = _calls(writer, "GetObject")
    assert writer.abspath(written.path).read_bytes() == b"a melody in D minor"
    assert gets == []  # the writer keeps what it stored in its own cache
    path = reader.abspath(written.path)
    assert path.read_bytes() == b"a melody in D minor"
    assert path.is_relative_to(reader.home / "cache")
    assert reader.stat(written.path).size == len(b"a melody in D minor")
    assert reader.sha256_of(written.path) == written.sha256


def test_a_corrupt_object_is_refused_and_not_cached(machine, s3_endpoint, bucket):
    store = machine("a")
    rel = f"assets/ab/cd/{'ab' * 32}.png"
    boto3.client("s3", endpoint_url=s3_endpoint).put_object(
        Bucket=bucket, Key=store.key(rel), Body=b"not the bytes its name says")
    with pytest.raises(StorageError, match="is corrupt"):
        store.abspath(rel)
    assert not store.cache.path_for(rel).exists()
    assert store.cache.size_bytes() == 0


def test_a_missing_object_is_said(machine):
    store = machine("a")
    with pytest.raises(StorageError, match="is missing from s3://"):
        store.abspath(f"assets/ab/cd/{'ab' * 32}.png")
    assert store.stat(f"assets/ab/cd/{'ab' * 32}.png") is None


def test_the_read_through_cache_stays_bounded(machine):
    writer = machine("writer")
    payloads = [os.urandom(1000) for _ in range(12)]
    rels = [writer.put(p, "image/png").path for p in payloads]
    reader = machine("reader", cache_bytes=3500)
    reader.cache.keep_recent_s = 0
    for rel, data in zip(rels, payloads, strict=True):
        assert reader.abspath(rel).read_bytes() == data
        assert reader.cache.size_bytes() <= 3500
    assert reader.cache.path_for(rels[-1]).exists()
    assert not reader.cache.path_for(rels[0]).exists()  # least recently used went first
    assert reader.abspath(rels[0]).read_bytes() == payloads[0]  # and comes back on demand


def test_recently_used_files_outlive_the_bound_for_a_while(machine):
    writer = machine("writer")
    rels = [writer.put(os.urandom(1000), "image/png").path for _ in range(4)]
    reader = machine("reader", cache_bytes=1500)  # keep_recent_s: the default minute
    paths = [reader.abspath(rel) for rel in rels]
    assert all(p.exists() for p in paths)  # a caller was just handed each of them


def test_a_missing_bucket_is_one_sentence(s3_endpoint, tmp_path):
    with pytest.raises(AssetsUnavailable) as err:
        open_asset_store("s3://no-such-bucket/art", tmp_path, endpoint_url=s3_endpoint)
    assert str(err.value) == (f"the bucket 'no-such-bucket' does not exist at {s3_endpoint}; "
                              "create it (aws s3 mb s3://no-such-bucket) or fix the assets URL")


def test_an_endpoint_that_refuses_connections_is_one_sentence(tmp_path):
    dead = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(AssetsUnavailable) as err:
        open_asset_store("s3://art/x", tmp_path, endpoint_url=dead)
    assert str(err.value) == (f"cannot reach the object store at {dead} for s3://art/x: "
                              "nothing answers there (is the server running, the URL right?)")


def test_refused_credentials_are_one_sentence(tmp_path):
    proc, url = _start_moto({"INITIAL_NO_AUTH_ACTION_COUNT": "0"})  # moto checks keys
    try:
        with pytest.raises(AssetsUnavailable) as err:
            open_asset_store("s3://art/x", tmp_path, endpoint_url=url)
    finally:
        _stop(proc)
    assert str(err.value) == (f"the object store at {url} refused these credentials "
                              "for s3://art/x (403)")


def test_no_credentials_at_all_is_one_sentence(s3_endpoint, bucket, tmp_path, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(AssetsUnavailable, match="^no credentials for the object store "
                                                f"s3://{bucket}/art: set AWS_ACCESS_KEY_ID"):
        open_asset_store(f"s3://{bucket}/art", tmp_path, endpoint_url=s3_endpoint)


def test_urls_choose_the_backend(tmp_path):
    default = open_asset_store(None, tmp_path)
    assert isinstance(default, FolderAssetStore) and default.root == tmp_path / "assets"
    elsewhere = open_asset_store(str(tmp_path / "shared"), tmp_path)
    assert isinstance(elsewhere, FolderAssetStore) and elsewhere.root == tmp_path / "shared"
    assert open_asset_store(f"file://{tmp_path}/x", tmp_path).location == f"{tmp_path}/x"
    with pytest.raises(StorageError, match="neither a folder nor s3://bucket/prefix"):
        open_asset_store("gs://bucket/art", tmp_path)
    assert parse_s3_url("s3://art/a/b/") == ("art", "a/b")
    assert parse_s3_url("s3://art") == ("art", "")
    with pytest.raises(StorageError, match="'..' part"):
        parse_s3_url("s3://art/a/../b")


def test_unfinished_uploads_are_the_stale_temp_files(machine, s3_endpoint, bucket):
    store = machine("a")
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    key = store.key(f"assets/ab/cd/{'ab' * 32}.png")
    client.create_multipart_upload(Bucket=bucket, Key=key)
    # moto says every upload began in 2010, so "too young to sweep" is shown with a bound
    # older than that; on S3 or MinIO the default ten minutes spares one begun just now.
    assert store.remove_stale_temp_files(min_age_s=1e12) == []
    assert store.remove_stale_temp_files() == [f"assets/ab/cd/{'ab' * 32}.png"]
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def _music() -> dict[str, FileIn]:
    tag = os.urandom(6)
    return {"mid": FileIn(b"MThd midi " + tag, "audio/midi"),
            "ogg": FileIn(b"OggS audio " + tag, "audio/ogg"),
            "png": FileIn(b"\x89PNG roll " + tag, "image/png")}


def test_a_store_keeps_its_versions_in_the_bucket(machine, db_url, tmp_path, monkeypatch):
    url = db_url  # SQLite here; the cluster's PostgreSQL where the tests have one
    with Store(url, tmp_path / "gpu-box", assets=machine("gpu-box")) as worker:
        me = Actor(worker.local_user())
        chat = worker.session(me, Scope.local("default"))
        files = _music()
        art, v1 = worker.create_artwork(me, chat, kind="music", title="a jig", prompt="a jig",
                                        operation="compose_music", recipe={"seed": 1},
                                        files=files)
        worker.add_version(me, chat, art.number, operation="edit_music",
                           recipe={"transpose": 2}, files=_music())
        assert not (tmp_path / "gpu-box" / "assets").exists()  # nothing in a local folder
    with Store(url, tmp_path / "front-end", assets=machine("front-end")) as web:
        me = Actor(web.local_user())
        chat = web.session(me, Scope.local("default"))
        _, read = web.resolve(me, chat, "#1 v1")
        assert {role: p.read_bytes() for role, p in read.files.items()} == \
            {role: f.data for role, f in files.items()}
        assert all(p.is_relative_to(tmp_path / "front-end" / "cache") for p in read.files.values())
        assert web.integrity_problems(hash_files=True) == []
        assert web.orphans() == []

        stray = web.assets.put(b"a whole object whose row was never committed", "image/png")
        assert web.orphans() == [stray.path]
        assert web.clean_orphans() == []  # younger than a minute: a write may be under way
        monkeypatch.setattr(maintenance, "ORPHAN_MIN_AGE_S", 0)
        assert web.clean_orphans() == [stray.path]
        assert web.assets.stat(stray.path) is None
        assert web.integrity_problems() == []

        gone = read.files["ogg"]
        web.assets.delete(f"assets/{gone.relative_to(web.assets.cache.folder).as_posix()}")
        problems = web.integrity_problems()
        assert len(problems) == 1 and problems[0].startswith("missing file assets/")


def test_a_folder_elsewhere_holds_the_same_rows(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    shared = tmp_path / "nfs" / "museforge-assets"
    with Store(url, tmp_path / "home", assets=open_asset_store(str(shared), tmp_path / "home")) \
            as store:
        me = Actor(store.local_user())
        chat = store.session(me, Scope.local("default"))
        _, v1 = store.create_artwork(me, chat, kind="image", title="a fox", prompt="a fox",
                                     operation="generate_image", recipe={},
                                     files={"png": FileIn(b"fox pixels", "image/png")})
        assert v1.files["png"].is_relative_to(shared)
        assert v1.files["png"].read_bytes() == b"fox pixels"
        assert [p.split("/")[0] for p in store.assets.all_files()] == ["assets"]
        assert store.orphans() == [] and store.integrity_problems(hash_files=True) == []


# -- from the settings ----------------------------------------------------------------------

def test_the_settings_put_the_stores_assets_in_the_bucket(s3_endpoint, bucket, museforge_home,
                                                          monkeypatch):
    from museforge.config import load_settings

    monkeypatch.setenv("MUSEFORGE_ASSETS_URL", f"s3://{bucket}/from-settings")
    monkeypatch.setenv("MUSEFORGE_ASSETS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("MUSEFORGE_ASSETS_CACHE_BYTES", "12345")
    with Store.open(load_settings()) as store:
        assert isinstance(store.assets, S3AssetStore)
        assert store.assets.cache.max_bytes == 12345
        me = Actor(store.local_user())
        chat = store.session(me, Scope.local("default"))
        _, v1 = store.create_artwork(me, chat, kind="image", title="fox", prompt="a fox",
                                     operation="generate_image", recipe={},
                                     files={"png": FileIn(b"a fox, in PNG bytes", "image/png")})
    listed = boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket=bucket)
    keys = [o["Key"] for o in listed.get("Contents", [])]
    assert len(keys) == 1 and keys[0].startswith("from-settings/") and keys[0].endswith(".png")
    assert not (museforge_home / "assets").exists()  # nothing went to the local folder


def test_without_an_assets_url_the_store_keeps_the_home_folder(museforge_home):
    from museforge.config import load_settings

    with Store.open(load_settings()) as store:
        assert isinstance(store.assets, FolderAssetStore)
        assert store.assets.root == museforge_home / "assets"


def test_the_cli_says_an_unreachable_object_store_in_one_line(s3_endpoint, monkeypatch):
    from cliutil import museforge

    monkeypatch.setenv("MUSEFORGE_ASSETS_URL", "s3://no-such-bucket/art")
    monkeypatch.setenv("MUSEFORGE_ASSETS_ENDPOINT_URL", s3_endpoint)
    done = museforge("history")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: the bucket 'no-such-bucket' does not exist at {s3_endpoint}; create it "
        "(aws s3 mb s3://no-such-bucket) or fix the assets URL"]


class _Watched:
    """An S3 asset store that, the moment each object is stored, looks from another
    connection at whether a row names it yet (it must not), and can fail an upload as a
    worker killed in the middle of one would."""

    def __init__(self, inner: S3AssetStore, url: str, fail: bool = False):
        self.inner, self.fail, self.seen = inner, fail, []
        from museforge.storage.db import make_engine

        self.engine = make_engine(url)

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def put(self, data: bytes, mime: str):
        from sqlalchemy import text as sql

        if self.fail:
            raise StorageError("the object store could not store it: connection lost")
        written = self.inner.put(data, mime)
        with self.engine.connect() as conn:
            rows = conn.execute(sql("SELECT count(*) FROM assets WHERE path = :p"),
                                {"p": written.path}).scalar()
        self.seen.append((self.inner.stat(written.path) is not None, rows))
        return written


def test_the_row_is_written_only_after_the_object_is_stored(machine, db_url, tmp_path):
    with Store(db_url, tmp_path / "gpu-box", assets=machine("gpu-box")) as store:
        watched = _Watched(store.assets, db_url)
        store.assets = watched
        me = Actor(store.local_user())
        chat = store.session(me, Scope.local("default"))
        art, v1 = store.create_artwork(me, chat, kind="music", title="a jig", prompt="",
                                       operation="compose_music", recipe={}, files=_music())
        assert watched.seen and all(seen == (True, 0) for seen in watched.seen)
        assert set(v1.files) == set(_music()) and store.integrity_problems() == []

        watched.fail = True  # the upload dies: no version, no row naming a missing object
        with pytest.raises(StorageError, match="connection lost"):
            store.add_version(me, chat, art.number, operation="edit_music", recipe={},
                              files=_music())
        assert [v.number for v in store.versions(me, chat, art.number)] == [1]
        assert store.integrity_problems() == []
        watched.engine.dispose()
