"""A bounded local copy of an object store's assets, for the readers that need a path
(decoding a MIDI file, serving a picture, attaching it to a Discord message).

Files are named by their logical path, so by content: a cached file never goes stale.
A file is filled into a temp file, fsynced and renamed into place, so a reader never sees
a part of one. Least recently used files are removed once the folder holds more than
``max_bytes``, except those used in the last ``keep_recent_s`` seconds: a caller was just
handed their path (an export or a page of versions may still be reading them), so the
folder can hold more than the bound for that long.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from museforge.storage.assets import TMP_FOLDER, TMP_PREFIX, TMP_STALE_AGE_S, inner

DEFAULT_CACHE_BYTES = 2 * 1024**3
KEEP_RECENT_S = 60.0
log = logging.getLogger(__name__)


class AssetCache:
    def __init__(self, folder: Path, max_bytes: int = DEFAULT_CACHE_BYTES, *,
                 keep_recent_s: float = KEEP_RECENT_S):
        if max_bytes < 0:
            raise ValueError("the asset cache size cannot be negative")
        self.folder = Path(folder)
        self.tmp = self.folder / TMP_FOLDER
        self.max_bytes = max_bytes
        self.keep_recent_s = keep_recent_s

    def path_for(self, rel: str) -> Path:
        return self.folder / inner(rel)

    def get(self, rel: str, fill: Callable[[BinaryIO], None]) -> Path:
        """The cached file for ``rel``; on a miss ``fill`` writes its bytes (and raises,
        leaving nothing behind, when they are not the right ones)."""
        path = self.path_for(rel)
        try:
            os.utime(path)  # the LRU order is the files' mtimes
            return path
        except FileNotFoundError:
            pass
        self._fill(path, fill)
        self.evict(keep=path)
        return path

    def add(self, rel: str, data: bytes) -> Path:
        """Keep ``data`` (what this machine just stored) for its next reader here."""
        path = self.path_for(rel)
        if path.is_file() and path.stat().st_size == len(data):
            os.utime(path)
            return path
        self._fill(path, lambda fh: fh.write(data))
        self.evict(keep=path)
        return path

    def discard(self, rel: str) -> None:
        self.path_for(rel).unlink(missing_ok=True)

    def size_bytes(self) -> int:
        return sum(size for _, _, size in self._entries())

    def evict(self, keep: Path | None = None) -> list[Path]:
        """Remove least recently used files until the folder is within its bound."""
        entries = self._entries()
        total = sum(size for _, _, size in entries)
        removed: list[Path] = []
        if total <= self.max_bytes:
            return removed
        now = time.time()
        for path, mtime, size in sorted(entries, key=lambda e: e[1]):
            if total <= self.max_bytes:
                break
            if path == keep or now - mtime < self.keep_recent_s:
                continue
            try:
                path.unlink()
            except FileNotFoundError:  # another process evicted it first
                pass
            except OSError as exc:
                log.warning("cannot evict %s from the asset cache: %s", path, exc)
                continue
            total -= size
            removed.append(path)
        return removed

    def remove_stale_temp_files(self, min_age_s: float = TMP_STALE_AGE_S) -> list[Path]:
        """Temp files of fills that a killed process left, older than ``min_age_s``."""
        removed = []
        now = time.time()
        try:
            entries = list(os.scandir(self.tmp))
        except FileNotFoundError:
            return []
        for entry in entries:
            try:
                if entry.name.startswith(TMP_PREFIX) and \
                        now - entry.stat().st_mtime >= min_age_s:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
            except FileNotFoundError:
                continue
        return removed

    def _fill(self, path: Path, fill: Callable[[BinaryIO], object]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        tmp = self.tmp / f"{TMP_PREFIX}{path.name[:16]}-{os.getpid()}-{threading.get_ident()}"
        try:
            with open(tmp, "wb") as fh:
                fill(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def _entries(self) -> list[tuple[Path, float, int]]:
        found = []
        for dirpath, dirnames, filenames in os.walk(self.folder):
            if Path(dirpath) == self.folder and TMP_FOLDER in dirnames:
                dirnames.remove(TMP_FOLDER)
            for name in filenames:
                path = Path(dirpath) / name
                try:
                    st = path.stat()
                except FileNotFoundError:
                    continue
                found.append((path, st.st_mtime, st.st_size))
        return found
