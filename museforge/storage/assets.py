"""Content-addressed files under the data dir.

A file is written to a temp file in its final folder, fsynced, renamed into place and
the folder fsynced, all before the database row that names it is committed. A crash in
between leaves at most an unreferenced file (``Store.orphans`` finds those), never a
row naming a missing or partial file.
"""

from __future__ import annotations

import errno
import hashlib
import os
import threading
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
}
TMP_PREFIX = ".tmp-"


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
        tmp = final.parent / f"{TMP_PREFIX}{sha[:16]}-{os.getpid()}-{threading.get_ident()}"
        try:
            if final.exists() and final.stat().st_size == len(data):
                # Young again, so Store.clean_orphans spares it until our row names it.
                os.utime(final)
                return AssetFile(sha, mime, len(data), rel)
            final.parent.mkdir(parents=True, exist_ok=True)
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
