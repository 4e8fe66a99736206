"""Learnt styles: learn_style, list_styles, forget_style, and the melody model a music
tool uses when given ``learnt_style`` (``style_melody_model``).

A music style is a copy of the melody model fine-tuned on the person's pieces
(models/music/finetune.py); its weights and recipe are stored as the person's own
(storage/styles.py): anyone else is told it does not exist. The training runs in the
turn, one per person at a time; it stores nothing until it has finished, so a failure
or a cancel leaves no style (and no new version of one). Picture styles (LoRA) are not
built yet: learn_style says so instead of pretending."""

from __future__ import annotations

import hashlib
import threading
from typing import Any, Literal

from pydantic import Field

from museforge.models.music.base import MelodyModel
from museforge.storage.errors import NotFound
from museforge.storage.models import FileIn, StyleInfo
from museforge.tools.base import Args, ArtworkRef, ToolContext, ToolError, ToolResult, tool
from museforge.tools.music_support import melody_model, music_call, read_piece

MAX_STYLE_TUNES = 100  # pieces one training learns from
DEFAULT_STEPS = 300
IMAGE_NOT_BUILT = ("Picture styles are not built yet: for now learn_style learns from "
                   "music (MIDI files or music artworks) only.")
StyleName = Field(min_length=1, max_length=40,
                  description="The style's name, e.g. 'my reels' or 'Pip'.")

_training: set[int] = set()  # users with a training under way in this process
_training_lock = threading.Lock()


class LearnStyleArgs(Args):
    name: str = StyleName
    artworks: list[ArtworkRef] = Field(
        min_length=1, max_length=MAX_STYLE_TUNES,
        description="The pieces to learn from: '#3', '#4'... (attached files count).")
    kind: Literal["image", "music"] | None = Field(
        default=None, description="music or image; omit to take the artworks' kind.")
    steps: int = Field(default=DEFAULT_STEPS, ge=50, le=1000,
                       description="Training steps (50-1000).")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="Seed of the training.")


class ListStylesArgs(Args):
    kind: Literal["image", "music"] | None = Field(default=None,
                                                   description="Only styles of this kind.")


class ForgetStyleArgs(Args):
    name: str = StyleName


@tool(LearnStyleArgs, family="music", kind="music", ref_kinds={"artworks": "music"})
def learn_style(ctx: ToolContext, args: LearnStyleArgs) -> ToolResult:
    """Learn a style from the person's own pieces: fine-tunes a copy of our melody model on
    the given music artworks (or attached MIDI files) and keeps it under `name` for them
    alone; learning a name again makes a new version. Then compose_music, vary_music and
    continue_music take learnt_style=name. The reply gives the figures: reconstruction of
    held-out tunes before and after, and how much closer samples come to their pitch
    range, intervals, notes per bar and rests. Picture styles are not available yet."""
    resolved = [ctx.resolve(ref) for ref in dict.fromkeys(args.artworks)]
    kinds = {art.kind for art, _ in resolved}
    kind = args.kind or (kinds.pop() if len(kinds) == 1 else None)
    if kind == "image":
        raise ToolError(IMAGE_NOT_BUILT)
    if kind is None:
        raise ToolError("these artworks are of different kinds ("
                        + ", ".join(f"#{a.number} {a.kind}" for a, _ in resolved)
                        + "); a style learns from music or from pictures, not both")
    wrong = [f"#{a.number} is {a.kind}" for a, _ in resolved if a.kind != "music"]
    if wrong:
        raise ToolError(f"a music style learns from music: {', '.join(wrong)}")
    existing = _existing(ctx, args.name)
    user = ctx.actor.user.id
    with _training_lock:
        if user in _training:
            raise ToolError("you already have a style training; wait for it to finish "
                            "before starting another")
        _training.add(user)
    try:
        return _learn_music(ctx, args, resolved, existing)
    finally:
        with _training_lock:
            _training.discard(user)


def _existing(ctx: ToolContext, name: str) -> StyleInfo | None:
    try:
        return ctx.store.style(ctx.actor, name, kind="music")
    except NotFound:
        return None


def _learn_music(ctx: ToolContext, args: LearnStyleArgs, resolved: list[Any],
                 existing: StyleInfo | None) -> ToolResult:
    from museforge.models.music.finetune import (
        WEIGHTS_MIME,
        Settings,
        finetune,
        style_checkpoint,
    )

    pieces, names, data = [], [], []
    for art, version in resolved:
        pieces.append(read_piece(version))
        names.append(f"#{art.number}")
        data.append({"artwork": art.number, "version": version.number,
                     "sha256": version.files["mid"].stem})
    base = melody_model(ctx)
    start = style_checkpoint(existing.weights, existing.recipe["config"]) if existing else None
    settings = Settings(steps=args.steps, seed=args.seed)

    def progress(step: int, steps: int, figures: dict[str, float]) -> None:
        ctx.report(f"learning '{args.name}'", step, steps)

    made = music_call(lambda: finetune(base, pieces, names=names, settings=settings,
                                       progress=progress, start=start))
    ctx.check_cancelled()
    recipe = {"tool": "learn_style", "args": args.model_dump(), "kind": "music",
              "base": made.config["base"], "started_from": existing.version if existing
              else None, "data": data, "session": ctx.session.key, "config": made.config,
              "figures": made.figures, "revision": made.revision,
              "weights_sha256": hashlib.sha256(made.weights).hexdigest()}
    weights = FileIn(made.weights, WEIGHTS_MIME)
    if existing is None:
        style = ctx.store.create_style(ctx.actor, "music", args.name, recipe=recipe,
                                       weights=weights)
    else:
        style = ctx.store.retrain_style(ctx.actor, args.name, recipe=recipe, weights=weights,
                                        kind="music")
    return ToolResult(_learnt_message(style, made.figures, existing is not None))


def _learnt_message(style: StyleInfo, f: dict[str, Any], again: bool) -> str:
    rec = f["heldout_reconstruction"]
    held = (f"{f['heldout_tunes']} held-out tune{'s' if f['heldout_tunes'] != 1 else ''}"
            if f["heldout_tunes"] else "the last bars of each tune, held out")
    gap = f["stat_gap"]
    closer = f["closer"]
    moved = (f"{closer:.0%} closer to yours" if closer > 0 else
             f"{-closer:.0%} further from yours")
    what = f"v{style.version} of music style '{style.name}'" if again else \
        f"music style '{style.name}'"
    left = f" Left out: {'; '.join(f['refused'])}." if f["refused"] else ""
    return (f"Learnt {what} from {f['tunes']} piece{'s' if f['tunes'] != 1 else ''} "
            f"({f['train_windows']} two-bar phrases). On {held}: reconstruction "
            f"{rec['before']['nll_per_window']:.1f} → {rec['after']['nll_per_window']:.1f} "
            f"nats per phrase, accuracy {rec['before']['accuracy']:.0%} → "
            f"{rec['after']['accuracy']:.0%}; its samples' pitch range, intervals, notes "
            f"per bar and rests are {moved} (mean gap {gap['mean_base']:.2f} → "
            f"{gap['mean_tuned']:.2f}). Use it with learnt_style='{style.name}'.{left}")


@tool(ListStylesArgs, family="music")
def list_styles(ctx: ToolContext, args: ListStylesArgs) -> ToolResult:
    """List the person's learnt styles (name, kind, versions, what each learnt from)."""
    styles = ctx.store.list_styles(ctx.actor, kind=args.kind)
    if not styles:
        return ToolResult("You have no learnt styles yet; learn_style makes one from your "
                          "pieces.")
    lines = []
    for s in styles:
        f = s.recipe.get("figures", {})
        tunes = f" from {f['tunes']} pieces" if "tunes" in f else ""
        lines.append(f"'{s.name}' ({s.kind}, v{s.version}{tunes})")
    return ToolResult(f"Your styles: {', '.join(lines)}.")


@tool(ForgetStyleArgs, family="music")
def forget_style(ctx: ToolContext, args: ForgetStyleArgs) -> ToolResult:
    """Forget one of the person's learnt styles, every version of it."""
    gone = ctx.store.forget_style(ctx.actor, args.name)
    versions = f" and its {gone.version_count} versions" if gone.version_count > 1 else ""
    return ToolResult(f"Forgot {gone.kind} style '{gone.name}'{versions}.")


# -- what the music tools use ---------------------------------------------------------------


def style_melody_model(ctx: ToolContext, name: str | None, version: int | None = None,
                       ) -> tuple[MelodyModel, dict[str, Any] | None]:
    """The melody model for ``learnt_style=name`` at ``version`` (default: the newest;
    the session's own model without a name) and how the recipe names the style;
    NotFound for a style the person does not have."""
    if name is None:
        return melody_model(ctx), None
    from museforge.models.music.finetune import load_style_model

    style = ctx.store.style(ctx.actor, name, kind="music", version=version)
    key = f"{style.id}:v{style.version}"
    model = ctx.services.styles.get(key)
    if model is None:
        model = music_call(lambda: load_style_model(style.weights, style.recipe["config"]))
        ctx.services.styles[key] = model
    return model, {"name": style.name, "version": style.version,
                   "revision": style.recipe.get("revision")}


def recipe_melody_model(ctx: ToolContext, recipe: dict[str, Any]) -> MelodyModel:
    """The melody model a stored music version was made with: the learnt style (at the
    version) its recipe names, else the session's own (what replay re-makes it with)."""
    learnt = recipe.get("learnt_style") or {}
    if not learnt:
        return melody_model(ctx)
    return style_melody_model(ctx, str(learnt["name"]), int(learnt["version"]))[0]
