"""History tools: undo, redo, revert, list_artworks, show_versions. They move an
artwork's head or read the session; nothing is ever deleted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field

from museforge.storage.errors import HistoryError
from museforge.storage.refs import parse_ref
from museforge.tools.base import (
    Args,
    Artifact,
    ArtworkRef,
    ToolContext,
    ToolError,
    ToolResult,
    tool,
)


class ArtworkArgs(Args):
    artwork: ArtworkRef


class RevertArgs(Args):
    artwork: ArtworkRef
    version: int = Field(ge=1, le=100_000,
                         description="The version number to go back to (v2 -> 2).")


class ListArgs(Args):
    kind: Literal["image", "music", "audio", "all"] = Field(
        default="all", description="Which artworks: 'image', 'music', 'audio' (sound clips) "
                                   "or 'all'."
    )


def count(n: int, one: str, many: str | None = None) -> str:
    """'1 artwork', '2 artworks'."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _number(ref: str) -> int:
    parsed = parse_ref(ref)
    if parsed.number is None:
        raise ToolError(f"'{ref}' should have been resolved to #N before the tool ran")
    return parsed.number


def _move(ctx: ToolContext, ref: str, verb: str, move: Callable[[int], object]) -> ToolResult:
    """Move ``ref``'s head with ``move(number)`` and say where it went."""
    number = _number(ref)
    before = ctx.store.artwork(ctx.actor, ctx.session, number).head_number
    try:
        move(number)
    except HistoryError as exc:
        raise ToolError(str(exc)) from exc
    art, version = ctx.resolve(f"#{number}")
    origin = f" (was v{before})" if before is not None and before != version.number else ""
    return ToolResult(f"{verb} #{number}: now at v{version.number}{origin}.",
                      [Artifact.of(art, version)])


@tool(ArtworkArgs, family="history")
def undo(ctx: ToolContext, args: ArtworkArgs) -> ToolResult:
    """Undo the last change to an artwork: the version it showed before becomes current
    again. Nothing is deleted; `redo` brings the change back."""
    return _move(ctx, args.artwork, "Undid the last change to",
                 lambda n: ctx.store.undo(ctx.actor, ctx.session, n))


@tool(ArtworkArgs, family="history")
def redo(ctx: ToolContext, args: ArtworkArgs) -> ToolResult:
    """Redo the change to an artwork that was last undone."""
    return _move(ctx, args.artwork, "Redid", lambda n: ctx.store.redo(ctx.actor, ctx.session, n))


@tool(RevertArgs, family="history")
def revert(ctx: ToolContext, args: RevertArgs) -> ToolResult:
    """Make an earlier version of an artwork the current one again (for example v2 of
    #3). Later versions are kept; an edit made from here starts a new branch, and `undo`
    returns to the version that was current before."""
    return _move(ctx, args.artwork, "Reverted",
                 lambda n: ctx.store.revert(ctx.actor, ctx.session, n, args.version))


@tool(ListArgs, family="history")
def list_artworks(ctx: ToolContext, args: ListArgs) -> ToolResult:
    """List the artworks of this conversation (#N, kind, title, current version),
    optionally only images, only music or only audio clips."""
    kind = None if args.kind == "all" else args.kind
    arts = ctx.store.list_artworks(ctx.actor, ctx.session, kind)
    one, many = {"image": ("image", "images"), "music": ("music piece", "music pieces"),
                 "audio": ("clip", "clips"), None: ("artwork", "artworks")}[kind]
    if not arts:
        return ToolResult(f"There are no {many} in this conversation yet.")
    lines = [f"#{a.number} {_NOUN.get(a.kind, a.kind)} “{a.title}” "
             f"(v{a.head_number} of {a.version_count})" for a in arts]
    return ToolResult(f"{count(len(arts), one, many)}:\n" + "\n".join(lines), touched=[])


_NOUN = {"audio": "clip"}  # what a listing calls a kind, where its name is not the word


@tool(ArtworkArgs, family="history")
def show_versions(ctx: ToolContext, args: ArtworkArgs) -> ToolResult:
    """Show every version of an artwork as a tree: which version each was made from, by
    which operation, and which one is current."""
    number = _number(args.artwork)
    art = ctx.store.artwork(ctx.actor, ctx.session, number)
    versions = ctx.store.versions(ctx.actor, ctx.session, number)
    lines = []
    for v in versions:
        origin = f"from v{v.parent_number}" if v.parent_number else "original"
        mark = "  ← current" if v.number == art.head_number else ""
        change = describe_change(v.recipe, number)
        lines.append(f"v{v.number} {v.operation}{' ' + change if change else ''} "
                     f"({origin}){mark}")
    return ToolResult(f"#{number} “{art.title}” has {count(len(versions), 'version')}:\n"
                      + "\n".join(lines), touched=[(number, art.kind)])


# -- what a version changed, from its recipe ---------------------------------------------

# Arguments that say nothing about the change itself.
_QUIET = {"seed", "count", "index"}
# Free text, quoted; multipliers (×) and offsets (signed); and shorter names.
_TEXT = {"prompt", "instruction", "text", "negative_prompt"}
_TIMES = {"brightness", "contrast", "saturation", "sharpness", "tempo_scale", "factor",
          "zoom_out"}
_SIGNED = {"warmth", "hue_shift", "transpose", "rotate"}
_LABELS = {"tempo_scale": "tempo", "hue_shift": "hue", "zoom_out": "zoom out", "factor": "",
           "time_signature": "meter"}
_UNITS = {"hue_shift": "°", "rotate": "°", "blur": " px", "tempo": " bpm"}


def describe_change(recipe: dict[str, Any], number: int) -> str:
    """The key arguments of the operation that made a version, from its recipe:
    "warmth +0.3", "tempo ×1.1", "instrument Violin", "of #1, #2". Arguments that change
    nothing (a multiplier of 1, an offset of 0, unset), seeds, and the artwork itself are
    left out."""
    from museforge.tools.registry import UnknownTool, get_tool

    args = recipe.get("args")
    if not isinstance(args, dict) or not args:
        return ""
    try:
        fields = get_tool(str(recipe.get("tool"))).args.model_fields
    except UnknownTool:
        fields = {}
    said: list[str] = []
    others: list[str] = []
    for name, value in args.items():
        if name == "inspired_by" and value:
            said.append(f"inspired by {value}")
            continue
        if name.startswith("artwork"):
            refs = value if isinstance(value, list) else [value]
            others += [str(r) for r in refs if r and str(r) != f"#{number}"]
            continue
        field = fields.get(name)
        if name in _QUIET or value is None or value in ("", []):
            continue
        if field is not None and value == field.default and _neutral(name, value):
            continue
        said.append(_arg(name, value))
    said.sort(key=lambda words: not words.startswith("“"))  # the words first
    if others:
        said.insert(0, "of " + ", ".join(others))
    return ", ".join(said)


def _neutral(name: str, default: Any) -> bool:
    """A default that means "no change" (brightness ×1, warmth 0, the melody part), not
    one that is the change itself (upscale ×2, continue by 4 bars)."""
    if name in _TIMES:
        return bool(default == 1)
    return name == "part" or default in (0, False)


def _arg(name: str, value: Any) -> str:
    label = _LABELS.get(name, name.replace("_", " "))
    unit = _UNITS.get(name, "")
    if name in _TEXT:
        text = " ".join(str(value).split())
        return f"“{text[:40]}…”" if len(text) > 40 else f"“{text}”"
    if isinstance(value, bool):
        return label if value else f"no {label}"
    if isinstance(value, int | float):
        if name in _TIMES:
            return f"{label} ×{value:g}".lstrip()
        if name in _SIGNED:
            return f"{label} {value:+g}{unit}"
        return f"{label} {value:g}{unit}"
    if isinstance(value, list):
        return f"{label} {'+'.join(str(v) for v in value)}"
    return f"{label} {value}"
