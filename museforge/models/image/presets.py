"""Image model presets and where their weights are. Imports no torch: the CLI's
``doctor`` and ``models list`` read this without loading a model."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Preset:
    name: str
    repo_id: str
    steps: int
    guidance: float
    size: int
    description: str
    extra_repos: tuple[str, ...] = ()  # e.g. the Kandinsky prior
    # A diffusers scheduler class name to use instead of the one the model ships with.
    scheduler: str | None = None
    # The diffusers pipeline class; None: the one named in the model's model_index.json.
    pipeline: str | None = None
    # Weight files variant to prefer on a GPU (e.g. "fp16": half the download and memory).
    variant: str | None = None
    # Half-precision dtype on CUDA: bf16 where the model was trained in it (FLUX).
    cuda_dtype: str = "float16"
    # A tiny autoencoder (TAESD) matching the model's latents, for previews / CPU decoding.
    taesd_repo: str | None = None


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("sd-turbo", "stabilityai/sd-turbo", 2, 0.0, 512,
               "Stable Diffusion 2.1 Turbo: 1-4 steps, 512 px (default)",
               variant="fp16", taesd_repo="madebyollin/taesd"),
        Preset("sdxl-turbo", "stabilityai/sdxl-turbo", 2, 0.0, 512,
               "SDXL Turbo: 1-4 steps, 512 px",
               variant="fp16", taesd_repo="madebyollin/taesdxl"),
        Preset("sd15", "stable-diffusion-v1-5/stable-diffusion-v1-5", 25, 7.5, 512,
               "Stable Diffusion 1.5: 25 steps, 512 px",
               scheduler="DPMSolverMultistepScheduler", variant="fp16",
               taesd_repo="madebyollin/taesd"),
        Preset("sdxl", "stabilityai/stable-diffusion-xl-base-1.0", 30, 6.0, 1024,
               "SDXL base: 30 steps, 1024 px",
               scheduler="DPMSolverMultistepScheduler", variant="fp16",
               taesd_repo="madebyollin/taesdxl"),
        Preset("flux-schnell", "black-forest-labs/FLUX.1-schnell", 4, 0.0, 1024,
               "FLUX.1 schnell: 4 steps, 1024 px, needs ~24 GB VRAM or offload",
               cuda_dtype="bfloat16", taesd_repo="madebyollin/taef1"),
        Preset("kandinsky-2.2", "kandinsky-community/kandinsky-2-2-decoder", 25, 4.0, 768,
               "Kandinsky 2.2: unCLIP prior + MoVQ decoder",
               ("kandinsky-community/kandinsky-2-2-prior",)),
    )
}

# Optional helper models, found the same way as presets when present.
INSTRUCT_PIX2PIX = "timbrooks/instruct-pix2pix"
LATENT_UPSCALER = "stabilityai/sd-x2-latent-upscaler"


def hf_hub_cache() -> Path:
    # Hugging Face's own variables, read as huggingface_hub reads them: not our settings.
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache",
                                                     "huggingface")
    return Path(home) / "hub"


def _folder(repo_id: str, marker: str) -> Path | None:
    """A local folder or the newest cached snapshot of ``repo_id`` holding ``marker``."""
    path = Path(repo_id).expanduser()
    if path.is_dir():
        return path if (path / marker).is_file() else None
    if repo_id.count("/") != 1:
        return None
    repo_dir = hf_hub_cache() / f"models--{repo_id.replace('/', '--')}"
    ref = repo_dir / "refs" / "main"
    if ref.is_file():
        pinned = repo_dir / "snapshots" / ref.read_text().strip()
        if (pinned / marker).is_file():
            return pinned
    snapshots = repo_dir / "snapshots"
    candidates = list(snapshots.glob(f"*/{marker}")) if snapshots.is_dir() else []
    if not candidates:
        return None
    return max(candidates, key=lambda p: p.stat().st_mtime).parent


def local_folders(model: str) -> list[Path] | None:
    """Every folder ``model`` needs (a preset's main repo first, then its extra repos),
    or None when any of them is missing."""
    preset = PRESETS.get(model)
    repo_ids = [preset.repo_id, *preset.extra_repos] if preset else [model]
    found = [_folder(repo_id, "model_index.json") for repo_id in repo_ids]
    if any(path is None for path in found):
        return None
    return [path for path in found if path is not None]


def local_weights(model: str) -> Path | None:
    """The folder holding ``model``'s weights (a preset, a hub id or a path), if present."""
    folders = local_folders(model)
    return folders[0] if folders else None


def local_component(repo_id: str) -> Path | None:
    """A single model (not a pipeline) such as a TAESD autoencoder: its folder, if present."""
    return _folder(repo_id, "config.json")


def snapshot_revision(path: Path) -> str | None:
    """The commit hash when ``path`` is a Hugging Face cache snapshot, else None."""
    path = Path(path)
    if path.parent.name == "snapshots" and path.parent.parent.name.startswith("models--"):
        return path.name
    return None


# -- GAN upscalers (spandrel) ----------------------------------------------------------------

@dataclass(frozen=True)
class UpscalerPreset:
    """A GAN upscaler known by name: one weights file in the upscalers folder."""

    name: str
    label: str  # what the reply calls it
    file: str  # its file name in ``upscaler_dir()``, as its authors publish it
    scale: int
    url: str  # where the file is published
    description: str


UPSCALER_PRESETS: dict[str, UpscalerPreset] = {
    p.name: p
    for p in (
        UpscalerPreset("realesrgan-x4plus", "Real-ESRGAN x4plus", "RealESRGAN_x4plus.pth", 4,
                       "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/"
                       "RealESRGAN_x4plus.pth",
                       "Real-ESRGAN x4plus: ×4 GAN upscaler for photos and paintings (64 MB)"),
        UpscalerPreset("realesrgan-x2plus", "Real-ESRGAN x2plus", "RealESRGAN_x2plus.pth", 2,
                       "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.2.1/"
                       "RealESRGAN_x2plus.pth",
                       "Real-ESRGAN x2plus: ×2 GAN upscaler (64 MB)"),
    )
}
UPSCALER_SUFFIXES = (".pth", ".safetensors", ".pt", ".ckpt")  # what spandrel reads


def upscaler_dir() -> Path:
    """Where GAN upscaler weights live: ``MUSEFORGE_UPSCALER_DIR``, else
    ``models/upscalers`` in the data dir (they are single files, not Hugging Face repos)."""
    from museforge.config import load_settings

    settings = load_settings()
    if settings.upscaler_dir is not None:
        return settings.upscaler_dir.expanduser()
    return settings.home / "models" / "upscalers"


def local_upscaler(name: str) -> Path | None:
    """The weights file of an upscaler preset, or of a file name or path, if present."""
    preset = UPSCALER_PRESETS.get(name)
    if preset is not None:
        path = upscaler_dir() / preset.file
        return path if path.is_file() else None
    path = Path(name).expanduser()
    if not path.is_absolute() and not path.is_file():
        path = upscaler_dir() / name  # a bare file name: one put in the upscalers folder
    return path if path.is_file() else None
