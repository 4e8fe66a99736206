"""list_artworks knows audio clips: kind 'audio' lists only them, and a listing calls
each one a clip. Real clips made with numpy and soundfile, brought in through the audio
tool's safe loader."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from museforge.tools.audio_tools import import_audio
from museforge.tools.base import ToolContext
from museforge.tools.registry import get_tool

RATE = 16000


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture
def ctx(store, me, chat):
    return ToolContext(store, me, chat)


def clip(ctx, tmp_path, name: str) -> None:
    t = np.arange(RATE) / RATE
    path = tmp_path / name
    soundfile.write(path, (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32), RATE)
    import_audio(ctx, path)


def listing(ctx, kind: str) -> str:
    return get_tool("list_artworks").run(ctx, {"kind": kind}).message


def test_kind_audio_lists_only_the_clips_and_calls_them_clips(ctx, tmp_path):
    assert listing(ctx, "audio") == "There are no clips in this conversation yet."
    clip(ctx, tmp_path, "rain.wav")
    get_tool("generate_image").run(ctx, {"prompt": "a red fox"})
    clip(ctx, tmp_path, "door creak.wav")
    get_tool("edit_audio").run(ctx, {"artwork": "#3", "fade_out": 0.5})

    assert listing(ctx, "audio") == ("2 clips:\n#1 clip “rain” (v1 of 1)\n"
                                     "#3 clip “door creak” (v2 of 2)")
    everything = listing(ctx, "all").splitlines()
    assert everything[0] == "3 artworks:"
    assert everything[2].startswith("#2 image “")
    assert "audio" not in listing(ctx, "audio")


def test_an_unknown_kind_is_refused():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        get_tool("list_artworks").args.model_validate({"kind": "video"})
