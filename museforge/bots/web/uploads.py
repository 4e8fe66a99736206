"""Files a person uploads (an image, a MIDI file, a score: ABC, MusicXML, .mxl, or a
recording: WAV, FLAC, OGG/Opus, MP3) wait here until a turn takes them.

The body is streamed to a fresh private folder with a size limit; the file's name there
is built by the server (a cleaned-up stem, for the artwork's title, and a suffix from
the bytes' magic, a short allow-list, or the upload's Content-Type), so the client's
filename is never a path. The
assistant's safe loaders decide whether the file is usable; a refused one is an error in
the turn's result, like the CLI's ``--attach``."""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request

MAX_UPLOAD_BYTES = 30 * 1024 * 1024
UPLOAD_TTL_S = 3600  # an upload no turn took is deleted after an hour
MAX_PENDING = 16  # per user
AUDIO_SUFFIXES = (".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3")
SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".mid", ".midi", ".abc", ".musicxml",
            ".mxl", ".xml", *AUDIO_SUFFIXES)
# A score whose name says nothing (a browser's blob) is known by the type it was sent as.
CONTENT_TYPES = {"text/vnd.abc": ".abc", "application/vnd.recordare.musicxml+xml": ".musicxml",
                 "application/vnd.recordare.musicxml": ".mxl", "audio/midi": ".mid",
                 "audio/x-midi": ".mid",
                 "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/wave": ".wav",
                 "audio/vnd.wave": ".wav", "audio/flac": ".flac", "audio/x-flac": ".flac",
                 "audio/ogg": ".ogg", "audio/opus": ".opus", "audio/mpeg": ".mp3",
                 "audio/mp3": ".mp3"}
MAGIC = ((b"\x89PNG\r\n\x1a\n", ".png"), (b"\xff\xd8\xff", ".jpg"), (b"GIF8", ".gif"),
         (b"MThd", ".mid"), (b"fLaC", ".flac"), (b"OggS", ".ogg"), (b"ID3", ".mp3"))


class UploadRefused(Exception):
    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status = status


@dataclass(frozen=True)
class Upload:
    id: str
    user_id: int
    session_id: int
    name: str  # what the person called it, for display only
    path: Path
    size: int
    created: float


class Uploads:
    def __init__(self, max_bytes: int = MAX_UPLOAD_BYTES):
        self.max_bytes = max_bytes
        self.root = Path(tempfile.mkdtemp(prefix="museforge-web-"))
        self._items: dict[str, Upload] = {}
        self._lock = threading.Lock()

    async def receive(self, request: Request, user_id: int, session_id: int,
                      filename: str) -> Upload:
        self.prune()
        limit = self.max_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise UploadRefused(413, _too_big(int(declared), limit))
        with self._lock:
            if sum(u.user_id == user_id for u in self._items.values()) >= MAX_PENDING:
                raise UploadRefused(429, "too many uploads waiting; send a message with them "
                                         "first")
        folder = Path(tempfile.mkdtemp(dir=self.root))
        size, head = 0, b""
        part = folder / "body"
        try:
            with part.open("wb") as f:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise UploadRefused(413, _too_big(size, limit))
                    if len(head) < 16:
                        head += chunk[:16]
                    f.write(chunk)
            if size == 0:
                raise UploadRefused(400, "the file is empty")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        path = folder / (safe_stem(filename) + suffix_for(
            head, filename, request.headers.get("content-type", "")))
        part.rename(path)
        upload = Upload(secrets.token_urlsafe(12), user_id, session_id,
                        display_name(filename), path, size, time.time())
        with self._lock:
            self._items[upload.id] = upload
        return upload

    def take(self, ids: list[str], user_id: int, session_id: int) -> list[Upload]:
        """The uploads named by ``ids``, removed from the waiting list; unknown ones (or
        another user's, or another session's) are refused all together."""
        with self._lock:
            found = [self._items.get(i) for i in ids]
            if any(u is None or u.user_id != user_id or u.session_id != session_id
                   for u in found):
                raise UploadRefused(404, "no such upload (an upload is kept for an hour, "
                                         "for the session it was sent to)")
            for i in ids:
                del self._items[i]
        return [u for u in found if u is not None]

    def restore(self, uploads: list[Upload]) -> None:
        """Put back what a turn took but could not use (the queue was full)."""
        with self._lock:
            self._items.update((u.id, u) for u in uploads)

    def discard(self, uploads: list[Upload]) -> None:
        for u in uploads:
            shutil.rmtree(u.path.parent, ignore_errors=True)

    def prune(self) -> None:
        cutoff = time.time() - UPLOAD_TTL_S
        with self._lock:
            old = [u for u in self._items.values() if u.created < cutoff]
            for u in old:
                del self._items[u.id]
        self.discard(old)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _too_big(size: int, limit: int) -> str:
    return (f"the file is {size / 2**20:.1f} MB or more; the limit is "
            f"{limit / 2**20:.0f} MB")


def display_name(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in base if ch.isprintable())[:120] or "file"


def safe_stem(filename: str) -> str:
    """Letters, digits, spaces, '-' and '_' of the name's stem (the artwork's title)."""
    stem = display_name(filename).rsplit(".", 1)[0]
    kept = "".join(ch if ch.isalnum() or ch in " -_" else " " for ch in stem)
    return " ".join(kept.split())[:60].strip(" -_") or "upload"


def suffix_for(head: bytes, filename: str, content_type: str = "") -> str:
    for magic, suffix in MAGIC:
        if head.startswith(magic):
            return suffix
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE"):
        return ".webp" if head[8:12] == b"WEBP" else ".wav"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return ".mp3"  # an MPEG audio frame with no ID3 tag before it
    name = display_name(filename)
    claimed = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if claimed in SUFFIXES:
        return claimed
    return CONTENT_TYPES.get(content_type.split(";", 1)[0].strip().lower(), ".bin")
