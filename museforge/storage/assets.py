"""Content-addressed files under the data dir.

A file is written to a temp file in ``assets/.tmp/``, fsynced, renamed into place and
its folder fsynced, all before the database row that names it is committed. A crash in
between leaves at most an unreferenced file (``Store.orphans`` finds those), never a
row naming a missing or partial file. Temp files live in one folder so that the sweep
at start-up (``remove_stale_temp_files``) reads one folder, not one per hash prefix.
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
    path: str  # relative to the data dir


class AssetStore:
    def __init__(self, home: Path):
        self.home = Path(home)
        self.root = self.home / "assets"
        self.tmp = self.root / TMP_FOLDER

    def relpath(self, sha256: str, mime: str) -> str:
        ext = EXTENSIONS.get(mime, "bin")
        return f"assets/{sha256[:2]}/{sha256[2:4]}/{sha256}.{ext}"

    def abspath(self, rel: str) -> Path:
        return self.home / rel

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
        """Every file under assets/, relative to the data dir (temp files included)."""
        if not self.root.exists():
            return []
        return sorted(
            str(p.relative_to(self.home)) for p in self.root.rglob("*") if p.is_file()
        )


    def remove_stale_temp_files(self, min_age_s: float = TMP_STALE_AGE_S) -> list[str]:
        """Delete the temp files that killed writers left, older than ``min_age_s``
        (a younger one may be being written by another process right now); return them,
        relative to the data dir. A file that cannot be deleted is logged and left."""
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
            removed.append(str(Path(entry.path).relative_to(self.home)))
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
