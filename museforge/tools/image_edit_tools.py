"""Deterministic image edits: adjust_image, reframe_image, add_text (Pillow, instant,
CPU). ``reframe_image`` with ``zoom_out`` extends the canvas through the image backend
(outpainting). Every edit is a new version whose recipe replays it exactly; one that
would change nothing (a square picture cropped to 1:1) makes none and says so."""

from __future__ import annotations

from typing import Any, Literal

from PIL import Image, ImageChops
from pydantic import Field, model_validator

from museforge.models.image import editor
from museforge.models.image.base import GenerateRequest, ImageBackend, ImageResult
from museforge.models.image.editor import EditError
from museforge.tools.base import (
    Args,
    ArtworkRef,
    ToolContext,
    ToolError,
    ToolResult,
    nothing_changed,
    tool,
    version_ref,
)
from museforge.tools.image_support import (
    call_backend,
    check_size,
    image_backend,
    load_source,
    new_seed,
    run_control,
    store_new_version,
)

Filter = Literal["grayscale", "sepia", "invert", "posterize", "vignette", "emboss", "contour",
                 "sharpen", "smooth"]
Position = Literal["top", "bottom", "center", "left", "right", "top left", "top right",
                   "bottom left", "bottom right"]


class AdjustArgs(Args):
    artwork: ArtworkRef
    brightness: float = Field(default=1.0, ge=0.05, le=4.0,
                              description="Multiplier: 1.0 unchanged, 1.2 = 20% brighter.")
    contrast: float = Field(default=1.0, ge=0.05, le=4.0,
                            description="Multiplier: 1.0 unchanged.")
    saturation: float = Field(default=1.0, ge=0.0, le=4.0,
                              description="Multiplier: 1.0 unchanged, 0 = no color.")
    warmth: float = Field(default=0.0, ge=-1.0, le=1.0,
                          description="-1..1: positive warmer (more red/yellow), negative cooler.")
    hue_shift: float = Field(default=0.0, ge=-180.0, le=180.0, description="Degrees.")
    sharpness: float = Field(default=1.0, ge=0.0, le=4.0,
                             description="Multiplier: 1.0 unchanged.")
    blur: float = Field(default=0.0, ge=0.0, le=50.0, description="Blur radius in pixels.")
    filter: Filter | None = Field(default=None, description="A filter to apply last.")

    @model_validator(mode="after")
    def _something(self) -> AdjustArgs:
        if (self.brightness, self.contrast, self.saturation, self.warmth, self.hue_shift,
                self.sharpness, self.blur, self.filter) == (1, 1, 1, 0, 0, 1, 0, None):
            raise ValueError("say what to change (brightness, contrast, saturation, warmth, "
                             "hue_shift, sharpness, blur or filter)")
        return self


class ReframeArgs(Args):
    artwork: ArtworkRef
    aspect: str | None = Field(default=None, pattern=r"^\s*\d{1,3}\s*:\s*\d{1,3}\s*$",
                               description="Crop to an aspect ratio like '16:9'.")
    rotate: float = Field(default=0.0, ge=-360, le=360, description="Degrees, clockwise.")
    flip: Literal["horizontal", "vertical", "both"] | None = Field(
        default=None, description="Mirror the picture.")
    width: int | None = Field(default=None, ge=16, le=4096, description="Resize to this width.")
    height: int | None = Field(default=None, ge=16, le=4096,
                               description="Resize to this height.")
    zoom_out: float | None = Field(default=None, gt=1.0, le=4.0, description=(
        "Extend the canvas this many times per side and paint the new border (outpainting)."))
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1,
                             description="Seed for the painted border when zooming out.")

    @model_validator(mode="after")
    def _something(self) -> ReframeArgs:
        if not (self.aspect or self.rotate or self.flip or self.width or self.height
                or self.zoom_out):
            raise ValueError("say how to reframe (aspect, rotate, flip, width, height or "
                             "zoom_out)")
        return self


class TextArgs(Args):
    artwork: ArtworkRef
    text: str = Field(min_length=1, max_length=300, description="The caption to write.")
    position: Position = Field(default="bottom", description="Where on the picture.")


@tool(AdjustArgs, family="image", kind="image", makes="version")
def adjust_image(ctx: ToolContext, args: AdjustArgs) -> ToolResult:
    """Adjust a picture's look without repainting it: brightness, contrast, saturation,
    sharpness (multipliers, 1.0 = unchanged), warmth (-1 cooler .. 1 warmer), hue_shift
    (degrees), blur (radius in pixels) and filters (grayscale, sepia, invert, posterize,
    vignette...). Exact and instant; the result is a new version."""
    source = load_source(ctx, args.artwork)
    image = _adjust(source.image, args.model_dump())
    if _same_pixels(source.image, image):  # "black and white" on a black-and-white picture
        return ToolResult(f"{version_ref(source.art, source.version)} already looks like "
                          f"that ({_changes(args)}); nothing changed.",
                          touched=[(source.art.number, source.art.kind)])
    recipe = _recipe("adjust_image", args.model_dump(), source, image)
    made = store_new_version(ctx, source, recipe, image)
    return ToolResult(f"Adjusted #{made.artwork} ({_changes(args)}): now v{made.version}.",
                      [made])


def _same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and a.mode == b.mode and ImageChops.difference(a, b).getbbox() is None


def _adjust(image: Image.Image, args: dict[str, Any]) -> Image.Image:
    keys = ("brightness", "contrast", "saturation", "warmth", "hue_shift", "sharpness", "blur",
            "filter")
    return editor.adjust(image, **{k: args[k] for k in keys})


def _changes(args: AdjustArgs) -> str:
    said = []
    for name, neutral in (("brightness", 1.0), ("contrast", 1.0), ("saturation", 1.0),
                          ("sharpness", 1.0)):
        value = getattr(args, name)
        if value != neutral:
            said.append(f"{name} ×{value:g}")
    if args.warmth:
        said.append(f"{'warmer' if args.warmth > 0 else 'cooler'} {abs(args.warmth):g}")
    if args.hue_shift:
        said.append(f"hue {args.hue_shift:+g}°")
    if args.blur:
        said.append(f"blur {args.blur:g} px")
    if args.filter:
        said.append(args.filter)
    return ", ".join(said)


@tool(ReframeArgs, family="image", kind="image", makes="version")
def reframe_image(ctx: ToolContext, args: ReframeArgs) -> ToolResult:
    """Change a picture's frame: crop to an `aspect` like '16:9', `rotate` by degrees,
    `flip` it, resize to `width`/`height`, or `zoom_out` (a factor > 1) to extend the
    canvas and paint what lies beyond the edges. The result is a new version."""
    source = load_source(ctx, args.artwork)
    same = _frame_unchanged(args, source.image.size)
    if same is not None:
        return nothing_changed(source.art, source.version, *same)
    dumped = args.model_dump()
    backend_recipe: dict[str, Any] = {}
    try:
        image = editor.reframe(source.image, aspect=args.aspect, rotate=args.rotate,
                               flip=args.flip, width=args.width, height=args.height)
    except EditError as exc:
        raise ToolError(str(exc)) from exc
    if args.zoom_out:
        check_size(int(image.width * args.zoom_out), int(image.height * args.zoom_out))
        dumped["seed"] = args.seed if args.seed is not None else new_seed()
        backend = image_backend(ctx)
        result = call_backend(lambda: _zoom(backend, image, source.prompt, dumped,
                                            source.version.recipe.get("style"),
                                            run_control(ctx, "extending the canvas")))
        image, backend_recipe = result.images[0], result.recipe
    check_size(image.width, image.height)
    recipe = _recipe("reframe_image", dumped, source, image, backend=backend_recipe)
    made = store_new_version(ctx, source, recipe, image)
    said = _reframing(args, made.artwork, source.image.size, image.size)
    return ToolResult(f"{said}: now v{made.version}.", [made])


def _frame_unchanged(args: ReframeArgs, size: tuple[int, int]
                     ) -> tuple[list[str], list[str]] | None:
    """When reframing a picture of ``size`` would give back the same picture (a crop to
    the aspect it has, a resize to the size it has, a whole turn), what it already is and
    which arguments move nothing; else None. From the arguments and the size alone:
    Pillow hands back the same pixels for a crop to the whole box, a resize to the same
    size and a rotation by a multiple of 360°."""
    if args.flip or args.zoom_out or args.rotate % 360:
        return None
    already: list[str] = []
    idle = [f"rotating by {args.rotate:g}°"] if args.rotate else []
    if args.aspect:
        try:
            box = editor.aspect_box(size, args.aspect)
        except EditError:
            return None  # refused below, with the reason
        if box != (0, 0, *size):
            return None
        aspect = "".join(args.aspect.split())
        a, b = editor.parse_aspect(aspect)
        already.append(f"square ({aspect})" if a == b else f"{aspect} ({size[0]}×{size[1]})")
    if args.width or args.height:
        if editor.resized_size(size, args.width, args.height) != size:
            return None
        already.append(f"{size[0]}×{size[1]}")
    if len(already) == 2 and already[0].startswith("square"):
        already = [f"square ({aspect}, {size[0]}×{size[1]})"]
    elif len(already) == 2:
        already = already[:1]  # the size is already said
    return already, idle


def _reframing(args: ReframeArgs, number: int, before: tuple[int, int],
               after: tuple[int, int]) -> str:
    """What reframe_image did, in the order it did it: "Rotated #1 90° clockwise and
    flipped it horizontally", "Cropped #1 to 16:9 (896×504)"."""
    size = f"{after[0]}×{after[1]}"
    done: list[str] = []
    if args.rotate:
        turn = "" if abs(args.rotate) in (180, 360) else (
            " clockwise" if args.rotate > 0 else " counterclockwise")
        done.append(f"rotated {{it}} {abs(args.rotate):g}°{turn}")
    if args.flip:
        way = "horizontally and vertically" if args.flip == "both" else f"{args.flip}ly"
        done.append(f"flipped {{it}} {way}")
    if args.aspect:
        done.append(f"cropped {{it}} to {''.join(args.aspect.split())}")
    if args.width or args.height:
        done.append(f"resized {{it}} to {size}")
    if args.zoom_out:
        done.append(f"zoomed {{it}} out ×{args.zoom_out:g}, painting in the new border")
    said = [step.format(it=f"#{number}" if i == 0 else "it") for i, step in enumerate(done)]
    text = said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]
    if after != before and not (args.width or args.height):
        text += f" ({size})"  # the new size, where the words do not already say it
    return text[0].upper() + text[1:]


def _zoom(backend: ImageBackend, image: Image.Image, prompt: str, args: dict[str, Any],
          style: str | None, run: Any = None) -> ImageResult:
    canvas, mask = editor.zoom_out_canvas(image, float(args["zoom_out"]))
    req = GenerateRequest(prompt=prompt, width=canvas.width, height=canvas.height,
                          seed=int(args["seed"]), style=style)
    return backend.inpaint(canvas, mask, req, run)


@tool(TextArgs, family="image", kind="image", makes="version")
def add_text(ctx: ToolContext, args: TextArgs) -> ToolResult:
    """Write a caption on a picture (a title, a greeting) at a position: top, bottom,
    center or a corner. The color is chosen to stand out; the result is a new version."""
    source = load_source(ctx, args.artwork)
    image = editor.add_text(source.image, args.text, args.position)
    recipe = _recipe("add_text", args.model_dump(), source, image)
    made = store_new_version(ctx, source, recipe, image)
    return ToolResult(f"Wrote “{args.text}” at the {args.position} of #{made.artwork}: now v"
                      f"{made.version}.", [made])


def _recipe(tool_name: str, args: dict[str, Any], source: Any, image: Image.Image,
            backend: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"tool": tool_name, "args": args, "prompt": source.prompt,
            "style": source.version.recipe.get("style"), "size": [image.width, image.height],
            "sources": [source.describe()], "backend": backend or {"backend": "pillow"}}


def remake_edit(backend: ImageBackend | None, recipe: dict[str, Any], source: Image.Image
                ) -> Image.Image:
    """Re-make a Pillow edit (or a zoom-out, with its backend) from its recipe."""
    args = recipe["args"]
    name = recipe["tool"]
    if name == "adjust_image":
        return _adjust(source, args)
    if name == "add_text":
        return editor.add_text(source, args["text"], args["position"])
    if name == "reframe_image":
        image = editor.reframe(source, aspect=args.get("aspect"), rotate=args.get("rotate", 0),
                               flip=args.get("flip"), width=args.get("width"),
                               height=args.get("height"))
        if args.get("zoom_out"):
            if backend is None:
                raise ToolError("replaying a zoom-out needs the image backend that made it")
            image = _zoom(backend, image, recipe["prompt"], args, recipe.get("style")).images[0]
        return image
    raise ToolError(f"cannot replay '{name}' as a Pillow edit")
