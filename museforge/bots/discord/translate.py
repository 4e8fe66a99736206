"""Slash commands and button presses as the words a person would type. The bot only
translates; the assistant reads the sentence and decides what to run."""

from __future__ import annotations

import re
from typing import Any, get_args

from museforge.bots import actions
from museforge.tools.image_tools import Style

IMAGE_STYLES: tuple[str, ...] = get_args(Style)  # the built-in finishes

_REF = re.compile(r"^\s*#?\s*(\d{1,7})(?:\s*v\s*(\d{1,7}))?\s*$", re.I)


def artwork_ref(text: str | None) -> str | None:
    """"3", "#3", "3 v2" -> "#3", "#3 v2"; anything else ("the fox one") is kept as
    written, for the assistant to resolve."""
    if text is None or not text.strip():
        return None
    m = _REF.match(text)
    if not m:
        return " ".join(text.split())
    return f"#{m.group(1)}" + (f" v{m.group(2)}" if m.group(2) else "")


def imagine(prompt: str, style: str | None = None, aspect: str | None = None,
            seed: int | None = None, count: int = 1) -> str:
    """A built-in finish ("watercolor") is named as it is; any other style is one of the
    person's own ("in my Rust style"), which the assistant looks up (and says so when
    they have none of that name). A built-in name always means the built-in finish."""
    builtin = style if style is None or style in IMAGE_STYLES else None
    learnt = [style] if style and builtin is None else None
    return actions.paint(prompt, builtin, aspect, seed, count, learnt=learnt)


def compose(prompt: str, key: str | None = None, tempo: int | None = None,
            instrument: str | None = None, style: str | None = None) -> str:
    """``style`` is one of the person's own music styles, said last ("compose a jig, in
    D minor, in my Aird style"): a form (jig, waltz) is in the prompt's own words."""
    parts = [f"compose {' '.join(prompt.split())}"]
    if key:
        parts.append(f"in {' '.join(key.split())}")
    if tempo:
        parts.append(f"at {tempo} bpm")
    if instrument:
        parts.append(f"for {' '.join(instrument.split())}")
    mine = actions.in_my_styles([style] if style else None)
    if mine:
        parts.append(mine)
    return ", ".join(parts)


def edit(instruction: str, artwork: str | None = None) -> str:
    instruction = " ".join(instruction.split())
    ref = artwork_ref(artwork)
    return f"on {ref}, {instruction}" if ref else instruction


def undo(artwork: str | None = None) -> str:
    ref = artwork_ref(artwork)
    return f"undo {ref}" if ref else "undo"


def versions(artwork: str) -> str:
    return f"show the versions of {artwork_ref(artwork) or 'it'}"


HISTORY = "list my artworks"

def button(code: str, artwork: int, version: int,
           recipe: dict[str, Any] | None = None) -> str:
    """The sentence a press of the button ``code`` (its custom_id's action) stands for,
    about the version it was shown under; the table is ``museforge.bots.actions``."""
    return actions.request(actions.BY_CODE[code].name, artwork, version, recipe)
