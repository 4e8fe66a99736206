"""MIDI bytes <-> Piece: the writer's round trip, and the safe loader against real files
(the MIDI test files music21 ships) and a corpus of broken and hostile ones built here."""

from __future__ import annotations

import json
import random
import struct
import subprocess
import sys
import time
from importlib.util import find_spec
from pathlib import Path

import pytest

from museforge.models.music.base import MusicError
from museforge.models.music.midi import MidiLimits, load_midi, to_midi_bytes
from museforge.models.music.piece import Note, Part, Piece

ROOT = Path(__file__).resolve().parents[3]
TICK = 1 / 480  # the writer's resolution, in beats


def song(tempo: float = 133.0, time_signature: tuple[int, int] = (3, 4),
         key: str = "D minor") -> Piece:
    """Four parts whose roles the loader can tell apart: a high melody, block chords, a
    low bass, drums."""
    melody = [Note(62 + (i * 5) % 12, i * 0.5, i * 0.5 + 0.4, 70 + i % 40) for i in range(24)]
    chords = [Note(p, bar * 3.0, bar * 3.0 + 2.9, 60) for bar in range(4) for p in (50, 53, 57)]
    bass = [Note(38 + (beat % 3), float(beat), beat + 0.9, 90) for beat in range(12)]
    drums = [Note(36 if beat % 3 == 0 else 42, beat / 2, beat / 2 + 0.1, 100)
             for beat in range(24)]
    return Piece([Part("melody", 73, False, melody), Part("chords", 0, False, chords),
                  Part("bass", 33, False, bass), Part("drums", 0, True, drums)],
                 tempo=tempo, time_signature=time_signature, key=key, title="round trip")


def smf(*tracks: bytes, division: int = 480, fmt: int = 1, ntracks: int | None = None) -> bytes:
    count = len(tracks) if ntracks is None else ntracks
    out = b"MThd" + struct.pack(">IHHH", 6, fmt, count, division)
    for body in tracks:
        out += b"MTrk" + struct.pack(">I", len(body)) + body
    return out


def vlq(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


EOT = b"\x00\xff\x2f\x00"
ONE_NOTE = smf(b"\x00\x90\x3c\x40" + vlq(480) + b"\x80\x3c\x00" + EOT, fmt=0)


# ---------------------------------------------------------------- round trip


def test_round_trip_keeps_notes_tempo_time_signature_key_and_parts():
    piece = song()
    back = load_midi(to_midi_bytes(piece))

    assert back.tempo == pytest.approx(133.0, abs=0.01)
    assert back.time_signature == (3, 4)
    assert back.key == "D minor"
    assert [(p.name, p.program, p.is_drum) for p in back.parts] == \
        [("melody", 73, False), ("chords", 0, False), ("bass", 33, False), ("drums", 0, True)]
    for before, after in zip(piece.parts, back.parts, strict=True):
        a = sorted(before.notes, key=lambda n: (n.start, n.pitch))
        b = sorted(after.notes, key=lambda n: (n.start, n.pitch))
        assert [(n.pitch, n.velocity) for n in a] == [(n.pitch, n.velocity) for n in b]
        for x, y in zip(a, b, strict=True):
            assert abs(x.start - y.start) <= TICK and abs(x.end - y.end) <= TICK


@pytest.mark.parametrize("key", ["C major", "Bb major", "F# minor", "Eb minor", "A minor"])
def test_key_signatures_come_back(key):
    assert load_midi(to_midi_bytes(song(key=key))).key == key


def test_the_same_piece_gives_the_same_bytes():
    assert to_midi_bytes(song()) == to_midi_bytes(song())


def test_a_piece_midi_cannot_hold_is_refused():
    bad = song()
    bad.parts[0].notes.append(Note(130, 0, 1))
    with pytest.raises(MusicError, match="outside MIDI's 0..127"):
        to_midi_bytes(bad)
    with pytest.raises(MusicError, match="time signature 3/5"):
        to_midi_bytes(song(time_signature=(3, 5)))


def test_importing_the_module_does_not_import_pretty_midi():
    code = ("import json, sys, museforge.models.music.midi, museforge.models.audio.render, "
            "museforge.models.audio.roll, museforge.models.music.edit; "
            "print(json.dumps([m for m in ('pretty_midi', 'mido', 'fluidsynth', 'soundfile')"
            " if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


# ---------------------------------------------------------------- real files

MUSIC21_MIDI = (Path(find_spec("music21").origin).parent / "midi" / "testPrimitive"
                if find_spec("music21") else None)
REAL_FILES = sorted(MUSIC21_MIDI.glob("*.mid")) if MUSIC21_MIDI else []


@pytest.mark.skipif(not REAL_FILES, reason="music21 is not installed")
def test_music21_ships_the_files_we_test():
    assert len(REAL_FILES) >= 20


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_the_midi_files_music21_ships_load(path):
    """All of them load: none is exotic enough to refuse (they include format 0 and 1,
    resolutions from 192 to 1024, tempo maps on a track of their own, pickup bars,
    Shift-JIS and GBK track names)."""
    piece = load_midi(path.read_bytes(), filename=path.name)

    assert piece.parts and all(p.notes for p in piece.parts)
    assert 0 < piece.seconds <= 600
    assert piece.title == path.stem
    assert sum(1 for p in piece.parts if p.name == "melody") == 1
    assert len({p.name for p in piece.parts}) == len(piece.parts)
    # and they survive our own writer
    again = load_midi(to_midi_bytes(piece))
    assert [len(p.notes) for p in again.parts] == [len(p.notes) for p in piece.parts]


@pytest.mark.skipif(not REAL_FILES, reason="music21 is not installed")
def test_what_the_loader_reads_from_the_real_files():
    def load(name: str) -> Piece:
        return load_midi((MUSIC21_MIDI / name).read_bytes())

    # The tempo map lives on track 2 (pretty_midi alone reads 120 bpm from track 1).
    assert load("test04.mid").tempo == 56.0
    # A one-beat pickup bar in 1/4, then 4/4: the signature that lasts longest wins.
    assert load("test02.mid").time_signature == (4, 4)
    assert load("test03.mid").time_signature == (3, 4)
    assert load("test09.mid").time_signature == (6, 8)
    assert [p.name for p in load("test12.mid").parts] == ["melody", "alto", "tenor", "bass"]


# ---------------------------------------------------------------- hostile input


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "PNG")
    return buffer.getvalue()


def _huge_end_time() -> bytes:
    """44 bytes: the slowest tempo MIDI can state (16.7 s a beat), 1 tick a beat, and a
    note ending at tick 9,999,999: a timeline of 1.7e8 seconds."""
    body = (b"\x00\xff\x51\x03\xff\xff\xff" + b"\x00\x90\x3c\x40" + vlq(9_999_999)
            + b"\x80\x3c\x00" + EOT)
    data = smf(body, division=1, fmt=0)
    assert len(data) == 44
    return data


def _many_notes(count: int = 200_000) -> bytes:
    return smf(b"\x00\x90\x3c\x40\x01\x80\x3c\x00" * count + EOT, fmt=0)


HOSTILE = {
    "zero bytes": (b"", "the MIDI file is empty"),
    "random bytes": (random.Random(5).randbytes(4000), "this is not a MIDI file"),
    "random bytes after a MIDI magic": (b"MThd" + random.Random(6).randbytes(400),
                                        "the MIDI file is damaged"),
    "truncated in the header": (ONE_NOTE[:11], "the MIDI file is damaged: the header"),
    "truncated in the track": (ONE_NOTE[:-5], "the MIDI file is damaged: track 1 is cut off"),
    "missing tracks": (smf(EOT, ntracks=3), "the MIDI file is damaged: the header promises 3"),
    "a header claiming 1000 tracks": (smf(EOT, ntracks=1000), "too many tracks: 1,000"),
    "44 bytes claiming 1.7e8 seconds": (_huge_end_time(), "the MIDI file is too long"),
    "200,000 notes": (_many_notes(), "too many notes: more than 100,000"),
    "a RIFF WAV": (b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + bytes(28),
                   "this is not a MIDI file (it is a WAV audio file)"),
    "a RIFF MIDI without data": (b"RIFF" + struct.pack("<I", 4) + b"RMID",
                                 "the MIDI file is damaged: the RIFF MIDI"),
    "a PNG renamed .mid": (_png(), "this is not a MIDI file (it is a PNG image)"),
    "running status with nothing to run": (smf(b"\x00\x3c\x40" + EOT),
                                           "has a data byte where an event should start"),
    "a data byte above 127": (smf(b"\x00\x90\xbc\x40" + EOT),
                              "has an event with a data byte above 127"),
    "an endless delta time": (smf(b"\xff\xff\xff\xff\xff\x90\x3c\x40" + EOT),
                              "longer than the 4 bytes"),
    "a tempo of zero": (smf(b"\x00\xff\x51\x03\x00\x00\x00" + EOT), "a tempo of 0"),
    "a tempo of 60 million bpm": (smf(b"\x00\xff\x51\x03\x00\x00\x01" + ONE_NOTE[22:]),
                                  "starts at a tempo of 60,000,000 bpm (one beat every "
                                  "microsecond), outside the 8..1000 bpm"),
    "a tempo of 16.8 s per beat": (smf(b"\x00\xff\x51\x03\xff\xff\xff" + ONE_NOTE[22:]),
                                   "a tempo of 3.58 bpm (one beat every 16.8 s)"),
    "SMPTE timing": (smf(EOT, division=0xE728), "SMPTE"),
    "zero ticks per beat": (smf(EOT, division=0), "0 ticks per quarter note"),
    "format 2": (smf(EOT, fmt=2), "format 2"),
    "format 7": (smf(EOT, fmt=7), "unknown MIDI format 7"),
    "no notes": (smf(b"\x00\xff\x03\x04name" + EOT), "the MIDI file has no notes"),
    "too big": (b"MThd" + bytes(2_000_001), "too big: 2.0 MB"),
    "an undefined status": (smf(b"\x00\xf4" + EOT), "undefined status byte 0xF4"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_midi_is_refused_with_one_line(name):
    data, expected = HOSTILE[name]
    started = time.perf_counter()
    with pytest.raises(MusicError) as caught:
        load_midi(data, filename="song.mid")
    message = str(caught.value)

    assert expected in message, message
    assert "\n" not in message and len(message) < 200
    assert time.perf_counter() - started < 2


def test_the_huge_timeline_is_refused_before_pretty_midi_runs(monkeypatch):
    import pretty_midi

    def boom(*args, **kwargs):
        raise AssertionError("pretty_midi was asked to parse it")

    monkeypatch.setattr(pretty_midi, "PrettyMIDI", boom)
    for data in (_huge_end_time(), _many_notes(), smf(EOT, ntracks=1000)):
        with pytest.raises(MusicError):
            load_midi(data)


def test_every_truncation_of_a_file_is_refused_cleanly():
    data = to_midi_bytes(song())
    for cut in range(len(data)):
        with pytest.raises(MusicError):
            load_midi(data[:cut])


def test_flipped_bytes_load_or_are_refused_never_crash():
    data = to_midi_bytes(song())
    rng = random.Random(11)
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(400):
        broken = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            broken[rng.randrange(len(broken))] = rng.randrange(256)
        try:
            load_midi(bytes(broken))
            outcomes["loaded"] += 1
        except MusicError as exc:
            assert "\n" not in str(exc)
            outcomes["refused"] += 1
    assert outcomes["loaded"] and outcomes["refused"]


def test_limits_are_settings():
    ten_seconds = smf(b"\x00\x90\x3c\x40" + vlq(480 * 20) + b"\x80\x3c\x00" + EOT)
    assert load_midi(ten_seconds).seconds == pytest.approx(10.0)
    with pytest.raises(MusicError, match=r"too long: it lasts 0:10 \(the limit is 0:05\)"):
        load_midi(ten_seconds, limits=MidiLimits(max_seconds=5))
    with pytest.raises(MusicError, match="too many notes"):
        load_midi(to_midi_bytes(song()), limits=MidiLimits(max_notes=10))
    with pytest.raises(MusicError, match="too many tracks"):
        load_midi(to_midi_bytes(song()), limits=MidiLimits(max_tracks=3))
    # one track, 16 channels x 5 programs: 80 instruments
    crowd = b"".join(b"\x00" + bytes([0xC0 | ch, program]) + b"\x00" + bytes([0x90 | ch, 60, 64])
                     + b"\x0a" + bytes([0x80 | ch, 60, 0])
                     for program in range(5) for ch in range(16))
    with pytest.raises(MusicError, match="too many instruments: 80 \\(the limit is 64\\)"):
        load_midi(smf(crowd + EOT, fmt=0))


def test_a_riff_midi_is_unwrapped():
    wrapped = (b"RIFF" + struct.pack("<I", len(ONE_NOTE) + 12) + b"RMID" + b"data"
               + struct.pack("<I", len(ONE_NOTE)) + ONE_NOTE)
    assert load_midi(wrapped).parts[0].notes == [Note(60, 0.0, 1.0, 64)]


def test_unknown_chunks_are_skipped_and_running_status_read():
    # A vendor chunk before the track; the track uses running status (note-on velocity 0
    # as note-off) and a sysex between the notes.
    track = (b"\x00\x90\x3c\x40" + vlq(240) + b"\x3c\x00" + b"\x00\xf0\x03\x7e\x01\xf7"
             + b"\x00\x3e\x50" + vlq(240) + b"\x3e\x00" + EOT)
    data = (b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"XFIH" + struct.pack(">I", 3)
            + b"abc" + b"MTrk" + struct.pack(">I", len(track)) + track)
    assert load_midi(data).parts[0].notes == [Note(60, 0.0, 0.5, 64), Note(62, 0.5, 1.0, 80)]


def test_a_file_without_a_key_signature_gets_the_key_its_notes_fit():
    # A minor: A, C, E held long, the rest passing; no key signature in the file.
    pitches = [(57, 960), (60, 480), (64, 480), (59, 120), (62, 120), (57, 960), (65, 240),
               (64, 480), (69, 960), (68, 240), (69, 960)]
    body = b"".join(b"\x00\x90" + bytes([p, 80]) + vlq(d) + b"\x80" + bytes([p, 0])
                    for p, d in pitches)
    assert load_midi(smf(body + EOT, fmt=0)).key == "A minor"
