"""Re-barring a piece in a related meter, so that two pieces in different meters can be
morphed into each other and a piece can carry on in another meter.

Two pairs of meters hold the same music in other bars, note for note:

- 3/4 and 6/8: a bar is three quarter notes long in both; what changes is how its six
  eighths group (three beats of two, or two beats of three). Every note keeps its place
  and its pitch; the accents move with the new beats.
- 2/4 and 4/4: two bars of 2/4 make one of 4/4. Every note keeps its place and its
  pitch; an odd last bar of 2/4 becomes the first half of a 4/4 bar.

Others (3/4 and 4/4, 6/8 and 2/4) would need the rhythm rewritten, which changes the
tune: those are refused, with the pairs that can be re-barred named.

The melody model knows 4/4 (2/2), 2/4, 3/4 and 6/8. A few other meters are those with
their bars split or paired, the beats grouped the same way: the model writes 12/8 as two
bars of 6/8, 3/8 as half a bar of 6/8, 6/4 as two bars of 3/4, 4/2 as two bars of 4/4
(``model_meter``); the piece keeps its own meter."""

from __future__ import annotations

from museforge.models.music.base import MusicError
from museforge.models.music.piece import Piece

RELATED: tuple[frozenset[tuple[int, int]], ...] = (
    frozenset({(3, 4), (6, 8)}),
    frozenset({(2, 4), (4, 4)}),
)


# A meter the model does not know -> the one it writes it in (same beats and grouping).
MODEL_METERS: dict[tuple[int, int], tuple[int, int]] = {
    (12, 8): (6, 8), (3, 8): (6, 8), (6, 4): (3, 4), (4, 2): (4, 4),
}


def model_meter(ts: tuple[int, int]) -> tuple[int, int]:
    """The meter the melody model writes ``ts`` in (``ts`` itself for the ones it knows,
    and for the ones it cannot, which it then refuses by name)."""
    key = (int(ts[0]), int(ts[1]))
    return MODEL_METERS.get(key, key)


def meter_name(ts: tuple[int, int]) -> str:
    return f"{ts[0]}/{ts[1]}"


def can_rebar(source: tuple[int, int], target: tuple[int, int]) -> bool:
    source, target = tuple(source), tuple(target)  # type: ignore[assignment]
    return source == target or frozenset({source, target}) in RELATED


def rebar(piece: Piece, target: tuple[int, int]) -> Piece:
    """``piece`` in ``target`` meter: the same notes at the same beats, barred anew."""
    source = tuple(piece.time_signature)
    target = (int(target[0]), int(target[1]))
    if source == target:
        return piece
    if not can_rebar(source, target):  # type: ignore[arg-type]
        raise MusicError(
            f"I can re-bar between 3/4 and 6/8 and between 2/4 and 4/4, not from "
            f"{meter_name(source)} to {meter_name(target)} "  # type: ignore[arg-type]
            "(that would rewrite the rhythm)")
    return piece.copy(time_signature=target)
