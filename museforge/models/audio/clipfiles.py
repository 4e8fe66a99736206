"""The files of an audio artwork's version: a 16-bit PCM WAV (what edits read back, so a
chain of edits loses nothing to a lossy codec), an OGG Vorbis for players, and the
waveform-and-spectrogram PNG. The same samples give the same bytes (replay compares the
WAV)."""

from __future__ import annotations

import io
from typing import NamedTuple

import numpy as np

from museforge.models.audio.picture import waveform_png
from museforge.models.audio.render import encode_ogg


class ClipFile(NamedTuple):
    data: bytes
    mime: str


def encode_wav(samples: np.ndarray, rate: int) -> bytes:
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(samples, -1.0, 1.0), rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def clip_files(samples: np.ndarray, rate: int, title: str | None = None) -> dict[str, ClipFile]:
    """``wav``, ``ogg`` and ``png`` for float samples shaped (frames, channels)."""
    data = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    ogg_input = data[:, 0] if data.shape[1] == 1 else data
    return {"wav": ClipFile(encode_wav(data, rate), "audio/wav"),
            "ogg": ClipFile(encode_ogg(ogg_input, rate), "audio/ogg"),
            "png": ClipFile(waveform_png(data, rate, title), "image/png")}
