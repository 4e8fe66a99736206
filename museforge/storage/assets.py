"""Content-addressed asset files: one ``AssetStore`` shape, two backends.

``FolderAssetStore`` (the default) keeps them in a folder, ``assets/`` under the data dir
unless told another. A file is written to a temp file in ``assets/.tmp/``, fsynced,
renamed into place and its folder fsynced, all before the database row that names it is
committed. A crash in between leaves at most an unreferenced file (``Store.orphans`` finds
those), never a row naming a missing or partial file. Temp files live in one folder so
that the sweep at start-up (``remove_stale_temp_files``) reads one folder, not one per
hash prefix.

``S3AssetStore`` (``s3assets.py``) keeps them in an S3-compatible bucket, so that several
machines share them. ``open_asset_store`` picks one from a URL.

A row names an asset by the same logical path on both, ``assets/ab/cd/<sha256>.<ext>``,
so a database does not change when its files move from a folder to a bucket.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from museforge.storage.errors import StorageError

EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "audio/midi": "mid",
    "audio/ogg": "ogg",
    "audio/wav": "wav",
    "application/json": "json",
    "text/plain": "txt",
    "application/x-safetensors": "safetensors",  # learnt styles' weights
}
ASSET_DIR = "assets"  # the first part of every row's path
TMP_PREFIX = ".tmp-"
TMP_FOLDER = ".tmp"  # under assets/; on the same file system, so a rename moves a file
# A writer's temp file is younger: every write to it renews its mtime, and put() renames
# it within seconds. An older one was left by a process that died.
TMP_STALE_AGE_S = 10 * 60
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AssetFile:
    sha256: str
    mime: str
    size: int
    path: str  # the row's logical path, ``assets/ab/cd/<sha256>.<ext>``


@dataclass(frozen=True)
class AssetStat:
    size: int
    age_s: float  # since it was last written (or made young again by an equal put)


def relpath(sha256: str, mime: str) -> str:
    ext = EXTENSIONS.get(mime, "bin")
    return f"{ASSET_DIR}/{sha256[:2]}/{sha256[2:4]}/{sha256}.{ext}"


def inner(rel: str) -> str:
    """``assets/ab/cd/x.png`` -> ``ab/cd/x.png``: the part below the asset root."""
    head, sep, rest = rel.partition("/")
    if head != ASSET_DIR or not sep or not rest or ".." in rest.split("/"):
        raise StorageError(f"'{rel}' is not an asset path (they start with {ASSET_DIR}/)")
    return rest


class AssetStore(Protocol):
    """Where asset bytes live. Every method takes and gives the row's logical path."""

    @property
    def location(self) -> str:
        """The folder or ``s3://bucket/prefix``, for messages."""
        ...

    def put(self, data: bytes, mime: str) -> AssetFile:
        """Store ``data`` durably (before any row names it); idempotent for equal bytes."""
        ...

    def abspath(self, rel: str) -> Path:
        """A local file holding the asset's bytes (an object store's: a cached copy)."""
        ...

    def all_files(self) -> list[str]:
        """Every stored asset's logical path (a folder's temp files included)."""
        ...

    def stat(self, rel: str) -> AssetStat | None:
        """Size and age of the stored asset; None when it is not there."""
        ...

    def sha256_of(self, rel: str) -> str:
        """The sha256 of the stored bytes (reads them all)."""
        ...

    def delete(self, rel: str) -> None:
        """Remove the stored asset (no error when it is already gone)."""
        ...

    def remove_stale_temp_files(self, min_age_s: float = TMP_STALE_AGE_S) -> list[str]:
        """Remove what killed writers left, older than ``min_age_s``; return it."""
        ...


def open_asset_store(url: str | None, home: Path, *, endpoint_url: str | None = None,
                     cache_bytes: int | None = None) -> AssetStore:
    """The asset store that ``url`` names: None or "" for ``assets/`` under the data dir
    ``home``, a folder path (or ``file://`` URL) for another folder, ``s3://bucket/prefix``
    for an S3-compatible bucket (credentials from the usual AWS variables and files; an
    ``endpoint_url`` for MinIO or another S3-compatible server; a local read-through
    cache of at most ``cache_bytes`` under ``home/cache/assets``). An object store is
    checked before this returns, so a wrong bucket, refused credentials or an endpoint
    that does not answer is a ``StorageError`` now, not at the first turn."""
    home = Path(home)
    if not url:
        return FolderAssetStore(home)
    if url.startswith("s3://"):
        try:
            from museforge.storage.s3assets import S3AssetStore, parse_s3_url
        except ImportError as exc:  # boto3 is the `cluster` extra
            raise StorageError(f"s3:// assets need boto3 ({exc.name} is not installed): "
                               "pip install 'museforge[cluster]'") from exc
        bucket, prefix = parse_s3_url(url)
        store = S3AssetStore(bucket, prefix, home, endpoint_url=endpoint_url,
                             cache_bytes=cache_bytes)
        store.check()
        return store
    if url.startswith("file://"):
        url = url.removeprefix("file://")
    elif "://" in url:
        raise StorageError(f"the assets URL '{url}' is neither a folder nor "
                           "s3://bucket/prefix")
    return FolderAssetStore(home, Path(url).expanduser())


class FolderAssetStore:
    """Assets as files in a folder: ``assets/`` under the data dir unless ``root`` is
    given (a folder that several machines mount is a shared store too)."""

    def __init__(self, home: Path, root: Path | None = None):
        self.home = Path(home)
        self.root = Path(root) if root is not None else self.home / ASSET_DIR
        self.tmp = self.root / TMP_FOLDER

    @property
    def location(self) -> str:
        return str(self.root)

    def relpath(self, sha256: str, mime: str) -> str:
        return relpath(sha256, mime)

    def abspath(self, rel: str) -> Path:
        return self.root / inner(rel)

    def put(self, data: bytes, mime: str) -> AssetFile:
        """Write ``data`` durably; return its address. Idempotent for equal bytes."""
        sha = hashlib.sha256(data).hexdigest()
        rel = self.relpath(sha, mime)
        final = self.abspath(rel)
        # One temp file per thread: two threads storing equal bytes must not share one.
        tmp = self.tmp / f"{TMP_PREFIX}{sha[:16]}-{os.getpid()}-{threading.get_ident()}"
        try:
            if final.exists() and final.stat().st_size == len(data):
                # Young again, so Store.clean_orphans spares it until our row names it.
                os.utime(final)
                return AssetFile(sha, mime, len(data), rel)
            final.parent.mkdir(parents=True, exist_ok=True)
            self.tmp.mkdir(exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, final)
            _fsync_dir(final.parent)
        except OSError as exc:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
            raise StorageError(
                f"could not write asset file under {self.root}: {_why(exc)}"
            ) from exc
        return AssetFile(sha, mime, len(data), rel)

    def all_files(self) -> list[str]:
        """Every file under the root as a logical path (temp files included)."""
        if not self.root.exists():
            return []
        return sorted(
            self._logical(p) for p in self.root.rglob("*") if p.is_file()
        )

    def stat(self, rel: str) -> AssetStat | None:
        try:
            st = self.abspath(rel).stat()
        except FileNotFoundError:
            return None
        return AssetStat(st.st_size, time.time() - st.st_mtime)

    def sha256_of(self, rel: str) -> str:
        digest = hashlib.sha256()
        with open(self.abspath(rel), "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def delete(self, rel: str) -> None:
        self.abspath(rel).unlink(missing_ok=True)

    def _logical(self, path: Path) -> str:
        return f"{ASSET_DIR}/{path.relative_to(self.root).as_posix()}"

    def remove_stale_temp_files(self, min_age_s: float = TMP_STALE_AGE_S) -> list[str]:
        """Delete the temp files that killed writers left, older than ``min_age_s``
        (a younger one may be being written by another process right now); return their
        logical paths. A file that cannot be deleted is logged and left."""
        try:
            entries = list(os.scandir(self.tmp))
        except FileNotFoundError:
            return []
        except OSError as exc:
            log.warning("cannot read %s to remove stale temp files: %s", self.tmp, _why(exc))
            return []
        removed = []
        now = time.time()
        for entry in entries:
            if not entry.name.startswith(TMP_PREFIX):
                continue
            try:
                stat = entry.stat(follow_symlinks=False)
                if now - stat.st_mtime < min_age_s:
                    continue
                os.unlink(entry.path)
            except FileNotFoundError:  # renamed into place, or another sweep got it
                continue
            except OSError as exc:
                log.warning("cannot remove the stale temp file %s: %s", entry.path, _why(exc))
                continue
            removed.append(self._logical(Path(entry.path)))
        return sorted(removed)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _why(exc: OSError) -> str:
    reasons = {
        errno.ENOSPC: "the disk is full",
        errno.EROFS: "the data dir is on a read-only file system",
        errno.EACCES: "permission denied",
        errno.EDQUOT: "disk quota exceeded",
    }
    return reasons.get(exc.errno or 0, exc.strerror or str(exc))
