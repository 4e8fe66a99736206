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


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("sd-turbo", "stabilityai/sd-turbo", 2, 0.0, 512,
               "Stable Diffusion 2.1 Turbo: 1-4 steps, 512 px (default)"),
        Preset("sdxl-turbo", "stabilityai/sdxl-turbo", 2, 0.0, 512,
               "SDXL Turbo: 1-4 steps, 512 px"),
        Preset("sd15", "stable-diffusion-v1-5/stable-diffusion-v1-5", 25, 7.5, 512,
               "Stable Diffusion 1.5: 25 steps, 512 px"),
        Preset("sdxl", "stabilityai/stable-diffusion-xl-base-1.0", 30, 6.0, 1024,
               "SDXL base: 30 steps, 1024 px"),
        Preset("flux-schnell", "black-forest-labs/FLUX.1-schnell", 4, 0.0, 1024,
               "FLUX.1 schnell: 4 steps, 1024 px, needs ~24 GB VRAM or offload"),
        Preset("kandinsky-2.2", "kandinsky-community/kandinsky-2-2-decoder", 25, 4.0, 768,
               "Kandinsky 2.2: unCLIP prior + MoVQ decoder",
               ("kandinsky-community/kandinsky-2-2-prior",)),
    )
}


def hf_hub_cache() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache",
                                                     "huggingface")
    return Path(home) / "hub"


def local_weights(model: str) -> Path | None:
    """The folder holding ``model``'s weights (a preset, a hub id or a path), if present."""
    preset = PRESETS.get(model)
    repo_ids = [preset.repo_id, *preset.extra_repos] if preset else [model]
    found: list[Path] = []
    for repo_id in repo_ids:
        path = Path(repo_id).expanduser()
        if path.is_dir() and (path / "model_index.json").is_file():
            found.append(path)
            continue
        snapshots = hf_hub_cache() / f"models--{repo_id.replace('/', '--')}" / "snapshots"
        candidates = sorted(snapshots.glob("*/model_index.json")) if snapshots.is_dir() else []
        if not candidates:
            return None
        found.append(candidates[-1].parent)
    return found[0] if found else None
