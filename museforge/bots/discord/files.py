"""Files people attach (an image, a MIDI file, a score: ABC, MusicXML, .mxl, or a
recording: WAV, FLAC, OGG/Opus, MP3, to start from): downloaded with a size cap into a
temp folder and handed to the turn, whose safe loaders decide what they are (by suffix,
then by the bytes)."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import discord

MAX_FILES = 10  # all a Discord message can carry: a style learns from a message's pictures


class Downloads:
    """The files of one request; ``close`` removes them once the turn is over."""

    def __init__(self) -> None:
        self.dir: Path | None = None
        self.paths: list[Path] = []
        self.refused: list[str] = []

    def close(self) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


def safe_name(name: str) -> str:
    """A file name that is only letters, digits, single spaces, dot, dash and underscore;
    the suffix is kept (the loaders pick by it), the stem becomes the artwork's title
    ("Rain on a roof.wav" is "Rain on a roof", as in the web chat)."""
    path = Path(name or "file")
    kept = re.sub(r"[^\w -]+", "_", path.stem, flags=re.ASCII)
    stem = " ".join(kept.split())[:60].strip("_ ") or "file"
    suffix = path.suffix.lower() if re.fullmatch(r"\.[a-z0-9]{1,8}", path.suffix.lower()) else ""
    return f"{stem}{suffix}"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir()
    path.write_bytes(data)


async def download(attachments: Sequence[discord.Attachment], limit_mb: int) -> Downloads:
    out = Downloads()
    limit = limit_mb * 1024 * 1024
    for att in attachments[MAX_FILES:]:
        out.refused.append(f"I only take {MAX_FILES} files at a time; I skipped {att.filename}.")
    for i, att in enumerate(attachments[:MAX_FILES], 1):
        if att.size > limit:
            out.refused.append(f"I couldn't use {att.filename}: it is {att.size / 2**20:.1f} MB; "
                               f"the limit here is {limit_mb} MB.")
            continue
        try:
            data = await att.read()
        except discord.HTTPException as exc:
            out.refused.append(f"I couldn't download {att.filename}: {exc.text or exc.status}.")
            continue
        if len(data) > limit:  # the size Discord announced was wrong
            out.refused.append(f"I couldn't use {att.filename}: it is over {limit_mb} MB.")
            continue
        if out.dir is None:
            out.dir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="museforge-discord-"))
        path = out.dir / str(i) / safe_name(att.filename)  # one folder each: names may repeat
        await asyncio.to_thread(_write, path, data)
        out.paths.append(path)
    return out
