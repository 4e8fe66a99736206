"""LoRA adapters for a diffusers model's UNet: training one on a person's pictures
(``learn_style``) and applying learnt ones when painting.

Training follows diffusers' ``examples/text_to_image/train_text_to_image_lora.py``
(and its SDXL sibling): the UNet frozen, a peft ``LoraConfig`` (rank = alpha, gaussian
init, the attention projections ``to_k``/``to_q``/``to_v``/``to_out.0``) added with
``unet.add_adapter``, the noise-prediction MSE (or v-prediction) on VAE latents noised by
the training (DDPM) scheduler's ``add_noise``, AdamW over the LoRA parameters only. The
UNet trained is a copy of the loaded one, so pictures keep being painted meanwhile; the
VAE latents' distributions and the caption embeddings are computed once, before the
steps. The adapter is saved in diffusers' LoRA format (``get_peft_model_state_dict`` +
``convert_state_dict_to_diffusers``, ``save_lora_weights``) as one safetensors file, so
``pipe.load_lora_weights`` reads it back.

torch, diffusers and peft are imported when a function runs, never with the module."""

from __future__ import annotations

import copy
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from museforge.models.image.base import (
    GenerationCancelled,
    ImageBackendError,
    LearntData,
    RunControl,
    TrainRequest,
)

if TYPE_CHECKING:
    from museforge.models.devices import DevicePlan
    from museforge.models.image.weights import ModelFiles

TARGET_MODULES = ("to_k", "to_q", "to_v", "to_out.0")
ADAPTER = "museforge"  # the adapter's name while it trains
WEIGHT_FILE = "pytorch_lora_weights.safetensors"  # what save_lora_weights writes
GENERIC_CAPTION = "a picture in the style of {name}"
CHARACTER_CAPTION = "a picture of {trigger}"
LossFn = Callable[[int, int, float], None]  # (step, steps, loss)


@dataclass(frozen=True)
class LoraSettings:
    """The hyper-parameters of one training (all recorded in the style's recipe)."""

    rank: int
    learning_rate: float
    steps: int
    resolution: int
    batch_size: int = 1
    seed: int = 0

    def record(self) -> dict[str, Any]:
        return asdict(self) | {"alpha": self.rank, "init": "gaussian",
                               "target_modules": list(TARGET_MODULES), "optimizer": "AdamW"}


# Per model family: what kohya's and diffusers' guides start from for a handful of
# pictures. SDXL trains at its native 1024 px; SD-Turbo (SD 2.1, 512 px) like SD 1.5 but
# shorter, since its distilled UNet drifts sooner.
FAMILY_DEFAULTS: dict[str, LoraSettings] = {
    "sd15": LoraSettings(rank=16, learning_rate=1e-4, steps=500, resolution=512),
    "sdxl": LoraSettings(rank=16, learning_rate=1e-4, steps=500, resolution=1024),
    "sd-turbo": LoraSettings(rank=16, learning_rate=1e-4, steps=300, resolution=512),
}


def family_of(pipe: Any, model: str) -> str:
    """``sd15``, ``sdxl`` or ``sd-turbo`` for a loaded pipeline; ImageBackendError for a
    pipeline this training does not handle (Kandinsky, FLUX, inpainting UNets)."""
    unet = getattr(pipe, "unet", None)
    if unet is None or not hasattr(pipe, "vae") or not hasattr(pipe, "encode_prompt"):
        raise ImageBackendError(f"'{model}' ({type(pipe).__name__}) cannot learn a style "
                                "here: LoRA training covers Stable Diffusion 1.5/2.x, "
                                "SD-Turbo and SDXL models")
    if unet.config.in_channels != 4:
        raise ImageBackendError(f"'{model}' is an inpainting or editing model "
                                f"({unet.config.in_channels}-channel UNet); learn a style "
                                "on a text-to-image model")
    if unet.config.addition_embed_type == "text_time":
        return "sdxl"
    return "sd-turbo" if "turbo" in model.lower() else "sd15"


def settings_for(family: str, *, steps: int | None = None, seed: int = 0,
                 resolution: int | None = None,
                 learning_rate: float | None = None) -> LoraSettings:
    base = FAMILY_DEFAULTS[family]
    return replace(base, steps=steps or base.steps, seed=seed,
                   resolution=resolution or base.resolution,
                   learning_rate=learning_rate or base.learning_rate)


def caption_for(prompt: str, name: str, trigger: str | None) -> str:
    """A picture's caption: its own prompt when it has one, else a generic one; for a
    character, the trigger word leads every caption (what prompts name it by)."""
    if trigger:
        return f"{trigger}, {prompt}" if prompt else CHARACTER_CAPTION.format(trigger=trigger)
    return prompt or GENERIC_CAPTION.format(name=name)


def square(image: Image.Image, size: int) -> Image.Image:
    """The shorter side resized to ``size``, then the centre cropped (as the example)."""
    image = image.convert("RGB")
    scale = size / min(image.size)
    w, h = max(size, round(image.width * scale)), max(size, round(image.height * scale))
    image = image.resize((w, h), Image.Resampling.BICUBIC)
    left, top = (w - size) // 2, (h - size) // 2
    return image.crop((left, top, left + size, top + size))


@dataclass
class TrainedLora:
    data: bytes  # the safetensors file, diffusers' LoRA format
    family: str
    settings: LoraSettings
    losses: list[float]
    seconds: float

    @property
    def final_loss(self) -> float:
        """The mean of the last tenth of the steps' losses (one step's is noise)."""
        tail = self.losses[-max(1, len(self.losses) // 10):]
        return sum(tail) / len(tail)


class LoraTrainer:
    """One training: ``step()`` runs one optimisation step and returns its loss;
    ``adapter_bytes()`` the adapter as a safetensors file. ``pipe`` gives the frozen
    VAE, text encoders and scheduler config; its UNet is copied, never changed."""

    def __init__(self, pipe: Any, images: Sequence[Image.Image], captions: Sequence[str],
                 settings: LoraSettings, *, family: str, device: str = "cpu",
                 dtype: Any = None, lock: threading.RLock | None = None) -> None:
        import torch
        from diffusers import DDPMScheduler
        from peft import LoraConfig

        if not images or len(images) != len(captions):
            raise ValueError("one caption per picture, and at least one picture")
        self.family, self.settings, self.device = family, settings, device
        self.dtype = dtype or torch.float32
        self.pipe = pipe
        self.generator = torch.Generator("cpu").manual_seed(settings.seed)
        self.noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
        with lock or threading.RLock():
            self.mean, self.std = self._latent_dists(images)
            self.text = self._embeddings(list(captions))
            unet = copy.deepcopy(pipe.unet)
        _drop_hooks(unet)
        if getattr(unet, "peft_config", None):
            unet.unload_lora()  # the copy leaves out learnt styles loaded for painting
        unet.requires_grad_(False)
        if unet.dtype != self.dtype:
            unet.to(dtype=self.dtype)
        unet.to(device)
        with torch.random.fork_rng(devices=[]):  # the gaussian init, seeded
            torch.manual_seed(settings.seed)
            unet.add_adapter(LoraConfig(r=settings.rank, lora_alpha=settings.rank,
                                        init_lora_weights="gaussian",
                                        target_modules=list(TARGET_MODULES)),
                             adapter_name=ADAPTER)
        if self.dtype != torch.float32:
            from diffusers.training_utils import cast_training_params

            cast_training_params(unet, dtype=torch.float32)  # LoRA parameters in fp32
        unet.train()
        self.unet = unet
        self.params = [p for p in unet.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.params, lr=settings.learning_rate,
                                           betas=(0.9, 0.999), weight_decay=1e-2, eps=1e-8)
        self.scaler = torch.amp.GradScaler("cuda") if self._autocast \
            and self.dtype == torch.float16 else None
        self.order: list[int] = []

    @property
    def _autocast(self) -> bool:
        import torch

        return self.device.startswith("cuda") and self.dtype != torch.float32

    def _latent_dists(self, images: Sequence[Image.Image]) -> tuple[Any, Any]:
        """Each picture's latent distribution (mean, std) under the VAE, at the
        training resolution; a step samples from it, as ``latent_dist.sample()`` does."""
        import numpy as np
        import torch

        vae = self.pipe.vae
        if vae.dtype != torch.float32:
            # encoded in fp32: the SDXL VAE overflows in fp16 (diffusers' SDXL example
            # upcasts it too); a copy, so the painting pipeline keeps its own
            vae = copy.deepcopy(vae)
            _drop_hooks(vae)
            vae.to(torch.float32)
        size = self.settings.resolution
        pixels = torch.stack([
            torch.from_numpy(np.asarray(square(im, size), dtype=np.float32) / 127.5 - 1.0)
            .permute(2, 0, 1) for im in images])
        means, stds = [], []
        with torch.no_grad():
            for one in pixels.split(1):
                dist = vae.encode(one.to(vae.device, vae.dtype)).latent_dist
                means.append(dist.mean.float().cpu())
                stds.append(dist.std.float().cpu())
        return torch.cat(means), torch.cat(stds)

    def _embeddings(self, captions: list[str]) -> dict[str, Any]:
        import torch

        with torch.no_grad():
            # the execution device: with CPU offload, the modules' device is not it
            device = getattr(self.pipe, "_execution_device", self.pipe.device)
            out = self.pipe.encode_prompt(captions, device=device,
                                          num_images_per_prompt=1,
                                          do_classifier_free_guidance=False)
        text = {"states": out[0].float().cpu()}
        if self.family == "sdxl":
            size = self.settings.resolution
            text["pooled"] = out[2].float().cpu()
            # original size, crop top-left, target size (the SDXL example's time ids)
            text["time_ids"] = torch.tensor([[size, size, 0, 0, size, size]],
                                            dtype=torch.float32).repeat(len(captions), 1)
        return text

    def _batch(self) -> list[int]:
        import torch

        picked = []
        for _ in range(self.settings.batch_size):
            if not self.order:  # every picture once per epoch, in a seeded order
                self.order = torch.randperm(len(self.mean), generator=self.generator).tolist()
            picked.append(self.order.pop())
        return picked

    def step(self) -> float:
        import torch
        import torch.nn.functional as F

        index = self._batch()
        g, dev, dt = self.generator, self.device, self.dtype
        mean, std = self.mean[index], self.std[index]
        latents = mean + std * torch.randn(mean.shape, generator=g)
        latents = latents * self.pipe.vae.config.scaling_factor
        noise = torch.randn(latents.shape, generator=g)
        steps = self.noise_scheduler.config.num_train_timesteps
        timesteps = torch.randint(0, steps, (len(index),), generator=g).long()
        noisy = self.noise_scheduler.add_noise(latents, noise, timesteps)
        prediction = self.noise_scheduler.config.prediction_type
        if prediction == "epsilon":
            target = noise
        elif prediction == "v_prediction":
            target = self.noise_scheduler.get_velocity(latents, noise, timesteps)
        else:
            raise ImageBackendError(f"cannot train a model whose scheduler predicts "
                                    f"'{prediction}'")
        states = self.text["states"][index].to(dev, dt)
        added = None
        if self.family == "sdxl":
            added = {"text_embeds": self.text["pooled"][index].to(dev, dt),
                     "time_ids": self.text["time_ids"][index].to(dev, dt)}
        with torch.autocast("cuda", dtype=dt, enabled=self._autocast):
            pred = self.unet(noisy.to(dev, dt), timesteps.to(dev), states,
                             added_cond_kwargs=added, return_dict=False)[0]
            loss = F.mse_loss(pred.float(), target.to(dev).float(), reduction="mean")
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.params, 1.0)
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.params, 1.0)
            self.optimizer.step()
        return float(loss.detach())

    def adapter_bytes(self) -> bytes:
        import torch
        from diffusers.utils import convert_state_dict_to_diffusers
        from peft.utils import get_peft_model_state_dict

        layers = convert_state_dict_to_diffusers(
            get_peft_model_state_dict(self.unet, adapter_name=ADAPTER))
        layers = {k: v.detach().to("cpu", torch.float32).contiguous()
                  for k, v in layers.items()}
        with tempfile.TemporaryDirectory() as tmp:
            type(self.pipe).save_lora_weights(tmp, unet_lora_layers=layers,
                                              safe_serialization=True)
            return (Path(tmp) / WEIGHT_FILE).read_bytes()


def _drop_hooks(module: Any) -> None:
    """A copy of an offloaded UNet carries accelerate's hooks; the training copy lives
    on one device."""
    try:
        from accelerate.hooks import remove_hook_from_module
    except ImportError:
        return
    remove_hook_from_module(module, recurse=True)


def train_lora(pipe: Any, images: Sequence[Image.Image], captions: Sequence[str],
               settings: LoraSettings, *, family: str, device: str = "cpu",
               dtype: Any = None, lock: threading.RLock | None = None,
               progress: LossFn | None = None,
               cancel: threading.Event | None = None) -> TrainedLora:
    """Train an adapter for ``settings.steps`` steps; ``progress(step, steps, loss)``
    after each; a set ``cancel`` stops it (GenerationCancelled) and nothing is kept."""
    started = time.perf_counter()
    trainer = LoraTrainer(pipe, images, captions, settings, family=family, device=device,
                          dtype=dtype, lock=lock)
    losses = []
    for i in range(settings.steps):
        if cancel is not None and cancel.is_set():
            raise GenerationCancelled()
        losses.append(trainer.step())
        if progress is not None:
            progress(i + 1, settings.steps, losses[-1])
    data = trainer.adapter_bytes()
    return TrainedLora(data, family, settings, losses, time.perf_counter() - started)


def train_style(pipe: Any, lock: threading.RLock, req: TrainRequest, run: RunControl, *,
                model: str, files: ModelFiles, plan: DevicePlan) -> LearntData:
    """The diffusers backend's ``train_style``: an adapter for ``pipe``'s UNet (the
    loaded ``model``, from ``files``, on ``plan``'s device), its file and its recipe."""
    import importlib.util
    from importlib.metadata import version

    from museforge.models.devices import empty_cache, torch_dtype
    from museforge.models.image.diffusers_backend import is_out_of_memory, package_versions

    if importlib.util.find_spec("peft") is None:
        raise ImageBackendError("learning a picture style needs peft: install the `image` "
                                "extra (`pip install 'museforge[image]'`)")
    family = family_of(pipe, model)
    settings = settings_for(family, steps=req.steps, seed=req.seed, resolution=req.resolution,
                            learning_rate=req.learning_rate)
    try:
        trained = train_lora(pipe, req.images, req.captions, settings, family=family,
                             device=plan.device, dtype=torch_dtype(plan.dtype), lock=lock,
                             progress=run.trained, cancel=run.cancel)
    except Exception as error:
        if not is_out_of_memory(error):
            raise
        empty_cache(plan.device)
        raise ImageBackendError(
            f"Out of {'GPU ' if plan.is_cuda else ''}memory training at "
            f"{settings.resolution} px; free the GPU or use a smaller model.") from error
    recipe = {"trainer": "diffusers", "method": "lora", "family": family,
              "base": {"model": model, "model_id": files.repo_id or str(files.path),
                       "local_path": str(files.path), "revision": files.revision},
              "settings": settings.record(), "trigger": req.trigger,
              "captions": list(req.captions), "final_loss": trained.final_loss,
              "first_loss": trained.losses[0], "seconds": round(trained.seconds, 2),
              "device": plan.device, "dtype": plan.dtype,
              "versions": package_versions() | {"peft": version("peft")}}
    learnt = (f"a LoRA adapter (rank {settings.rank}) for {model}'s UNet, {settings.steps} "
              f"steps at {settings.resolution} px, loss {trained.losses[0]:.3f} → "
              f"{trained.final_loss:.3f}")
    return LearntData(trained.data, "application/x-safetensors", learnt, recipe)


# -- using learnt adapters --------------------------------------------------------------


def adapter_name(sha256: str) -> str:
    """The name an adapter file is loaded under: its content, so a retrained style (a
    new file) is a new adapter and the same file is never loaded twice."""
    return f"learnt_{sha256[:16]}"


def apply_adapters(pipe: Any, adapters: Sequence[tuple[Path, str, float]]) -> None:
    """Make ``pipe`` paint with ``adapters`` — (file, sha256, weight) each, combined —
    or with none. Files are loaded once per pipeline (``load_lora_weights`` with an
    adapter name) and stay loaded; ``set_adapters`` picks this request's and their
    weights. Call it under the pipeline's lock, right before running it."""
    loaded = {name for names in pipe.get_list_adapters().values() for name in names} \
        if hasattr(pipe, "get_list_adapters") else set()
    if not adapters:
        if loaded:
            pipe.disable_lora()
        return
    if not hasattr(pipe, "load_lora_weights"):
        raise ImageBackendError(f"{type(pipe).__name__} cannot take a learnt style")
    names = []
    for path, sha256, _ in adapters:
        name = adapter_name(sha256)
        if name not in loaded:
            from safetensors.torch import load_file

            from museforge.models.image.pipeline_cache import quiet_loading

            try:
                # quiet: diffusers warns that the file has no text-encoder layers, and
                # peft that a second adapter makes several (which is the point here)
                with quiet_loading(warnings=False), warnings.catch_warnings():
                    warnings.filterwarnings("ignore", "Already found a `peft_config`",
                                            UserWarning)
                    pipe.load_lora_weights(load_file(str(path)), adapter_name=name)
            except (ValueError, RuntimeError, KeyError) as error:
                raise ImageBackendError(f"this model cannot take that learnt style (it was "
                                        f"learnt on another kind of model): {error}"
                                        ) from error
        names.append(name)
    pipe.enable_lora()
    pipe.set_adapters(names, adapter_weights=[w for _, _, w in adapters])
