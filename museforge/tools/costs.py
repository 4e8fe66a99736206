"""What a call will cost, estimated from its arguments before it runs, and the budget
of a turn: the estimated generation seconds one message may spend
(``MUSEFORGE_TURN_BUDGET_S``). A call whose estimate does not fit in what is left is
refused with one sentence; the calls that fit still run, cheap ones (undo, an
adjustment) too.

The model is deliberately small, one line per tool, in CPU-seconds of this process:

- music: ``MODEL_S_PER_BAR[tool]`` for each bar the melody model writes or re-writes,
  plus ``RENDER_S_PER_SECOND`` for each second of music stored (MIDI, audio, OGG, piano
  roll), times the pieces made (``count`` variations, ``steps`` of an interpolation);
- images: ``steps × megapixels × count`` at the backend's rate (diffusers: by device;
  the procedural painter: a small rate per megapixel; a remote API: a fixed wait);
- audio: MusicGen per second made; Stable Audio Open per step and ACE-Step per step and
  second, by device and by the size of the model's transformer; loading the first time;
- history and listing: nothing.

The figures were measured once (``bench/costs.py`` prints measured CPU-s beside these
estimates); they are meant to be right within a factor of two, not exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from museforge.tools.base import ToolContext, ToolError

if TYPE_CHECKING:
    from museforge.config import Settings
    from museforge.tools.base import Args, Tool

DEFAULT_TURN_BUDGET_S = 120.0

# Music, measured with the numpy renderer (FluidSynth renders faster) and the committed
# model at torch's default threads, as the tools run it. Composing samples 8 melodies
# per 2-bar window; a variation encodes and decodes each window once; an interpolation
# encodes both pieces' windows and decodes each step's.
MODEL_S_PER_BAR = {"compose_music": 0.25, "vary_music": 0.12, "continue_music": 0.12,
                   "interpolate_music": 0.25, "edit_music": 0.0}
RENDER_S_PER_SECOND = 0.01
PIECE_S = 0.3  # storing a version: three files, two rows

# Images, seconds per denoising step per megapixel, by device; per image for the others.
DIFFUSERS_S_PER_STEP_MP = {"cuda": 0.15, "mps": 1.5, "cpu": 8.0}
DIFFUSERS_DEFAULT_STEPS = 25  # a model that is not a preset (diffusers_backend.py)
DIFFUSERS_EDIT_STEPS = 20  # instruct-pix2pix, the latent upscaler
PAINTER_S_PER_MP = 0.15
REMOTE_S_PER_IMAGE = 15.0
PILLOW_S = 0.3  # adjust_image, add_text, a reframe that only crops or pads

# learn_style (music): seconds per training step on the committed model (a batch of 32
# two-bar phrases, one thread; bench/style.py measured 0.13 s on 6/8's 24-step windows),
# and the figures before and after (held-out reconstruction, two sets of prior samples).
FINETUNE_S_PER_STEP = 0.15
FINETUNE_FIXED_S = 6.0
# learn_style (pictures): a LoRA step costs about LORA_STEP_FACTOR denoising steps at the
# training size (forward and backward); copying the UNet and the adapter file, fixed; the
# VAE and text encoders once per picture. The painter only measures each picture.
LORA_STEP_FACTOR = 3.0
LORA_FIXED_S = 10.0
LORA_ENCODE_S = 0.5
PAINTER_LEARN_S_PER_IMAGE = 0.1

# Audio: edits in numpy per second of the clip (the tempo change is most of it, with the
# three files written); MusicGen per second of audio made, by device, plus loading it.
AUDIO_EDIT_S_PER_SECOND = 0.02
MUSICGEN_S_PER_SECOND = {"cuda": 0.5, "mps": 4.0, "cpu": 12.0}
MUSICGEN_LOAD_S = 10.0
# Stable Audio Open and ACE-Step (diffusers pipelines): per denoising step and per GB of
# the pipeline's transformer weights, whose size is what a step costs (a tiny test model
# costs next to nothing). Stable Audio Open denoises its whole window (47.5 s) whatever
# the clip's length, so its steps cost the same for 1 s or 30 s; ACE-Step's latents are
# as long as the clip, so its steps are counted per second of audio. From the released
# weights: Stable Audio Open 1.0 (a 4.2 GB transformer, 100 steps with guidance, ~8 s on
# a datacentre GPU), ACE-Step 1.5 XL turbo (~10 GB, 8 steps without guidance, a 30 s song
# in ~2 s); CPU and MPS about 50 and 10 times slower. Loading reads every component.
STABLE_AUDIO_S_PER_STEP_GB = {"cuda": 0.02, "mps": 0.2, "cpu": 1.0}
ACE_STEP_S_PER_STEP_SECOND_GB = {"cuda": 0.001, "mps": 0.01, "cpu": 0.05}
PIPELINE_LOAD_S_PER_GB = 2.0
OTHER_AUDIO_S_PER_SECOND = 0.1  # a caller's own generator (tests, a remote service)


@dataclass
class TurnBudget:
    """The estimated seconds one turn may still spend; ``charge`` refuses a call that
    does not fit, before it starts, and counts the ones that do."""

    limit_s: float = DEFAULT_TURN_BUDGET_S
    spent_s: float = 0.0

    @classmethod
    def for_settings(cls, settings: Settings) -> TurnBudget:
        return cls(settings.turn_budget_s)

    def charge(self, tool: Tool, ctx: ToolContext, args: Args) -> float:
        cost = estimate(tool.name, ctx, args)
        left = self.limit_s - self.spent_s
        if cost > left:
            setting = "(MUSEFORGE_TURN_BUDGET_S sets the budget)"
            if cost > self.limit_s:
                raise ToolError(f"that would take about {_s(cost)} of generation, more than "
                                f"the {_s(self.limit_s)} one message may use: "
                                f"{CHEAPER.get(tool.name, 'ask for less')} {setting}")
            raise ToolError(f"that would take about {_s(cost)} of generation and this "
                            f"message has {_s(max(0.0, left))} of its {_s(self.limit_s)} "
                            f"left; ask for it in another message {setting}")
        self.spent_s += cost
        return cost


def _s(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"


def estimate(name: str, ctx: ToolContext, args: Args) -> float:
    """The estimated seconds a call of tool ``name`` with ``args`` will take (0 for tools
    that make nothing). Music estimates refuse a piece that would be too long, at once."""
    fn = ESTIMATES.get(name)
    return fn(ctx, args) if fn is not None else 0.0


# -- music -------------------------------------------------------------------------------


def _piece(tool: str, bars: float, seconds: float) -> float:
    return MODEL_S_PER_BAR[tool] * bars + RENDER_S_PER_SECOND * seconds + PIECE_S


def _compose(ctx: ToolContext, args: Any) -> float:
    from museforge.tools.music_tools import check_compose_length

    p = check_compose_length({**args.model_dump(), "seed": args.seed or 0})
    return _piece("compose_music", p.bars, p.seconds)


def _edit_music(ctx: ToolContext, args: Any) -> float:
    from museforge.tools.music_support import length_of

    length = length_of(ctx, args.artwork)
    tempo = args.tempo or length.tempo * (args.tempo_scale or 1.0)
    beats = args.bars * length.beats_per_bar if args.bars else length.beats
    return _piece("edit_music", 0, beats * 60.0 / tempo)  # the edits cost next to nothing


def _vary_music(ctx: ToolContext, args: Any) -> float:
    from museforge.tools.music_support import length_of

    length = length_of(ctx, args.artwork)
    return args.count * _piece("vary_music", length.bars, length.seconds)


def _continue_music(ctx: ToolContext, args: Any) -> float:
    from museforge.tools.music_support import length_of

    length = length_of(ctx, args.artwork)
    total = (length.bars + args.bars) * length.beats_per_bar * 60.0 / length.tempo
    return _piece("continue_music", args.bars, total)


def _interpolate_music(ctx: ToolContext, args: Any) -> float:
    from museforge.tools.music_support import length_of

    a, b = length_of(ctx, args.artwork_a), length_of(ctx, args.artwork_b)
    bars = min(a.bars, b.bars)
    return args.steps * _piece("interpolate_music", bars, bars * a.beats_per_bar * 60.0 / a.tempo)


# -- images ------------------------------------------------------------------------------


def _rate(ctx: ToolContext, steps: int | None, edit: bool = False) -> tuple[float, float]:
    """(seconds per megapixel, seconds per image) of the session's image backend for a
    call of ``steps`` (None: the model's default)."""
    from museforge.tools.image_support import image_backend

    backend = image_backend(ctx)
    if backend.name == "procedural":
        return PAINTER_S_PER_MP, 0.0
    if backend.name == "diffusers":
        from museforge.models.image.diffusers_backend import DiffusersBackend
        from museforge.models.image.presets import PRESETS

        device = "cpu"
        if isinstance(backend, DiffusersBackend):
            device = backend.plan.device.split(":")[0]
        preset = PRESETS.get(ctx.settings.image_model)
        default = DIFFUSERS_EDIT_STEPS if edit else \
            (preset.steps if preset else DIFFUSERS_DEFAULT_STEPS)
        per_step = DIFFUSERS_S_PER_STEP_MP.get(device, DIFFUSERS_S_PER_STEP_MP["cpu"])
        return per_step * (steps or default), 0.0
    return 0.0, REMOTE_S_PER_IMAGE


def _image_mp(ctx: ToolContext, ref: str) -> float:
    _, version = ctx.resolve(ref)
    size = version.recipe.get("size") or [512, 512]
    return float(size[0]) * float(size[1]) / 1e6


def _images(ctx: ToolContext, megapixels: float, count: int, steps: int | None = None,
            edit: bool = False) -> float:
    per_mp, per_image = _rate(ctx, steps, edit)
    return count * (per_mp * megapixels + per_image)


def _generate_image(ctx: ToolContext, args: Any) -> float:
    from museforge.models.image.editor import EditError, size_for
    from museforge.tools.image_support import image_backend

    base = int(getattr(image_backend(ctx), "default_size", 512))
    try:
        width, height = size_for(args.aspect, base, args.width, args.height)
    except EditError:
        width = height = base  # the tool itself says what is wrong with the size
    return _images(ctx, width * height / 1e6, args.count, args.steps)


def _vary_image(ctx: ToolContext, args: Any) -> float:
    return _images(ctx, _image_mp(ctx, args.artwork), args.count)


def _one_image(ctx: ToolContext, args: Any) -> float:  # edit_image, inpaint_image
    return _images(ctx, _image_mp(ctx, args.artwork), 1, edit=True)


def _upscale_image(ctx: ToolContext, args: Any) -> float:
    return _images(ctx, _image_mp(ctx, args.artwork) * args.factor ** 2, 1, edit=True)


def _blend_images(ctx: ToolContext, args: Any) -> float:
    return _images(ctx, _image_mp(ctx, args.artworks[0]), 1)


def _reframe_image(ctx: ToolContext, args: Any) -> float:
    if not args.zoom_out:
        return PILLOW_S
    return _images(ctx, _image_mp(ctx, args.artwork) * args.zoom_out ** 2, 1, edit=True)


def _pillow(ctx: ToolContext, args: Any) -> float:
    return PILLOW_S


def _harmonise_music(ctx: ToolContext, args: Any) -> float:
    from museforge.tools.music_support import length_of

    length = length_of(ctx, args.artwork)  # arranging is cheap; the render is the cost
    return _piece("edit_music", 0, length.beats * 60.0 / length.tempo)


def _small_piece(ctx: ToolContext, args: Any) -> float:  # import_melody, export_music
    return PIECE_S


def _learn_style(ctx: ToolContext, args: Any) -> float:
    if args.kind == "image" or _all_pictures(ctx, args.artworks):
        return _learn_picture_style(ctx, args)
    return FINETUNE_FIXED_S + FINETUNE_S_PER_STEP * (args.steps or 300) + PIECE_S


def _all_pictures(ctx: ToolContext, refs: list[str]) -> bool:
    from museforge.storage.errors import NotFound

    try:
        return all(ctx.resolve(ref)[0].kind == "image" for ref in refs)
    except NotFound:
        return False  # the tool itself says which one is missing


def _learn_picture_style(ctx: ToolContext, args: Any) -> float:
    """A LoRA training step is a forward and a backward pass of the UNet (about three
    denoising steps) at the training size; the painter measures each picture once."""
    from museforge.models.image.base import ImageBackendError
    from museforge.models.image.lora import FAMILY_DEFAULTS
    from museforge.tools.image_support import image_backend

    try:
        backend = image_backend(ctx)
    except ImageBackendError:
        return 0.0  # no weights: the tool refuses at once and says why
    pictures = len(args.artworks)
    if backend.name == "procedural":
        return PAINTER_LEARN_S_PER_IMAGE * pictures + PIECE_S
    if backend.name != "diffusers":
        return 0.0  # refused at once: only local backends learn
    model = ctx.settings.image_model.lower()
    family = "sdxl" if "xl" in model else "sd-turbo" if "turbo" in model else "sd15"
    defaults = FAMILY_DEFAULTS[family]
    size = args.resolution or defaults.resolution
    from museforge.models.image.diffusers_backend import DiffusersBackend

    device = backend.plan.device.split(":")[0] if isinstance(backend, DiffusersBackend) \
        else "cpu"
    per_step = DIFFUSERS_S_PER_STEP_MP.get(device, DIFFUSERS_S_PER_STEP_MP["cpu"])
    steps = args.steps or defaults.steps
    return (LORA_FIXED_S + LORA_STEP_FACTOR * per_step * size * size / 1e6 * steps
            + LORA_ENCODE_S * pictures)


# -- audio -------------------------------------------------------------------------------


def _clip_seconds(ctx: ToolContext, ref: str) -> float:
    art, version = ctx.resolve(ref)
    if art.kind == "music":
        from museforge.tools.music_support import length_of

        return length_of(ctx, ref).seconds
    return float(version.recipe.get("seconds") or 0.0)


def _edit_audio(ctx: ToolContext, args: Any) -> float:
    seconds = _clip_seconds(ctx, args.artwork)
    if args.tempo_scale:
        seconds /= args.tempo_scale
    seconds = max(seconds, args.loop_to or 0.0)
    if args.mix_with:
        mixed = _clip_seconds(ctx, args.mix_with)
        seconds = max(seconds, mixed) + RENDER_S_PER_SECOND * mixed / AUDIO_EDIT_S_PER_SECOND
    return AUDIO_EDIT_S_PER_SECOND * seconds + PIECE_S


def _generate_audio(ctx: ToolContext, args: Any) -> float:
    """The backend the tool will use (opened as the tool opens it, without loading the
    weights), at its device: MusicGen per second made, Stable Audio Open per step, ACE-Step
    per step and second, both scaled by their transformer's size; loading counts the first
    time a backend is used (or for a model named for this call)."""
    from museforge.models.audio.generation import (
        ACE_STEP,
        MUSICGEN,
        STABLE_AUDIO,
        pipeline_weight_bytes,
    )
    from museforge.tools.audio_tools import audio_generator

    handed = ctx.services.audio_melody if args.melody_from else ctx.services.audio
    fresh = handed is None or args.model is not None
    try:
        backend = audio_generator(ctx, melody=bool(args.melody_from), model=args.model)
    except ToolError:
        return 0.0  # no weights, or no melody to follow: the tool refuses at once, and why
    plan = getattr(backend, "plan", None)
    device = plan.device.split(":")[0] if plan is not None else "cpu"
    name = getattr(backend, "name", "")
    if name == MUSICGEN:
        per_second = MUSICGEN_S_PER_SECOND.get(device, MUSICGEN_S_PER_SECOND["cpu"])
        return per_second * args.seconds + (MUSICGEN_LOAD_S if fresh else 0.0)
    if name not in (STABLE_AUDIO, ACE_STEP):
        return OTHER_AUDIO_S_PER_SECOND * args.seconds
    transformer, total = pipeline_weight_bytes(backend.path)
    steps = args.steps or backend.default_steps
    if name == STABLE_AUDIO:
        rate = STABLE_AUDIO_S_PER_STEP_GB.get(device, STABLE_AUDIO_S_PER_STEP_GB["cpu"])
        work = rate * steps
    else:
        rate = ACE_STEP_S_PER_STEP_SECOND_GB.get(device, ACE_STEP_S_PER_STEP_SECOND_GB["cpu"])
        work = rate * steps * args.seconds
    load = PIPELINE_LOAD_S_PER_GB * total / 1e9 if fresh else 0.0
    return work * transformer / 1e9 + load + PIECE_S


ESTIMATES: dict[str, Callable[[ToolContext, Any], float]] = {
    "compose_music": _compose,
    "edit_music": _edit_music,
    "vary_music": _vary_music,
    "continue_music": _continue_music,
    "interpolate_music": _interpolate_music,
    "generate_image": _generate_image,
    "vary_image": _vary_image,
    "edit_image": _one_image,
    "inpaint_image": _one_image,
    "upscale_image": _upscale_image,
    "blend_images": _blend_images,
    "reframe_image": _reframe_image,
    "adjust_image": _pillow,
    "add_text": _pillow,
    "harmonise_music": _harmonise_music,
    "import_melody": _small_piece,
    "export_music": _small_piece,
    "edit_audio": _edit_audio,
    "generate_audio": _generate_audio,
    "learn_style": _learn_style,
}

# What makes a call too big for a whole turn fit in one.
CHEAPER = {
    "compose_music": "fewer bars or a faster tempo",
    "edit_music": "fewer bars or a faster tempo",
    "vary_music": "fewer variations, or a shorter piece",
    "continue_music": "fewer bars",
    "interpolate_music": "fewer steps, or shorter pieces",
    "generate_image": "fewer pictures, fewer steps or a smaller size",
    "vary_image": "fewer variations",
    "upscale_image": "a smaller factor",
    "generate_audio": "fewer seconds (MusicGen, ACE-Step) or fewer steps (Stable Audio, "
                      "ACE-Step)",
    "edit_audio": "a shorter loop",
    "learn_style": "fewer steps",
}
