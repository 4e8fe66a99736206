"""A person's own melody: typed notes or an ABC tune brought in as an artwork
(import_melody), files of ABC and MusicXML brought in as attachments (``import_abc``,
``import_musicxml``, the attachments' loaders), an accompaniment put under a melody that
stays note for note (harmonise_music), a piece that starts with given notes (the
``start_with`` of compose_music, read here), and any piece written back out as ABC,
MusicXML or MIDI for a notation program (export_music).

Every import's v1 is exactly what was given: the notes as read, and for a file its
original bytes kept beside the MIDI (role ``abc`` or ``musicxml``)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from museforge.models.music.piece import Note, Piece
from museforge.storage.models import FileIn
from museforge.tools.base import (
    Args,
    Artifact,
    ArtworkRef,
    ToolContext,
    ToolError,
    ToolResult,
    file_title,
    tool,
    version_ref,
)
from museforge.tools.music_support import (
    MusicSource,
    check_length,
    load_music,
    music_call,
    store_music_version,
    store_new_music,
)
from museforge.tools.music_tools import Meter, StyleName, _KeyAndInstrument, _melody

Accompaniment = Literal["chords", "bass", "drums"]
NOTES = Field(min_length=1, max_length=20_000,
              description="The notes: 'C E G', 'C4 E4 G4 C5' (C4 = middle C), 'D8 F#8 A4' "
                          "(8 = eighth, 4 after an octave digit = quarter: 'C4/4'), "
                          "'60 64 67' (MIDI), 'do mi sol', '|' for bar lines, or an ABC tune.")


def _meter(value: str | None) -> tuple[int, int] | None:
    return tuple(int(x) for x in value.split("/")) if value else None  # type: ignore[return-value]


def read(args: dict[str, Any]) -> Any:
    """The Reading of ``args["notes"]`` (typed notes or ABC) with the key, meter, tempo
    and instrument the arguments give; a refusal is the tool's error."""
    from museforge.models.music.scorefiles import read_melody
    from museforge.models.music.theory import instrument_program

    program = instrument_program(args["instrument"]) if args.get("instrument") else 0
    return music_call(lambda: read_melody(
        args["notes"], key=args.get("key"), time_signature=_meter(args.get("time_signature")),
        tempo=args.get("tempo"), program=program, title=args.get("title") or ""))


# -- compose_music(start_with=...) -----------------------------------------------------------


def given_start(args: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """compose_music's arguments with the key and meter of its ``start_with`` notes where
    the person gave none (so the piece keeps them, and its recipe replays), and the
    sentence that says what was read."""
    reading = read({"notes": args["start_with"], "key": args.get("key"),
                    "time_signature": args.get("time_signature")} if not _is_abc(args)
                   else {"notes": args["start_with"]})
    piece = reading.piece
    meter = f"{piece.time_signature[0]}/{piece.time_signature[1]}"
    if meter not in ("2/4", "3/4", "4/4", "6/8"):
        raise ToolError(f"your notes are in {meter}; I compose in 2/4, 3/4, 4/4 or 6/8")
    filled = {**args, "key": args.get("key") or piece.key, "time_signature": meter}
    return filled, reading.echo


def _is_abc(args: dict[str, Any]) -> bool:
    from museforge.models.music.scorefiles import is_abc

    return is_abc(str(args.get("start_with") or ""))


def start_notes(args: dict[str, Any]) -> list[Note]:
    """The melody of compose_music's ``start_with``, in beats from 0."""
    piece = read({"notes": args["start_with"]} if _is_abc(args) else
                 {"notes": args["start_with"], "key": args.get("key"),
                  "time_signature": args.get("time_signature")}).piece
    melody = piece.part("melody") or piece.parts[0]
    return list(melody.notes)


# -- import_melody -------------------------------------------------------------------------------


class ImportMelodyArgs(_KeyAndInstrument):
    notes: str = NOTES
    time_signature: Meter | None = Field(default=None, description="2/4, 3/4, 4/4 or 6/8.")
    tempo: float | None = Field(default=None, ge=20, le=300, description="Beats per minute.")
    title: str | None = Field(default=None, max_length=80, description="A name for it.")


@tool(ImportMelodyArgs, family="music", kind="music", makes="artwork")
def import_melody(ctx: ToolContext, args: ImportMelodyArgs) -> ToolResult:
    """Bring in a melody the person typed or pasted, exactly as given, as a new music
    artwork #N (MIDI, audio, piano roll) that every music tool can then work on: note
    names ('C E G', 'C4 E4 G4 C5', 'D8 F#8 A4' where 8 = eighth note), MIDI numbers
    ('60 64 67'), solfège ('do mi sol') or an ABC tune (X:/M:/K: lines). The reply says
    back what was read so the person can correct it."""
    dumped = args.model_dump()
    reading = read(dumped)
    piece = reading.piece
    check_length(piece.seconds, "your melody lasts", "send a shorter one")
    title = args.title or piece.title or "your melody"
    piece.title = title
    recipe = {"tool": "import_melody", "args": dumped, "sources": [],
              "source": reading.source, "echo": reading.echo}
    made = store_new_music(ctx, title, "", recipe, piece)
    extra = "".join(f" ({n})" for n in reading.notes)
    return ToolResult(f"Brought your melody in as {made.ref}. {reading.echo}{extra}.", [made])


# -- files: .abc, .musicxml, .mxl -------------------------------------------------------------


def import_abc(ctx: ToolContext, path: Path, dry_run: bool = False) -> Artifact | None:
    """An attached ABC file in as a new artwork, through the safe loader only."""
    from museforge.models.music.scorefiles import load_abc

    data = path.read_bytes()
    reading = music_call(lambda: load_abc(data, filename=path.name))
    return _store_file(ctx, path, data, reading, "abc", "text/plain", dry_run)


def import_musicxml(ctx: ToolContext, path: Path, dry_run: bool = False) -> Artifact | None:
    """An attached MusicXML (.musicxml, .xml, .mxl) file in as a new artwork, through the
    safe loader only."""
    from museforge.models.music.scorefiles import load_musicxml

    data = path.read_bytes()
    reading = music_call(lambda: load_musicxml(data, filename=path.name))
    return _store_file(ctx, path, data, reading, "musicxml", "application/octet-stream",
                       dry_run)


def _store_file(ctx: ToolContext, path: Path, data: bytes, reading: Any, role: str,
                mime: str, dry_run: bool) -> Artifact | None:
    from museforge.tools import music_support

    piece: Piece = reading.piece
    check_length(piece.seconds, f"{path.name} lasts", "send a shorter piece")
    if dry_run:
        return None
    title = reading.piece.title or file_title(path, "score")
    piece.title = title
    recipe = {"tool": "import", "args": {}, "sources": [], "format": role,
              "original_sha256": hashlib.sha256(data).hexdigest(), "echo": reading.echo,
              "said": reading.notes}
    files, rendered = music_support.render_files(piece)
    files[role] = FileIn(data, mime)  # what was given, kept as it came
    recipe = {**music_support.describe_piece(piece), **recipe, "render": rendered}
    art, version = ctx.store.create_artwork(
        ctx.actor, ctx.session, "music", title=title[:80], prompt="", operation="import",
        recipe=recipe, files=files, message_id=ctx.message_id)
    return Artifact.of(art, version)


# -- harmonise_music -------------------------------------------------------------------------


class HarmoniseArgs(Args):
    artwork: ArtworkRef
    parts: list[Accompaniment] | None = Field(
        default=None, max_length=3,
        description="What to add: chords, bass, drums (default chords and bass, and drums "
                    "when the style has them).")
    style: StyleName | None = Field(default=None, description="How the chords are played.")


def harmonise_piece(piece: Piece, parts: Sequence[str] | None, style: str | None,
                    mood: str | None = None) -> tuple[Piece, dict[str, Any]]:
    """The piece with ``parts`` written under its melody (which is kept note for note);
    a part of the same name already there is replaced, any other part stays."""
    from museforge.models.music.composer import MOODS, STYLES, accompaniment
    from museforge.models.music.theory import parse_key

    melody = _melody(piece)
    wanted = list(parts or (["chords", "bass"] + (["drums"] if STYLES.get(
        style or "", {}).get("drums") else [])))
    velocity = MOODS.get(mood or "", {}).get("velocity") or round(
        sum(n.velocity for n in melody.notes) / max(1, len(melody.notes)))
    added, degrees = accompaniment(list(melody.notes), parse_key(piece.key),
                                   piece.time_signature, piece.bars, wanted, style, velocity)
    replaced = [p.name for p in piece.parts if p.name in wanted and p is not melody]
    kept = [p.copy() for p in piece.parts if p is melody or p.name not in wanted]
    return piece.copy(parts=kept + added), {"added": wanted, "replaced": replaced,
                                            "degrees": degrees}


@tool(HarmoniseArgs, family="music", kind="music", makes="version")
def harmonise_music(ctx: ToolContext, args: HarmoniseArgs) -> ToolResult:
    """Harmonise a piece's melody (a person's own tune, or any piece): chords chosen to
    fit each bar of it, a bass line and, by style or when asked, drums, played in the
    style's pattern (waltz, ballad, rock...). The melody stays exactly as it was, note for
    note. The result is a new version."""
    source = load_music(ctx, args.artwork)
    check_length(source.piece.seconds, f"#{source.art.number} lasts", "trim it first")
    mood = source.version.recipe.get("mood")
    piece, said = music_call(lambda: harmonise_piece(source.piece, args.parts, args.style,
                                                     mood))
    recipe = {"tool": "harmonise_music", "args": args.model_dump(),
              "sources": [source.describe()], "mood": mood, **said}
    made = store_music_version(ctx, source.art.number, source.version.number, recipe, piece)
    from museforge.models.music.theory import parse_key

    key = parse_key(piece.key)
    chords = " ".join(_roman(d, key.mode) for d in said["degrees"][:16])
    swapped = f", replacing the {' and '.join(said['replaced'])}" if said["replaced"] else ""
    return ToolResult(f"Harmonised #{made.artwork}: added {' and '.join(said['added'])} "
                      f"under the melody{swapped} (chords {chords}); the melody is "
                      f"unchanged. Now v{made.version}.", [made])


def _roman(degree: int, mode: str) -> str:
    numeral = ("I", "II", "III", "IV", "V", "VI", "VII")[degree]
    minor_degrees = {"major": (1, 2, 5), "minor": (0, 3)}.get(mode, (1, 2, 5))
    return numeral.lower() if degree in minor_degrees else numeral


# -- export_music ----------------------------------------------------------------------------


class ExportMusicArgs(Args):
    artwork: ArtworkRef
    format: Literal["abc", "musicxml", "midi"] = Field(
        default="musicxml", description="abc (text), musicxml (for notation programs) or midi.")


SUFFIX = {"abc": "abc", "musicxml": "musicxml", "midi": "mid"}
ABC_SHOWN_CHARS = 1500  # an ABC tune this short is shown in the reply itself


def engrave(piece: Piece, fmt: str) -> tuple[bytes, list[str], int]:
    """The piece in ``fmt``: (bytes, the parts left out, notes moved to the grid)."""
    from museforge.models.music.midi import to_midi_bytes

    if fmt == "midi":
        return to_midi_bytes(piece), [], 0
    from museforge.models.music.engrave import to_abc, to_musicxml

    done = to_abc(piece) if fmt == "abc" else to_musicxml(piece)
    data = done.text.encode("utf-8") if isinstance(done.text, str) else done.text
    return data, done.left_out, done.changed


@tool(ExportMusicArgs, family="music", kind="music", makes="nothing")
def export_music(ctx: ToolContext, args: ExportMusicArgs) -> ToolResult:
    """Write a piece out to take into a notation program or a DAW: ABC notation (short
    text, also shown in the reply), MusicXML (MuseScore, Sibelius, Finale, Dorico) or
    MIDI. Drums are left out of ABC and MusicXML. Makes no new version."""
    source = load_music(ctx, args.artwork)
    data, left_out, changed = music_call(lambda: engrave(source.piece, args.format))
    path = export_path(ctx, source, args.format)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    ref = version_ref(source.art, source.version)
    name = {"abc": "ABC", "musicxml": "MusicXML", "midi": "MIDI"}[args.format]
    said = [f"Wrote {ref} as {name}: {path}"]
    if left_out:
        said.append(f"({' and '.join(left_out)} left out: notation has no pitches for them)")
    if changed:
        said.append(f"({changed} note{'s' if changed != 1 else ''} put on the nearest "
                    "1/24 of a beat or cut where the next chord starts)")
    text = " ".join(said) + "."
    if args.format == "abc" and len(data) <= ABC_SHOWN_CHARS:
        text += "\n" + data.decode("utf-8")
    return ToolResult(text, touched=[(source.art.number, "music")])


def export_path(ctx: ToolContext, source: MusicSource, fmt: str) -> Path:
    """``<data dir>/exports/<session id>-<session>/<N>-v<M>-<title>.<suffix>``: the id,
    because two people's sessions (or two Discord channels) may have the same name."""
    home = Path(getattr(ctx.store, "home", None) or ".")
    slug = re.sub(r"[^a-z0-9]+", "-", source.art.title.lower()).strip("-")[:40] or "music"
    session = f"{ctx.session.id}-" + (
        re.sub(r"[^A-Za-z0-9_-]+", "-", ctx.session.name)[:40] or "session")
    return home / "exports" / session / (f"{source.art.number}-v{source.version.number}-"
                                         f"{slug}.{SUFFIX[fmt]}")


# -- replay ----------------------------------------------------------------------------------


def remake(recipe: dict[str, Any], sources: list[MusicSource]) -> Piece:
    """import_melody and harmonise_music again from their recipes (both deterministic)."""
    args = recipe["args"]
    if recipe["tool"] == "import_melody":
        piece = read(args).piece
        piece.title = args.get("title") or piece.title or "your melody"
        return piece  # type: ignore[no-any-return]
    piece, _ = harmonise_piece(sources[0].piece, args.get("parts"), args.get("style"),
                               recipe.get("mood"))
    return piece
