"""Generative image tools: generate_image, vary_image, edit_image, inpaint_image,
upscale_image, blend_images. They call the session's image backend (diffusers, the
procedural painter, OpenAI) and store each result with a recipe that re-makes it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from PIL import Image
from pydantic import Field

from museforge.models.image.base import STYLES, GenerateRequest, ImageBackend, ImageResult
from museforge.models.image.editor import EditError, blend, region_mask, size_for
from museforge.tools.base import (
    Args,
    Artifact,
    ArtworkRef,
    ToolContext,
    ToolError,
    ToolResult,
    tool,
)
from museforge.tools.image_support import (
    Source,
    call_backend,
    check_size,
    gan_upscaler,
    image_backend,
    kept,
    load_source,
    new_seed,
    recipe_for,
    run_control,
    store_new_artwork,
    store_new_version,
)
from museforge.tools.style_tools import (
    LEARNT_STRENGTH,
    LEARNT_STYLE,
    LearntNames,
    LearntStrengths,
    in_learnt,
    learnt_record,
    picture_styles,
    recipe_picture_styles,
    with_triggers,
)

if TYPE_CHECKING:
    from museforge.models.image.base import LearntStyle

Style = Literal["watercolor", "oil", "pixel art", "sketch", "neon", "minimal", "photo", "anime"]
assert set(Style.__args__) == set(STYLES)  # type: ignore[attr-defined]
VARY_STRENGTH = {"subtle": 0.35, "strong": 0.7}
SEED = Field(default=None, ge=0, le=2**32 - 1,
             description="Seed for reproducible results; omit for a new random one.")


class GenerateArgs(Args):
    prompt: str = Field(min_length=1, max_length=1000, description="What to paint.")
    negative_prompt: str = Field(default="", max_length=1000,
                                 description="What to keep out of the picture.")
    style: Style | None = Field(default=None, description="A finish: " + ", ".join(STYLES))
    aspect: str | None = Field(default=None, pattern=r"^\s*\d{1,3}\s*:\s*\d{1,3}\s*$",
                               description="Aspect ratio like '16:9' or '1:1'.")
    width: int | None = Field(default=None, ge=64, le=2048, description="Width in pixels.")
    height: int | None = Field(default=None, ge=64, le=2048, description="Height in pixels.")
    steps: int | None = Field(default=None, ge=1, le=100,
                              description="Denoising steps; omit for the model's default.")
    seed: int | None = SEED
    count: int = Field(default=1, ge=1, le=4, description="How many pictures (1-4).")
    inspired_by: ArtworkRef | None = Field(
        default=None, description="An artwork (image or music) whose mood to follow.")
    learnt_style: LearntNames | None = LEARNT_STYLE
    learnt_strength: LearntStrengths | None = LEARNT_STRENGTH


class VaryArgs(Args):
    artwork: ArtworkRef
    strength: Literal["subtle", "strong"] = Field(
        default="subtle", description="'subtle' keeps the composition; 'strong' roams further.")
    count: int = Field(default=1, ge=1, le=4, description="How many variations (1-4).")
    seed: int | None = SEED
    learnt_style: LearntNames | None = LEARNT_STYLE
    learnt_strength: LearntStrengths | None = LEARNT_STRENGTH


class EditArgs(Args):
    artwork: ArtworkRef
    instruction: str = Field(min_length=1, max_length=500,
                             description="The change in words, e.g. 'make it snowy'.")
    strength: float = Field(default=0.6, ge=0.05, le=1.0,
                            description="How far to move from the original, 0..1.")
    seed: int | None = SEED
    learnt_style: LearntNames | None = LEARNT_STYLE
    learnt_strength: LearntStrengths | None = LEARNT_STRENGTH


class InpaintArgs(Args):
    artwork: ArtworkRef
    region: str = Field(min_length=1, max_length=60, description=(
        "Where to repaint: left half, right half, top, bottom, center, background, sky, "
        "ground, top left... or a box 'x0,y0,x1,y1' in 0..1 units."))
    prompt: str = Field(min_length=1, max_length=1000, description="What to paint there.")
    seed: int | None = SEED
    learnt_style: LearntNames | None = LEARNT_STYLE
    learnt_strength: LearntStrengths | None = LEARNT_STRENGTH


class UpscaleArgs(Args):
    artwork: ArtworkRef
    factor: Literal[2, 4] = Field(default=2, description="2 or 4 times the pixels per side.")


class BlendArgs(Args):
    artworks: list[ArtworkRef] = Field(min_length=2, max_length=4,
                                       description="2 to 4 images to blend.")
    prompt: str = Field(default="", max_length=1000,
                        description="What the blend should become; empty mixes their prompts.")
    seed: int | None = SEED
    learnt_style: LearntNames | None = LEARNT_STYLE
    learnt_strength: LearntStrengths | None = LEARNT_STRENGTH


# -- generate ------------------------------------------------------------------------------


@tool(GenerateArgs, family="image", kind="image", makes="artwork",
      ref_kinds={"inspired_by": None})
def generate_image(ctx: ToolContext, args: GenerateArgs) -> ToolResult:
    """Paint new pictures from a description (text to image). Give the subject and mood in
    `prompt`; optionally a `style`, an `aspect` like '16:9', a `seed` to reproduce a
    result, and `count` (1-4) for several options at once; `learnt_style` paints in styles
    the person taught (learn_style), at `learnt_strength`. Each picture becomes a new
    artwork #N."""
    backend = image_backend(ctx)
    learnt = picture_styles(ctx, args.learnt_style, args.learnt_strength, backend.name)
    prompt: str = with_triggers(args.prompt, learnt)
    style: str | None = args.style
    sources: list[Source] = []
    inspiration: dict[str, Any] | None = None
    if args.inspired_by:
        prompt, style, inspiration = _inspired(ctx, args.inspired_by, prompt, style)
    seed = args.seed if args.seed is not None else new_seed()
    req = _request(backend, args, prompt, seed, args.count).with_(style=style, learnt=learnt)
    check_size(req.width, req.height)
    result = call_backend(lambda: backend.generate(req, run_control(ctx, "painting")))
    keep, note = kept(result)
    dumped = args.model_dump()
    made = []
    for i in keep:
        recipe = recipe_for("generate_image", dumped, result, i, result.images[i], sources,
                            prompt, style=style, inspiration=inspiration,
                            **learnt_record(learnt))
        made.append(store_new_artwork(ctx, args.prompt, args.prompt, recipe, result.images[i]))
    refs = ", ".join(a.ref for a in made)
    what = "a picture" if len(made) == 1 else f"{len(made)} pictures"
    return ToolResult(f"Painted {what}: {refs} “{_short(args.prompt)}”"
                      f"{in_learnt([s.name for s in learnt])}.{note}"
                      + _notes(ctx, result, args.prompt), made)


def _request(backend: ImageBackend, args: GenerateArgs, prompt: str, seed: int,
             count: int) -> GenerateRequest:
    base = int(getattr(backend, "default_size", 512))
    try:
        width, height = size_for(args.aspect, base, args.width, args.height)
    except EditError as exc:
        raise ToolError(str(exc)) from exc
    return GenerateRequest(prompt=prompt, negative_prompt=args.negative_prompt, width=width,
                           height=height, steps=args.steps, seed=seed, count=count,
                           style=args.style)


def _inspired(ctx: ToolContext, ref: str, prompt: str, style: str | None
              ) -> tuple[str, str | None, dict[str, Any]]:
    """The prompt (and style) a picture inspired by ``ref`` is painted from, and the
    choices made, for the recipe (tools/crossmodal.py holds the mapping)."""
    from museforge.tools import crossmodal

    art, version = ctx.resolve(ref)
    if art.kind == "music":
        r = version.recipe
        words = crossmodal.image_from_music(
            key=str(r.get("key") or "C major"), tempo=float(r.get("tempo") or 100),
            mood=str(r.get("mood") or ""), instrument=str(r.get("instrument") or ""))
    else:
        words = crossmodal.picture_words(load_source(ctx, ref).image, art.prompt)
    chosen = style or words.style
    inspiration = {"from": f"#{art.number} v{version.number}", **words.recipe()}
    return f"{prompt}, {words.words}", chosen, inspiration


# -- variations, edits, inpainting, upscaling ------------------------------------------------


@tool(VaryArgs, family="image", kind="image", makes="artwork")
def vary_image(ctx: ToolContext, args: VaryArgs) -> ToolResult:
    """Make variations of a picture: the same idea with new details. 'subtle' keeps the
    composition, 'strong' roams further; `count` 1-4. Each variation becomes a new
    artwork #N, linked to the picture it came from."""
    source = load_source(ctx, args.artwork)
    backend = image_backend(ctx)
    learnt, said = _learnt_for_edit(ctx, args, source, backend.name)
    seed = args.seed if args.seed is not None else new_seed()
    strength = VARY_STRENGTH[args.strength]
    req = GenerateRequest(prompt=source.prompt, width=source.image.width,
                          height=source.image.height, seed=seed, count=args.count,
                          style=source.version.recipe.get("style"), learnt=learnt)
    result = call_backend(lambda: backend.img2img(source.image, req, strength,
                                                  run_control(ctx, "varying")))
    keep, note = kept(result)
    made = []
    for i in keep:
        recipe = recipe_for("vary_image", args.model_dump(), result, i, result.images[i],
                            [source], source.prompt, strength=strength,
                            style=source.version.recipe.get("style"), **learnt_record(learnt))
        title = f"variation of #{source.art.number}: {source.art.title}"
        made.append(store_new_artwork(ctx, title, source.art.prompt, recipe, result.images[i]))
    refs = ", ".join(a.ref for a in made)
    return ToolResult(f"Made {len(made)} {args.strength} variation{'s' if len(made) > 1 else ''}"
                      f" of #{source.art.number}: {refs}.{note}{said}" + _notes(ctx, result),
                      made)


@tool(EditArgs, family="image", kind="image", makes="version")
def edit_image(ctx: ToolContext, args: EditArgs) -> ToolResult:
    """Change a picture as an instruction says ("make it snowy", "add a red hat", "turn
    day into night"). Keeps the rest of the picture; `strength` 0..1 sets how far it may
    move. The result is a new version of the same artwork."""
    source = load_source(ctx, args.artwork)
    backend = image_backend(ctx)
    learnt, said = _learnt_for_edit(ctx, args, source, backend.name)
    seed = args.seed if args.seed is not None else int(source.version.recipe.get("seed") or 0)
    req = _edit_request(source, seed).with_(learnt=learnt)
    result = call_backend(lambda: backend.edit(source.image, args.instruction, req,
                                               args.strength, run_control(ctx, "editing")))
    kept(result)
    prompt = str(result.recipe.get("prompt") or f"{source.prompt}, {args.instruction}")
    recipe = recipe_for("edit_image", args.model_dump(), result, 0, result.images[0], [source],
                        prompt, strength=args.strength, base_prompt=source.prompt,
                        style=source.version.recipe.get("style"), **learnt_record(learnt))
    made = store_new_version(ctx, source, recipe, result.images[0])
    return ToolResult(f"Edited #{made.artwork} (“{_short(args.instruction)}”): now v"
                      f"{made.version}.{said}" + _notes(ctx, result, args.instruction), [made])


def _learnt_for_edit(ctx: ToolContext, args: Any, source: Source, backend_name: str
                     ) -> tuple[tuple[LearntStyle, ...], str]:
    """The learnt styles an edit paints with, and a sentence when it differs from what
    the person may expect: the ones named, else the ones the source was painted with
    (kept, as its built-in style is), unless those are gone (then it says so)."""
    if args.learnt_style:
        return picture_styles(ctx, args.learnt_style, args.learnt_strength,
                              backend_name), ""
    if not source.version.recipe.get("learnt_styles"):
        return (), ""
    try:
        learnt = recipe_picture_styles(ctx, source.version.recipe)
        if any(s.trainer != backend_name for s in learnt):
            raise ToolError(f"they were learnt for another backend than {backend_name}")
    except ToolError as exc:
        return (), f" (Without the learnt style it was painted with: {exc}.)"
    return learnt, ""


def _edit_request(source: Source, seed: int) -> GenerateRequest:
    return GenerateRequest(prompt=source.prompt, width=source.image.width,
                           height=source.image.height, seed=seed,
                           style=source.version.recipe.get("style"))


@tool(InpaintArgs, family="image", kind="image", makes="version")
def inpaint_image(ctx: ToolContext, args: InpaintArgs) -> ToolResult:
    """Repaint one region of a picture with something new ("put a moon in the sky",
    "replace the background with a forest"); the rest stays as it is. The result is a new
    version of the same artwork."""
    source = load_source(ctx, args.artwork)
    backend = image_backend(ctx)
    try:
        mask = region_mask(source.image.size, args.region)
    except EditError as exc:
        raise ToolError(str(exc)) from exc
    learnt, said = _learnt_for_edit(ctx, args, source, backend.name)
    seed = args.seed if args.seed is not None else new_seed()
    req = _edit_request(source, seed).with_(prompt=with_triggers(args.prompt, learnt),
                                            learnt=learnt)
    result = call_backend(lambda: backend.inpaint(source.image, mask, req,
                                                  run_control(ctx, "inpainting")))
    kept(result)
    recipe = recipe_for("inpaint_image", args.model_dump(), result, 0, result.images[0],
                        [source], source.prompt, style=source.version.recipe.get("style"),
                        inpaint_prompt=req.prompt, **learnt_record(learnt))
    made = store_new_version(ctx, source, recipe, result.images[0])
    return ToolResult(f"Repainted the {args.region} of #{made.artwork} with "
                      f"“{_short(args.prompt)}”: now v{made.version}.{said}"
                      + _notes(ctx, result, args.prompt), [made])


@tool(UpscaleArgs, family="image", kind="image", makes="version")
def upscale_image(ctx: ToolContext, args: UpscaleArgs) -> ToolResult:
    """Enlarge a picture 2x or 4x per side, adding detail where the model can. The result
    is a new version of the same artwork."""
    from museforge.models.image.upscalers import upscaler_used

    source = load_source(ctx, args.artwork)
    check_size(source.image.width * args.factor, source.image.height * args.factor)
    upscaler = gan_upscaler(ctx, args.factor) or image_backend(ctx)
    req = _edit_request(source, int(source.version.recipe.get("seed") or 0))
    result = call_backend(lambda: upscaler.upscale(source.image, args.factor, req,
                                                   run_control(ctx, "upscaling")))
    image = result.images[0]
    recipe = recipe_for("upscale_image", args.model_dump(), result, 0, image, [source],
                        source.prompt, style=source.version.recipe.get("style"))
    made = store_new_version(ctx, source, recipe, image)
    used = upscaler_used(result.recipe)
    return ToolResult(f"Upscaled #{made.artwork} to {image.width}×{image.height} with "
                      f"{used}: now v{made.version}." + _notes(ctx, result)
                      + _gan_hint(ctx, used, args.factor), [made])


def _gan_hint(ctx: ToolContext, used: str, factor: int) -> str:
    """Once per process, after a Lanczos upscale: how to get a GAN upscaler."""
    from museforge.models.image.upscalers import AUTO

    heard = ctx.services.said_notes
    if used != "Lanczos resampling" or ctx.settings.upscaler != AUTO \
            or "gan hint" in heard:
        return ""
    heard.add("gan hint")
    name = "realesrgan-x2plus" if factor == 2 else "realesrgan-x4plus"
    return f" (`museforge models pull {name}` gets a GAN upscaler that adds real detail.)"


@tool(BlendArgs, family="image", kind="image", makes="artwork")
def blend_images(ctx: ToolContext, args: BlendArgs) -> ToolResult:
    """Blend 2-4 pictures into a new one that mixes their content and colors, optionally
    steered by a `prompt`. The result is a new artwork #N."""
    sources = [load_source(ctx, ref) for ref in args.artworks]
    numbers = [s.art.number for s in sources]
    if len(set(numbers)) < len(numbers) and len({s.version.id for s in sources}) < len(sources):
        raise ToolError("blend needs different pictures (the same one was named twice)")
    backend = image_backend(ctx)
    learnt = picture_styles(ctx, args.learnt_style, args.learnt_strength, backend.name)
    first = sources[0].image
    start = blend([s.image for s in sources], first.size)
    prompt = with_triggers(args.prompt or ", ".join(s.prompt for s in sources), learnt)
    seed = args.seed if args.seed is not None else new_seed()
    req = GenerateRequest(prompt=prompt, width=first.width, height=first.height, seed=seed,
                          learnt=learnt)
    result = call_backend(lambda: backend.img2img(start, req, 0.55,
                                                  run_control(ctx, "blending")))
    kept(result)
    recipe = recipe_for("blend_images", args.model_dump(), result, 0, result.images[0],
                        sources, prompt, strength=0.55, **learnt_record(learnt))
    title = "blend of " + " + ".join(f"#{n}" for n in numbers)
    made = store_new_artwork(ctx, title, prompt, recipe, result.images[0])
    return ToolResult(f"Blended {', '.join(f'#{n}' for n in numbers)} into {made.ref}."
                      + _notes(ctx, result), [made])


# -- replay ----------------------------------------------------------------------------------


def remake(backend: ImageBackend, recipe: dict[str, Any], sources: list[Image.Image],
           learnt: tuple[LearntStyle, ...] = ()) -> Image.Image:
    """Re-make one stored version's pixels from its recipe, its sources' pixels and the
    learnt styles it names (``recipe_picture_styles``)."""
    tool_name = recipe["tool"]
    args = recipe["args"]
    seed = int(recipe.get("seed") or 0)
    style = recipe.get("style")
    prompt = recipe.get("prompt", "")
    size = recipe.get("size") or [512, 512]
    req = GenerateRequest(prompt=prompt, width=size[0], height=size[1], seed=seed, style=style,
                          negative_prompt=args.get("negative_prompt", ""),
                          steps=args.get("steps"), learnt=learnt)
    result: ImageResult
    if tool_name == "generate_image":
        result = backend.generate(req.with_(count=1))
    elif tool_name == "vary_image":
        result = backend.img2img(sources[0], req.with_(count=1), float(recipe["strength"]))
    elif tool_name == "edit_image":
        result = backend.edit(sources[0], args["instruction"],
                              req.with_(prompt=recipe["base_prompt"]),
                              float(args["strength"]))
    elif tool_name == "inpaint_image":
        mask = region_mask(sources[0].size, args["region"])
        result = backend.inpaint(sources[0], mask,
                                 req.with_(prompt=recipe.get("inpaint_prompt", args["prompt"])))
    elif tool_name == "upscale_image":
        result = backend.upscale(sources[0], int(args["factor"]), req)
    elif tool_name == "blend_images":
        start = blend(sources, sources[0].size)
        result = backend.img2img(start, req, float(recipe["strength"]))
    else:
        raise ToolError(f"cannot replay '{tool_name}' with an image backend")
    return result.images[0]


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _notes(ctx: ToolContext, result: ImageResult, asked: str = "") -> str:
    """Fallbacks a person should know of, each said once per process, and what of
    ``asked`` (the prompt or instruction) the built-in painter could not draw."""
    said = []
    pending = ctx.services.notes
    if pending:
        said.extend(pending)
        pending.clear()
    heard = ctx.services.said_notes
    for note in result.recipe.get("notes", []) or []:
        if "procedural painter" not in note and note not in heard:
            heard.add(note)  # a fallback is news once, not on every picture
            said.append(f"({note})")
    unknown = _unknown_words(ctx, result, asked, pull_said=any("models pull" in s
                                                               for s in said))
    if unknown:
        said.insert(0, unknown)
    return (" " + " ".join(said)) if said else ""


def _unknown_words(ctx: ToolContext, result: ImageResult, asked: str, pull_said: bool) -> str:
    """One clause, for the procedural painter only: the words (at most 3) of ``asked``
    it has no picture for, and how to get a real model. Empty when it knows them all."""
    if not asked or result.recipe.get("backend") != "procedural":
        return ""
    from museforge.models.image.procedural import unknown_words

    words = [f"“{w}”" for w in unknown_words(asked)[:3]]
    if not words:
        return ""
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    clause = (f"the built-in painter doesn't know {listed}, so it painted the scene around "
              f"{'it' if len(words) == 1 else 'them'}")
    if not pull_said:
        model = ctx.settings.image_model
        if model.startswith((".", "/", "~")) or "\\" in model or Path(model).exists():
            model = "sd-turbo"  # a local folder: the preset is what to pull
        pull = f"`museforge models pull {model}`"
        if ctx.settings.image_backend == "procedural":
            pull += " with MUSEFORGE_IMAGE_BACKEND=auto"
        clause += f"; {pull} gets a real model"
    return f"({clause})"


__all__ = ["generate_image", "vary_image", "edit_image", "inpaint_image", "upscale_image",
           "blend_images", "remake", "Artifact"]
