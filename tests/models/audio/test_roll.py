"""The piano-roll picture of a piece."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from museforge.models.audio.roll import BACKGROUND, ROLE_COLORS, heading, piano_roll_png
from museforge.models.music.base import MusicError
from museforge.models.music.piece import Note, Part, Piece


def quartet() -> Piece:
    melody = [Note(72 + i % 7, i * 0.5, i * 0.5 + 0.5, 100) for i in range(32)]
    chords = [Note(p, b * 4.0, b * 4.0 + 4, 127) for b in range(4) for p in (60, 64, 67)]
    bass = [Note(40, b * 2.0, b * 2.0 + 2, 127) for b in range(8)]
    drums = [Note(36 if b % 2 == 0 else 42, b * 1.0, b + 0.1, 127) for b in range(16)]
    return Piece([Part("melody", 0, False, melody), Part("chords", 48, False, chords),
                  Part("bass", 33, False, bass), Part("drums", 0, True, drums)],
                 tempo=96, time_signature=(4, 4), key="E minor", title="Quartet")


def colors_of(data: bytes) -> set[tuple[int, int, int]]:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return {c for _, c in image.convert("RGB").getcolors(maxcolors=1 << 16)}


def test_the_roll_opens_at_its_size_with_a_color_per_part():
    data = piano_roll_png(quartet())
    image = Image.open(io.BytesIO(data))

    assert image.size == (800, 300)
    found = colors_of(data)
    assert {ROLE_COLORS[name] for name in ("melody", "chords", "bass", "drums")} <= found
    assert BACKGROUND in found


def test_the_same_piece_gives_the_same_bytes():
    assert piano_roll_png(quartet()) == piano_roll_png(quartet())
    assert piano_roll_png(quartet(), title="Other") != piano_roll_png(quartet())


def test_other_sizes_and_other_parts():
    piece = Piece([Part("violin 2", 40, False, [Note(90, 0, 1, 127)]),
                   Part("flute", 73, False, [Note(30, 1, 2, 127)])], time_signature=(6, 8))
    data = piano_roll_png(piece, width=1200, height=400)
    assert Image.open(io.BytesIO(data)).size == (1200, 400)
    assert len(colors_of(data) - {BACKGROUND}) > 2


@pytest.mark.parametrize("piece", [
    Piece([Part("melody")]),
    Piece([Part("drums", 0, True, [Note(36, 0, 0.1)])]),
    Piece([Part("melody", notes=[Note(60, 0, 400)])]),
], ids=["empty", "drums only", "one long note"])
def test_odd_pieces_still_draw(piece):
    assert Image.open(io.BytesIO(piano_roll_png(piece))).size == (800, 300)


def test_absurd_sizes_are_refused():
    with pytest.raises(MusicError, match="320..4000"):
        piano_roll_png(quartet(), width=100_000)


def test_the_title_names_the_lead_instrument_and_is_kept_in_the_png():
    piece = quartet()
    assert heading(piece) == "Quartet · Acoustic Grand Piano · E minor · 96 bpm · 4/4"
    piece.parts[0].program = 40  # the melody now on the violin
    data = piano_roll_png(piece)
    assert Image.open(io.BytesIO(data)).text["Title"] == (
        "Quartet · Violin · E minor · 96 bpm · 4/4")
    drums = Piece([Part("drums", 0, True, [Note(36, 0, 0.1)])], tempo=120, key="C major")
    assert heading(drums, title="Beat") == "Beat · C major · 120 bpm · 4/4"


def test_a_key_named_in_the_title_follows_the_piece():
    piece = quartet()  # in E minor
    assert heading(piece, title="A tune in G major").startswith("A tune in E minor · ")
    assert heading(piece, title="Etude in E minor").startswith("Etude in E minor · ")
    assert heading(piece, title="a minor tune").startswith("a minor tune · ")
