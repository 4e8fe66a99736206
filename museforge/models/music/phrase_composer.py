"""The composer's melody from the 16-bar phrase model: a piece of 8 bars or more is cut
into sections of 8 to 16 bars, the sections follow a form (A, AB, ABA, AABA, then AABA
again), each new section's phrase is the best of several prior samples cut to its
length, and a section that returns repeats its phrase. The chords are then chosen to fit
the melody bar by bar (``composer.choose_degrees``), as for a person's own tune.

Used where the phrase model's weights are present, for plain pieces (no dance rhythm or
jazz harmony: those styles keep the 2-bar model and its corpus idioms); otherwise the
composer chains the 2-bar model as before."""

from __future__ import annotations

from typing import Any

import numpy as np

from museforge.models.music.base import MusicError, PhraseModel
from museforge.models.music.data import METERS, meter_index, notes_to_tokens
from museforge.models.music.phrase_data import cadence, repeated_bars
from museforge.models.music.piece import Note

PHRASE_MIN_BARS = 8
PHRASE_CANDIDATES = 8
# Phrases are sampled cooler than the 2-bar windows: at 1.0 the phrase model's samples
# repeat bars far less than the data does (PHRASE_MODEL_CARD.md, both temperatures).
PHRASE_TEMPERATURE = 0.5
FORMS = {1: "A", 2: "AB", 3: "ABA", 4: "AABA"}
EPS = 1e-9


def phrase_piece(bars: int, time_signature: tuple[int, int], style: dict[str, Any]) -> bool:
    """Whether the phrase model writes a piece's melody: 8 bars or more in a meter it
    knows, and a style without a dance rhythm or jazz harmony (those keep the 2-bar
    model, which the corpus idioms are encoded for)."""
    return bars >= PHRASE_MIN_BARS and tuple(time_signature) in METERS \
        and not style.get("rhythm") and not style.get("harmony")


def sections(bars: int, phrase_bars: int = 16) -> list[int]:
    """``bars`` (even, at least 8) as sections of 8 to ``phrase_bars`` bars, as equal as
    whole 2-bar units allow, the longer ones first."""
    n = -(-bars // phrase_bars)
    units = bars // 2
    per, extra = divmod(units, n)
    return [2 * (per + (1 if i < extra else 0)) for i in range(n)]


def form(n: int) -> str:
    return FORMS.get(n) or ("AABA" * (-(-n // 4)))[:n]


def _cut(notes: list[Note], beats: float) -> list[Note]:
    return [Note(n.pitch, n.start, min(n.end, beats), n.velocity) for n in notes
            if n.start < beats - EPS]


def _score(tokens: np.ndarray, meter: int, inside: float, degree: int, first: int,
           last: int | None, target: float) -> float:
    """Notes in the key, an ending on the tonic (or the dominant) of the piece's key
    (``degree``: the last note's semitones above the tonic) and of the key the phrase
    itself implies (``phrase_data.cadence``, as the card measures it: a phrase in the
    relative minor ends elsewhere), bars that repeat or sequence earlier ones about as
    often as in the training phrases (``target``), and a smooth join with the section
    before."""
    end = 0.75 if degree == 0 else 0.4 if degree == 7 else 0.0
    end += 0.4 if cadence(tokens) in ("tonic", "dominant") else 0.0
    join = abs(first - last) / 12 if last is not None else 0.0
    return inside + end - abs(repeated_bars(tokens, meter) - target) - join


def phrase_melody(plan: Any, phrases: PhraseModel, seed: int, beats_per_bar: float,
                  velocity: int) -> tuple[list[Note], float, list[int], dict[str, Any]]:
    """The melody of ``plan.bars`` bars, the share of notes nudged into the key, the
    candidate picked for each new phrase, and what the recipe records of the form."""
    from museforge.models.music.composer import _accent, _nearest_in_key, _to_key

    lengths = sections(plan.bars, phrases.bars)
    meter = meter_index(plan.time_signature)
    target = float(phrases.config.get("training", {}).get("train_structure", {}).get(
        "repeated_bars", {}).get("mean", 0.0))
    shape = form(len(lengths))
    chosen: dict[str, list[Note]] = {}  # letter -> its whole phrase, moved to the key
    out: list[Note] = []
    picked: list[int] = []
    altered = total = 0
    offset = 0.0
    last: int | None = None
    for length, letter in zip(lengths, shape, strict=True):
        beats = length * beats_per_bar
        if letter not in chosen:
            candidates = phrases.sample(PHRASE_CANDIDATES, plan.time_signature,
                                        temperature=PHRASE_TEMPERATURE,
                                        seed=seed * 1000 + len(chosen))
            scored = []
            for k, cand in enumerate(candidates):
                cut = _cut(cand, beats)
                if not cut:
                    continue
                moved = _to_key(cand, plan.key)
                tokens = notes_to_tokens(cut, plan.time_signature, length)
                heard = moved[:len(cut)]
                inside = sum(plan.key.contains(n.pitch) for n in heard) / len(cut)
                degree = (heard[-1].pitch - plan.key.pitch_class) % 12
                scored.append((_score(tokens, meter, inside, degree, moved[0].pitch, last,
                                      target), k, moved))
            if not scored:
                raise MusicError("the phrase model wrote no notes; try another seed")
            scored.sort(key=lambda t: (-t[0], t[1]))
            picked.append(scored[0][1])
            chosen[letter] = scored[0][2]
        section = _cut(chosen[letter], beats)
        for n in section:
            total += 1
            pitch = n.pitch
            if not plan.key.contains(pitch):
                pitch = _nearest_in_key(pitch, plan.key)
                altered += 1
            out.append(Note(pitch, n.start + offset, n.end + offset,
                            _accent(n.start, beats_per_bar, velocity)))
        if section:
            last = section[-1].pitch
        offset += beats
    if not out:
        raise MusicError("the phrase model wrote no notes; try another seed")
    return out, altered / max(1, total), picked, {
        "phrase_model": phrases.name, "phrase_model_revision": phrases.revision,
        "form": shape, "sections": lengths, "phrase_temperature": PHRASE_TEMPERATURE,
        "phrase_candidates": PHRASE_CANDIDATES}
