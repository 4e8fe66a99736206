"""What makes each style sound like itself, as the composer writes it.

Melody: for the jig, reel and hornpipe the melody model is sampled near the latents of
those dances' own 2-bar windows in O'Neill's and Ryan's collections (``idioms.npz``,
built by ``idiom_corpus.py``), and of the candidates the one in the dance's rhythm wins.
The rhythm is then made plain by a rule a fiddler would state: a jig runs in eighth
notes (six to the 6/8 bar), a reel in eighths (with the odd sixteenth pair), a hornpipe's
eighths are played dotted (long-short); a long note inside a running bar is filled with
the passing or neighbour notes a player would put there, keeping the pitches the model
wrote on the beats. A phrase's last bar keeps its long cadence note. Jazz is swung
(off-beat eighths delayed to the last third of the beat) and gets seventh and ninth
chords over a walking bass; the other styles' accompaniments are in the composer.

All of it is deterministic: the same notes and seed give the same result."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from museforge.models.music.base import MelodyModel
from museforge.models.music.piece import Note
from museforge.models.music.theory import Key

IDIOMS_PATH = Path(__file__).parent / "weights" / "idioms.npz"
CORPUS_IDIOMS = ("jig", "reel", "hornpipe")
NEAR = 0.3  # how far (perturb's amount) a candidate's latent moves from a corpus window's
SWING = 2 / 3  # where a swung off-beat eighth falls within its beat
EPS = 1e-6


# -- the corpus idioms in latent space ----------------------------------------------------


@lru_cache(maxsize=1)
def _latents() -> tuple[str, dict[str, np.ndarray]]:
    with np.load(IDIOMS_PATH) as f:
        return str(f["revision"]), {k: f[k].astype(np.float64) for k in CORPUS_IDIOMS}


def idiom_latents(model: MelodyModel, style: str | None) -> np.ndarray | None:
    """The encoded corpus windows of ``style`` (a jig, reel or hornpipe) when ``model`` is
    the model they were encoded with; else None (a learnt style's fine-tuned model, a
    test's tiny one: their latent spaces are their own)."""
    if style not in CORPUS_IDIOMS or not IDIOMS_PATH.exists():
        return None
    revision, table = _latents()
    return table[style] if revision == model.revision else None


def sample_near(model: MelodyModel, latents: np.ndarray, n: int, time_signature: tuple[int, int],
                temperature: float, seed: int) -> list[list[Note]]:
    """``n`` 2-bar melodies decoded from latents near seeded picks of ``latents``."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(latents), n, replace=False)
    return [model.decode(model.perturb(latents[i].tolist(), NEAR, seed=seed * 31 + k),
                         time_signature, temperature=temperature, seed=seed * 31 + k)
            for k, i in enumerate(picks)]


# -- rhythm: reading it -------------------------------------------------------------------


def bar_onsets(notes: list[Note], beats_per_bar: float, bars: int) -> list[list[float]]:
    """Each bar's onsets, in beats from its bar line."""
    out: list[list[float]] = [[] for _ in range(bars)]
    for n in notes:
        bar = int(n.start // beats_per_bar + EPS)
        if 0 <= bar < bars:
            out[bar].append(round(n.start - bar * beats_per_bar, 4))
    return [sorted(set(o)) for o in out]


def running(onsets: list[float], beats_per_bar: float, sixteenths: bool = False) -> bool:
    """Every eighth of the bar struck (and, with ``sixteenths``, nothing off the sixteenth
    grid; without, nothing but the eighths)."""
    eighths = [i / 2 for i in range(int(beats_per_bar * 2))]
    if not all(e in onsets for e in eighths):
        return False
    grid = 4 if sixteenths else 2
    return all(abs(o * grid - round(o * grid)) < EPS for o in onsets)


def dotted_pairs(notes: list[Note]) -> int:
    """How many beats hold a dotted pair: a dotted eighth on the beat, a sixteenth after."""
    starts = {round(n.start, 4): n for n in notes}
    count = 0
    for n in notes:
        if abs(n.start - round(n.start)) < EPS and abs(n.duration - 0.75) < EPS \
                and round(n.start + 0.75, 4) in starts:
            count += 1
    return count


def rhythm_score(notes: list[Note], style: str | None, beats_per_bar: float) -> float:
    """How far a 2-bar candidate is already in ``style``'s rhythm: for the dances the share
    of its bars in their rhythm; for jazz the share of its beats with an eighth after the
    beat to swing, less its sixteenths (which do not swing); for a lullaby or a ballad,
    minus twice the share of its notes shorter than an eighth. 0 for the other styles."""
    if style in ("lullaby", "ballad") and notes:  # long, singable notes: no sixteenths
        return -2 * sum(n.duration < 0.5 - EPS for n in notes) / len(notes)
    if style == "jazz":
        beats = int(2 * beats_per_bar)
        offbeats = {int(n.start) for n in notes if abs(n.start % 1.0 - 0.5) < EPS}
        sixteenths = sum(abs(n.start * 2 - round(n.start * 2)) > EPS for n in notes)
        return (len(offbeats) - sixteenths) / beats
    if style not in ("jig", "reel", "hornpipe"):
        return 0.0
    bars = bar_onsets(notes, beats_per_bar, 2)
    if style == "jig":
        return sum(running(b, beats_per_bar) for b in bars) / 2
    return sum(running(b, beats_per_bar, sixteenths=True) for b in bars) / 2


# -- rhythm: writing it -------------------------------------------------------------------


def _sounding(notes: list[Note], beat: float) -> Note | None:
    """The note that sounds at ``beat`` (the latest to start at or before it)."""
    found = None
    for n in notes:
        if n.start <= beat + EPS and n.end > beat + EPS:
            found = n
    return found


def _step(pitch: int, key: Key, toward: int) -> int:
    """The scale note next to ``pitch`` in the direction of ``toward`` (down when equal:
    the lower neighbour, the commonest fill in a fiddle tune)."""
    direction = 1 if toward > pitch else -1
    candidate = pitch + direction
    while not key.contains(candidate):
        candidate += direction
    return candidate


def run_in_eighths(notes: list[Note], key: Key, beats_per_bar: float, bars: int, *,
                   pairs: bool = False, keep_last: int = 8) -> list[Note]:
    """The melody in running eighths, bar by bar: each eighth of a bar gets the note the
    model struck there; an eighth where the model held a note, rested or struck off the
    eighth grid gets the scale step from the note before toward the next struck one (a
    lower neighbour when they are the same). With ``pairs``, a sixteenth pair on an
    eighth stays (a reel's ornament). The last bar of every ``keep_last``-bar phrase
    keeps its rhythm, so phrases still cadence on a long note."""
    out: list[Note] = []
    for bar in range(bars):
        lo, hi = bar * beats_per_bar, (bar + 1) * beats_per_bar
        inside = [n for n in notes if lo - EPS <= n.start < hi - EPS]
        if (bar + 1) % keep_last == 0 or bar == bars - 1 or not inside:
            out += inside
            continue
        slots = [lo + i / 2 for i in range(int(beats_per_bar * 2))]
        struck = [next((n for n in inside if abs(n.start - s) < EPS), None) for s in slots]
        after = [n.pitch for n in notes if n.start >= hi - EPS]
        before = _sounding(notes, lo - EPS)
        previous = before.pitch if before is not None else inside[0].pitch
        for i, s in enumerate(slots):
            onset = struck[i]
            if onset is not None:
                pitch, velocity = onset.pitch, onset.velocity
            else:
                ahead = next((n.pitch for n in struck[i + 1:] if n is not None),
                             after[0] if after else previous)
                pitch, velocity = _step(previous, key, ahead), inside[0].velocity
            second = next((n for n in inside if abs(n.start - s - 0.25) < EPS), None)
            if pairs and onset is not None and second is not None:
                out += [Note(pitch, s, s + 0.25, velocity),
                        Note(second.pitch, s + 0.25, s + 0.5, second.velocity)]
                previous = second.pitch
            else:
                out.append(Note(pitch, s, s + 0.5, velocity))
                previous = pitch
    return out


def dot_pairs(notes: list[Note], beats_per_bar: float, bars: int) -> list[Note]:
    """A hornpipe's lilt: every beat that holds two even eighths is played dotted (a
    dotted eighth and a sixteenth); other beats stay as written."""
    by_start = {round(n.start, 4): n for n in notes}
    out: list[Note] = []
    skip: set[float] = set()
    for n in sorted(notes, key=lambda n: n.start):
        start = round(n.start, 4)
        if start in skip:
            continue
        second = by_start.get(round(start + 0.5, 4))
        if abs(start - round(start)) < EPS and abs(n.duration - 0.5) < EPS \
                and second is not None and abs(second.duration - 0.5) < EPS:
            out.append(Note(n.pitch, n.start, n.start + 0.75, n.velocity))
            out.append(Note(second.pitch, n.start + 0.75, n.start + 1.0,
                            max(1, second.velocity - 6)))
            skip.add(round(start + 0.5, 4))
        else:
            out.append(n)
    return out


DANCE_RHYTHMS = ("jig", "reel", "hornpipe")
TELLING_SHARE = 0.6  # of a melody's bars, for its rhythm to be the dance's


def apply_rhythm(notes: list[Note], rhythm: str | None, key: Key, beats_per_bar: float,
                 bars: int) -> list[Note]:
    """``notes`` in a dance's rhythm: running eighths (jig), with sixteenth pairs (reel),
    dotted (hornpipe); unchanged for anything else."""
    if rhythm not in DANCE_RHYTHMS:
        return notes
    notes = run_in_eighths(notes, key, beats_per_bar, bars, pairs=rhythm != "jig")
    return dot_pairs(notes, beats_per_bar, bars) if rhythm == "hornpipe" else notes


def rhythm_of(notes: list[Note], beats_per_bar: float, bars: int) -> str | None:
    """The dance rhythm a melody is in, read from its notes (so an edited or typed tune
    counts too): most bars dotted (hornpipe), in running eighths (jig) or in eighths and
    sixteenths (reel); None for anything else."""
    heard = [b for b in bar_onsets(notes, beats_per_bar, bars) if b]
    if not heard:
        return None
    by_bar: list[list[Note]] = [[] for _ in range(bars)]
    for n in notes:
        bar = int(n.start // beats_per_bar + EPS)
        if 0 <= bar < bars:
            by_bar[bar].append(n)
    if sum(dotted_pairs(b) > 0 for b in by_bar if b) >= TELLING_SHARE * len(heard):
        return "hornpipe"
    if sum(running(b, beats_per_bar) for b in heard) >= TELLING_SHARE * len(heard):
        return "jig"
    if sum(running(b, beats_per_bar, True) for b in heard) >= TELLING_SHARE * len(heard):
        return "reel"
    return None


def swing(notes: list[Note], ratio: float = SWING) -> list[Note]:
    """Swung eighths: a note on the off-beat eighth moves to ``ratio`` of its beat, and
    the on-beat note before it ends there; other notes keep their times."""
    out = []
    for n in notes:
        start, end = n.start, n.end
        if abs(start % 1.0 - 0.5) < EPS:
            start = start - 0.5 + ratio
        if abs(end % 1.0 - 0.5) < EPS:
            end = end - 0.5 + ratio
        if end <= start:
            end = start + (1 - ratio)
        out.append(Note(n.pitch, start, end, n.velocity))
    return out


def _offbeat_places(notes: list[Note]) -> tuple[int, int]:
    straight = sum(abs(n.start % 1.0 - 0.5) < EPS for n in notes)
    swung = sum(abs(n.start % 1.0 - SWING) < 1e-3 for n in notes)
    return straight, swung


def is_swung(notes: list[Note]) -> bool:
    """Whether a melody's off-beat eighths fall late (at two thirds of the beat) more
    often than halfway: a swung tune, as ``swing`` writes one."""
    straight, swung = _offbeat_places(notes)
    return swung >= 2 and swung > straight


def unswing(notes: list[Note]) -> list[Note]:
    """``swing`` undone: notes at two thirds of a beat back on the half (what the melody
    model, on a sixteenth grid, reads as eighths)."""
    out = []
    for n in notes:
        start, end = n.start, n.end
        if abs(start % 1.0 - SWING) < 1e-3:
            start = start - SWING + 0.5
        if abs(end % 1.0 - SWING) < 1e-3:
            end = end - SWING + 0.5
        out.append(Note(n.pitch, start, max(end, start + 0.25), n.velocity))
    return out


# -- jazz harmony ---------------------------------------------------------------------------

JAZZ_PROGRESSIONS = {
    # scale degrees (0 = I): ii-V-I-vi, I-vi-ii-V, iii-vi-ii-V, I-IV-ii-V
    "major": [[1, 4, 0, 5], [0, 5, 1, 4], [2, 5, 1, 4], [0, 3, 1, 4]],
    "minor": [[1, 4, 0, 0], [0, 5, 1, 4], [0, 3, 1, 4]],
}


def seventh_chord(key: Key, degree: int, ninth: bool) -> list[int]:
    """The diatonic seventh chord on ``degree`` as pitch classes (root, third, fifth,
    seventh, and the ninth when ``ninth``); in minor the V is a dominant seventh."""
    scale = key.scale
    steps = (0, 2, 4, 6, 8) if ninth else (0, 2, 4, 6)
    pcs = [scale[(degree + i) % 7] for i in steps]
    if key.mode == "minor" and degree == 4:
        pcs[1] = (pcs[1] + 1) % 12  # the raised leading tone
    return pcs


def walking_bass(chords: list[list[int]], beats_per_bar: float, velocity: int, key: Key,
                 seed: int) -> list[Note]:
    """A note a beat: the root on one, chord tones or scale steps between, and on the last
    beat a step (a half step when the scale has none) into the next bar's root."""
    rng = np.random.default_rng(seed)
    beats = int(beats_per_bar)
    notes: list[Note] = []
    low, high = 33, 52  # A1..E3
    pitch = 36 + chords[0][0]
    for bar, pcs in enumerate(chords):
        root = _nearest(36 + pcs[0], pitch if notes else 36 + pcs[0], low, high)
        nxt = chords[(bar + 1) % len(chords)][0]
        line = [root]
        for beat in range(1, beats):
            here = line[-1]
            if beat == beats - 1:
                target = _nearest(36 + nxt, here, low, high)
                below, above = target - 1, target + 1
                options = [p for p in (target - 2, target + 2, below, above)
                           if key.contains(p) and p != here] or [below]
                line.append(min(options, key=lambda p: (abs(p - here), p)))
                continue
            tones = sorted({_nearest(36 + pc, here, low, high) for pc in pcs[:4]} - {here},
                           key=lambda p: abs(p - here))
            steps = [p for p in (here + 1, here + 2, here - 1, here - 2)
                     if key.contains(p) and low <= p <= high]
            pool = tones[:2] + steps[:2]
            onward = [p for p in pool if len(line) < 2 or p != line[-2]]  # walk, not rock
            pool = onward or pool
            line.append(pool[int(rng.integers(len(pool)))])
        start = bar * beats_per_bar
        notes += [Note(p, start + i, start + i + 0.9, velocity) for i, p in enumerate(line)]
        pitch = line[-1]
    return notes


def _nearest(pitch: int, near: int, low: int, high: int) -> int:
    """``pitch`` moved by octaves as close to ``near`` as fits in ``low..high``."""
    candidates = [pitch + 12 * k for k in range(-4, 5) if low <= pitch + 12 * k <= high]
    return min(candidates, key=lambda p: (abs(p - near), p)) if candidates else pitch
