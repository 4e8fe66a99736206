"""Re-barring between related meters keeps every note where it was, with its pitch."""

from __future__ import annotations

import pytest

from museforge.models.music.base import MusicError
from museforge.models.music.meter import can_rebar, rebar
from museforge.models.music.piece import Note, Part, Piece


def tune(ts: tuple[int, int], bars: int) -> Piece:
    bpb = ts[0] * 4 / ts[1]
    notes = [Note(60 + (i % 7), i * 0.5, i * 0.5 + 0.5) for i in range(int(bars * bpb * 2))]
    return Piece([Part("melody", 0, False, notes)], 120.0, ts, "C major")


@pytest.mark.parametrize(("source", "target", "bars", "after"), [
    ((6, 8), (3, 4), 4, 4), ((3, 4), (6, 8), 4, 4),
    ((2, 4), (4, 4), 8, 4), ((2, 4), (4, 4), 3, 2), ((4, 4), (2, 4), 4, 8),
])
def test_rebarring_keeps_the_notes_and_changes_the_bars(source, target, bars, after):
    piece = tune(source, bars)
    moved = rebar(piece, target)
    assert moved.time_signature == target and moved.bars == after
    assert moved.part("melody").notes == piece.part("melody").notes
    assert piece.time_signature == source  # the original is left as it was


@pytest.mark.parametrize(("source", "target"), [((4, 4), (3, 4)), ((6, 8), (2, 4)),
                                                ((3, 4), (2, 4))])
def test_meters_that_would_need_a_new_rhythm_are_refused(source, target):
    assert not can_rebar(source, target)
    with pytest.raises(MusicError, match="between 3/4 and 6/8 and between 2/4 and 4/4"):
        rebar(tune(source, 2), target)
