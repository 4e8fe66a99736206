"""Audio rendering benchmark: render time ÷ audio duration for a 2-minute, 4-part piece
(melody, chords, bass, drums at 120 bpm), for each renderer. Goal: ≤ 0.1 (ten times
faster than real time).

    .venv/bin/python bench/music_render.py [--repeats N] [--quick]

Each renderer renders the same piece N times (after one untimed warm-up); the median is
divided by the audio's duration. Also shown, by the same measure: OGG Vorbis encoding of
the rendered audio, and the piano-roll PNG. The numbers that matter are the ratios; the
seconds are printed to read them by.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from museforge.models.audio.render import encode_ogg, fluidsynth_problem, render_audio  # noqa: E402
from museforge.models.audio.roll import piano_roll_png  # noqa: E402
from museforge.models.music.piece import Note, Part, Piece  # noqa: E402

GOAL = 0.1


def four_part_piece(bars: int = 60, tempo: float = 120.0) -> Piece:
    """``bars`` bars of 4/4: an eighth-note melody (flute), sustained triads (strings),
    a quarter-note bass (finger bass) and a rock beat; 60 bars at 120 bpm = 2 minutes."""
    scale = [0, 2, 4, 5, 7, 9, 11, 12]
    progression = [0, 5, 3, 4]  # I vi IV V
    triads = {0: (60, 64, 67), 5: (57, 60, 64), 3: (53, 57, 60), 4: (55, 59, 62)}
    melody, chords, bass, drums = [], [], [], []
    for bar in range(bars):
        start = bar * 4.0
        degree = progression[bar % 4]
        for i in range(8):
            pitch = 72 + scale[(degree + i * 3 + bar) % 8]
            melody.append(Note(pitch, start + i * 0.5, start + i * 0.5 + 0.45, 84 + i % 3 * 8))
        chords += [Note(p, start, start + 3.9, 64) for p in triads[degree]]
        root = triads[degree][0] - 24
        bass += [Note(root + (7 if i == 2 else 0), start + i, start + i + 0.9, 90)
                 for i in range(4)]
        drums += [Note(42, start + i * 0.5, start + i * 0.5 + 0.1, 70) for i in range(8)]
        drums += [Note(36, start, start + 0.1, 110), Note(38, start + 1, start + 1.1, 100),
                  Note(36, start + 2, start + 2.1, 110), Note(38, start + 3, start + 3.1, 100)]
    return Piece([Part("melody", 73, False, melody), Part("chords", 48, False, chords),
                   Part("bass", 33, False, bass), Part("drums", 0, True, drums)],
                  tempo=tempo, key="C major", title="bench")


def median_seconds(work: Callable[[], object], repeats: int) -> tuple[float, float, float]:
    work()  # warm-up: imports, soundfont load into the page cache, wavetables
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    quartiles = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    return statistics.median(times), quartiles[0], quartiles[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="a 30-second piece, 2 repeats")
    args = parser.parse_args()
    bars, repeats = (15, 2) if args.quick else (60, args.repeats)

    piece = four_part_piece(bars)
    notes = sum(len(p.notes) for p in piece.parts)
    print(f"piece: {piece.seconds:.1f} s, {len(piece.parts)} parts, {notes} notes, "
          f"44.1 kHz; {repeats} timed runs each; {platform.processor() or platform.machine()}")
    renderers = ["numpy"]
    problem = fluidsynth_problem()
    if problem:
        print(f"fluidsynth: skipped ({problem})")
    else:
        renderers.insert(0, "fluidsynth")

    print(f"{'step':<22}{'median s':>10}{'p25-p75 s':>16}{'audio s':>9}{'ratio':>8}  goal")
    for renderer in renderers:
        audio = render_audio(piece, renderer=renderer)
        med, low, high = median_seconds(lambda r=renderer: render_audio(piece, renderer=r),
                                        repeats)
        ratio = med / audio.seconds
        verdict = "ok" if ratio <= GOAL else "MISSED"
        print(f"{'render ' + renderer:<22}{med:>10.3f}{f'{low:.3f}-{high:.3f}':>16}"
              f"{audio.seconds:>9.1f}{ratio:>8.4f}  ≤ {GOAL} {verdict}")
        med, low, high = median_seconds(lambda a=audio: encode_ogg(a.samples, a.sample_rate),
                                        repeats)
        print(f"{'  + OGG encode':<22}{med:>10.3f}{f'{low:.3f}-{high:.3f}':>16}"
              f"{audio.seconds:>9.1f}{med / audio.seconds:>8.4f}")
    med, low, high = median_seconds(lambda: piano_roll_png(piece), repeats)
    print(f"{'piano roll PNG':<22}{med:>10.3f}{f'{low:.3f}-{high:.3f}':>16}"
          f"{piece.seconds:>9.1f}{med / piece.seconds:>8.4f}")


if __name__ == "__main__":
    main()
