"""``museforge doctor``: what works here. The core (settings, data dir, database,
migrations) must work; missing optional parts (GPU, FluidSynth, image and audio weights)
warn."""

from __future__ import annotations

import ctypes.util
import shutil
import subprocess
from dataclasses import dataclass
from typing import Literal

from museforge.config import Settings
from museforge.storage.db import migration_status, safe_url
from museforge.storage.errors import StorageError


@dataclass(frozen=True)
class Check:
    name: str
    level: Literal["ok", "warn", "fail"]
    detail: str


def run_checks(settings: Settings, *, clean: bool = False) -> list[Check]:
    checks = [_data_dir(settings)]
    checks.extend(_database(settings, clean))
    checks.append(_fluidsynth())
    checks.append(_gpu(settings))
    checks.append(_image_weights(settings))
    checks.append(_audio_weights(settings))
    checks.append(_planner(settings))
    return checks


def _data_dir(settings: Settings) -> Check:
    home = settings.home
    try:
        home.mkdir(parents=True, exist_ok=True)
        probe = home / ".doctor-probe"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return Check("data dir", "fail", f"{home} is not writable: {exc.strerror}")
    return Check("data dir", "ok", str(home))


def _database(settings: Settings, clean: bool) -> list[Check]:
    from museforge.storage.store import Store

    url = settings.resolved_database_url
    try:
        store = Store(url, settings.home)
    except StorageError as exc:
        return [Check("database", "fail", str(exc))]
    except Exception as exc:  # a migration that fails is a broken core, said in one line
        return [Check("database", "fail", f"{safe_url(url)}: {' '.join(str(exc).split())}")]
    with store:
        out = [Check("database", "ok", f"{store.engine.dialect.name} at {safe_url(url)}")]
        current, head = migration_status(store.engine)
        out.append(Check("migrations", "ok" if current == head else "fail",
                         f"at {current} (latest {head})"))
        problems = store.integrity_problems()
        out.append(Check("integrity", "fail" if problems else "ok",
                         "; ".join(problems[:3]) if problems else "every asset file present"))
        orphans = store.orphans()
        if clean and orphans:
            removed = store.clean_orphans()
            out.append(Check("orphans", "ok", f"removed {len(removed)} unreferenced files"))
        elif orphans:
            out.append(Check("orphans", "warn", f"{len(orphans)} unreferenced files "
                             "(left by an interrupted write); `museforge doctor --clean`"))
        else:
            out.append(Check("orphans", "ok", "none"))
    return out


def _fluidsynth() -> Check:
    lib = ctypes.util.find_library("fluidsynth")
    if lib:
        return Check("audio", "ok", f"FluidSynth library {lib}")
    return Check("audio", "warn", "FluidSynth library not found: music renders with the "
                 "built-in numpy synthesizer (install libfluidsynth3 for real instruments)")


def _gpu(settings: Settings) -> Check:
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10)
            if out.returncode == 0 and out.stdout.strip():
                return Check("gpu", "ok", out.stdout.strip().splitlines()[0])
        except (OSError, subprocess.TimeoutExpired):
            pass
    if settings.device and settings.device.startswith("cuda"):
        return Check("gpu", "warn", f"MUSEFORGE_DEVICE={settings.device} but no NVIDIA GPU is "
                     "visible")
    return Check("gpu", "warn", "no GPU visible: models run on the CPU (slow for diffusers)")


def _image_weights(settings: Settings) -> Check:
    from museforge.models.image.presets import PRESETS, local_weights

    present = [name for name in PRESETS if local_weights(name)]
    model = settings.image_model
    if local_weights(model):
        return Check("image weights", "ok", f"{model} present; presets present: "
                     f"{', '.join(present)}")
    return Check("image weights", "warn", f"{model} not present locally: the procedural "
                 f"painter is used; `museforge models pull {model}` fetches it "
                 f"(presets present: {', '.join(present) or 'none'})")


def configured_audio_model(settings: Settings) -> str:
    """The model ``generate_audio`` uses: MUSEFORGE_AUDIO_MODEL (a preset, hub id or
    folder), else the default preset."""
    from museforge.models.audio.generation import DEFAULT_MODEL

    return (settings.audio_model or "").strip() or DEFAULT_MODEL


def _audio_weights(settings: Settings) -> Check:
    from museforge.models.audio.generation import AUDIO_PRESETS, local_audio_model

    present = [name for name in AUDIO_PRESETS if local_audio_model(name)]
    model = configured_audio_model(settings)
    path = local_audio_model(model)
    if path is not None:
        import importlib.util

        from museforge.models.audio.generation import STABLE_AUDIO, AudioModelError, family_of

        try:
            family = family_of(path)
        except AudioModelError as error:
            return Check("audio weights", "warn", str(error))
        if family == STABLE_AUDIO and importlib.util.find_spec("torchsde") is None:
            return Check("audio weights", "warn", f"{model} present, but Stable Audio's "
                         "sampler needs torchsde, which is not installed (`pip install "
                         "torchsde`)")
        return Check("audio weights", "ok", f"{model} present; presets present: "
                     f"{', '.join(present) or 'none'}")
    pull = (f"`museforge models pull {model}` fetches it" if model in AUDIO_PRESETS
            else "give a saved MusicGen or Stable Audio folder or a preset in "
            "MUSEFORGE_AUDIO_MODEL")
    return Check("audio weights", "warn", f"{model} not present locally: generate_audio says "
                 f"so and makes nothing (the audio edits still work); {pull} (presets "
                 f"present: {', '.join(present) or 'none'})")


def _planner(settings: Settings) -> Check:
    if settings.planner_kind == "llm":
        where = settings.llm_base_url or "https://api.openai.com/v1"
        return Check("planner", "ok", f"LLM {settings.llm_model or '(default model)'} at {where}")
    chosen = "planner" in settings.model_fields_set  # set, not left to its default
    hint = "" if chosen else " (set MUSEFORGE_LLM_BASE_URL for an LLM)"
    return Check("planner", "ok", "offline rules planner" + hint)
