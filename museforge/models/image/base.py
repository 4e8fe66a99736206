"""The image backend protocol: what the image tools ask of a generator (diffusers, the
procedural painter, the OpenAI Images API). Backends know nothing of chat or storage;
they take PIL images and requests and give back an ``ImageResult``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

# A finish per style, as words a text-to-image model understands. The procedural painter
# has its own renderer per style; the names are shared.
STYLES: dict[str, str] = {
    "watercolor": "watercolor painting, soft washes, paper texture",
    "oil": "oil painting, thick brush strokes, canvas texture",
    "pixel art": "pixel art, 16-bit, crisp pixels, limited palette",
    "sketch": "pencil sketch, graphite, hand-drawn lines",
    "neon": "neon lights, synthwave, glowing, dark background",
    "minimal": "minimalist, flat shapes, simple composition",
    "photo": "photograph, realistic, detailed, natural light",
    "anime": "anime illustration, cel shading, clean lines",
}

ProgressFn = Callable[[int, int], None]  # (step, total)


class ImageBackendError(Exception):
    """A failure a person can act on (its text is shown as is)."""


class WeightsMissing(ImageBackendError):
    """The model's weights are not on this machine (and cannot be fetched now)."""


class GenerationCancelled(ImageBackendError):
    def __init__(self) -> None:
        super().__init__("cancelled")


class ContentFlagged(ImageBackendError):
    """The safety checker flagged every image of the request."""


@dataclass(frozen=True)
class LearntStyle:
    """A person's learnt picture style, as a request carries it to the backend: the file
    the training made (a LoRA adapter, or the painter's statistics), at a strength."""

    name: str
    version: int
    path: Path
    sha256: str
    weight: float = 1.0
    trainer: str = "diffusers"  # the backend that learnt it (only it can apply it)
    trigger: str | None = None  # a character's trigger word

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "sha256": self.sha256,
                "weight": self.weight, "trainer": self.trainer, "trigger": self.trigger}


@dataclass(frozen=True)
class LearntData:
    """What a backend's training made: the file to keep, its mime type, a sentence on
    what was learnt, and the recipe of the training (base model, hyper-parameters,
    figures)."""

    data: bytes
    mime: str
    learnt: str
    recipe: dict[str, Any]


@dataclass(frozen=True)
class TrainRequest:
    name: str
    images: Sequence[Image.Image]
    captions: Sequence[str]
    steps: int | None = None  # None: the model family's default
    seed: int = 0
    trigger: str | None = None
    resolution: int | None = None  # None: the model family's default
    learning_rate: float | None = None  # None: the model family's default


@dataclass(frozen=True)
class GenerateRequest:
    prompt: str
    negative_prompt: str = ""
    width: int = 512
    height: int = 512
    steps: int | None = None  # None: the model's default
    guidance: float | None = None
    seed: int = 0
    count: int = 1
    style: str | None = None
    learnt: tuple[LearntStyle, ...] = ()  # learnt styles to paint with, combined

    def with_(self, **changes: Any) -> GenerateRequest:
        return replace(self, **changes)

    @property
    def styled_prompt(self) -> str:
        """The prompt with the style's finish words, for models that read text."""
        if self.style and self.style in STYLES:
            return f"{self.prompt}, {STYLES[self.style]}"
        return self.prompt


@dataclass
class ImageResult:
    images: list[Image.Image]
    seeds: list[int]
    # What re-makes these pixels: backend, model id and revision, steps, guidance,
    # scheduler, size, dtype, device, package versions, and notes on fallbacks taken.
    recipe: dict[str, Any] = field(default_factory=dict)
    flagged: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.flagged:
            self.flagged = [False] * len(self.images)


@dataclass
class RunControl:
    """Progress reporting and cancellation, checked between steps."""

    progress: ProgressFn | None = None
    cancel: threading.Event | None = None
    loss: Callable[[int, int, float], None] | None = None  # a training's (step, total, loss)

    def step(self, i: int, n: int) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise GenerationCancelled()
        if self.progress is not None:
            self.progress(i, n)

    def trained(self, i: int, n: int, loss: float) -> None:
        """After training step ``i`` of ``n``: its loss reported, the cancel checked."""
        if self.cancel is not None and self.cancel.is_set():
            raise GenerationCancelled()
        if self.loss is not None:
            self.loss(i, n, loss)
        elif self.progress is not None:
            self.progress(i, n)


class ImageBackend(Protocol):
    name: str

    def generate(self, req: GenerateRequest, run: RunControl | None = None) -> ImageResult:
        """Text to image, ``req.count`` images (seeds ``seed``, ``seed+1``...)."""

    def img2img(self, image: Image.Image, req: GenerateRequest, strength: float,
                run: RunControl | None = None) -> ImageResult:
        """Re-imagine ``image`` under ``req.prompt``; strength 0 keeps it, 1 ignores it."""

    def edit(self, image: Image.Image, instruction: str, req: GenerateRequest,
             strength: float, run: RunControl | None = None) -> ImageResult:
        """Follow an instruction ("make it snowy"); ``req.prompt`` is the original prompt."""

    def inpaint(self, image: Image.Image, mask: Image.Image, req: GenerateRequest,
                run: RunControl | None = None) -> ImageResult:
        """Repaint where ``mask`` (mode L) is white under ``req.prompt``; keep the rest."""

    def upscale(self, image: Image.Image, factor: int, req: GenerateRequest,
                run: RunControl | None = None) -> ImageResult:
        """``factor`` (2 or 4) times the pixels."""

    def train_style(self, req: TrainRequest, run: RunControl | None = None) -> LearntData:
        """Learn a style from ``req.images`` (learn_style); ImageBackendError with the
        reason when this backend cannot. ``run.step`` reports each training step."""
