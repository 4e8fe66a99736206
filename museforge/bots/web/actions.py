"""The buttons under a result, the same as the Discord bot's. A press is a turn whose
message is fixed here: the assistant reads it like anything a person types, so a button
can do nothing a person could not ask for in words. A button acts on the version it was
shown under ("upscale #3 v2"); undo and redo act on the artwork."""

from __future__ import annotations

from typing import Any, Literal

ActionName = Literal[
    "variation", "upscale", "vary_subtle", "vary_strong", "reroll", "undo", "redo",
    "revert", "vary_music", "faster", "slower", "transpose_up", "transpose_down", "continue",
    "export_abc", "export_musicxml",
    "fade_in", "fade_out", "louder", "quieter", "loop_30",
]

# name -> (label, message); {ref} is "#N vM" (or "#N"), {art} "#N", {v} a version number.
MESSAGES: dict[str, tuple[str, str]] = {
    "variation": ("V", "a variation of {ref}"),
    "upscale": ("Upscale", "upscale {ref}"),
    "vary_subtle": ("Vary (subtle)", "a subtle variation of {ref}"),
    "vary_strong": ("Vary (strong)", "a strong variation of {ref}"),
    "reroll": ("Reroll", "reroll {ref}"),
    "undo": ("Undo", "undo {art}"),
    "redo": ("Redo", "redo {art}"),
    "revert": ("Revert", "revert {art} to v{v}"),
    "vary_music": ("Vary", "a variation of {ref}"),
    "faster": ("Faster", "make {ref} faster"),
    "slower": ("Slower", "make {ref} slower"),
    "transpose_up": ("Transpose +1", "transpose {ref} up one semitone"),
    "transpose_down": ("Transpose −1", "transpose {ref} down one semitone"),
    "continue": ("Continue", "continue {ref}"),
    # The MIDI file is already on the card; these write the score for a notation program.
    "export_abc": ("Export ABC", "export {ref} as ABC"),
    "export_musicxml": ("Export MusicXML", "export {ref} as MusicXML"),
    # A clip's edits need no model (edit_audio); the WAV and OGG are already on the card.
    "fade_in": ("Fade in", "fade in {ref}"),
    "fade_out": ("Fade out", "fade out {ref}"),
    "louder": ("Louder", "make {ref} louder"),
    "quieter": ("Quieter", "make {ref} quieter"),
    "loop_30": ("Loop to 30 s", "loop {ref} to 30 seconds"),
}

# What each kind of result shows, in order. V1..V4 are added for a batch.
BUTTONS: dict[str, tuple[str, ...]] = {
    "image": ("upscale", "vary_subtle", "vary_strong", "reroll", "undo"),
    "music": ("vary_music", "faster", "slower", "transpose_up", "transpose_down", "continue",
              "undo", "export_abc", "export_musicxml"),
    "audio": ("fade_in", "fade_out", "louder", "quieter", "loop_30", "undo"),
}


def message_for(action: str, artwork: int, version: int | None = None,
                recipe: dict[str, Any] | None = None) -> str:
    """The sentence a press stands for. A reroll of a generated picture asks again for
    what was asked the first time (a new seed); other rerolls are left to the assistant."""
    if action == "reroll" and recipe and recipe.get("tool") == "generate_image":
        again = _ask_again(recipe.get("args") or {})
        if again:
            return again
    ref = f"#{artwork} v{version}" if version else f"#{artwork}"
    return MESSAGES[action][1].format(ref=ref, art=f"#{artwork}", v=version)


def buttons(kind: str, artwork: int, version: int,
            recipe: dict[str, Any] | None = None) -> list[tuple[str, str, str]]:
    """(action, label, message) for each button under ``#artwork vversion``."""
    return [(name, MESSAGES[name][0], message_for(name, artwork, version, recipe))
            for name in BUTTONS.get(kind, ())]


def _ask_again(args: dict[str, Any]) -> str | None:
    prompt = " ".join(str(args.get("prompt") or "").split())
    if not prompt:
        return None
    count = int(args.get("count") or 1)
    parts = [f"paint {count} pictures of {prompt}" if count > 1 else f"paint {prompt}"]
    parts += [str(p) for p in (args.get("style"), args.get("aspect")) if p]
    return ", ".join(parts)
