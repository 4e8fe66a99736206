"""A piano-roll picture of a Piece, to show music in a chat: one color per part, the
drums in a lane of their own below the pitches, bar lines, the pitch range fitted to the
notes, and the lead instrument, key, tempo and time signature in the title (also kept as
the PNG's ``Title`` text). Pillow only; the same piece always gives the same PNG bytes."""

from __future__ import annotations

import io
import math
import re

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from museforge.models.music.base import MusicError
from museforge.models.music.piece import Piece
from museforge.models.music.theory import GM_PROGRAMS, parse_key, pitch_name

BACKGROUND = (250, 250, 247)
ROW_SHADE = (238, 238, 233)  # black-key rows
GRID_BEAT = (226, 226, 220)
GRID_BAR = (150, 150, 145)
INK = (40, 40, 40)
MUTED = (110, 110, 105)
# Fixed colors for the parts the composer makes, then a palette for any others, so the
# melody is the same orange in every picture.
ROLE_COLORS = {"melody": (230, 110, 30), "chords": (60, 110, 200), "bass": (40, 150, 90),
               "drums": (120, 120, 120)}
PALETTE = ((170, 60, 170), (200, 60, 70), (30, 160, 170), (150, 120, 30), (90, 80, 200),
           (210, 120, 160), (100, 140, 40), (60, 60, 60))
DRUM_ROWS = (("kick", (35, 36)), ("snare", (37, 38, 39, 40)), ("hats", (42, 44, 46)))

_LEFT, _RIGHT, _TOP, _BOTTOM = 38, 10, 30, 18
_DRUM_LANE = 40
_MIN_SPAN = 13  # semitones shown at least (an octave and one)
# A key named in a title ("... in G major"): a capital letter, so "a minor" is no key.
_TITLE_KEY = re.compile(r"\b[A-G](?:#|b|♯|♭)?[\s-]+(?:major|minor)\b")


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError, TypeError):  # Pillow without FreeType: the bitmap font
        return ImageFont.load_default()


def _part_colors(piece: Piece) -> list[tuple[int, int, int]]:
    colors = []
    spare = iter(PALETTE * (len(piece.parts) // len(PALETTE) + 1))
    for part in piece.parts:
        colors.append(ROLE_COLORS.get(part.name) or next(spare))
    return colors


def heading(piece: Piece, title: str | None = None) -> str:
    """The roll's title: "a calm tune · Violin · D minor · 77 bpm · 4/4". The instrument
    is the lead's (the melody, else the first pitched part), so it follows an edit."""
    num, den = piece.time_signature
    facts = f"{piece.key} · {piece.tempo:g} bpm · {num}/{den}"
    lead = next((p for p in piece.parts if p.name == "melody" and not p.is_drum),
                next((p for p in piece.parts if not p.is_drum), None))
    if lead is not None and 0 <= lead.program < len(GM_PROGRAMS):
        facts = f"{GM_PROGRAMS[lead.program]} · {facts}"
    name = _with_key(piece.title if title is None else title, piece.key)
    return f"{name} · {facts}" if name else facts


def _with_key(name: str, key: str) -> str:
    """The title with the one key it names, if another, replaced by the piece's key: "a
    calm tune in G major" moved to D minor is "a calm tune in D minor"."""
    found = list(_TITLE_KEY.finditer(name))
    if len(found) != 1:
        return name
    try:
        said, now = parse_key(found[0].group(0)), parse_key(key)
    except MusicError:
        return name
    if said == now:
        return name
    return name[:found[0].start()] + str(now) + name[found[0].end():]


def piano_roll_png(piece: Piece, *, title: str | None = None, width: int = 800,
                   height: int = 300) -> bytes:
    """The piece as a PNG piano roll of ``width`` x ``height`` pixels."""
    if not (320 <= width <= 4000 and 160 <= height <= 2000):
        raise MusicError(f"a piano roll must be 320..4000 x 160..2000 pixels, not "
                         f"{width}x{height}")
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    small, large = _font(11), _font(14)

    pitched = [n.pitch for p in piece.parts if not p.is_drum for n in p.notes]
    has_drums = any(p.is_drum and p.notes for p in piece.parts)
    beats = max(piece.bars * piece.beats_per_bar, piece.end_beat, 1.0)

    plot_left, plot_right = _LEFT, width - _RIGHT
    plot_top = _TOP
    plot_bottom = height - _BOTTOM - (_DRUM_LANE + 4 if has_drums else 0)
    if pitched:
        low, high = min(pitched) - 1, max(pitched) + 1
        if high - low + 1 < _MIN_SPAN:
            pad = _MIN_SPAN - (high - low + 1)
            low, high = low - pad // 2, high + pad - pad // 2
    else:
        low, high = 59, 72
    rows = high - low + 1
    row_h = (plot_bottom - plot_top) / rows

    def x_at(beat: float) -> float:
        return plot_left + (plot_right - plot_left) * beat / beats

    def y_at(pitch: int) -> float:  # top edge of the pitch's row
        return plot_top + (high - pitch) * row_h

    # Black-key rows shaded, C rows labelled.
    for pitch in range(low, high + 1):
        top = y_at(pitch)
        if pitch % 12 in (1, 3, 6, 8, 10):
            draw.rectangle([plot_left, top, plot_right, top + row_h], fill=ROW_SHADE)
        if pitch % 12 == 0 and row_h * 12 >= 14:
            draw.text((4, top + row_h / 2), pitch_name(pitch), fill=MUTED, font=small,
                      anchor="lm")

    lane_top = plot_bottom + 4
    lane_bottom = lane_top + _DRUM_LANE
    grid_bottom = lane_bottom if has_drums else plot_bottom
    bar_px = x_at(piece.beats_per_bar) - x_at(0)
    # Lines closer than 8 px (bars) or 6 px (beats) are only noise: long pieces get a line
    # every 2, 4, 8 ... bars and numbers on every line at least 40 px apart.
    stride = next((s for s in (1, 2, 4, 8, 16, 32, 64) if s * bar_px >= 8), 128)
    label_every = stride * max(1, math.ceil(40 / (stride * bar_px)))
    beat_lines = bar_px / piece.time_signature[0] >= 6
    for bar in range(0, piece.bars + 1):
        beat = bar * piece.beats_per_bar
        if beat > beats + 1e-9:
            break
        if bar % stride == 0 or bar == piece.bars:
            x = x_at(beat)
            draw.line([x, plot_top, x, grid_bottom], fill=GRID_BAR, width=1)
        if bar % label_every == 0 and bar < piece.bars:
            draw.text((x_at(beat) + 2, grid_bottom + 2), str(bar + 1), fill=MUTED, font=small)
        for k in range(1, piece.time_signature[0] if beat_lines else 1):
            inner = beat + k * 4 / piece.time_signature[1]
            if inner < beat + piece.beats_per_bar - 1e-9 and inner < beats:
                xi = x_at(inner)
                draw.line([xi, plot_top, xi, grid_bottom], fill=GRID_BEAT, width=1)

    colors = _part_colors(piece)
    for part, color in zip(piece.parts, colors, strict=True):
        if part.is_drum:
            continue
        for note in part.notes:
            x0, x1 = x_at(note.start), max(x_at(note.end) - 1, x_at(note.start) + 1)
            top = y_at(note.pitch)
            shade = _velocity_shade(color, note.velocity)
            draw.rectangle([x0, top + 0.5, x1, max(top + row_h - 0.5, top + 1.5)], fill=shade)

    if has_drums:
        draw.rectangle([plot_left, lane_top, plot_right, lane_bottom], outline=GRID_BEAT)
        lane_rows = len(DRUM_ROWS) + 1
        lane_row_h = _DRUM_LANE / lane_rows
        for i, (name, _) in enumerate((*DRUM_ROWS, ("other", ()))):
            draw.text((4, lane_top + (i + 0.5) * lane_row_h), name, fill=MUTED,
                      font=_font(9), anchor="lm")
        for part, color in zip(piece.parts, colors, strict=True):
            if not part.is_drum:
                continue
            for note in part.notes:
                row = next((i for i, (_, keys) in enumerate(DRUM_ROWS) if note.pitch in keys),
                           len(DRUM_ROWS))
                x = x_at(note.start)
                top = lane_top + row * lane_row_h + 1
                draw.rectangle([x, top, x + 2, top + lane_row_h - 2],
                               fill=_velocity_shade(color, note.velocity))

    said = heading(piece, title)
    draw.text((plot_left, 8), said, fill=INK, font=large)
    # Legend, right-aligned on the title line, as many parts as fit beside the title.
    title_end = plot_left + draw.textlength(said, font=large) + 12
    x = plot_right
    for part, color in reversed(list(zip(piece.parts, colors, strict=True))):
        needed = draw.textlength(part.name, font=small) + 12
        if x - needed < title_end:
            break
        x -= needed
        draw.rectangle([x, 12, x + 8, 20], fill=color)
        draw.text((x + 12, 10), part.name, fill=INK, font=small)
        x -= 10

    buffer = io.BytesIO()
    info = PngInfo()
    info.add_itxt("Title", said)
    image.save(buffer, "PNG", optimize=False, pnginfo=info)
    return buffer.getvalue()


def _velocity_shade(color: tuple[int, int, int], velocity: int) -> tuple[int, int, int]:
    """Quiet notes paler: mix toward the background by up to 55 %."""
    mix = 0.55 * (1 - velocity / 127)
    return tuple(round(c + (b - c) * mix) for c, b in zip(color, BACKGROUND, strict=True))  # type: ignore[return-value]
