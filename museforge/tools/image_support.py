"""What the image tools share: the backend (chosen once from the settings, or handed in
by the caller), loading a version's pixels, and storing a result as a PNG whose text
chunks carry the recipe (``parameters``, the convention AUTOMATIC1111 and InvokeAI
readers understand, and our own ``museforge`` JSON)."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from museforge.config import Settings
from museforge.models.image.base import (
    ContentFlagged,
    GenerationCancelled,
    ImageBackend,
    ImageBackendError,
    ImageResult,
    RunControl,
)
from museforge.models.image.editor import EditError
from museforge.storage.models import ArtworkInfo, FileIn, VersionInfo
from museforge.tools.base import (
    TITLE_CHARS,
    Artifact,
    Cancelled,
    ToolContext,
    ToolError,
    file_title,
    source_record,
)

if TYPE_CHECKING:
    from museforge.models.image.upscalers import GanUpscaler

MAX_SIDE = 4096  # no image tool makes a picture wider or taller than this


def new_seed() -> int:
    return secrets.randbelow(2**32)


def image_backend(ctx: ToolContext) -> ImageBackend:
    """The session's image backend: handed in by the caller (tests, benchmarks) or made
    once from the settings and kept in ``ctx.services``."""
    backend = ctx.services.image
    if backend is None:
        backend, note = make_backend(ctx.settings)
        ctx.services.image = backend
        # Said once: with the first picture of a session made in this process.
        if note and not ctx.store.recent_artworks(ctx.actor, ctx.session, 1, kind="image"):
            ctx.services.notes.append(note)
    return backend


def make_backend(settings: Settings) -> tuple[ImageBackend, str | None]:
    """(backend, a note to tell the user once) for ``MUSEFORGE_IMAGE_BACKEND``."""
    from museforge.models.image.procedural import ProceduralPainter

    choice, model = settings.image_backend, settings.image_model
    if choice == "procedural":
        return ProceduralPainter(), None
    if choice == "openai":
        from museforge.models.image.openai_backend import OpenAIImageBackend

        return OpenAIImageBackend.from_settings(settings), None
    from museforge.models.image.presets import local_weights

    if choice == "auto" and local_weights(model) is None:
        return ProceduralPainter(), (
            f"(The image model '{model}' is not on this machine, so I'm using the built-in "
            f"procedural painter. `museforge models pull {model}` fetches the real one.)")
    from museforge.models.image.diffusers_backend import DiffusersBackend

    return DiffusersBackend(model, device=settings.device), None


def gan_upscaler(ctx: ToolContext, factor: int) -> GanUpscaler | None:
    """The GAN upscaler for ``factor`` (``GanUpscaler``): handed in by the caller as
    ``ctx.services.upscaler``, else the one ``MUSEFORGE_UPSCALER`` names (``auto``: a
    Real-ESRGAN preset whose file is on this machine), kept in ``ctx.services``. None: the
    image backend upscales (Lanczos, or the SD x2 latent upscaler)."""
    handed = ctx.services.upscaler
    if handed is not None:
        return handed
    from museforge.models.image.upscalers import GanUpscaler, UpscaleConfig

    try:
        config = UpscaleConfig.from_settings(ctx.settings)
        weights = config.weights_for(factor)
        if weights is None:
            return None
        made = ctx.services.upscalers
        key = (weights, config.tile, config.overlap)
        if key not in made:
            made[key] = GanUpscaler(weights, device=ctx.settings.device,
                                    tile=config.tile, overlap=config.overlap)
        return made[key]
    except ImageBackendError as exc:
        raise ToolError(str(exc)) from exc


def run_control(ctx: ToolContext, what: str) -> RunControl:
    return RunControl(progress=lambda i, n: ctx.report(what, i, n), cancel=ctx.cancel)


def call_backend(fn: Callable[[], ImageResult]) -> ImageResult:
    """Run a backend call, turning its errors into ones the user can act on."""
    try:
        return fn()
    except GenerationCancelled as exc:
        raise Cancelled() from exc
    except ContentFlagged as exc:
        raise ToolError(f"the safety checker flagged the result, so it was not kept ({exc})") \
            from exc
    except (ImageBackendError, EditError) as exc:
        raise ToolError(str(exc)) from exc


@dataclass
class Source:
    art: ArtworkInfo
    version: VersionInfo
    image: Image.Image

    @property
    def prompt(self) -> str:
        """The words this version was painted from (what edits build on)."""
        return str(self.version.recipe.get("prompt") or self.art.prompt or self.art.title)

    def describe(self) -> dict[str, Any]:
        return source_record(self.art, self.version, "png")


def load_source(ctx: ToolContext, ref: str) -> Source:
    art, version = ctx.resolve(ref)
    if art.kind != "image":
        raise ToolError(f"#{art.number} is {art.kind}, not an image")
    path = version.files.get("png")
    if path is None:
        raise ToolError(f"#{art.number} v{version.number} has no PNG file")
    try:
        with Image.open(path) as im:
            image = im.convert("RGB")
    except OSError as exc:
        raise ToolError(f"the file of #{art.number} v{version.number} cannot be read: "
                        f"{exc}") from exc
    return Source(art, version, image)


def check_size(width: int, height: int) -> None:
    if width > MAX_SIDE or height > MAX_SIDE:
        raise ToolError(f"that would make a {width}×{height} image; the limit is "
                        f"{MAX_SIDE} px a side")


def png(image: Image.Image, recipe: dict[str, Any]) -> bytes:
    """The PNG with the recipe in its text chunks (deterministic bytes)."""
    from museforge.models.media import png_bytes

    return png_bytes(image, text={"parameters": a1111_parameters(recipe),
                                  "museforge": json.dumps(recipe, sort_keys=True, default=str)})


def a1111_parameters(recipe: dict[str, Any]) -> str:
    """The recipe the way AUTOMATIC1111 writes it, which InvokeAI and most readers parse."""
    backend = recipe.get("backend", {})
    args = recipe.get("args", {})
    lines = [str(recipe.get("prompt", args.get("prompt", "")))]
    if args.get("negative_prompt"):
        lines.append(f"Negative prompt: {args['negative_prompt']}")
    fields = [("Steps", backend.get("steps")), ("Sampler", backend.get("scheduler")),
              ("CFG scale", backend.get("guidance")), ("Seed", recipe.get("seed")),
              ("Size", "x".join(str(v) for v in recipe.get("size", [])) or None),
              ("Model", backend.get("model") or backend.get("backend")),
              ("Denoising strength", recipe.get("strength")),
              ("Operation", recipe.get("tool"))]
    lines.append(", ".join(f"{k}: {v}" for k, v in fields if v not in (None, "")))
    return "\n".join(lines)


def recipe_for(tool: str, args: dict[str, Any], result: ImageResult, index: int,
               image: Image.Image, sources: list[Source], prompt: str,
               **extra: Any) -> dict[str, Any]:
    return {"tool": tool, "args": args, "seed": result.seeds[index] if result.seeds else None,
            "index": index, "prompt": prompt, "size": [image.width, image.height],
            "sources": [s.describe() for s in sources], "backend": result.recipe, **extra}


def store_new_artwork(ctx: ToolContext, title: str, prompt: str, recipe: dict[str, Any],
                      image: Image.Image) -> Artifact:
    art, version = ctx.store.create_artwork(
        ctx.actor, ctx.session, "image", title=title[:TITLE_CHARS], prompt=prompt,
        operation=recipe["tool"], recipe=recipe,
        files={"png": FileIn(png(image, recipe), "image/png")}, message_id=ctx.message_id)
    return Artifact.of(art, version)


def store_new_version(ctx: ToolContext, source: Source, recipe: dict[str, Any],
                      image: Image.Image) -> Artifact:
    version = ctx.store.add_version(
        ctx.actor, ctx.session, source.art.number, operation=recipe["tool"], recipe=recipe,
        files={"png": FileIn(png(image, recipe), "image/png")}, parent=source.version.number,
        message_id=ctx.message_id)
    art = ctx.store.artwork(ctx.actor, ctx.session, source.art.number)
    return Artifact.of(art, version)


def kept(result: ImageResult) -> tuple[list[int], str]:
    """Indexes of images the safety checker passed, and a sentence on the others."""
    keep = [i for i, flagged in enumerate(result.flagged) if not flagged]
    withheld = len(result.images) - len(keep)
    if not keep:
        raise ToolError("the safety checker flagged every image, so none was kept; try "
                        "other words")
    note = f" {withheld} image{'s were' if withheld > 1 else ' was'} withheld by the " \
           "safety checker." if withheld else ""
    return keep, note


def import_image(ctx: ToolContext, path: Path, dry_run: bool = False) -> Artifact | None:
    """Bring a person's image file in as a new artwork, through the safe loader only."""
    from museforge.models.media import MediaError, load_image

    data = path.read_bytes()
    try:
        image = load_image(data, filename=path.name)
    except MediaError as exc:
        raise ToolError(str(exc)) from exc
    if dry_run:
        return None
    title = file_title(path, "image")
    recipe = {"tool": "import", "args": {}, "prompt": "", "size": [image.width, image.height],
              "sources": [], "original_sha256": hashlib.sha256(data).hexdigest(),
              "backend": {"backend": "import"}}
    return store_new_artwork(ctx, title, "", recipe, image)
