"""The OpenAI Images API (``/images/generations`` and ``/images/edits``) as an image
backend, through the ``openai`` client, at api.openai.com or any server that speaks the
same API (the base URL is a setting).

What the API does not do is done here and said in the recipe's notes: it takes no seed
(results are not reproducible), makes a few fixed sizes (the nearest is sent), has no
strength (img2img turns it into words) and no upscaler (Lanczos, locally). Its mask is
transparent where to paint, so our mask (white = repaint) becomes alpha 0 there, and the
pixels outside the mask are put back afterwards (the API treats the mask as a guide).
"""

from __future__ import annotations

import base64
import binascii
import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PIL import Image

from museforge.models.image.base import (
    ContentFlagged,
    GenerateRequest,
    ImageBackendError,
    ImageResult,
    LearntData,
    RunControl,
    TrainRequest,
)
from museforge.urls import public_url

if TYPE_CHECKING:
    from museforge.config import Settings

DEFAULT_MODEL = "gpt-image-1"
DEFAULT_TIMEOUT_S = 180.0  # a high-quality gpt-image-1 picture can take a minute or more
DEFAULT_RETRIES = 2
DEFAULT_URL = "https://api.openai.com/v1"
NO_SEED = "the OpenAI API takes no seed: results are not reproducible"
FLAGGED_CODES = frozenset({"content_policy_violation", "moderation_blocked"})
KEY_HINT = "set MUSEFORGE_IMAGE_API_KEY (or OPENAI_API_KEY)"

Size = tuple[int, int]


@dataclass(frozen=True)
class Family:
    """What one family of models accepts."""

    sizes: tuple[Size, ...] | None  # None: any size, sent as asked
    b64: dict[str, str] = field(default_factory=dict)  # the parameter that asks for base64 PNG
    max_n: int = 10
    edits: bool = True


# GPT image models always answer in base64 and refuse ``response_format``.
GPT_IMAGE = Family(((1024, 1024), (1536, 1024), (1024, 1536)), {"output_format": "png"})
DALL_E_3 = Family(((1024, 1024), (1792, 1024), (1024, 1792)),
                  {"response_format": "b64_json"}, max_n=1, edits=False)
DALL_E_2 = Family(((256, 256), (512, 512), (1024, 1024)), {"response_format": "b64_json"})
# Other OpenAI-compatible servers (LocalAI and the like) take any size and DALL-E's fields.
COMPATIBLE = Family(None, {"response_format": "b64_json"})


def family(model: str) -> Family:
    name = model.lower()
    if name.startswith("dall-e-3"):
        return DALL_E_3
    if name.startswith("dall-e-2"):
        return DALL_E_2
    if "gpt-image" in name or name.startswith("chatgpt-image"):
        return GPT_IMAGE
    return COMPATIBLE


def nearest_size(width: int, height: int, sizes: tuple[Size, ...]) -> Size:
    """The supported size closest in aspect ratio, then in area."""
    aspect, area = width / height, width * height
    return min(sizes, key=lambda s: (round(abs(math.log(s[0] / s[1] / aspect)), 6),
                                     abs(math.log(s[0] * s[1] / area))))



def api_mask(mask: Image.Image, size: Size) -> Image.Image:
    """Our mask (mode L, white = repaint) as the API's: RGBA, alpha 0 where to paint."""
    repaint = mask.convert("L").resize(size, Image.Resampling.NEAREST)
    out = Image.new("RGBA", size, (0, 0, 0, 255))
    out.putalpha(repaint.point(lambda v: 0 if v >= 128 else 255))
    return out


NO_TRAINING = ("the OpenAI image backend cannot learn a style: the Images API trains "
               "nothing on your pictures. Learn it with a local model "
               "(MUSEFORGE_IMAGE_BACKEND=diffusers or auto, or the built-in painter).")


def _no_learnt(req: GenerateRequest) -> None:
    if req.learnt:
        raise ImageBackendError("the OpenAI image backend cannot paint with a learnt style; "
                                "use the backend that learnt it")


class OpenAIImageBackend:
    """An ``ImageBackend`` over the OpenAI Images API. ``client`` is an ``openai.OpenAI``
    or a base URL (``None``: the client's default, api.openai.com or OPENAI_BASE_URL)."""

    name = "openai"
    default_size = 1024  # the side the tools ask for when only an aspect is given

    def __init__(self, client: Any = None, api_key: str | None = None, *,
                 model: str = DEFAULT_MODEL, timeout: float = DEFAULT_TIMEOUT_S,
                 retries: int = DEFAULT_RETRIES) -> None:
        self._client = None if client is None or isinstance(client, str) else client
        self.base_url: str | None = (str(self._client.base_url) if self._client is not None
                                     else client)
        self.api_key = api_key
        self.model = model
        self.timeout = timeout
        self.retries = retries
        self.family = family(model)

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIImageBackend:
        """From MUSEFORGE_IMAGE_API_BASE_URL, _KEY (else the LLM key, which is
        OPENAI_API_KEY when that alone is set), _MODEL, _TIMEOUT_S and _RETRIES. Never
        raises: a missing key is said when a picture is asked for."""
        secret = settings.image_api_key or settings.llm_api_key
        return cls(settings.image_api_base_url,
                   secret.get_secret_value() if secret is not None else None,
                   model=settings.image_api_model or DEFAULT_MODEL,
                   timeout=settings.image_api_timeout_s, retries=settings.image_api_retries)

    @property
    def url(self) -> str:
        # The openai client reads OPENAI_BASE_URL itself when given no URL: say that one.
        raw = self.base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_URL
        return public_url(raw)

    # -- the protocol ------------------------------------------------------------------

    def train_style(self, req: TrainRequest, run: RunControl | None = None) -> LearntData:
        raise ImageBackendError(NO_TRAINING)

    def generate(self, req: GenerateRequest, run: RunControl | None = None) -> ImageResult:
        _no_learnt(req)
        run = run or RunControl()
        size, notes = self._size(req.width, req.height)
        prompt = _prompt(req.styled_prompt, req.negative_prompt)
        images, revised = self._batched("generate", run, req.count, prompt=prompt, size=size)
        recipe = self._recipe("text2img", req, prompt, size, notes, revised)
        return ImageResult(images, _seeds(req, len(images)), recipe)

    def img2img(self, image: Image.Image, req: GenerateRequest, strength: float,
                run: RunControl | None = None) -> ImageResult:
        if strength < 0.5:
            change = f"Keep this picture's composition, subjects and colours; refine it " \
                     f"toward: {req.styled_prompt}"
        else:
            change = f"Re-imagine this picture freely, using it only as a loose starting " \
                     f"point, as: {req.styled_prompt}"
        prompt = _prompt(change, req.negative_prompt)
        note = (f"the API has no strength: {strength:g} became words ('keep the composition' "
                "below 0.5, 're-imagine freely' from 0.5)")
        return self._edit("img2img", image, None, prompt, req, run, [note], strength=strength)

    def edit(self, image: Image.Image, instruction: str, req: GenerateRequest,
             strength: float, run: RunControl | None = None) -> ImageResult:
        out = self._edit("edit", image, None, instruction, req.with_(count=1), run,
                         [f"the API has no strength: {strength:g} was not applied"],
                         strength=strength)
        # What the picture now shows, for the edits that build on it.
        out.recipe["prompt"] = f"{req.prompt}, {instruction}" if req.prompt else instruction
        return out

    def inpaint(self, image: Image.Image, mask: Image.Image, req: GenerateRequest,
                run: RunControl | None = None) -> ImageResult:
        prompt = _prompt(req.styled_prompt, req.negative_prompt)
        note = "outside the mask the original pixels were put back (the API's mask is a guide)"
        return self._edit("inpaint", image, mask, prompt, req, run, [note])

    def upscale(self, image: Image.Image, factor: int, req: GenerateRequest,
                run: RunControl | None = None) -> ImageResult:
        run = run or RunControl()
        run.step(0, 1)
        big = image.convert("RGB").resize((image.width * factor, image.height * factor),
                                          Image.Resampling.LANCZOS)
        run.step(1, 1)
        recipe = {"backend": "openai", "mode": "upscale", "factor": factor,
                  "prompt": req.prompt, "size": [big.width, big.height],
                  "notes": ["the OpenAI Images API has no upscaler: Lanczos resampling here"]}
        return ImageResult([big], [req.seed], recipe)

    # -- the requests ------------------------------------------------------------------

    def _edit(self, mode: str, image: Image.Image, mask: Image.Image | None, prompt: str,
              req: GenerateRequest, run: RunControl | None, notes: list[str],
              **extra: Any) -> ImageResult:
        _no_learnt(req)
        from museforge.models.media import png_bytes

        run = run or RunControl()
        if not self.family.edits:
            raise ImageBackendError(
                f"{self.model} cannot edit pictures; set MUSEFORGE_IMAGE_API_MODEL to "
                f"{DEFAULT_MODEL} (or dall-e-2) for edits, variations and inpainting")
        source = image.convert("RGB")
        size, size_notes = self._size(source.width, source.height)
        files: dict[str, Any] = {"image": ("image.png", png_bytes(source), "image/png")}
        if mask is not None:
            files["mask"] = ("mask.png", png_bytes(api_mask(mask, source.size)), "image/png")
        images, revised = self._batched("edit", run, req.count, prompt=prompt, size=size,
                                        **files)
        if any(im.size != source.size for im in images):
            notes.append(f"the API returned {images[0].width}×{images[0].height}; resized "
                         f"to the picture's {source.width}×{source.height}")
            images = [im.resize(source.size, Image.Resampling.LANCZOS) for im in images]
        if mask is not None:
            keep = mask.convert("L").resize(source.size, Image.Resampling.BILINEAR)
            images = [Image.composite(im, source, keep) for im in images]
        recipe = self._recipe(mode, req.with_(width=source.width, height=source.height),
                              prompt, size, notes + size_notes, revised, **extra)
        return ImageResult(images, _seeds(req, len(images)), recipe)

    def _batched(self, endpoint: str, run: RunControl, count: int,
                 **params: Any) -> tuple[list[Image.Image], list[str]]:
        """``count`` pictures in as few requests as the model allows (dall-e-3: one each),
        and the prompts the API says it used."""
        per = min(count, self.family.max_n)
        calls = math.ceil(count / per)
        images: list[Image.Image] = []
        revised: list[str] = []
        for i in range(calls):
            n = min(per, count - len(images))
            got, words = self._decode(self._call(endpoint, run, i, calls, n=n, **params,
                                                 **self.family.b64))
            images += got
            revised += words
        return images, revised

    def _call(self, endpoint: str, run: RunControl, i: int, calls: int, **params: Any) -> Any:
        """One request, with cancellation checked before and after it."""
        client = self._api()
        import openai

        run.step(i, calls)
        api = client.images.generate if endpoint == "generate" else client.images.edit
        try:
            response = api(model=self.model, **params)
        except openai.APITimeoutError as exc:
            raise ImageBackendError(
                f"the image API at {self.url} did not answer within {self.timeout:g} s "
                f"({self.retries + 1} tries)") from exc
        except openai.APIConnectionError as exc:
            detail = str(exc.__cause__ or exc)
            if self.base_url:
                detail = detail.replace(self.base_url, self.url)
            raise ImageBackendError(f"cannot reach the image API at {self.url}: {detail}") \
                from exc
        except openai.APIStatusError as exc:
            raise self._status_error(exc) from exc
        run.step(i + 1, calls)
        return response

    def _api(self) -> Any:
        if self._client is None:
            try:
                import openai
            except ImportError as exc:
                raise ImageBackendError("the openai image backend needs the openai package: "
                                        "pip install 'museforge[llm]'") from exc
            if not self.api_key:
                raise ImageBackendError(
                    f"the openai image backend needs an API key: {KEY_HINT} (any value for "
                    "a local server that checks none)")
            self._client = openai.OpenAI(api_key=self.api_key, base_url=self.base_url,
                                         timeout=self.timeout, max_retries=self.retries)
        return self._client

    def _status_error(self, exc: Any) -> ImageBackendError:
        body = exc.body if isinstance(exc.body, dict) else {}
        message = str(body.get("message") or exc.message)
        code = body.get("code") or exc.code
        status = exc.status_code
        if status == 400 and code in FLAGGED_CODES:
            return ContentFlagged(message)
        if status == 401:  # the API's text may echo part of the key: not repeated
            return ImageBackendError(f"the image API refused the key (401); {KEY_HINT} to a "
                                     f"key that {self.url} accepts")
        if status == 403:
            return ImageBackendError(f"the image API at {self.url} does not let this key use "
                                     f"{self.model} (403): {message}")
        if status == 404:
            return ImageBackendError(f"the image API at {self.url} has no model "
                                     f"'{self.model}' or no images endpoint (404): {message}")
        if status == 429:
            return ImageBackendError(f"the image API is still rate-limiting this key (429) "
                                     f"after {self.retries} retries: {message}; try again in "
                                     "a minute")
        return ImageBackendError(f"the image API refused the request ({status}): {message}")

    @staticmethod
    def _decode(response: Any) -> tuple[list[Image.Image], list[str]]:
        from museforge.models.media import MediaError, load_image

        data = list(getattr(response, "data", None) or [])
        if not data:
            raise ImageBackendError("the image API answered with no images")
        images, revised = [], []
        for item in data:
            if not item.b64_json:
                raise ImageBackendError("the image API answered with a link instead of the "
                                        "image data, which this backend does not fetch")
            try:
                images.append(load_image(base64.b64decode(item.b64_json, validate=True)))
            except (binascii.Error, MediaError) as exc:
                raise ImageBackendError(f"the image API sent an image that cannot be read: "
                                        f"{exc}") from exc
            if getattr(item, "revised_prompt", None):
                revised.append(str(item.revised_prompt))
        return images, revised

    def _size(self, width: int, height: int) -> tuple[str, list[str]]:
        if self.family.sizes is None:
            return f"{width}x{height}", []
        w, h = nearest_size(width, height, self.family.sizes)
        if (w, h) == (width, height):
            return f"{w}x{h}", []
        return f"{w}x{h}", [f"{width}×{height} was asked; {self.model} makes {w}×{h}, the "
                            "nearest size it supports"]

    def _recipe(self, mode: str, req: GenerateRequest, prompt: str, size: str,
                notes: list[str], revised: list[str], **extra: Any) -> dict[str, Any]:
        import openai

        recipe: dict[str, Any] = {
            "backend": "openai", "model": self.model, "base_url": self.url, "mode": mode,
            "prompt": req.prompt, "sent_prompt": prompt, "style": req.style,
            "size_asked": [req.width, req.height], "size_sent": size, "seed": req.seed,
            "openai": openai.__version__, "notes": [NO_SEED, *notes], **extra}
        if revised:
            recipe["revised_prompts"] = revised
        return recipe


def _prompt(text: str, negative: str) -> str:
    """The API has no negative prompt: it is folded into the words."""
    return f"{text}. Avoid: {negative}" if negative.strip() else text


def _seeds(req: GenerateRequest, n: int) -> list[int]:
    # Recorded for the tools' bookkeeping only: the API takes no seed (NO_SEED).
    return [req.seed + i for i in range(n)]
