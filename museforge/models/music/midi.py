"""MIDI bytes <-> Piece: ``to_midi_bytes`` writes a piece, ``load_midi`` is the one safe
loader of user MIDI.

User MIDI first meets a small, strict reader of Standard MIDI File structure written here.
It walks the chunks and every event once, without any MIDI library, and stops at the first
limit crossed (size, tracks, notes, length in time and in ticks) or the first sign of
damage, so that a 44-byte file claiming a 46,000-hour timeline or a header promising a
thousand tracks is refused before anything is allocated for it. What it keeps is only what
a Piece needs (notes, program changes, track names, tempo, time and key signatures); it
writes that back as a clean format-1 file (explicit status bytes, one conductor track with
every tempo and signature) for pretty_midi to read, so the library never meets the quirks
the reader has already judged. pretty_midi is imported inside the functions that use it.
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from museforge.models.music.base import MusicError
from museforge.models.music.piece import Note, Part, Piece
from museforge.models.music.theory import (
    estimate_key,
    key_signature,
    parse_key,
    program_name,
    spell_key,
)
from museforge.models.quiet import quiet_import

if TYPE_CHECKING:
    import pretty_midi

RESOLUTION = 480  # ticks per quarter note in the files we write
# The first tempo of a file, in bpm: its beats are counted at that tempo.
FILE_TEMPO_RANGE = (8, 1000)

DAMAGED = "the MIDI file is damaged"
SEND = "send a standard MIDI file (.mid)"

# Formats people send by mistake, named so the refusal says what the file is.
_OTHER_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"OggS", "an Ogg audio file"),
    (b"fLaC", "a FLAC audio file"),
    (b"ID3", "an MP3 audio file"),
    (b"<?xml", "an XML file (MusicXML?)"),
    (b"X:", "ABC notation"),
)
_RIFF_KINDS = {b"WAVE": "a WAV audio file", b"AVI ": "an AVI video", b"WEBP": "a WebP image"}

# Data bytes after the status byte of each channel message kind (high nibble).
_CHANNEL_DATA = {0x8: 2, 0x9: 2, 0xA: 2, 0xB: 2, 0xC: 1, 0xD: 1, 0xE: 2}
# System common and real-time messages (not meant for files, but they occur).
_SYSTEM_DATA = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF6: 0, 0xF8: 0, 0xFA: 0, 0xFB: 0, 0xFC: 0,
                0xFE: 0}


@dataclass(frozen=True)
class MidiLimits:
    max_bytes: int = 2_000_000
    max_tracks: int = 64
    max_notes: int = 100_000
    max_seconds: float = 600.0
    # pretty_midi keeps a float per tick of the timeline: 5 M ticks = 40 MB at most.
    max_ticks: int = 5_000_000


@dataclass
class _Scan:
    """What the reader kept. Events are (tick, bytes) with full status bytes."""

    division: int
    notes: int = 0
    end_tick: int = 0
    seconds: float = 0.0
    conductor: list[tuple[int, int, bytes]] = field(default_factory=list)  # (tick, order, meta)
    tracks: list[list[tuple[int, bytes]]] = field(default_factory=list)
    key_signatures: list[tuple[int, int, int]] = field(default_factory=list)  # tick, sf, mi


def _refuse(reason: str) -> MusicError:
    return MusicError(f"{DAMAGED}: {reason}")


def _sniff(data: bytes) -> bytes:
    """The SMF bytes inside ``data`` (unwrapping RIFF RMID), or a refusal naming what the
    file is instead."""
    if not data:
        raise MusicError("the MIDI file is empty")
    if data[:4] == b"RIFF" and len(data) >= 12:
        kind = data[8:12]
        if kind == b"RMID":
            return _unwrap_rmid(data)
        what = _RIFF_KINDS.get(kind, "a RIFF file that holds no MIDI")
        raise MusicError(f"this is not a MIDI file (it is {what}); {SEND}")
    if data[:4] == b"MThd":
        return data
    for magic, what in _OTHER_MAGIC:
        if data.startswith(magic):
            raise MusicError(f"this is not a MIDI file (it is {what}); {SEND}")
    if data[:4] == b"RIFF":
        raise MusicError(f"{DAMAGED}: a RIFF header with nothing after it")
    raise MusicError(f"this is not a MIDI file (it does not start with a MIDI header); {SEND}")


def _unwrap_rmid(data: bytes) -> bytes:
    pos = 12
    while pos + 8 <= len(data):
        name, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if name == b"data":
            inner = data[pos + 8:pos + 8 + size]
            if inner[:4] != b"MThd":
                raise _refuse("the RIFF MIDI (RMID) wrapper holds no MIDI header")
            return inner
        pos += 8 + size + (size & 1)
    raise _refuse("the RIFF MIDI (RMID) wrapper has no data chunk")


def _scan(smf: bytes, limits: MidiLimits) -> _Scan:
    """Check ``smf`` (bytes starting with MThd) against ``limits`` and keep its music."""
    if len(smf) < 14:
        raise _refuse("the header is cut off")
    header_size = struct.unpack(">I", smf[4:8])[0]
    if header_size < 6 or 8 + header_size > len(smf):
        raise _refuse(f"the header has an impossible length ({header_size} bytes)")
    fmt, ntracks, division = struct.unpack(">HHH", smf[8:14])
    if fmt > 2:
        raise _refuse(f"unknown MIDI format {fmt}")
    if fmt == 2:
        raise MusicError("this MIDI file is format 2 (independent patterns), which I cannot "
                         "arrange in time; export it as format 1 and resend it")
    if ntracks > limits.max_tracks:
        raise MusicError(f"the MIDI file has too many tracks: {ntracks:,} "
                         f"(the limit is {limits.max_tracks})")
    if ntracks == 0:
        raise MusicError("the MIDI file has no tracks")
    if division & 0x8000:
        raise MusicError("this MIDI file is timed in SMPTE frames, which I do not read; "
                         "export it with beats (ticks per quarter note) and resend it")
    if division == 0:
        raise _refuse("it claims 0 ticks per quarter note")

    result = _Scan(division=division)
    pos = 8 + header_size
    order = 0
    while len(result.tracks) < ntracks:
        if pos + 8 > len(smf):
            raise _refuse(f"the header promises {_count(ntracks, 'track')} but the file "
                          f"holds {len(result.tracks)} (it is truncated)")
        name, size = smf[pos:pos + 4], struct.unpack(">I", smf[pos + 4:pos + 8])[0]
        body_start, body_end = pos + 8, pos + 8 + size
        if body_end > len(smf):
            raise _refuse(f"track {len(result.tracks) + 1} is cut off (the file is truncated)")
        pos = body_end
        if name != b"MTrk":
            if not name.isalnum():
                raise _refuse(f"a chunk where track {len(result.tracks) + 1} should start "
                              "has no name")
            continue  # the SMF spec asks readers to skip chunks they do not know
        order = _scan_track(smf, body_start, body_end, result, limits, order)

    _check_time(result, limits)
    return result


def _scan_track(smf: bytes, pos: int, end: int, result: _Scan, limits: MidiLimits,
                order: int) -> int:
    number = len(result.tracks) + 1
    events: list[tuple[int, bytes]] = []
    tick = 0
    running = 0
    while pos < end:
        delta, pos = _varint(smf, pos, end, number)
        tick += delta
        if pos >= end:
            raise _refuse(f"track {number} ends in the middle of an event")
        status = smf[pos]
        if status < 0x80:
            if not running:
                raise _refuse(f"track {number} has a data byte where an event should start")
            status = running
        else:
            pos += 1
        if status == 0xFF:
            if pos >= end:
                raise _refuse(f"track {number} ends in the middle of an event")
            kind = smf[pos]
            length, pos = _varint(smf, pos + 1, end, number)
            if pos + length > end:
                raise _refuse(f"track {number} ends in the middle of an event")
            payload = smf[pos:pos + length]
            pos += length
            if kind == 0x2F:
                break  # end of track; whatever follows is not played
            order = _keep_meta(kind, payload, tick, events, result, number, order)
            if kind in (0x51, 0x58, 0x59):
                result.end_tick = max(result.end_tick, tick)
        elif status in (0xF0, 0xF7):
            length, pos = _varint(smf, pos, end, number)
            if pos + length > end:
                raise _refuse(f"track {number} ends in the middle of a system-exclusive event")
            pos += length
        elif status >= 0xF0:
            if status not in _SYSTEM_DATA:
                raise _refuse(f"track {number} has an undefined status byte 0x{status:02X}")
            pos += _SYSTEM_DATA[status]
            running = 0
        else:
            running = status
            size = _CHANNEL_DATA[status >> 4]
            if pos + size > end:
                raise _refuse(f"track {number} ends in the middle of an event")
            body = smf[pos:pos + size]
            pos += size
            if any(b > 0x7F for b in body):
                raise _refuse(f"track {number} has an event with a data byte above 127")
            kind = status >> 4
            if kind == 0x9 and body[1] > 0:
                result.notes += 1
                if result.notes > limits.max_notes:
                    raise MusicError(f"the MIDI file has too many notes: more than "
                                     f"{limits.max_notes:,}")
            if kind in (0x8, 0x9, 0xC):
                events.append((tick, bytes([status]) + body))
                result.end_tick = max(result.end_tick, tick)
        if result.end_tick > limits.max_ticks:
            # The exact length in seconds is computed once every tempo is known; this stops
            # a runaway timeline early.
            _check_time(result, limits)
    result.tracks.append(events)
    return order


def _keep_meta(kind: int, payload: bytes, tick: int, events: list[tuple[int, bytes]],
               result: _Scan, number: int, order: int) -> int:
    if kind == 0x03:  # track name
        events.append((tick, b"\xff\x03" + _vlq(len(payload)) + payload))
    elif kind == 0x51:
        if len(payload) != 3:
            raise _refuse(f"track {number} has a tempo event of {len(payload)} bytes")
        if int.from_bytes(payload, "big") == 0:
            raise _refuse(f"track {number} sets a tempo of 0 microseconds per beat")
        result.conductor.append((tick, order, b"\xff\x51\x03" + payload))
        order += 1
    elif kind == 0x58:
        if len(payload) < 4 or payload[0] == 0 or payload[1] > 6:
            raise _refuse(f"track {number} has an impossible time signature")
        result.conductor.append((tick, order, b"\xff\x58\x04" + payload[:4]))
        order += 1
    elif kind == 0x59:
        # A key signature is metadata (the notes sound the same without it), so an
        # impossible one is skipped rather than refusing the music.
        if len(payload) == 2:
            sf = payload[0] - 256 if payload[0] > 127 else payload[0]
            if -7 <= sf <= 7 and payload[1] in (0, 1):
                result.conductor.append((tick, order, b"\xff\x59\x02" + payload))
                result.key_signatures.append((tick, sf, payload[1]))
                order += 1
    return order


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _varint(data: bytes, pos: int, end: int, number: int) -> tuple[int, int]:
    value = 0
    for count in range(4):
        if pos >= end:
            raise _refuse(f"track {number} ends in the middle of an event")
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos
        if count == 3:
            break
    raise _refuse(f"track {number} has a number longer than the 4 bytes MIDI allows")


def _vlq(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _tempo_map(result: _Scan) -> list[tuple[int, int]]:
    """(tick, microseconds per quarter) from tick 0 on, as pretty_midi will read it."""
    changes = [(0, 500_000)]
    for tick, _, meta in sorted(result.conductor):
        if meta[1] == 0x51:
            value = int.from_bytes(meta[3:6], "big")
            if tick == changes[-1][0]:
                changes[-1] = (tick, value)
            else:
                changes.append((tick, value))
    return changes


def _seconds_at(result: _Scan, tick: int) -> float:
    seconds = 0.0
    changes = _tempo_map(result)
    for (start, tempo), (stop, _) in zip(changes, changes[1:] + [(tick, 0)], strict=True):
        if start >= tick:
            break
        seconds += (min(stop, tick) - start) * tempo / 1e6 / result.division
    return seconds


def _check_time(result: _Scan, limits: MidiLimits) -> None:
    result.seconds = _seconds_at(result, result.end_tick)
    if result.seconds > limits.max_seconds:
        raise MusicError(f"the MIDI file is too long: it lasts {format_duration(result.seconds)} "
                         f"(the limit is {format_duration(limits.max_seconds)})")
    if result.end_tick > limits.max_ticks:
        raise MusicError(f"the MIDI file's timeline is too long: {result.end_tick:,} ticks "
                         f"(the limit is {limits.max_ticks:,})")


def format_duration(seconds: float) -> str:
    """600 -> "10:00"; 1.7e8 -> "47,222 h"."""
    if seconds >= 3600:
        return f"{seconds / 3600:,.0f} h"
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def say_tempo(microseconds_per_beat: int) -> str:
    """A file's tempo as a person reads it: 1 -> "a tempo of 60,000,000 bpm (one beat
    every microsecond)"; 16,777,215 -> "a tempo of 3.58 bpm (one beat every 16.8 s)"."""
    bpm = 60e6 / microseconds_per_beat
    said = f"{bpm:,.0f}" if bpm >= 10_000 else f"{bpm:,.2f}".rstrip("0").rstrip(".")
    if float(said.replace(",", "")) in FILE_TEMPO_RANGE and bpm not in FILE_TEMPO_RANGE:
        said = f"{bpm:,.6f}"  # 7.999999 bpm is not "8 bpm": it is outside the range
    us = microseconds_per_beat
    if us == 1:
        every = "microsecond"
    elif us < 1000:
        every = f"{us} microseconds"
    elif us < 999_500:
        every = f"{us / 1000:.3g} ms"
    else:
        every = f"{us / 1e6:.3g} s"
    return f"a tempo of {said} bpm (one beat every {every})"


def _rewrite(result: _Scan) -> bytes:
    """A clean format-1 SMF of what the scan kept: a conductor track, then one track per
    original track, every event with its status byte."""
    conductor = [(tick, meta) for tick, _, meta in sorted(result.conductor)]
    tracks = [conductor] + result.tracks
    out = bytearray(b"MThd" + struct.pack(">IHHH", 6, 1, len(tracks), result.division))
    for events in tracks:
        body = bytearray()
        last = 0
        for tick, event in sorted(events, key=lambda e: e[0]):  # stable: keeps file order
            body += _vlq(tick - last) + event
            last = tick
        body += b"\x00\xff\x2f\x00"
        out += b"MTrk" + struct.pack(">I", len(body)) + body
    return bytes(out)


# ------------------------------------------------------------------ Piece -> MIDI


def validate_piece(piece: Piece) -> None:
    """Refuse a piece that no MIDI file can hold (our own code makes valid ones; this is
    the last check before bytes are written or audio rendered)."""
    if not (piece.tempo > 0 and piece.tempo < 10_000):
        raise MusicError(f"a tempo of {piece.tempo} bpm cannot be written to MIDI")
    num, den = piece.time_signature
    if not (1 <= num <= 255 and den in (1, 2, 4, 8, 16, 32, 64)):
        raise MusicError(f"the time signature {num}/{den} cannot be written to MIDI")
    parse_key(piece.key)
    if len(piece.parts) > 64:
        raise MusicError(f"a piece of {len(piece.parts)} parts is more than MIDI's 64 tracks")
    for part in piece.parts:
        if not 0 <= part.program <= 127:
            raise MusicError(f"part {part.name!r} has GM program {part.program}; "
                             "programs are 0..127")
        for note in part.notes:
            if not 0 <= note.pitch <= 127:
                raise MusicError(f"part {part.name!r} has pitch {note.pitch}, outside MIDI's "
                                 "0..127")
            if not 1 <= note.velocity <= 127:
                raise MusicError(f"part {part.name!r} has velocity {note.velocity}; "
                                 "velocities are 1..127")
            if not 0 <= note.start < note.end:
                raise MusicError(f"part {part.name!r} has a note from beat {note.start} to "
                                 f"{note.end}")


def to_pretty_midi(piece: Piece) -> pretty_midi.PrettyMIDI:
    """The piece as a ``pretty_midi.PrettyMIDI`` (times in seconds at the piece's tempo)."""
    pretty_midi = quiet_import("pretty_midi")

    validate_piece(piece)
    midi = pretty_midi.PrettyMIDI(resolution=RESOLUTION, initial_tempo=piece.tempo)
    num, den = piece.time_signature
    midi.time_signature_changes.append(pretty_midi.TimeSignature(num, den, 0.0))
    midi.key_signature_changes.append(pretty_midi.KeySignature(key_signature(piece.key)[0], 0.0))
    seconds_per_beat = 60.0 / piece.tempo
    for part in piece.parts:
        instrument = pretty_midi.Instrument(program=part.program, is_drum=part.is_drum,
                                            name=part.name)
        for note in sorted(part.notes, key=lambda n: (n.start, n.pitch, n.end)):
            instrument.notes.append(pretty_midi.Note(
                velocity=note.velocity, pitch=note.pitch,
                start=note.start * seconds_per_beat, end=note.end * seconds_per_beat))
        midi.instruments.append(instrument)
    return midi


def to_midi_bytes(piece: Piece) -> bytes:
    """A standard MIDI file (format 1, 480 ticks per quarter): tempo, time signature, key
    signature, then one track per part with its program, drum channel and name.
    The same piece always gives the same bytes."""
    buffer = io.BytesIO()
    to_pretty_midi(piece).write(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------ MIDI -> Piece

# What mido and pretty_midi raise on input they cannot read. The reader above has already
# refused everything we know to trip them, so one of these is a gap in the reader: the user
# still gets one line, not a trace.
_LIBRARY_ERRORS = (OSError, EOFError, ValueError, KeyError, IndexError, struct.error)


def load_midi(data: bytes, *, filename: str = "", limits: MidiLimits = MidiLimits()) -> Piece:
    """Read user-supplied MIDI bytes into a Piece, or refuse them with one line.

    Limits (size, tracks, notes, length) are checked on the raw structure before any MIDI
    library runs. Beats come from the file's first tempo (later tempo changes keep their
    timing in seconds); time signature and key come from the file (the time signature
    that lasts longest; the first key signature, else the key that best fits the notes).
    Parts are named by role: ``drums``, ``melody`` (the highest pitched part), ``bass``
    (the lowest, when low), ``chords`` (a part that mostly plays several notes at once),
    the rest by their track name or instrument."""
    if len(data) > limits.max_bytes:
        raise MusicError(f"the MIDI file is too big: {len(data) / 1e6:.1f} MB "
                         f"(the limit is {limits.max_bytes / 1e6:g} MB)")
    scanned = _scan(_sniff(data), limits)
    if scanned.notes == 0:
        raise MusicError("the MIDI file has no notes")

    pretty_midi = quiet_import("pretty_midi")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            midi = pretty_midi.PrettyMIDI(io.BytesIO(_rewrite(scanned)))
        except _LIBRARY_ERRORS as exc:
            raise MusicError(f"{DAMAGED}: {_one_line(str(exc)) or type(exc).__name__}") from None

    per_beat = _tempo_map(scanned)[0][1]
    exact_bpm = 60e6 / per_beat
    if not FILE_TEMPO_RANGE[0] <= exact_bpm <= FILE_TEMPO_RANGE[1]:
        raise MusicError(f"the MIDI file starts at {say_tempo(per_beat)}, outside the "
                         f"{FILE_TEMPO_RANGE[0]}..{FILE_TEMPO_RANGE[1]} bpm I can play")
    beats_per_second = exact_bpm / 60.0
    found: list[tuple[Any, list[Note]]] = []
    for instrument in midi.instruments:
        notes = []
        for n in instrument.notes:
            start = round(float(n.start) * beats_per_second, 6)
            end = round(float(n.end) * beats_per_second, 6)
            if end > start:  # a note that ends where it starts makes no sound
                notes.append(Note(int(n.pitch), start, end, int(n.velocity)))
        if notes:
            notes.sort(key=lambda note: (note.start, note.pitch))
            found.append((instrument, notes))
    if not found:
        raise MusicError("the MIDI file has no notes")
    if len(found) > limits.max_tracks:  # a track per channel and program change
        raise MusicError(f"the MIDI file has too many instruments: {len(found)} "
                         f"(the limit is {limits.max_tracks})")

    parts = [Part(name=name, program=int(inst.program), is_drum=bool(inst.is_drum), notes=notes)
             for name, (inst, notes) in zip(_part_names(found), found, strict=True)]
    pitched = [(n.pitch, n.duration) for p in parts if not p.is_drum for n in p.notes]
    return Piece(parts=parts, tempo=round(exact_bpm, 2),
                 time_signature=_prevailing_time_signature(scanned),
                 key=str(_file_key(scanned) or estimate_key(pitched)),
                 title=_clean_text(PurePath(filename).stem) if filename else "")


def _prevailing_time_signature(scanned: _Scan) -> tuple[int, int]:
    changes = [(tick, meta[3], 2 ** meta[4]) for tick, _, meta in sorted(scanned.conductor)
               if meta[1] == 0x58]
    if not changes:
        return (4, 4)
    lasting: dict[tuple[int, int], int] = {}
    ends = [tick for tick, _, _ in changes[1:]] + [max(scanned.end_tick, changes[-1][0])]
    for (tick, num, den), end in zip(changes, ends, strict=True):
        lasting[(num, den)] = lasting.get((num, den), 0) + end - tick
    first_seen: dict[tuple[int, int], int] = {}
    for i, (_, num, den) in enumerate(changes):
        first_seen.setdefault((num, den), i)
    return max(lasting, key=lambda sig: (lasting[sig], -first_seen[sig]))


def _file_key(scanned: _Scan) -> Any:
    if not scanned.key_signatures:
        return None
    _, sharps, minor = min(scanned.key_signatures, key=lambda k: k[0])
    major_tonic = (7 * sharps) % 12
    return spell_key((major_tonic + 9) % 12, "minor") if minor else spell_key(major_tonic,
                                                                                "major")


def _part_names(found: list[tuple[Any, list[Note]]]) -> list[str]:
    roles: dict[int, str] = {}
    pitched = [i for i, (inst, _) in enumerate(found) if not inst.is_drum]
    mean = {i: sum(n.pitch for n in found[i][1]) / len(found[i][1]) for i in pitched}
    if pitched:
        melody = max(pitched, key=lambda i: (mean[i], -i))
        roles[melody] = "melody"
        rest = [i for i in pitched if i != melody]
        if rest:
            low = min(rest, key=lambda i: (mean[i], i))
            if mean[low] < 55 or 32 <= found[low][0].program < 40:
                roles[low] = "bass"
        for i in rest:
            if i not in roles and "chords" not in roles.values() and _chordal(found[i][1]):
                roles[i] = "chords"
    names: list[str] = []
    for i, (inst, _) in enumerate(found):
        if inst.is_drum:
            base = "drums"
        else:
            base = roles.get(i) or _clean_text(inst.name).lower() or program_name(
                inst.program).lower()
        name, count = base, 1
        while name in names:
            count += 1
            name = f"{base} {count}"
        names.append(name)
    return names


def _chordal(notes: list[Note]) -> bool:
    """Mostly several notes at once: at least half the onsets start two or more notes."""
    onsets: dict[float, int] = {}
    for note in notes:
        onsets[note.start] = onsets.get(note.start, 0) + 1
    return sum(1 for c in onsets.values() if c > 1) * 2 >= len(onsets)


def _clean_text(text: str) -> str:
    """A track name or file stem fit to show: mojibake of UTF-8 repaired, control
    characters dropped, at most 40 characters."""
    try:
        text = text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return re.sub(r"\s+", " ", text).strip()[:40].strip()


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]
