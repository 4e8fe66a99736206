"""The diffusers image backend: the real path, on the user's GPU (or CPU, slowly).

One model per backend (a preset, a Hugging Face id in the local cache, or a folder),
loaded through the process-wide ``PipelineCache`` and kept; img2img and inpainting
pipelines are made from it with ``from_pipe`` and share its modules. Helper models
(instruct-pix2pix, the x2 latent upscaler, a TAESD decoder) are used when their weights
are on this machine, and the recipe says which path a request took.

Every image ``i`` of a request has its own CPU ``torch.Generator`` seeded ``seed + i``,
so an image can be re-made alone from its seed on any device that gives the same math.

torch and diffusers are imported when a backend is constructed, not when this module
is imported (the CLI and the bots import the tools without loading torch)."""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PIL import Image, ImageFilter

from museforge.models.devices import DevicePlan, detect, empty_cache, plan_device, torch_dtype
from museforge.models.image.base import (
    ContentFlagged,
    GenerateRequest,
    ImageBackendError,
    ImageResult,
    LearntData,
    RunControl,
    TrainRequest,
)
from museforge.models.image.diffusers_util import (
    check_request,
    check_strength,
    fit_to_multiple,
    is_inpaint_model,
    raise_if_cancelled,
    restore_size,
    revision,
    shrink,
)
from museforge.models.image.pipeline_cache import (
    LoadedModel,
    PipelineCache,
    default_cache,
    dtype_arg,
    load_pipeline,
    quiet_loading,
    variant_for,
)
from museforge.models.image.presets import (
    INSTRUCT_PIX2PIX,
    LATENT_UPSCALER,
    local_component,
    local_folders,
)
from museforge.models.image.weights import ModelFiles, locate, weight_bytes

PreviewFn = Callable[[int, int, Image.Image], None]  # (step, total, preview image)

DEFAULT_STEPS = 25  # for models that are not presets
DEFAULT_GUIDANCE = 7.5
EDIT_STEPS = 20  # instruct-pix2pix's usual count; its own default (100) is slow
UPSCALE_STEPS = 20
OOM_SHRINK = 0.75  # the retry after running out of memory renders this much smaller


def is_out_of_memory(error: BaseException) -> bool:
    import torch

    if isinstance(error, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()


def oom_fallback(plan: DevicePlan) -> str:
    """What the one retry after an out-of-memory error does: move modules to the GPU one
    at a time (CPU offload) when that is not already on, else render smaller."""
    return "offload" if plan.is_cuda and not plan.offload else "smaller"


@functools.cache
def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in ("diffusers", "torch", "transformers"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "absent"
    return versions


class DiffusersBackend:
    name = "diffusers"

    def __init__(self, model: str, *, device: str | None = None, dtype: str | None = None,
                 safety_checker: bool = True, cache: PipelineCache | None = None,
                 inpaint_model: str | None = None, taesd: str | None = None,
                 preview: PreviewFn | None = None) -> None:
        """``model``: a preset name, a Hugging Face id or a folder (weights must be on this
        machine: ``WeightsMissing`` otherwise). ``inpaint_model``: a dedicated inpainting
        model (else the main model repaints through ``from_pipe``). ``taesd``: a tiny
        autoencoder (folder or id) for ``preview`` images during the steps, and as the
        final decoder on CPU, where the full VAE is the slowest part."""
        self.model = model
        self.files: ModelFiles = locate(model)
        self.inpaint_files = locate(inpaint_model) if inpaint_model else None
        self.taesd_path = self._find_taesd(taesd) if taesd else None
        self.preview = preview
        self.safety_checker = safety_checker
        self.cache = cache if cache is not None else default_cache()
        preset = self.files.preset
        try:
            self.plan = plan_device(device, dtype, detect(device),
                                    cuda_dtype=preset.cuda_dtype if preset else "float16",
                                    model_bytes=weight_bytes(self.files.path,
                                                             self.files.variant))
        except ValueError as error:
            raise ImageBackendError(str(error)) from error
        self.variant = variant_for(self.files, self.plan.dtype)

    # -- the protocol -----------------------------------------------------------------

    def generate(self, req: GenerateRequest, run: RunControl | None = None) -> ImageResult:
        check_request(req)
        if self._is_kandinsky:
            return self._kandinsky(req, run, image=None, strength=1.0)
        _, pipe = self._pipe("text2img")
        if is_inpaint_model(pipe):
            raise ImageBackendError(
                f"'{self.model}' is an inpainting model: it repaints part of an image but "
                "cannot make a new one; choose a text-to-image model.")
        kwargs = self._text_kwargs(req) | {"height": req.height, "width": req.width}
        return self._run(lambda: self._pipe("text2img"), kwargs, req, run, "generate",
                         notes=[], fast_decode=self.taesd_path is not None
                         and self.plan.device == "cpu")

    def img2img(self, image: Image.Image, req: GenerateRequest, strength: float,
                run: RunControl | None = None) -> ImageResult:
        check_request(req)
        check_strength(strength)
        if strength == 0:
            return self._kept(image, req, "img2img")
        if self._is_kandinsky:
            return self._kandinsky(req, run, image=image, strength=strength)
        return self._image_run(image, req, strength, run, "img2img", notes=[])

    def edit(self, image: Image.Image, instruction: str, req: GenerateRequest,
             strength: float, run: RunControl | None = None) -> ImageResult:
        check_request(req)
        check_strength(strength)
        if not instruction.strip():
            raise ImageBackendError("An edit needs an instruction, such as 'make it snowy'.")
        if strength == 0:
            return self._kept(image, req, "edit")
        extra = {"instruction": instruction}
        if self._is_kandinsky or local_folders(INSTRUCT_PIX2PIX) is None or req.learnt:
            note = ("Kandinsky: img2img with the instruction folded into the prompt"
                    if self._is_kandinsky else "a learnt style paints through the main "
                    "model: img2img with the instruction folded into the prompt"
                    if req.learnt else "instruct-pix2pix is not on this machine: "
                    "img2img with the instruction folded into the prompt")
            prompt = f"{req.styled_prompt}, {instruction}" if req.prompt else instruction
            folded = req.with_(prompt=prompt, style=None)
            if self._is_kandinsky:
                return self._kandinsky(folded, run, image=image, strength=strength,
                                       task="edit", notes=[note], extra=extra)
            return self._image_run(image, folded, strength, run, "edit", notes=[note],
                                   extra=extra)
        files = locate(INSTRUCT_PIX2PIX)
        # Strength maps onto how loosely the result follows the input image:
        # image guidance 2.0 (close) at strength 0 down to 1.0 (free) at strength 1.
        image_guidance = round(1.0 + (1.0 - strength), 3)
        steps = req.steps or EDIT_STEPS
        guidance = req.guidance if req.guidance is not None else DEFAULT_GUIDANCE
        source, original_size = fit_to_multiple(image.convert("RGB"))
        # The batch as inputs, one per image (the pipeline deprecates duplicating one).
        kwargs = {"prompt": [instruction] * req.count,
                  "negative_prompt": [req.negative_prompt] * req.count
                  if req.negative_prompt else None,
                  "image": [source] * req.count, "num_inference_steps": steps,
                  "guidance_scale": guidance, "image_guidance_scale": image_guidance}
        result = self._run(
            lambda: self._helper(files), kwargs,
            req.with_(steps=steps, guidance=guidance, width=source.width,
                      height=source.height),
            run, "edit", notes=["instruct-pix2pix"], helper=files, batch_in_inputs=True,
            extra=extra | {"strength": strength, "image_guidance": image_guidance})
        return restore_size(result, original_size)

    def inpaint(self, image: Image.Image, mask: Image.Image, req: GenerateRequest,
                run: RunControl | None = None) -> ImageResult:
        check_request(req)
        if image.size != mask.size:
            raise ImageBackendError(
                f"The mask ({mask.width}x{mask.height}) must be the image's size "
                f"({image.width}x{image.height}).")
        if self._is_kandinsky:
            raise ImageBackendError(
                "Kandinsky 2.2 cannot inpaint here (its inpainting decoder is a separate "
                "model); use an SD model for inpainting.")
        helper = self.inpaint_files
        if helper is not None:
            files = helper

            def get() -> tuple[LoadedModel, Any]:
                return self._helper(files)

            notes = ["dedicated inpainting model"]
        else:
            def get() -> tuple[LoadedModel, Any]:
                return self._pipe("inpaint")

            notes = []
        source, original_size = fit_to_multiple(image.convert("RGB"))
        mask_fit = mask.convert("L").resize(source.size, Image.Resampling.NEAREST)
        kwargs = self._text_kwargs(req) | {"image": source, "mask_image": mask_fit,
                                           "height": source.height, "width": source.width,
                                           "strength": 1.0}
        result = self._run(get, kwargs, req.with_(width=source.width, height=source.height),
                           run, "inpaint", notes=notes, helper=helper)
        result = restore_size(result, original_size)
        # The VAE round trip alters every pixel a little; outside the mask the original
        # pixels are put back, through a softened edge so that the seam does not show.
        edge = mask.convert("L").filter(ImageFilter.GaussianBlur(max(1.0, min(image.size) / 128)))
        result.images = [Image.composite(im, image.convert("RGB"), edge)
                         for im in result.images]
        result.recipe["notes"].append("original pixels kept outside the mask")
        return result

    def upscale(self, image: Image.Image, factor: int, req: GenerateRequest,
                run: RunControl | None = None) -> ImageResult:
        if factor not in (2, 4):
            raise ImageBackendError(f"Upscaling is by 2 or 4, not {factor}.")
        image = image.convert("RGB")
        target = (image.width * factor, image.height * factor)
        if local_folders(LATENT_UPSCALER) is None:
            return ImageResult(
                images=[image.resize(target, Image.Resampling.LANCZOS)], seeds=[req.seed],
                recipe=self._recipe("upscale", req, pipeline="Lanczos", scheduler=None,
                                    steps=0, guidance=None, size=target, seeds=[req.seed],
                                    notes=["sd-x2-latent-upscaler is not on this machine: "
                                           "Lanczos resampling"], extra={"factor": factor}))
        raise_if_cancelled(run)
        files = locate(LATENT_UPSCALER)
        source, _ = fit_to_multiple(image)
        steps = req.steps or UPSCALE_STEPS
        guidance = req.guidance if req.guidance is not None else 0.0
        kwargs = {"prompt": req.styled_prompt, "negative_prompt": req.negative_prompt or None,
                  "image": source, "num_inference_steps": steps, "guidance_scale": guidance}
        notes = ["sd-x2-latent-upscaler"]
        if factor == 4:
            notes.append("then Lanczos x2")
        result = self._run(lambda: self._helper(files), kwargs,
                           req.with_(count=1, steps=steps, guidance=guidance,
                                     width=source.width * 2, height=source.height * 2),
                           run, "upscale", notes=notes, helper=files, extra={"factor": factor})
        if result.images[0].size != target:
            result.images = [im.resize(target, Image.Resampling.LANCZOS) for im in result.images]
            result.recipe["width"], result.recipe["height"] = target
        return result

    def train_style(self, req: TrainRequest, run: RunControl | None = None) -> LearntData:
        """A LoRA adapter for this model's UNet, trained on ``req.images``
        (models/image/lora.py); the family's defaults unless ``req`` says otherwise."""
        from museforge.models.image import lora

        if self._is_kandinsky:
            raise ImageBackendError("Kandinsky 2.2 cannot learn a style here: LoRA "
                                    "training covers Stable Diffusion and SDXL models")
        raise_if_cancelled(run)
        entry, pipe = self._pipe("text2img")
        return lora.train_style(pipe, entry.lock, req, run or RunControl(), model=self.model,
                                files=self.files, plan=self.plan)

    # -- loading ----------------------------------------------------------------------

    def load(self) -> None:
        """Load the main pipeline now (it is otherwise loaded by the first request)."""
        if self._is_kandinsky:
            self._load(self.files)
            self._load(self.files, self.files.extra[0])
        else:
            self._pipe("text2img")

    @property
    def _is_kandinsky(self) -> bool:
        return self.files.pipeline_class == "KandinskyV22Pipeline"

    def _load(self, files: ModelFiles, path: Path | None = None) -> LoadedModel:
        """A model's cache entry: the same folder loaded the same way is shared by every
        backend of the process."""
        path = path or files.path
        scheduler = files.preset.scheduler if files.preset else None
        key = (str(path), self.plan.device, self.plan.dtype, self.plan.offload,
               self.safety_checker, scheduler)
        return self.cache.get(key, lambda: load_pipeline(files, path, self.plan,
                                                         self.safety_checker))

    def _pipe(self, task: str) -> tuple[LoadedModel, Any]:
        """The main model's pipeline for ``task`` (text2img, img2img, inpaint)."""
        entry = self._load(self.files)
        if task == "text2img":
            return entry, entry.pipeline
        import diffusers

        if self._is_kandinsky:
            # The auto pipelines map a Kandinsky decoder to the combined prior + decoder
            # pipelines; the prior is loaded separately here.
            auto: Any = {"img2img": diffusers.KandinskyV22Img2ImgPipeline,
                         "inpaint": diffusers.KandinskyV22InpaintPipeline}[task]
        else:
            auto = {"img2img": diffusers.AutoPipelineForImage2Image,
                    "inpaint": diffusers.AutoPipelineForInpainting}[task]
        dtype = {dtype_arg(): torch_dtype(self.plan.dtype)}
        try:
            with quiet_loading(warnings=False):
                pipe = entry.sibling(task, lambda base: auto.from_pipe(base, **dtype))
        except ValueError as error:
            raise ImageBackendError(
                f"'{self.model}' ({type(entry.pipeline).__name__}) has no {task} "
                f"pipeline: {error}") from error
        pipe.set_progress_bar_config(disable=True)
        return entry, pipe

    def _helper(self, files: ModelFiles) -> tuple[LoadedModel, Any]:
        entry = self._load(files)
        return entry, entry.pipeline

    def _find_taesd(self, taesd: str) -> Path:
        from museforge.models.image.base import WeightsMissing

        path = local_component(taesd)
        if path is None:
            raise WeightsMissing(f"The tiny autoencoder '{taesd}' is not on this machine; "
                                 f"run `museforge models pull {self.model}` where there is "
                                 "network, or give a local folder.")
        return path

    def _taesd_model(self) -> Any:
        from diffusers import AutoencoderTiny

        key = ("taesd", str(self.taesd_path), self.plan.device, self.plan.dtype)
        return self.cache.get(key, lambda: AutoencoderTiny.from_pretrained(
            self.taesd_path, **{dtype_arg(): torch_dtype(self.plan.dtype)},
            local_files_only=True).to(self.plan.device).eval()).pipeline

    # -- running ----------------------------------------------------------------------

    def _defaults(self, req: GenerateRequest) -> tuple[int, float]:
        preset = self.files.preset
        steps = req.steps or (preset.steps if preset else DEFAULT_STEPS)
        guidance = req.guidance if req.guidance is not None else (
            preset.guidance if preset else DEFAULT_GUIDANCE)
        return steps, guidance

    def _text_kwargs(self, req: GenerateRequest) -> dict[str, Any]:
        steps, guidance = self._defaults(req)
        return {"prompt": req.styled_prompt, "negative_prompt": req.negative_prompt or None,
                "num_inference_steps": steps, "guidance_scale": guidance}

    def _image_run(self, image: Image.Image, req: GenerateRequest, strength: float,
                   run: RunControl | None, task: str, notes: list[str],
                   extra: dict[str, Any] | None = None) -> ImageResult:
        source, original_size = fit_to_multiple(image.convert("RGB"))
        kwargs = self._text_kwargs(req)
        steps = kwargs["num_inference_steps"]
        # diffusers runs int(steps * strength) steps; ask for enough that the requested
        # count actually runs (turbo models at 2 steps and strength 0.35 would run none).
        kwargs |= {"image": source, "strength": strength,
                   "num_inference_steps": max(steps, math.ceil(steps / strength))}
        result = self._run(lambda: self._pipe("img2img"), kwargs,
                           req.with_(width=source.width, height=source.height, steps=steps),
                           run, task, notes=notes,
                           extra={"strength": strength, **(extra or {})})
        return restore_size(result, original_size)

    def _run(self, get: Callable[[], tuple[LoadedModel, Any]], kwargs: dict[str, Any],
             req: GenerateRequest, run: RunControl | None, task: str, notes: list[str], *,
             helper: ModelFiles | None = None, extra: dict[str, Any] | None = None,
             fast_decode: bool = False, batch_in_inputs: bool = False,
             progress: tuple[int, int] | None = None) -> ImageResult:
        """One pipeline call: seeds, progress, the out-of-memory retry, the safety flags
        and the recipe. ``get`` gives the (cache entry, pipeline) and is called again
        when the retry reloads with CPU offload."""
        import torch

        raise_if_cancelled(run)
        if req.learnt and helper is not None:
            raise ImageBackendError(
                f"a learnt style paints through the main model, not {helper.repo_id or helper.path}"
                " (a helper model); leave the style out for this one")
        entry, pipe = get()
        params = inspect.signature(type(pipe).__call__).parameters
        count = req.count if "num_images_per_prompt" in params or batch_in_inputs else 1
        seeds = [req.seed + i for i in range(count)]
        pipeline_steps = kwargs.get("num_inference_steps", 1)
        call = dict(kwargs)
        if "num_images_per_prompt" in params:
            # A batch given as inputs (Kandinsky's embeddings) is one image per input.
            call["num_images_per_prompt"] = 1 if batch_in_inputs else count
        if fast_decode:
            call["output_type"] = "latent"
        offset, total = progress or (0, None)

        def attempt(call: dict[str, Any]) -> tuple[list[Image.Image], Any]:
            call = call | self._callbacks(pipe, params, run, req.steps or pipeline_steps,
                                          offset, total)
            call = {k: v for k, v in call.items() if k in params and v is not None}
            call["generator"] = [torch.Generator("cpu").manual_seed(s) for s in seeds]
            with entry.lock:
                self._adapters(pipe, req)
                with torch.inference_mode():
                    out = pipe(**call)
            if fast_decode:
                return self._decode_fast(pipe, out.images)
            return out.images, getattr(out, "nsfw_content_detected", None)

        try:
            images, flags = attempt(call)
        except Exception as error:
            if not is_out_of_memory(error):
                raise
            empty_cache(self.plan.device)
            note = self._after_oom(call)
            notes.append(note)
            entry, pipe = get()
            try:
                images, flags = attempt(call)
            except Exception as again:
                if not is_out_of_memory(again):
                    raise
                empty_cache(self.plan.device)
                raise ImageBackendError(
                    f"Out of {'GPU ' if self.plan.is_cuda else ''}memory making {count} "
                    f"image(s) at {req.width}x{req.height}, even after a retry ({note}); "
                    "ask for fewer or smaller images.") from again
        flagged = [bool(f) for f in flags] if flags is not None else [False] * len(images)
        if flagged and all(flagged):
            raise ContentFlagged("The safety checker flagged the result, so nothing was "
                                 "kept; try rewording the request.")
        more = dict(extra or {})
        if pipeline_steps != (req.steps or pipeline_steps):
            more["pipeline_steps"] = pipeline_steps
        recipe = self._recipe(
            task, req, pipeline=type(pipe).__name__, scheduler=type(pipe.scheduler).__name__,
            steps=req.steps or pipeline_steps, guidance=kwargs.get("guidance_scale"),
            size=images[0].size, seeds=seeds, notes=notes, helper=helper, extra=more)
        if fast_decode:
            assert self.taesd_path is not None
            recipe["decoder"] = {"class": "AutoencoderTiny",
                                 "local_path": str(self.taesd_path),
                                 "revision": revision(self.taesd_path)}
            recipe["notes"].append("decoded with the tiny autoencoder (TAESD)")
        return ImageResult(images=list(images), seeds=seeds, recipe=recipe, flagged=flagged)

    def _adapters(self, pipe: Any, req: GenerateRequest) -> None:
        """The request's learnt styles on the pipeline (or none), under its lock."""
        from museforge.models.image.lora import apply_adapters

        wrong = [s.name for s in req.learnt if s.trainer != self.name]
        if wrong:
            raise ImageBackendError(
                f"the style{'s' if len(wrong) > 1 else ''} {', '.join(wrong)} "
                f"{'were' if len(wrong) > 1 else 'was'} learnt by the built-in painter; "
                "learn it again with this model to paint with it here")
        if req.learnt or hasattr(pipe, "get_list_adapters"):
            apply_adapters(pipe, [(s.path, s.sha256, s.weight) for s in req.learnt])

    def _after_oom(self, call: dict[str, Any]) -> str:
        """Prepare the one retry (mutating ``call`` or the plan); say what it does."""
        if oom_fallback(self.plan) == "offload":
            # Later requests keep the offload, so the backend stays usable.
            self.plan = replace(self.plan, offload=True)
            device = self.plan.device
            self.cache.drop(keep=lambda key: not isinstance(key, tuple) or device not in key)
            empty_cache(self.plan.device)
            return "out of memory: retried with model CPU offload"
        images = [v for v in call.values() if isinstance(v, Image.Image)
                  or isinstance(v, list) and v and isinstance(v[0], Image.Image)]
        if "width" in call and "height" in call:
            size = (call["width"], call["height"])
        elif images:
            size = (images[0] if isinstance(images[0], Image.Image) else images[0][0]).size
        else:
            raise ImageBackendError("Out of memory, and this operation cannot be retried "
                                    "smaller; try a smaller image.")
        width = max(64, int(size[0] * OOM_SHRINK) // 8 * 8)
        height = max(64, int(size[1] * OOM_SHRINK) // 8 * 8)
        for key, value in call.items():
            call[key] = shrink(value, (width, height))
        if "width" in call and "height" in call:
            call |= {"height": height, "width": width}
        return f"out of memory: retried at {width}x{height}"

    def _callbacks(self, pipe: Any, params: Any, run: RunControl | None, steps: int,
                   offset: int = 0, total: int | None = None) -> dict[str, Any]:
        """Step callbacks reporting ``run.step(i, n)`` (which raises when cancelled) and
        preview images when a tiny autoencoder and a preview function are set."""
        previews = self.preview is not None and self.taesd_path is not None \
            and hasattr(pipe, "vae")
        if run is None and not previews:
            return {}

        def report(i: int, latents: Any) -> None:
            n = total or steps
            if run is not None:
                run.step(offset + i + 1, n)
            if previews and latents is not None and self.preview is not None:
                self.preview(offset + i + 1, n, self._decode_fast(pipe, latents)[0][0])

        if "callback_on_step_end" in params:
            def on_step_end(_pipe: Any, i: int, _t: Any, tensors: dict[str, Any]) -> dict:
                report(i, tensors.get("latents"))
                return tensors

            return {"callback_on_step_end": on_step_end}
        if "callback" in params:  # older pipelines, such as the latent upscaler
            return {"callback": lambda i, _t, latents: report(i, latents), "callback_steps": 1}
        return {}

    def _decode_fast(self, pipe: Any, latents: Any) -> tuple[list[Image.Image], Any]:
        """Latents to images with the tiny autoencoder, then the pipeline's own
        post-processing and safety check (when it has one)."""
        import torch

        taesd = self._taesd_model()
        with torch.inference_mode():
            pixels = taesd.decode(latents.to(taesd.device, taesd.dtype)).sample.clamp(-1, 1)
            flags = None
            if getattr(pipe, "safety_checker", None) is not None:
                pixels, flags = pipe.run_safety_checker(pixels, pixels.device, pixels.dtype)
        keep = [not f for f in flags] if flags is not None else None  # flagged stay black
        images = pipe.image_processor.postprocess(pixels, output_type="pil",
                                                  do_denormalize=keep)
        return images, flags

    def _kandinsky(self, req: GenerateRequest, run: RunControl | None, *,
                   image: Image.Image | None, strength: float, task: str | None = None,
                   notes: list[str] | None = None,
                   extra: dict[str, Any] | None = None) -> ImageResult:
        """Kandinsky 2.2: the prior turns the prompt into CLIP image embeddings (one run
        per image, seeded ``seed + i``); the MoVQ decoder paints from them."""
        import torch

        raise_if_cancelled(run)
        if req.learnt:
            raise ImageBackendError("Kandinsky 2.2 cannot paint with a learnt style here; "
                                    "use a Stable Diffusion or SDXL model")
        steps, guidance = self._defaults(req)
        prior_entry = self._load(self.files, self.files.extra[0])
        prior = prior_entry.pipeline
        prior_params = inspect.signature(type(prior).__call__).parameters
        total = steps * (req.count + 1)  # the prior per image, then the decoder
        embeds, negatives = [], []
        for i in range(req.count):
            callbacks = self._callbacks(prior, prior_params, run, steps, i * steps, total)
            with prior_entry.lock, torch.inference_mode():
                out = prior(prompt=req.styled_prompt,
                            negative_prompt=req.negative_prompt or None,
                            num_inference_steps=steps, guidance_scale=guidance,
                            generator=torch.Generator("cpu").manual_seed(req.seed + i),
                            **callbacks)
            embeds.append(out.image_embeds)
            negatives.append(out.negative_image_embeds)
        kwargs: dict[str, Any] = {"image_embeds": torch.cat(embeds),
                                  "negative_image_embeds": torch.cat(negatives),
                                  "num_inference_steps": steps, "guidance_scale": guidance}
        more = {"prior_local_path": str(self.files.extra[0]), "prior_steps": steps,
                "prior_revision": revision(self.files.extra[0]), **(extra or {})}
        original_size = None
        if image is None:
            kwargs |= {"height": req.height, "width": req.width}
            sized, get = req, (lambda: self._pipe("text2img"))
        else:
            source, original_size = fit_to_multiple(image.convert("RGB"))
            kwargs |= {"image": source, "strength": strength, "height": source.height,
                       "width": source.width,
                       "num_inference_steps": max(steps, math.ceil(steps / strength))}
            sized, get = req.with_(width=source.width, height=source.height), \
                (lambda: self._pipe("img2img"))
            more["strength"] = strength
        result = self._run(get, kwargs, sized.with_(steps=steps), run,
                           task or ("generate" if image is None else "img2img"),
                           notes=["Kandinsky 2.2 prior + MoVQ decoder", *(notes or [])],
                           extra=more, batch_in_inputs=True,
                           progress=(steps * req.count, total))
        return restore_size(result, original_size)

    def _kept(self, image: Image.Image, req: GenerateRequest, task: str) -> ImageResult:
        return ImageResult(images=[image.convert("RGB").copy()], seeds=[req.seed],
                           recipe=self._recipe(task, req, pipeline=None, scheduler=None,
                                               steps=0, guidance=None, size=image.size,
                                               seeds=[req.seed], notes=["strength 0: the "
                                               "image is kept as it is"],
                                               extra={"strength": 0.0}))

    def _recipe(self, task: str, req: GenerateRequest, *, pipeline: str | None,
                scheduler: str | None, steps: int, guidance: float | None,
                size: tuple[int, int], seeds: list[int], notes: list[str],
                helper: ModelFiles | None = None,
                extra: dict[str, Any] | None = None) -> dict[str, Any]:
        recipe: dict[str, Any] = {
            "backend": self.name,
            "operation": task,
            "model": self.model,
            "model_id": self.files.repo_id or str(self.files.path),
            "local_path": str(self.files.path),
            "revision": self.files.revision,
            "pipeline": pipeline,
            "scheduler": scheduler,
            "prompt": req.prompt,
            "styled_prompt": req.styled_prompt,
            "negative_prompt": req.negative_prompt,
            "style": req.style,
            "steps": steps,
            "guidance": guidance,
            "width": size[0],
            "height": size[1],
            "seed": req.seed,
            "seeds": seeds,
            "count": len(seeds),
            "dtype": self.plan.dtype,
            "device": self.plan.device,
            "offload": self.plan.offload,
            "generator": "cpu",
            "safety_checker": self.safety_checker,
            "variant": self.variant,
            "versions": package_versions(),
            "notes": list(notes),
        }
        if req.learnt:
            recipe["learnt_styles"] = [s.record() for s in req.learnt]
        if helper is not None:
            recipe["helper"] = {"model_id": helper.repo_id or str(helper.path),
                                "local_path": str(helper.path), "revision": helper.revision}
        recipe |= extra or {}
        return recipe
