"""Finding a model's weights on this machine, and fetching them where there is network.

``locate`` never touches the network: a model is a preset name, a Hugging Face id found
in the local cache, or a folder. ``pull`` is the one place that downloads."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from museforge.models.image.base import WeightsMissing
from museforge.models.image.presets import (
    PRESETS,
    UPSCALER_PRESETS,
    Preset,
    local_folders,
    snapshot_revision,
    upscaler_dir,
)

PullProgress = Callable[[str, int, int], None]  # (what, done, total)

WEIGHT_SUFFIXES = (".safetensors", ".bin")
KNOWN_VARIANTS = ("fp16", "bf16", "fp32", "non_ema", "ema")


@dataclass(frozen=True)
class ModelFiles:
    """A model found on this machine."""

    model: str  # as asked: a preset name, a hub id or a path
    path: Path  # the folder with model_index.json
    repo_id: str | None  # the hub id, when known
    revision: str | None  # the snapshot's commit hash when it came from the HF cache
    pipeline_class: str  # from model_index.json (or the preset)
    extra: tuple[Path, ...] = ()  # e.g. the Kandinsky prior
    preset: Preset | None = None

    @property
    def variant(self) -> str | None:
        """The preset's weights variant, when its files are the ones present."""
        if self.preset is None or self.preset.variant is None:
            return None
        pattern = f"*/*.{self.preset.variant}.safetensors"
        return self.preset.variant if any(self.path.glob(pattern)) else None


def _is_path(model: str) -> bool:
    return model.startswith(("/", ".", "~")) or Path(model).expanduser().exists()


def missing_message(model: str) -> str:
    if _is_path(model):
        return (f"The image model folder '{model}' is not on this machine (or has no "
                "model_index.json): give a diffusers model folder, a preset name or a "
                "Hugging Face id.")
    return (f"The image model '{model}' is not on this machine; run "
            f"`museforge models pull {model}` where there is network, then try again.")


def read_index(path: Path) -> dict[str, Any]:
    return json.loads((path / "model_index.json").read_text())


def locate(model: str) -> ModelFiles:
    """The local files of ``model``, or ``WeightsMissing`` naming it and the pull command."""
    folders = local_folders(model)
    if not folders:
        raise WeightsMissing(missing_message(model))
    path, *extra = folders
    # A snapshot folder in the HF cache (as a recipe records it) is its repo, and a
    # preset's repo keeps the preset's scheduler and variant.
    repo_from_path = _snapshot_repo(path) if model not in PRESETS else None
    preset = PRESETS.get(model) or next(
        (p for p in PRESETS.values() if p.repo_id == repo_from_path), None)
    if preset and preset.extra_repos and not extra:
        extra = (local_folders(preset.name) or [path])[1:]
    pipeline_class = (preset.pipeline if preset and preset.pipeline
                      else str(read_index(path).get("_class_name", "DiffusionPipeline")))
    if pipeline_class == "KandinskyV22Pipeline" and not extra:
        prior = path / "prior"
        if not (prior / "model_index.json").is_file():
            raise WeightsMissing(
                f"The Kandinsky 2.2 decoder '{model}' needs its prior: put the prior's "
                f"folder at '{prior}', or use the preset: `museforge models pull kandinsky-2.2`.")
        extra = [prior]
    repo_id = preset.repo_id if preset else (
        repo_from_path or (None if _is_path(model) else model))
    return ModelFiles(model=model, path=path, repo_id=repo_id,
                      revision=snapshot_revision(path), pipeline_class=pipeline_class,
                      extra=tuple(extra), preset=preset)


def _snapshot_repo(path: Path) -> str | None:
    if snapshot_revision(path) is None:
        return None
    return path.parent.parent.name.removeprefix("models--").replace("--", "/")


def weight_bytes(path: Path, variant: str | None = None) -> int:
    """Bytes of the weight files a load of ``path`` would read (one file per component)."""
    total = 0
    for component in path.iterdir():
        if not component.is_dir():
            continue
        files = [f for f in component.iterdir() if f.suffix in WEIGHT_SUFFIXES]
        chosen = choose_files([f"{component.name}/{f.name}" for f in files], variant)
        total += sum((path / name).stat().st_size for name in chosen)
    return total


def choose_files(repo_files: list[str], variant: str | None) -> list[str]:
    """Which files of a diffusers repo to download: configs and tokenizers, and for each
    component folder one set of weights (the variant when it has one, safetensors over
    pickles). Single-file checkpoints at the repo root are skipped: diffusers does not
    read them in a folder load and they double the download."""
    keep: list[str] = []
    weights: dict[str, list[str]] = {}
    for name in repo_files:
        parts = PurePosixPath(name).parts
        if len(parts) == 1:
            if name == "model_index.json":
                keep.append(name)
            continue
        if name.endswith(WEIGHT_SUFFIXES) or ".index." in name:
            weights.setdefault(parts[0], []).append(name)
        elif name.endswith((".json", ".txt", ".model")):
            keep.append(name)
    for files in weights.values():
        for want in ((variant, "safetensors"), (variant, "bin"), (None, "safetensors"),
                     (None, "bin")):
            chosen = [f for f in files if _weight_kind(f) == want]
            if chosen and (want[0] is None or variant is not None):
                keep.extend(chosen)
                break
    return sorted(keep)


def _weight_kind(name: str) -> tuple[str | None, str]:
    """(variant, format) of a weights or weights-index file name."""
    base = PurePosixPath(name).name
    fmt = "safetensors" if ".safetensors" in base else "bin"
    variant = next((v for v in KNOWN_VARIANTS if f".{v}." in base or f".{v}-" in base), None)
    return variant, fmt


def pull(name: str, progress: PullProgress | None = None) -> list[Path]:
    """Download a preset or Hugging Face id into the local cache (needs network)."""
    from huggingface_hub import HfApi, snapshot_download

    if name in UPSCALER_PRESETS:
        return [pull_upscaler(name, progress)]
    from museforge.models.audio.generation import AUDIO_PRESETS, pull_audio

    if name in AUDIO_PRESETS:
        return [pull_audio(name, progress)]
    preset = PRESETS.get(name)
    repo_ids = [preset.repo_id, *preset.extra_repos] if preset else [name]
    if preset and preset.taesd_repo:
        repo_ids.append(preset.taesd_repo)
    variant = preset.variant if preset else None
    api = HfApi()
    paths = []
    for repo_id in repo_ids:
        files = api.list_repo_files(repo_id)
        if "model_index.json" in files:
            patterns = choose_files(files, variant)
        else:  # a single model such as TAESD
            patterns = [f for f in files if f.endswith((".json", ".safetensors"))]
        tqdm_class = _progress_tqdm(repo_id, progress) if progress else None
        paths.append(Path(snapshot_download(repo_id, allow_patterns=patterns,
                                            tqdm_class=tqdm_class)))
    return paths


def pull_upscaler(name: str, progress: PullProgress | None = None,
                  url: str | None = None) -> Path:
    """Download a GAN upscaler preset's single weights file into ``upscaler_dir()``
    (written to a temp file, then renamed: an interrupted download leaves no half file)."""
    import os
    import urllib.request

    preset = UPSCALER_PRESETS[name]
    folder = upscaler_dir()
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / preset.file
    partial = folder / f".{preset.file}.part"
    with urllib.request.urlopen(url or preset.url, timeout=60) as response, \
            partial.open("wb") as out:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        for block in iter(lambda: response.read(1 << 20), b""):
            out.write(block)
            done += len(block)
            if progress:
                progress(preset.file, done, total)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(final)
    return final


def _progress_tqdm(repo_id: str, progress: PullProgress) -> Any:
    from tqdm.auto import tqdm

    class Reporting(tqdm):  # type: ignore[misc, valid-type]
        def update(self, n: float | None = 1) -> bool | None:
            shown = super().update(n)
            progress(repo_id, int(self.n), int(self.total or 0))
            return shown

    return Reporting
