"""The latent tools on pieces of 8 bars and more, phrase by phrase, where the 16-bar phrase
model is here (``models/music/phrase_latent.py``): ``continue_music`` writes the phrase
that answers the piece's last one and ends on the tonic or dominant, ``vary_music``
moves each phrase's latent, ``interpolate_music`` morphs phrase into phrase. Shorter
pieces, meters the phrase model does not write, and a learnt style's melody model keep
the 2-bar windows of ``music_support.py``; the recipe says which model worked
(``phrase_model`` and its revision), and replay takes the same way."""

from __future__ import annotations

import math
from typing import Any

from museforge.models.music import edit as ops
from museforge.models.music.base import PhraseModel
from museforge.models.music.piece import Note, Piece
from museforge.tools.music_support import (
    _like_rhythm,
    _melody,
    _model_ts,
    _straight,
    _swung_like,
    model_bar,
    piece_bars,
)


def phrase_bars(piece: Piece, phrases: PhraseModel) -> int | None:
    """How many bars of the model's meter the piece fills, when the phrase model can work
    on it: a meter it writes, a whole number of bars, and at least 8 of them."""
    from museforge.models.music.phrase_latent import PHRASE_MIN_BARS, whole_bars

    ts = _model_ts(piece)
    if ts not in phrases.time_signatures:
        return None
    bars = whole_bars(piece.bars * piece.beats_per_bar, model_bar(piece))
    return bars if bars is not None and bars >= PHRASE_MIN_BARS else None


def phrases_for(phrases: PhraseModel | None, *pieces: Piece) -> PhraseModel | None:
    """``phrases`` when it can work on every one of ``pieces``, else None (the 2-bar way)."""
    if phrases is None or not pieces:
        return None
    return phrases if all(phrase_bars(p, phrases) for p in pieces) else None


def recipe_of(phrases: PhraseModel, info: dict[str, Any]) -> dict[str, Any]:
    """What a recipe records of the phrase model's work (replay reads ``phrase_model``)."""
    return {"phrase_model": phrases.name, "phrase_model_revision": phrases.revision,
            "phrases": info}


def _key(piece: Piece) -> Any:
    from museforge.models.music.theory import parse_key

    return parse_key(piece.key)


def continue_in_phrases(piece: Piece, phrases: PhraseModel, bars: int, seed: int,
                        time_signature: tuple[int, int] | None = None,
                        ) -> tuple[Piece, dict[str, Any]]:
    """The piece (re-barred in ``time_signature`` first, when given) with ``bars`` more
    bars of melody written phrase by phrase, the accompaniment looping on."""
    from museforge.models.music.phrase_latent import continue_phrases, ending_name

    if time_signature is not None:
        from museforge.models.music.meter import rebar

        piece = rebar(piece, time_signature)
    melody = _melody(piece)
    before = phrase_bars(piece, phrases)
    assert before is not None, "phrases_for chose the phrase model for this piece"
    total = piece.bars + bars
    end = total * piece.beats_per_bar
    start = piece.bars * piece.beats_per_bar
    model_bars = math.ceil(bars * piece.beats_per_bar / model_bar(piece) - 1e-9)
    key = _key(piece)
    added, info = continue_phrases(phrases, _straight(melody.notes), _model_ts(piece), key,
                                   before, model_bars, seed)
    added = [n if n.end <= end + 1e-9 else Note(n.pitch, n.start, end, n.velocity)
             for n in added if n.start < end - 1e-9]
    added = _swung_like(melody.notes, added)
    added = _like_rhythm(melody.notes, added, piece, start)
    if added:  # (a dance's rhythm may have moved the last note)
        info = {**info, "ends_on": ending_name(added[-1].pitch, key)}
    longer = ops.fit_bars(piece, total)  # the accompaniment loops on
    parts = [p.copy(notes=[*melody.notes, *added]) if p.name == melody.name else p
             for p in longer.parts]
    return longer.copy(parts=parts), info


def _melody_swapped(piece: Piece, notes: list[Note]) -> Piece:
    old = _melody(piece)
    notes = _swung_like(old.notes, [Note(n.pitch, n.start, n.end, n.velocity or 80)
                                    for n in notes])
    notes = _like_rhythm(old.notes, notes, piece)
    return piece.copy(parts=[p.copy(notes=notes) if p is old else p.copy()
                             for p in piece.parts])


def vary_in_phrases(piece: Piece, phrases: PhraseModel, amount: float, seed: int,
                    ) -> tuple[Piece, dict[str, Any]]:
    """The piece with its melody varied phrase by phrase (``amount`` 0..1), the rest kept."""
    from museforge.models.music.phrase_latent import vary_phrases

    bars = phrase_bars(piece, phrases)
    assert bars is not None, "phrases_for chose the phrase model for this piece"
    notes, info = vary_phrases(phrases, _straight(_melody(piece).notes), _model_ts(piece),
                               _key(piece), bars, amount, seed)
    return _melody_swapped(piece, notes), info


def interpolate_in_phrases(a: Piece, b: Piece, phrases: PhraseModel, steps: int,
                           ) -> tuple[list[Piece], dict[str, Any]]:
    """The steps from ``a``'s melody to ``b``'s (``b`` re-barred in ``a``'s meter first),
    phrase by phrase, over ``a``'s accompaniment cut to the bars both pieces have."""
    from museforge.models.music.meter import rebar
    from museforge.models.music.phrase_latent import interpolate_phrases

    b = rebar(b, a.time_signature)
    ba, bb = phrase_bars(a, phrases), phrase_bars(b, phrases)
    assert ba is not None and bb is not None, "phrases_for chose the phrase model"
    bars = min(ba, bb)
    melodies, info = interpolate_phrases(
        phrases, _straight(_melody(a).notes), _straight(_melody(b).notes), _model_ts(a),
        _key(a), bars, steps)
    trimmed = ops.fit_bars(a, piece_bars(a, bars))
    out = []
    for step, notes in enumerate(melodies, start=1):
        t = step / (steps + 1)
        out.append(_melody_swapped(trimmed, notes).copy(title=f"{t:.0%} of the way"))
    return out, info


def phrase_said(info: dict[str, Any], tool: str) -> str:
    """How a reply names the phrase model's work (", in a 16-bar phrase answering its
    last one, ending on the tonic")."""
    sections = info.get("sections") or []
    if tool == "continue_music":
        what = (f"a {sections[0]}-bar phrase" if len(sections) == 1
                else f"{len(sections)} phrases ({' + '.join(map(str, sections))} bars)")
        return f", in {what} answering its last one, ending on the {info.get('ends_on')}"
    return f", phrase by phrase ({' + '.join(map(str, sections))} bars)"
