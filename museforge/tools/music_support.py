"""What the music tools share: the melody model (handed in by the caller or the committed
one), loading a version's piece from its MIDI, storing a piece as the three files
every music version has: ``mid``, ``ogg`` (audio) and ``png`` (piano roll), and the
piece-level work of the latent tools (the melody in the model's 2-bar windows; a
variation, a continuation, the steps of an interpolation), which keeps a tune's swing,
dance rhythm and meter through the model."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from museforge.models.music import edit as ops
from museforge.models.music.base import MelodyModel, MusicError, PhraseModel
from museforge.models.music.piece import Note, Part, Piece
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


def phrase_model(ctx: ToolContext, model: MelodyModel) -> PhraseModel | None:
    """The 16-bar phrase model to compose with beside ``model``: the one handed in, else
    the committed one where its weights are present and ``model`` is the committed 2-bar
    model (a learnt style's model or a test's tiny one writes its melodies alone)."""
    if ctx.services.phrases is not None:
        return ctx.services.phrases
    from museforge.models.music.model import load_default
    from museforge.models.music.phrase_model import load_phrases

    phrases = load_phrases()
    if phrases is None or model.revision != load_default().revision:
        return None
    ctx.services.phrases = phrases
    return phrases


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


# -- the latent tools' piece-level work -------------------------------------------------------


def melody_windows(piece: Piece) -> list[list[Note]]:
    """The melody cut into 2-bar windows, each with notes timed from 0 (a swung melody's
    eighths straightened, as the model reads them)."""
    melody = _straight(_melody(piece).notes)
    span = 2 * model_bar(piece)
    count = max(1, int(-(-piece.end_beat // span)))
    out: list[list[Note]] = [[] for _ in range(count)]
    for n in melody:
        w = min(count - 1, int(n.start // span))
        out[w].append(Note(n.pitch, n.start - w * span, min(n.end - w * span, span), n.velocity))
    return out


def _straight(notes: list[Note]) -> list[Note]:
    from museforge.models.music.idioms import is_swung, unswing

    return unswing(notes) if is_swung(notes) else notes


def _swung_like(source: list[Note], notes: list[Note]) -> list[Note]:
    """``notes`` (the model's, straight) swung when ``source`` was: a variation or a
    continuation of a jazz tune swings like it."""
    from museforge.models.music.idioms import is_swung, swing

    return swing(notes) if is_swung(source) else notes


def _like_rhythm(source: list[Note], notes: list[Note], piece: Piece, start: float = 0.0
                 ) -> list[Note]:
    """``notes`` (the model's, from beat ``start``) in the dance rhythm ``source`` is in,
    when it is in one (models/music/idioms.py: running eighths, with sixteenth pairs,
    dotted): a variation or a continuation of a jig is still a jig."""
    from museforge.models.music.idioms import apply_rhythm, rhythm_of
    from museforge.models.music.theory import parse_key

    bpb = piece.beats_per_bar
    rhythm = rhythm_of(source, bpb, piece.bars)
    if rhythm is None or not notes:
        return notes
    bars = max(1, int(-(-round(max(n.end for n in notes) - start, 6) // bpb)))
    moved = [Note(n.pitch, n.start - start, n.end - start, n.velocity) for n in notes]
    written = apply_rhythm(moved, rhythm, parse_key(piece.key), bpb, bars)
    return [Note(n.pitch, n.start + start, n.end + start, n.velocity) for n in written]


def _melody(piece: Piece) -> Part:
    part = piece.part("melody") or next((p for p in piece.parts if not p.is_drum), None)
    if part is None:
        raise ToolError("this piece has no melody to work on")
    return part


def _model_ts(piece: Piece) -> tuple[int, int]:
    """The meter the melody model writes this piece's melody in (models/music/meter.py:
    12/8 as 6/8, 6/4 as 3/4...)."""
    from museforge.models.music.meter import model_meter

    return model_meter(piece.time_signature)


def model_bar(piece: Piece) -> float:
    num, den = _model_ts(piece)
    return num * 4 / den


def piece_bars(piece: Piece, model_bars: int) -> int:
    """How many of the piece's own bars ``model_bars`` of the model's meter fill."""
    return math.ceil(model_bars * model_bar(piece) / piece.beats_per_bar - 1e-9)


def _with_melody(piece: Piece, windows: list[list[Note]]) -> Piece:
    span = 2 * model_bar(piece)
    old = _melody(piece)
    notes = [Note(n.pitch, n.start + w * span, n.end + w * span, n.velocity or 80)
             for w, window in enumerate(windows) for n in window]
    notes = _swung_like(old.notes, notes)
    parts = [p.copy(notes=notes) if p is old else p.copy() for p in piece.parts]
    return piece.copy(parts=parts)


def _into_range(window: list[Note], model: MelodyModel) -> tuple[list[Note], int]:
    """The window moved by whole octaves into the model's pitch range (notes still
    outside it folded in by octaves), and the shift to undo afterwards."""
    low, high = model.pitch_range
    centre = (min(n.pitch for n in window) + max(n.pitch for n in window)) / 2
    shift = 12 * round(((low + high) / 2 - centre) / 12)
    moved = []
    for n in window:
        pitch = n.pitch + shift
        while pitch < low:
            pitch += 12
        while pitch > high:
            pitch -= 12
        moved.append(Note(pitch, n.start, n.end, n.velocity))
    return moved, shift


def _shifted(window: list[Note], shift: int) -> list[Note]:
    return [Note(n.pitch - shift, n.start, n.end, n.velocity) for n in window]


def vary_piece(piece: Piece, model: MelodyModel, amount: float, seed: int) -> Piece:
    ts = _model_ts(piece)
    windows = []
    for i, window in enumerate(melody_windows(piece)):
        if not window:
            windows.append(window)
            continue
        inside, shift = _into_range(window, model)
        z = model.encode(inside, ts)
        moved = model.perturb(z, amount, seed=seed + i)
        windows.append(_shifted(model.decode(moved, ts, temperature=0.0), shift))
    varied = _with_melody(piece, windows)
    old, new = _melody(piece), _melody(varied)
    notes = _like_rhythm(old.notes, new.notes, piece)
    return varied.copy(parts=[p.copy(notes=notes) if p.name == new.name else p.copy()
                              for p in varied.parts])


def continue_piece(piece: Piece, model: MelodyModel, bars: int, seed: int,
                   time_signature: tuple[int, int] | None = None) -> Piece:
    """The piece (re-barred in ``time_signature`` first, when given) with ``bars`` more
    bars of melody, the accompaniment looping on."""
    if time_signature is not None:
        from museforge.models.music.meter import rebar

        piece = rebar(piece, time_signature)
    melody = _melody(piece)
    if not melody.notes:
        raise ToolError("this piece has no melody notes to continue from")
    inside, shift = _into_range(_straight(melody.notes), model)
    total = piece.bars + bars
    end = total * piece.beats_per_bar
    model_bars = math.ceil(bars * piece.beats_per_bar / model_bar(piece) - 1e-9)
    cont = model.continue_melody(inside, _model_ts(piece), model_bars, seed=seed)
    added = [n if n.end <= end + 1e-9 else Note(n.pitch, n.start, end, n.velocity)
             for n in _shifted(list(cont.notes), shift) if n.start < end - 1e-9]
    added = _swung_like(melody.notes, added)
    added = _like_rhythm(melody.notes, added, piece, cont.start)
    longer = ops.fit_bars(piece, total)  # the accompaniment loops on
    parts = [p.copy(notes=[*melody.notes, *added]) if p.name == melody.name else p
             for p in longer.parts]
    return longer.copy(parts=parts)


def interpolate_pieces(a: Piece, b: Piece, model: MelodyModel, steps: int) -> list[Piece]:
    """The steps from ``a``'s melody to ``b``'s over ``a``'s accompaniment; ``b`` is first
    re-barred in ``a``'s meter when they differ (3/4 and 6/8, 2/4 and 4/4)."""
    from museforge.models.music.meter import rebar

    b = music_call(lambda: rebar(b, a.time_signature))
    ts = _model_ts(a)
    wa, wb = melody_windows(a), melody_windows(b)
    count = min(len(wa), len(wb))
    shift = _into_range([n for w in wa[:count] for n in w] or [Note(60, 0, 1)], model)[1]
    za = [model.encode(_into_range(w, model)[0], ts) if w else None for w in wa[:count]]
    zb = [model.encode(_into_range(w, model)[0], ts) if w else None for w in wb[:count]]
    out = []
    for step in range(1, steps + 1):
        t = step / (steps + 1)
        windows: list[list[Note]] = []
        for x, y in zip(za, zb, strict=True):
            if x is None or y is None:
                windows.append([])
                continue
            z = model.interpolate(x, y, steps + 2)[step]
            windows.append(_shifted(model.decode(z, ts, temperature=0.0), shift))
        trimmed = ops.fit_bars(a, piece_bars(a, 2 * count))
        out.append(_with_melody(trimmed, windows).copy(title=f"{t:.0%} of the way"))
    return out
