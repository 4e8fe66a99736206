"""The buttons under a result, written once for every front-end. A press is a turn whose
message is fixed here: the assistant reads it like anything a person types, so a button
can do nothing a person could not ask for in words. A button acts on the version it was
shown under ("upscale #3 v2"); undo, redo and revert act on the artwork.

The web page sends an action's ``name``; Discord puts its two-letter ``code`` in the
button's custom_id (``mf:up:3.2:...``, at most 100 characters), so a code, once released,
is never changed: buttons posted before a restart must keep working."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ActionName = Literal[
    "variation", "upscale", "vary_subtle", "vary_strong", "reroll", "undo", "redo",
    "revert", "vary_music", "faster", "slower", "transpose_up", "transpose_down", "continue",
    "export_abc", "export_musicxml",
    "fade_in", "fade_out", "louder", "quieter", "loop_30",
]


@dataclass(frozen=True)
class Action:
    """One button. ``request`` is the sentence: {ref} is "#N vM" (or "#N" where no
    version was given), {art} "#N", {v} a version number. ``code`` is Discord's name
    for it in a custom_id; None where Discord shows no such button."""

    name: ActionName
    label: str
    request: str
    code: str | None = None


ACTIONS: tuple[Action, ...] = (
    # a picture
    Action("upscale", "Upscale", "upscale {ref}", "up"),
    Action("vary_subtle", "Vary (subtle)", "a subtle variation of {ref}", "vs"),
    Action("vary_strong", "Vary (strong)", "a strong variation of {ref}", "vx"),
    Action("reroll", "Reroll", "reroll {ref}", "rr"),
    Action("undo", "Undo", "undo {art}", "un"),
    # the web's row under a batch (V1..V4), its version tree and its undo/redo
    Action("variation", "V", "a variation of {ref}"),
    Action("redo", "Redo", "redo {art}"),
    Action("revert", "Revert", "revert {art} to v{v}"),
    # a piece of music; the MIDI file is already on the card, the exports write the score
    # for a notation program
    Action("vary_music", "Vary", "a variation of {ref}", "mv"),
    Action("faster", "Faster", "make {ref} faster", "mf"),
    Action("slower", "Slower", "make {ref} slower", "ms"),
    Action("transpose_up", "Transpose +1", "transpose {ref} up one semitone", "tu"),
    Action("transpose_down", "Transpose −1", "transpose {ref} down one semitone", "td"),
    Action("continue", "Continue", "continue {ref}", "mc"),
    Action("export_abc", "Export ABC", "export {ref} as ABC", "xa"),
    Action("export_musicxml", "Export MusicXML", "export {ref} as MusicXML", "xm"),
    # a clip: edit_audio needs no model; the WAV and OGG are already on the card
    Action("fade_in", "Fade in", "fade in {ref}", "fi"),
    Action("fade_out", "Fade out", "fade out {ref}", "fo"),
    Action("louder", "Louder", "make {ref} louder", "ld"),
    Action("quieter", "Quieter", "make {ref} quieter", "qt"),
    Action("loop_30", "Loop to 30 s", "loop {ref} to 30 seconds", "lp"),
)
BY_NAME: dict[str, Action] = {a.name: a for a in ACTIONS}
BY_CODE: dict[str, Action] = {a.code: a for a in ACTIONS if a.code}

# What a result of each kind shows, in order.
BUTTONS: dict[str, tuple[ActionName, ...]] = {
    "image": ("upscale", "vary_subtle", "vary_strong", "reroll", "undo"),
    "music": ("vary_music", "faster", "slower", "transpose_up", "transpose_down", "continue",
              "undo", "export_abc", "export_musicxml"),
    "audio": ("fade_in", "fade_out", "louder", "quieter", "loop_30", "undo"),
}
# A batch of pictures in one Discord message: U1..U4 and V1..V4, one per picture, then
# the first picture's reroll. The web shows each picture as its own card (BUTTONS["image"])
# with a row of "variation" buttons under the batch.
BATCH_EACH: tuple[tuple[str, ActionName], ...] = (("U", "upscale"), ("V", "vary_subtle"))
BATCH_ONCE: tuple[ActionName, ...] = ("reroll",)

def in_my_styles(learnt: list[str] | None) -> str | None:
    """The words that ask for the person's own styles: "in my Rust style", "in my Rust
    and Pip styles" (a clause of its own, after the subject, is how the assistant reads
    it whatever the subject says)."""
    names = [" ".join(n.split()) for n in learnt or () if n.strip()]
    if not names:
        return None
    if len(names) == 1:
        return f"in my {names[0]} style"
    return f"in my {', '.join(names[:-1])} and {names[-1]} styles"


def paint(prompt: str, style: str | None = None, aspect: str | None = None,
          seed: int | None = None, count: int = 1, learnt: list[str] | None = None) -> str:
    """The sentence that asks for pictures: "paint 4 pictures of a fox, watercolor";
    ``learnt`` names the person's own styles ("paint a harbour, in my Rust style")."""
    prompt = " ".join(prompt.split())
    parts = [f"paint {count} pictures of {prompt}" if count > 1 else f"paint {prompt}"]
    parts += [str(p) for p in (in_my_styles(learnt), style, aspect) if p]
    if seed is not None:
        parts.append(f"seed {seed}")
    return ", ".join(parts)


def request(name: str, artwork: int, version: int | None = None,
            recipe: dict[str, Any] | None = None) -> str:
    """The sentence a press stands for. A reroll of a generated picture asks again for
    what was asked the first time (a new seed); other rerolls are left to the assistant."""
    if name == "reroll" and recipe and recipe.get("tool") == "generate_image":
        args = recipe.get("args") or {}
        prompt = str(args.get("prompt") or "")
        if prompt.strip():
            learnt = args.get("learnt_style")
            return paint(prompt, args.get("style"), args.get("aspect"),
                         count=int(args.get("count") or 1),
                         learnt=[learnt] if isinstance(learnt, str) else learnt)
    ref = f"#{artwork} v{version}" if version else f"#{artwork}"
    return BY_NAME[name].request.format(ref=ref, art=f"#{artwork}", v=version)


def buttons(kind: str, artwork: int, version: int,
            recipe: dict[str, Any] | None = None) -> list[tuple[Action, str]]:
    """(action, request) for each button under one result ``#artwork vversion``."""
    return [(BY_NAME[n], request(n, artwork, version, recipe)) for n in BUTTONS.get(kind, ())]
