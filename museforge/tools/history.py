"""History tools: undo, redo, revert, list_artworks, show_versions. They move an
artwork's head or read the session; nothing is ever deleted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

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
    kind: Literal["image", "music", "all"] = Field(
        default="all", description="Which artworks: 'image', 'music' or 'all'."
    )


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
    optionally only images or only music."""
    kind = None if args.kind == "all" else args.kind
    arts = ctx.store.list_artworks(ctx.actor, ctx.session, kind)
    what = {"image": "images", "music": "music pieces", None: "artworks"}[kind]
    if not arts:
        return ToolResult(f"There are no {what} in this conversation yet.")
    lines = [f"#{a.number} {a.kind} “{a.title}” (v{a.head_number} of {a.version_count})"
             for a in arts]
    return ToolResult(f"{len(arts)} {what}:\n" + "\n".join(lines), touched=[])


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
        lines.append(f"v{v.number} {v.operation} ({origin}){mark}")
    return ToolResult(f"#{number} “{art.title}” has {len(versions)} versions:\n"
                      + "\n".join(lines), touched=[(number, art.kind)])
