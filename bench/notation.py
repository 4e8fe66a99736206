"""Reading a person's melody: the same 64-bar tune as typed notes, ABC and MusicXML,
each read into a Piece by museforge's loader, against loading the same notes from a MIDI
file (``load_midi``) in the same process; and the ABC and MusicXML loaders against
music21's own parse of the same text (what the safe pre-checks and the Piece cost on top).

    .venv/bin/python bench/notation.py [--rounds N] [--quick]

Rounds are interleaved (each round times every reader once, in a rotated order); a
round's ratio is reader ÷ MIDI in that round; printed: median ratio and its p25-p75
spread over rounds, with the median milliseconds to read them by. The script checks that
all four readers give the same pitches and onsets before it times anything.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from museforge.models.music.engrave import to_abc, to_musicxml  # noqa: E402
from museforge.models.music.midi import load_midi, to_midi_bytes  # noqa: E402
from museforge.models.music.notation import parse_notes  # noqa: E402
from museforge.models.music.piece import Note, Part, Piece  # noqa: E402
from museforge.models.music.scorefiles import load_abc, load_musicxml  # noqa: E402

NAMES = ["C", "D", "E", "F", "G", "A", "B"]
RHYTHMS = [[1.0, 1.0, 1.0, 1.0], [1.0, 0.5, 0.5, 1.0, 1.0], [0.5, 0.5, 0.5, 0.5, 2.0],
           [2.0, 1.0, 1.0], [1.0, 0.5, 0.5, 0.5, 0.5, 1.0]]


def tune(bars: int) -> tuple[Piece, str]:
    """A melody in G major, 4/4, quarters, eighths and halves (about five notes a bar),
    as a Piece and as the typed notes that say the same ("G4/4 A4/8 ... |")."""
    scale = [67, 69, 71, 72, 74, 76, 78, 79]  # G major from G4
    notes: list[Note] = []
    typed: list[str] = []
    at, step = 0.0, 0
    for bar in range(bars):
        for length in RHYTHMS[bar % len(RHYTHMS)]:
            step = (step + (2 if bar % 3 else -1) + len(notes) % 3) % len(scale)
            pitch = scale[step]
            notes.append(Note(pitch, at, at + length, 80))
            name = {67: "G", 69: "A", 71: "B", 72: "C", 74: "D", 76: "E", 78: "F#", 79: "G"}[
                pitch]
            octave = 4 if pitch < 72 else 5
            typed.append(f"{name}{octave}/{int(4 / length)}")
            at += length
        typed.append("|")
    piece = Piece([Part("melody", 0, False, notes)], 100.0, (4, 4), "G major", "bench tune")
    return piece, " ".join(typed)


def _text(data: str | bytes) -> str:
    return data if isinstance(data, str) else data.decode("utf-8")


def melody(piece: Piece) -> list[tuple[int, float]]:
    part = piece.part("melody") or piece.parts[0]
    return [(n.pitch, round(n.start, 3)) for n in part.notes]


def music21_abc(text: str) -> object:
    from music21 import converter

    return converter.parse(text, format="abc")


def music21_musicxml(text: str) -> object:
    from music21.musicxml.xmlToM21 import MusicXMLImporter

    importer = MusicXMLImporter()
    importer.xmlText = text
    importer.parseXMLText()
    return importer.stream


def rounds(readers: dict[str, Callable[[], object]], count: int) -> dict[str, list[float]]:
    names = list(readers)
    for work in readers.values():
        work()  # warm-up: imports, music21's caches
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(count):
        for name in names[r % len(names):] + names[:r % len(names)]:
            started = time.perf_counter()
            readers[name]()
            times[name].append(time.perf_counter() - started)
    return times


def spread(values: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return statistics.median(values), q[0], q[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="a 16-bar tune, 3 rounds")
    args = parser.parse_args()
    bars, count = (16, 3) if args.quick else (64, args.rounds)
    warnings.simplefilter("ignore")

    piece, typed = tune(bars)
    midi = to_midi_bytes(piece)
    abc = _text(to_abc(piece).text)
    xml = _text(to_musicxml(piece).text)
    readers: dict[str, Callable[[], object]] = {
        "MIDI (load_midi)": lambda: load_midi(midi),
        "typed notes": lambda: parse_notes(typed, key="G major"),
        "ABC (load_abc)": lambda: load_abc(abc),
        "MusicXML (load_musicxml)": lambda: load_musicxml(xml.encode("utf-8")),
        "music21 ABC parse": lambda: music21_abc(abc),
        "music21 MusicXML parse": lambda: music21_musicxml(xml),
    }
    want = melody(load_midi(midi))
    for name, got in (("typed notes", parse_notes(typed, key="G major").piece),
                      ("ABC", load_abc(abc).piece),
                      ("MusicXML", load_musicxml(xml.encode()).piece)):
        if melody(got) != want:
            raise SystemExit(f"{name} reads other notes than the MIDI file; not timing")
    print(f"tune: {bars} bars of 4/4, {len(want)} notes; typed {len(typed):,} chars, ABC "
          f"{len(abc):,}, MusicXML {len(xml):,}, MIDI {len(midi):,} bytes; {count} rounds; "
          f"{platform.processor() or platform.machine()}")
    times = rounds(readers, count)
    base = times["MIDI (load_midi)"]
    print(f"{'reader':<27}{'median ms':>10}{'÷ MIDI':>9}{'p25-p75':>14}")
    for name, values in times.items():
        ratios = [v / b for v, b in zip(values, base, strict=True)]
        med, low, high = spread(ratios)
        print(f"{name:<27}{statistics.median(values) * 1000:>10.2f}{med:>9.2f}"
              f"{f'{low:.2f}-{high:.2f}':>14}")
    for ours, theirs in (("ABC (load_abc)", "music21 ABC parse"),
                         ("MusicXML (load_musicxml)", "music21 MusicXML parse")):
        ratios = [a / b for a, b in zip(times[ours], times[theirs], strict=True)]
        med, low, high = spread(ratios)
        print(f"{ours} ÷ {theirs}: {med:.2f} (p25-p75 {low:.2f}-{high:.2f})")


if __name__ == "__main__":
    main()
