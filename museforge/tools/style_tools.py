"""Learnt styles: learn_style, list_styles, forget_style; the melody model a music tool
uses when given ``learnt_style`` (``style_melody_model``) and the picture styles an image
tool paints with (``picture_styles``).

A music style is a copy of the melody model fine-tuned on the person's pieces
(models/music/finetune.py). A picture style is what the session's image backend learns
from the person's pictures: a LoRA adapter for a diffusers model (models/image/lora.py),
or, for the built-in painter, their palette, light and finish statistics
(models/image/painter_style.py); the OpenAI backend learns nothing and says so. Weights
and recipe are stored as the person's own (storage/styles.py): anyone else is told it
does not exist. The training runs in the turn, one per person at a time; it stores
nothing until it has finished, so a failure or a cancel leaves no style (and no new
version of one)."""

from __future__ import annotations

import hashlib
import threading
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from museforge.models.music.base import MelodyModel
from museforge.storage.errors import NotFound
from museforge.storage.models import FileIn, StyleInfo
from museforge.tools.base import (
    Args,
    ArtworkRef,
    Cancelled,
    ToolContext,
    ToolError,
    ToolResult,
    tool,
)
from museforge.tools.music_support import melody_model, music_call, read_piece

if TYPE_CHECKING:
    from museforge.models.image.base import LearntStyle

MAX_STYLE_TUNES = 100  # pieces one training learns from
DEFAULT_STEPS = 300  # music
MIN_MUSIC_STEPS = 50
MAX_STYLE_IMAGES = 40  # pictures one picture style learns from
MIN_IMAGE_SIDE = 64  # smaller pictures hold too little to learn from
MAX_IMAGE_PIXELS = 16_000_000  # bigger ones are refused (each is resized to the model's size)
MAX_STYLE_DISK = 2 * 1024**3  # bytes of style files one person may keep, all versions
MAX_LEARNT = 4  # picture styles combined in one picture
DEFAULT_STRENGTH = 0.8
StyleName = Field(min_length=1, max_length=40,
                  description="The style's name, e.g. 'my reels' or 'Pip'.")


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, str | int | float) else value


# The image tools' arguments for learnt picture styles: one name or several, combined,
# and one strength for all or one per style.
LearntNames = Annotated[list[Annotated[str, Field(min_length=1, max_length=40)]],
                        BeforeValidator(_listed), Field(min_length=1, max_length=4)]
LearntStrengths = Annotated[list[Annotated[float, Field(ge=0.0, le=1.5)]],
                            BeforeValidator(_listed), Field(min_length=1, max_length=4)]
LEARNT_STYLE = Field(default=None, description=(
    "Picture styles the person taught with learn_style (list_styles names them): one "
    "name or a list of up to 4, combined."))
LEARNT_STRENGTH = Field(default=None, description=(
    "How strongly each learnt style applies, 0-1.5 (default 0.8): one for all, or one "
    "per style."))

_training: set[int] = set()  # users with a training under way in this process
_training_lock = threading.Lock()


class LearnStyleArgs(Args):
    name: str = StyleName
    artworks: list[ArtworkRef] = Field(
        min_length=1, max_length=MAX_STYLE_TUNES,
        description="The pieces to learn from: '#3', '#4'... (attached files count).")
    kind: Literal["image", "music"] | None = Field(
        default=None, description="music or image; omit to take the artworks' kind.")
    steps: int | None = Field(
        default=None, ge=1, le=1000,
        description="Training steps; omit for the default (music 300, at least 50; "
                    "pictures: the image model's, 300-500).")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="Seed of the training.")
    character: bool = Field(
        default=False, description="Pictures only: the pictures show one character or "
        "subject, whose name becomes the word prompts call it by ('Pip riding a bike').")
    resolution: int | None = Field(
        default=None, ge=64, le=1024, description="Pictures only: the training size in "
        "pixels; omit for the image model's own (512, SDXL 1024).")


class ListStylesArgs(Args):
    kind: Literal["image", "music"] | None = Field(default=None,
                                                   description="Only styles of this kind.")


class ForgetStyleArgs(Args):
    name: str = StyleName


@tool(LearnStyleArgs, family="music", kind="music", ref_kinds={"artworks": "music"})
def learn_style(ctx: ToolContext, args: LearnStyleArgs) -> ToolResult:
    """Learn a style from the person's own pieces or pictures and keep it under `name`
    for them alone; learning a name again makes a new version. Music: fine-tunes a copy
    of our melody model on the music artworks (or attached MIDI files); compose_music,
    vary_music and continue_music then take learnt_style=name, and the reply gives the
    figures (held-out reconstruction before and after, how much closer samples come to
    their pitch range, intervals, notes per bar and rests). Pictures: trains a LoRA
    adapter for the image model on the image artworks (or attached pictures), or with
    the built-in painter learns their palette, light and finish; `character` for a few
    pictures of one subject (its name becomes its trigger word). generate_image and the
    image edits then take learnt_style=[names] and learnt_strength."""
    resolved = [ctx.resolve(ref) for ref in dict.fromkeys(args.artworks)]
    kinds = {art.kind for art, _ in resolved}
    kind = args.kind or (kinds.pop() if len(kinds) == 1 else None)
    if kind == "image":
        return _one_training(ctx, lambda: _learn_image(ctx, args, resolved))
    if args.character or args.resolution:
        raise ToolError("character and resolution are for picture styles; a music style "
                        "learns from the tunes alone")
    if args.steps is not None and args.steps < MIN_MUSIC_STEPS:
        raise ToolError(f"a music style needs at least {MIN_MUSIC_STEPS} training steps")
    if kind is None:
        raise ToolError("these artworks are of different kinds ("
                        + ", ".join(f"#{a.number} {a.kind}" for a, _ in resolved)
                        + "); a style learns from music or from pictures, not both")
    wrong = [f"#{a.number} is {a.kind}" for a, _ in resolved if a.kind != "music"]
    if wrong:
        raise ToolError(f"a music style learns from music: {', '.join(wrong)}")
    existing = _existing(ctx, args.name, "music")
    return _one_training(ctx, lambda: _learn_music(ctx, args, resolved, existing))


def _one_training(ctx: ToolContext, train: Any) -> ToolResult:
    """Run ``train`` unless the person already has a training under way."""
    user = ctx.actor.user.id
    with _training_lock:
        if user in _training:
            raise ToolError("you already have a style training; wait for it to finish "
                            "before starting another")
        _training.add(user)
    try:
        return train()  # type: ignore[no-any-return]
    finally:
        with _training_lock:
            _training.discard(user)


def _existing(ctx: ToolContext, name: str, kind: str) -> StyleInfo | None:
    try:
        return ctx.store.style(ctx.actor, name, kind=kind, exact=True)
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
    settings = Settings(steps=args.steps or DEFAULT_STEPS, seed=args.seed)

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


def _learn_image(ctx: ToolContext, args: LearnStyleArgs, resolved: list[Any]) -> ToolResult:
    """A picture style from the image artworks among ``resolved``: each checked through
    the safe image loader, the refused ones said with their reason, then the session's
    image backend trains on the rest (nothing is stored before it has finished)."""
    from museforge.models.image.base import (
        GenerationCancelled,
        ImageBackendError,
        RunControl,
        TrainRequest,
    )
    from museforge.models.image.lora import caption_for
    from museforge.tools.costs import estimate
    from museforge.tools.image_support import image_backend

    existing = _existing(ctx, args.name, "image")
    resolved, earlier = _with_earlier(ctx, existing, resolved)
    if len(resolved) > MAX_STYLE_IMAGES:
        raise ToolError(f"a picture style learns from at most {MAX_STYLE_IMAGES} pictures, "
                        f"not {len(resolved)}")
    _check_disk(ctx)
    trigger = " ".join(args.name.split()) if args.character else None
    images, captions, data, refused = [], [], [], []
    for art, version in resolved:
        image, why = _checked_picture(art, version)
        if image is None:
            refused.append(f"#{art.number} ({why})")
            continue
        prompt = str(version.recipe.get("prompt") or art.prompt or "")
        images.append(image)
        captions.append(caption_for(prompt, args.name, trigger))
        data.append({"artwork": art.number, "version": version.number,
                     "sha256": version.files["png"].stem})
    if not images:
        raise ToolError("no picture could be learnt from: " + "; ".join(refused))
    try:
        backend = image_backend(ctx)
    except ImageBackendError as exc:  # the model's weights are not on this machine
        raise ToolError(f"cannot learn a picture style: {exc}") from exc
    seconds = estimate("learn_style", ctx, args)
    what = f"learning '{args.name}' from {len(images)} picture{'s' if len(images) > 1 else ''}"
    ctx.report(f"{what}, about {_duration(seconds)}", 0, 1)
    req = TrainRequest(args.name, images, captions, steps=args.steps, seed=args.seed,
                       trigger=trigger, resolution=args.resolution)
    run = RunControl(progress=lambda i, n: ctx.report(what, i, n), cancel=ctx.cancel,
                     loss=lambda i, n, loss: ctx.report(f"{what}, loss {loss:.4f}", i, n))
    try:
        made = backend.train_style(req, run)
    except GenerationCancelled as exc:
        raise Cancelled() from exc
    except ImageBackendError as exc:  # a backend that cannot train says why
        raise ToolError(str(exc)) from exc
    ctx.check_cancelled()
    weights = FileIn(made.data, made.mime)
    recipe = {"tool": "learn_style", "args": args.model_dump(), "kind": "image",
              "session": ctx.session.key, "data": data, "refused": refused,
              "seed": args.seed, "started_from": existing.version if existing else None,
              "figures": {"pictures": len(images)}, "learnt": made.learnt,
              "weights_sha256": hashlib.sha256(made.data).hexdigest(), **made.recipe}
    if existing is None:
        style = ctx.store.create_style(ctx.actor, "image", args.name, recipe=recipe,
                                       weights=weights)
    else:
        style = ctx.store.retrain_style(ctx.actor, args.name, recipe=recipe, weights=weights,
                                        kind="image")
    name = f"v{style.version} of picture style '{style.name}'" if existing else \
        f"picture style '{style.name}'"
    character = (f" Prompts call the character '{trigger}'; generations with it add the "
                 "word when a prompt leaves it out." if trigger else "")
    left = f" Left out: {'; '.join(refused)}." if refused else ""
    return ToolResult(f"Learnt {name} from {len(images)} picture"
                      f"{'s' if len(images) > 1 else ''}{earlier}: {made.learnt}.{character} "
                      f"Use it with learnt_style='{style.name}'.{left}")


def _with_earlier(ctx: ToolContext, existing: StyleInfo | None, resolved: list[Any]
                  ) -> tuple[list[Any], str]:
    """Learning a picture style's name again ("learn it again with these too") learns
    from its newest version's pictures as well, those still in this conversation (found
    by artwork, version and hash); and the words the reply says about them."""
    if existing is None:
        return resolved, ""
    have = {(a.number, v.number) for a, v in resolved}
    earlier = [d for d in existing.recipe.get("data") or []
               if (d["artwork"], d["version"]) not in have]
    added = []
    for d in earlier:
        try:
            art, version = ctx.resolve(f"#{d['artwork']} v{d['version']}")
        except NotFound:
            continue
        png = version.files.get("png")
        if png is not None and png.stem == d["sha256"]:
            added.append((art, version))
    said = []
    if added:
        said.append(f"{len(added)} of them the ones v{existing.version} learnt from")
    if len(added) < len(earlier):
        said.append(f"{len(earlier) - len(added)} of v{existing.version}'s are not in this "
                    "conversation, so not in this version")
    return resolved + added, f" ({'; '.join(said)})" if said else ""


def _checked_picture(art: Any, version: Any) -> tuple[Any, str]:
    """(the picture, "") through the safe loader, or (None, why it is refused)."""
    from museforge.models.media import MediaError, load_image

    if art.kind != "image":
        return None, f"it is {art.kind}, not a picture"
    path = version.files.get("png")
    if path is None:
        return None, "it has no picture file"
    try:
        image = load_image(path.read_bytes(), filename=path.name)
    except (MediaError, OSError) as exc:
        return None, str(exc)
    if min(image.size) < MIN_IMAGE_SIDE:
        return None, (f"{image.width}×{image.height} is too small to learn from; at least "
                      f"{MIN_IMAGE_SIDE} px a side")
    if image.width * image.height > MAX_IMAGE_PIXELS:
        return None, (f"{image.width}×{image.height} is more than "
                      f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels")
    return image, ""


def _check_disk(ctx: ToolContext) -> None:
    """Refuse a training when the person's style files already fill their share."""
    used = 0
    for style in ctx.store.list_styles(ctx.actor):
        for version in ctx.store.style_versions(ctx.actor, style.name, kind=style.kind):
            try:
                used += version.weights.stat().st_size
            except OSError:
                pass  # a file the clean-up took: it holds no space
    if used >= MAX_STYLE_DISK:
        raise ToolError(f"your styles already take {used / 1024**2:.0f} MB of the "
                        f"{MAX_STYLE_DISK / 1024**2:.0f} MB each person may keep; forget "
                        "one (forget_style) before learning another")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{seconds / 60:.0f} min"


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
        tunes = f" from {f['tunes']} pieces" if "tunes" in f else \
            f" from {f['pictures']} pictures" if "pictures" in f else ""
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


# -- what the image tools use ---------------------------------------------------------------


def picture_styles(ctx: ToolContext, names: list[str] | None,
                   strengths: list[float] | None, backend_name: str
                   ) -> tuple[LearntStyle, ...]:
    """The person's picture styles ``names`` (newest versions) at their strengths, for a
    request to the backend ``backend_name``; ToolError for a style they do not have or
    that this backend cannot paint with (a LoRA on the built-in painter, the painter's
    statistics on a diffusers model)."""
    if not names:
        return ()
    if len(set(n.lower() for n in names)) < len(names):
        raise ToolError("the same learnt style was named twice")
    weights = strengths or [DEFAULT_STRENGTH]
    if len(weights) == 1:
        weights = weights * len(names)
    if len(weights) != len(names):
        raise ToolError(f"give one learnt_strength, or one per style ({len(names)}), not "
                        f"{len(weights)}")
    out = []
    for name, weight in zip(names, weights, strict=True):
        try:
            style = ctx.store.style(ctx.actor, name, kind="image")
        except NotFound as exc:
            raise ToolError(str(exc)) from exc
        out.append(_learnt(style, weight, backend_name))
    return tuple(out)


def _learnt(style: StyleInfo, weight: float, backend_name: str) -> LearntStyle:
    from museforge.models.image.base import LearntStyle

    trainer = str(style.recipe.get("trainer"))
    if trainer != backend_name:
        made = "the built-in painter" if trainer == "procedural" else f"a {trainer} model"
        raise ToolError(f"'{style.name}' was learnt by {made}; the {backend_name} image "
                        f"backend cannot paint with it. Learn it again here (learn_style "
                        f"with the same pictures) to make a version it can use")
    return LearntStyle(style.name, style.version, style.weights,
                       str(style.recipe["weights_sha256"]), float(weight), trainer,
                       style.recipe.get("trigger"))


def recipe_picture_styles(ctx: ToolContext, recipe: dict[str, Any]
                          ) -> tuple[LearntStyle, ...]:
    """The learnt styles a stored picture was painted with, at the versions and
    strengths its recipe names (what replay and the edits that carry them over use);
    ToolError when one is gone or its file is not the one that painted it."""
    out = []
    for made in recipe.get("learnt_styles") or []:
        try:
            style = ctx.store.style(ctx.actor, str(made["name"]), kind="image",
                                    version=int(made["version"]))
        except NotFound as exc:
            raise ToolError(f"it was painted with the learnt style '{made['name']}' "
                            f"v{made['version']}, which is not yours to use now: {exc}"
                            ) from exc
        if style.recipe.get("weights_sha256") != made["sha256"]:
            raise ToolError(f"the learnt style '{made['name']}' v{made['version']} is not "
                            "the file it was painted with")
        out.append(_learnt(style, float(made["weight"]), str(made["trainer"])))
    return tuple(out)


def with_triggers(prompt: str, learnt: tuple[LearntStyle, ...]) -> str:
    """The prompt with each learnt character's trigger word, where it does not say it."""
    words = prompt.lower().split()
    missing = [s.trigger for s in learnt if s.trigger and s.trigger.lower() not in
               " ".join(words)]
    return ", ".join([*[m for m in missing if m], prompt]) if missing else prompt


def learnt_record(learnt: tuple[LearntStyle, ...]) -> dict[str, Any]:
    """How a picture's recipe names the learnt styles that painted it (nothing without)."""
    return {"learnt_styles": [s.record() for s in learnt]} if learnt else {}


def in_learnt(names: list[str]) -> str:
    """How a reply says which of the person's styles made it (" in your style 'Rust'",
    " in your styles 'Rust' and 'Pip'"), nothing without one."""
    if not names:
        return ""
    quoted = [f"'{n}'" for n in names]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
    return f" in your style{'s' if len(names) > 1 else ''} {listed}"
