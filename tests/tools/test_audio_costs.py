"""What generate_audio is estimated to cost before it runs (tools/costs.py), for each
backend: MusicGen per second made; Stable Audio Open per step (it denoises its whole
window whatever the clip's length); ACE-Step per step and second; both by the size of
their transformer, so a tiny test model costs next to nothing and the released weights
what they take. Real tiny pipelines (tests/models/audio), opened as the tool opens them;
the released sizes are sparse weight files beside them (no bytes written)."""

# ruff: noqa: F811  (the fixtures imported from test_audio_tools are the parameters)
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_audio_tools import (  # noqa: F401  (fixtures)
    ctx,
    stable_audio_in_hub,
    store,
    tiny_ace_step,
    tiny_musicgen,
    tiny_stable_audio,
)

from museforge.config import load_settings
from museforge.tools.base import ToolError
from museforge.tools.costs import (
    ACE_STEP_S_PER_STEP_SECOND_GB,
    MUSICGEN_LOAD_S,
    MUSICGEN_S_PER_SECOND,
    STABLE_AUDIO_S_PER_STEP_GB,
    TurnBudget,
    estimate,
)
from museforge.tools.registry import get_tool

GB = 10**9


def cost(ctx, **args) -> float:
    tool = get_tool("generate_audio")
    return estimate("generate_audio", ctx, tool.args.model_validate(args))


def ace_step_in_hub(tmp_path: Path, folder: Path, monkeypatch) -> Path:
    repo = tmp_path / "hub" / "models--ACE-Step--acestep-v15-xl-turbo-diffusers"
    snapshot = repo / "snapshots" / "cafe"
    shutil.copytree(folder, snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("cafe")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("MUSEFORGE_AUDIO_MODEL", "ace-step")
    return snapshot


def grow_transformer(backend, gigabytes: float) -> None:
    """The opened backend's transformer as big as the released one's: a sparse file."""
    with open(backend.path / "transformer" / "more.safetensors", "wb") as f:
        f.truncate(int(gigabytes * GB))


def test_stable_audio_is_counted_per_step_whatever_the_clip_length(
        ctx, monkeypatch, tmp_path, tiny_stable_audio):
    stable_audio_in_hub(tmp_path, tiny_stable_audio, monkeypatch)
    ctx.settings = load_settings()

    tiny = cost(ctx, prompt="rain", seconds=10, steps=100)
    backend = ctx.services.audio  # opened as the tool opens it
    assert backend.name == "stable-audio" and tiny < 2  # a tiny model costs next to nothing
    grow_transformer(backend, 4.2)

    short, long = cost(ctx, prompt="rain", seconds=1), cost(ctx, prompt="rain", seconds=30)
    assert short == pytest.approx(long)  # the whole window is denoised either way
    per_step = STABLE_AUDIO_S_PER_STEP_GB["cpu"] * 4.2
    assert short == pytest.approx(100 * per_step, rel=0.01)  # its default: 100 steps
    assert cost(ctx, prompt="rain", steps=20) == pytest.approx(20 * per_step, rel=0.01)

    # Released weights on a CPU: a turn's budget refuses it before it starts, and says how.
    with pytest.raises(ToolError, match=r"about \d+ s of generation.*fewer steps"):
        TurnBudget().charge(get_tool("generate_audio"), ctx,
                            get_tool("generate_audio").args.model_validate(
                                {"prompt": "rain", "seconds": 5}))


def test_ace_step_is_counted_per_step_and_second(ctx, monkeypatch, tmp_path,
                                                 tiny_ace_step):
    ace_step_in_hub(tmp_path, tiny_ace_step, monkeypatch)
    ctx.settings = load_settings()

    assert cost(ctx, prompt="a rock song", seconds=30) < 2
    backend = ctx.services.audio
    assert backend.name == "ace-step"
    grow_transformer(backend, 10.0)

    rate = ACE_STEP_S_PER_STEP_SECOND_GB["cpu"] * 10.0
    ten, thirty = cost(ctx, prompt="rock", seconds=10), cost(ctx, prompt="rock", seconds=30)
    assert ten == pytest.approx(8 * 10 * rate, rel=0.01)  # its default: 8 steps
    assert thirty == pytest.approx(3 * ten, rel=0.01)
    assert cost(ctx, prompt="rock", seconds=10, steps=16) == pytest.approx(2 * ten, rel=0.01)


def test_loading_counts_once_and_musicgen_stays_per_second(ctx, tiny_musicgen,
                                                           monkeypatch, tmp_path):
    from museforge.models.audio.musicgen import MusicgenBackend

    snapshot = tmp_path / "hub" / "models--facebook--musicgen-small" / "snapshots" / "abc"
    shutil.copytree(tiny_musicgen, snapshot)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("abc")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    ctx.settings = load_settings()
    per_second = MUSICGEN_S_PER_SECOND["cpu"]

    first = cost(ctx, prompt="rock", seconds=5)  # opens musicgen-small, not yet loaded
    assert isinstance(ctx.services.audio, MusicgenBackend)
    assert first == pytest.approx(5 * per_second + MUSICGEN_LOAD_S)
    assert cost(ctx, prompt="rock", seconds=5) == pytest.approx(5 * per_second)


def test_no_weights_costs_nothing_so_the_tool_says_what_is_missing(ctx, monkeypatch,
                                                                   tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv("MUSEFORGE_AUDIO_MODEL", "stable-audio-open")
    ctx.settings = load_settings()

    assert cost(ctx, prompt="rain", seconds=30) == 0.0
    with pytest.raises(ToolError, match="museforge models pull stable-audio-open"):
        get_tool("generate_audio").run(ctx, {"prompt": "rain", "seconds": 30})
