"""A turn's result as Discord messages: the Discord implementation of the assistant's
``Output`` interface collects what to show, then ``messages`` lays it out as one
message per result (a batch of pictures, one picture, one piece of music, one clip) with
its files attached and its buttons below."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import discord

from museforge.assistant.output import present
from museforge.assistant.turn import TurnResult
from museforge.bots.discord.views import result_view
from museforge.bots.exports import exports, without_paths
from museforge.tools.base import Artifact

MAX_CONTENT = 2000
MAX_FILES = 10
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024  # what Discord lets a bot send in an unboosted server
MAX_MESSAGES = 5
# role, what the name adds: a piece's audio, piano roll and MIDI, and for a score a person
# sent, the ABC or MusicXML file as it came.
MUSIC_FILES = (("ogg", ""), ("png", "-roll"), ("mid", ""), ("abc", ""), ("musicxml", ""))
# A clip: its audio for Discord's player and the waveform-and-spectrogram picture. The
# WAV (the lossless copy edits read) can be 10x the OGG; /export has it.
AUDIO_FILES = (("ogg", ""), ("png", "-wave"))
SOUNDS = ("music", "audio")  # kinds shown one to a message, never in a batch of pictures


class DiscordOutput:
    """The Discord ``Output``: text is gathered for the message body, artifacts become
    attachments, progress goes to the status line (``Status`` in runner.py)."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.artifacts: list[Artifact] = []
        self.errors: list[str] = []

    def text(self, text: str) -> None:
        self.texts.append(text)

    def image(self, artifact: Artifact) -> None:
        self.artifacts.append(artifact)

    def audio(self, artifact: Artifact) -> None:
        self.artifacts.append(artifact)

    def progress(self, what: str, step: int, total: int) -> None:
        pass  # shown live by the runner's status line, not in the final message

    def error(self, text: str) -> None:
        self.errors.append(text)


@dataclass
class Outgoing:
    """One message to send or edit in."""

    content: str
    files: list[tuple[Path, str]] = field(default_factory=list)  # (path, filename shown)
    view: discord.ui.View | None = None
    status: bool = False  # a status line (replaced by the result), not the result itself

    def discord_files(self) -> list[discord.File]:
        # A discord.File is read once when sent: make fresh ones for every attempt.
        return [discord.File(path, filename=name) for path, name in self.files]


def files_of(a: Artifact) -> list[tuple[Path, str]]:
    stem = f"museforge-{a.artwork}-v{a.version}"
    if a.kind in SOUNDS:
        roles = MUSIC_FILES if a.kind == "music" else AUDIO_FILES
        return [(a.files[role], f"{stem}{suffix}.{_suffix(role, a.files[role])}")
                for role, suffix in roles if role in a.files]
    return [(a.files["png"], f"{stem}.png")] if "png" in a.files else []


def _suffix(role: str, path: Path) -> str:
    """A compressed MusicXML file (.mxl, a zip) keeps its own suffix."""
    if role == "musicxml" and path.is_file():
        with path.open("rb") as f:
            if f.read(4) == b"PK\x03\x04":
                return "mxl"
    return role


def groups(result: TurnResult) -> list[tuple[str, list[Artifact]]]:
    """(kind, artifacts) per message: an imported file alone, each call's pictures in
    batches of up to four, each piece of music and each clip alone."""
    out: list[tuple[str, list[Artifact]]] = []
    batches = [[a] for a in result.imported] + [c.artifacts for c in result.calls if c.artifacts]
    for made in batches:
        images = [a for a in made if a.kind not in SOUNDS]
        for i in range(0, len(images), 4):
            chunk = images[i:i + 4]
            out.append(("batch" if len(chunk) > 1 else "image", chunk))
        out.extend((a.kind, [a]) for a in made if a.kind in SOUNDS)
    return out


def clip(text: str, limit: int = MAX_CONTENT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def messages(result: TurnResult, key: str, *, notes: list[str] | None = None,
             upload_limit: int = DEFAULT_UPLOAD_LIMIT, cancelled: bool = False,
             home: Path | None = None) -> list[Outgoing]:
    """The messages that show ``result``; buttons carry the session ``key``. With the
    data dir ``home``, the scores ``export_music`` wrote are attached to the first
    message and named there by file name, not by their path on the host."""
    out = DiscordOutput()
    present(result, out)
    head = [*(notes or []), *out.texts, *out.errors]
    written = exports(result.calls, home) if home is not None else []
    if home is not None:
        head = [without_paths(t, home) for t in head]
    if cancelled and not result.cancelled:  # a cancelled turn's reply says what it kept
        head.append("(It had already finished when the cancel came; everything is kept.)")
    parts: list[Outgoing] = []
    skipped: list[str] = []
    shown = groups(result)
    for kind, arts in shown[:MAX_MESSAGES]:
        files: list[tuple[Path, str]] = []
        size = 0
        for a in arts:
            for path, name in files_of(a):
                bytes_ = path.stat().st_size if path.is_file() else upload_limit + 1
                if size + bytes_ > upload_limit or len(files) >= MAX_FILES:
                    skipped.append(name)
                    continue
                files.append((path, name))
                size += bytes_
        label = ", ".join(f"#{a.artwork} v{a.version}" for a in arts)
        parts.append(Outgoing(f"**{label}** {arts[0].title}".strip(), files,
                              result_view(kind, arts, key)))
    if written:
        target = parts[0] if parts else Outgoing("")
        size = sum(p.stat().st_size for p, _ in target.files)
        for e in written:
            bytes_ = e.path.stat().st_size
            if size + bytes_ > upload_limit or len(target.files) >= MAX_FILES:
                skipped.append(e.name)
                continue
            target.files.append((e.path, e.name))
            size += bytes_
        if not parts and target.files:
            parts.append(target)
    if len(shown) > MAX_MESSAGES:
        rest = ", ".join(f"#{a.artwork}" for _, arts in shown[MAX_MESSAGES:] for a in arts)
        head.append(f"(Also made {rest}: /history lists everything.)")
    if skipped:
        head.append(f"(Too large to attach here: {', '.join(skipped)}; /export has them.)")
    text = "\n".join(t for t in head if t)
    if not parts:
        return [Outgoing(clip(text or "Done."))]
    parts[0].content = clip(text) if text else parts[0].content
    return parts
