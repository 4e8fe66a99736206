"""Slash commands and button presses as the words a person would type. The bot only
translates; the assistant reads the sentence and decides what to run."""

from __future__ import annotations

import re
from typing import Any

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
    prompt = " ".join(prompt.split())
    parts = [f"paint {count} pictures of {prompt}" if count > 1 else f"paint {prompt}"]
    parts += [p for p in (style, aspect) if p]
    if seed is not None:
        parts.append(f"seed {seed}")
    return ", ".join(parts)


def compose(prompt: str, key: str | None = None, tempo: int | None = None,
            instrument: str | None = None) -> str:
    parts = [f"compose {' '.join(prompt.split())}"]
    if key:
        parts.append(f"in {' '.join(key.split())}")
    if tempo:
        parts.append(f"at {tempo} bpm")
    if instrument:
        parts.append(f"for {' '.join(instrument.split())}")
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

# Button actions: code -> sentence about "#N vM" (the version under which it was pressed).
BUTTON_SENTENCES: dict[str, str] = {
    "up": "upscale {ref}",
    "vs": "a subtle variation of {ref}",
    "vx": "a strong variation of {ref}",
    "rr": "reroll {ref}",
    "un": "undo {art}",
    "mv": "a variation of {ref}",
    "mf": "make {ref} faster",
    "ms": "make {ref} slower",
    "tu": "transpose {ref} up one semitone",
    "td": "transpose {ref} down one semitone",
    "mc": "continue {ref}",
    "xa": "export {ref} as ABC",
    "xm": "export {ref} as MusicXML",
    # a clip (edit_audio; no model)
    "fi": "fade in {ref}",
    "fo": "fade out {ref}",
    "ld": "make {ref} louder",
    "qt": "make {ref} quieter",
    "lp": "loop {ref} to 30 seconds",
}


def button(action: str, artwork: int, version: int, recipe: dict[str, Any] | None = None) -> str:
    """The sentence a press stands for. A reroll of a generated picture asks again for
    what was asked the first time (a new seed); other rerolls are left to the assistant."""
    if action == "rr" and recipe and recipe.get("tool") == "generate_image":
        args = recipe.get("args") or {}
        prompt = str(args.get("prompt") or "").strip()
        if prompt:
            return imagine(prompt, args.get("style"), args.get("aspect"),
                           count=int(args.get("count") or 1))
    return BUTTON_SENTENCES[action].format(ref=f"#{artwork} v{version}", art=f"#{artwork}")
