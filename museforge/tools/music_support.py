"""What the music tools share: the melody model (handed in by the caller or the committed
one), loading a version's piece from its MIDI, and storing a piece as the three files
every music version has: ``mid``, ``ogg`` (audio) and ``png`` (piano roll)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from museforge.models.music.base import MelodyModel, MusicError
from museforge.models.music.piece import Piece
from museforge.storage.models import ArtworkInfo, FileIn, VersionInfo
from museforge.tools.base import (
    TITLE_CHARS,
    Artifact,
    ToolContext,
    ToolError,
    file_title,
    source_record,
)

T = TypeVar("T")

# The longest piece the music tools make: what the audio renderer renders
# (models/audio/render.py) and the safe MIDI loader lets in. Checked from the arguments,
# before the model or the renderer runs.
LONGEST_S = 600.0


def check_length(seconds: float, said: str, advice: str) -> None:
    """Refuse at once a piece that would last more than ``LONGEST_S``: ``said`` names it
    with its verb ("64 bars at 20 bpm last"), ``advice`` what makes it fit."""
    from museforge.models.music.midi import format_duration

    if seconds > LONGEST_S:
        raise ToolError(f"{said} {format_duration(seconds)}; the longest I make is "
                        f"{format_duration(LONGEST_S)}: {advice}")


@dataclass(frozen=True)
class Length:
    """How long a stored piece is, in beats at its tempo (what estimates read)."""

    beats: float
    beats_per_bar: float
    tempo: float

    @property
    def bars(self) -> int:
        return max(1, math.ceil(self.beats / self.beats_per_bar - 1e-6))

    @property
    def seconds(self) -> float:
        return self.beats * 60.0 / self.tempo


def length_of(ctx: ToolContext, ref: str) -> Length:
    """The length of the music ``ref`` names, from its recipe (every stored music version
    records its seconds, tempo and meter), else from its MIDI."""
    art, version = ctx.resolve(ref)
    if art.kind != "music":
        raise ToolError(f"#{art.number} is {art.kind}, not music")
    r = version.recipe
    try:
        num, den = (int(x) for x in r["time_signature"])
        tempo = float(r["tempo"])
        return Length(float(r["seconds"]) * tempo / 60.0, num * 4 / den, tempo)
    except (KeyError, TypeError, ValueError):
        piece = read_piece(version)
        return Length(piece.end_beat, piece.beats_per_bar, piece.tempo)


def melody_model(ctx: ToolContext) -> MelodyModel:
    model = ctx.services.melody
    if model is None:
        from museforge.models.music.model import load_default

        model = ctx.services.melody = load_default()
    return model


def music_call(fn: Callable[[], T]) -> T:
    """Run a music-room call, turning its refusals into errors the user can act on."""
    try:
        return fn()
    except MusicError as exc:
        raise ToolError(str(exc)) from exc


@dataclass
class MusicSource:
    art: ArtworkInfo
    version: VersionInfo
    piece: Piece

    def describe(self) -> dict[str, Any]:
        return source_record(self.art, self.version, "mid")


def load_music(ctx: ToolContext, ref: str) -> MusicSource:
    art, version = ctx.resolve(ref)
    if art.kind != "music":
        raise ToolError(f"#{art.number} is {art.kind}, not music")
    piece = read_piece(version)
    piece.title = art.title
    return MusicSource(art, version, piece)


def read_piece(version: VersionInfo) -> Piece:
    from museforge.models.music.midi import load_midi

    path = version.files.get("mid")
    if path is None:
        raise ToolError(f"v{version.number} has no MIDI file")
    piece = music_call(lambda: load_midi(path.read_bytes(), filename=path.name))
    # What MIDI cannot say (the mood, our part names) comes back from the recipe.
    recipe = version.recipe
    if recipe.get("key"):
        piece.key = str(recipe["key"])
    return piece


def render_files(piece: Piece) -> tuple[dict[str, FileIn], dict[str, Any]]:
    """MIDI, OGG audio and the piano roll for ``piece``, and what rendered the audio."""
    from museforge.models.audio.render import encode_ogg, render_audio
    from museforge.models.audio.roll import piano_roll_png
    from museforge.models.music.midi import to_midi_bytes

    mid = music_call(lambda: to_midi_bytes(piece))
    samples, rate, renderer = music_call(lambda: render_audio(piece))
    files = {"mid": FileIn(mid, "audio/midi"),
             "ogg": FileIn(encode_ogg(samples, rate), "audio/ogg"),
             "png": FileIn(piano_roll_png(piece, title=piece.title or None), "image/png")}
    return files, {"renderer": renderer, "sample_rate": rate,
                   "midi_sha256": hashlib.sha256(mid).hexdigest()}


def describe_piece(piece: Piece) -> dict[str, Any]:
    from museforge.models.music.theory import program_name

    melody = piece.part("melody") or (piece.parts[0] if piece.parts else None)
    return {"key": piece.key, "tempo": piece.tempo,
            "time_signature": list(piece.time_signature), "bars": piece.bars,
            "seconds": round(piece.seconds, 2), "parts": [p.name for p in piece.parts],
            "instrument": program_name(melody.program) if melody and not melody.is_drum
            else None}


def store_new_music(ctx: ToolContext, title: str, prompt: str, recipe: dict[str, Any],
                    piece: Piece) -> Artifact:
    files, rendered = render_files(piece)
    recipe = {**describe_piece(piece), **recipe, "render": rendered}
    art, version = ctx.store.create_artwork(
        ctx.actor, ctx.session, "music", title=title[:TITLE_CHARS], prompt=prompt,
        operation=recipe["tool"], recipe=recipe, files=files, message_id=ctx.message_id)
    return Artifact.of(art, version)


def store_music_version(ctx: ToolContext, artwork: int, parent: int | None,
                        recipe: dict[str, Any], piece: Piece) -> Artifact:
    files, rendered = render_files(piece)
    recipe = {**describe_piece(piece), **recipe, "render": rendered}
    version = ctx.store.add_version(ctx.actor, ctx.session, artwork, operation=recipe["tool"],
                                    recipe=recipe, files=files, parent=parent,
                                    message_id=ctx.message_id)
    art = ctx.store.artwork(ctx.actor, ctx.session, artwork)
    return Artifact.of(art, version)


def import_midi(ctx: ToolContext, path: Path, dry_run: bool = False) -> Artifact | None:
    """Bring a person's MIDI file in as a new artwork, through the safe loader only."""
    from museforge.models.music.midi import load_midi

    data = path.read_bytes()
    piece = music_call(lambda: load_midi(data, filename=path.name))
    if dry_run:
        return None
    title = file_title(path, "melody")
    piece.title = title
    recipe = {"tool": "import", "args": {}, "sources": [],
              "original_sha256": hashlib.sha256(data).hexdigest()}
    return store_new_music(ctx, title, "", recipe, piece)
