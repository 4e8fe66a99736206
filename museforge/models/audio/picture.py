"""The picture of an audio clip: its waveform above its spectrogram, in one PNG (numpy and
Pillow only). Both are computed at a fixed number of columns, so a ten-minute clip costs
what a ten-second one does: the waveform is each column's min and max, the spectrogram one
windowed FFT per column, on a log-frequency axis from 40 Hz to Nyquist, in dB."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

WIDTH = 800
WAVE_HEIGHT = 120
SPEC_HEIGHT = 200
N_FFT = 2048
LOW_HZ = 40.0
FLOOR_DB = -80.0
_BACKGROUND = (18, 18, 24)
_WAVE = (120, 200, 255)
# black -> purple -> orange -> pale yellow: loud parts stand out
_STOPS = np.array([[0, 0, 0], [60, 15, 110], [190, 55, 80], [250, 150, 40], [255, 245, 200]],
                  dtype=np.float32)


def _mono(samples: np.ndarray) -> np.ndarray:
    data = np.asarray(samples, dtype=np.float32)
    return data if data.ndim == 1 else data.mean(axis=1)


def waveform_columns(mono: np.ndarray, width: int = WIDTH) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) of each of ``width`` equal stretches of ``mono``."""
    edges = np.linspace(0, len(mono), width + 1).astype(np.int64)
    lows = np.zeros(width, dtype=np.float32)
    highs = np.zeros(width, dtype=np.float32)
    for i in range(width):
        part = mono[edges[i]:max(edges[i + 1], edges[i] + 1)]
        if len(part):
            lows[i], highs[i] = part.min(), part.max()
    return lows, highs


def spectrogram(mono: np.ndarray, rate: int, width: int = WIDTH,
                height: int = SPEC_HEIGHT) -> np.ndarray:
    """A ``height``×``width`` array of levels 0..1 (dB above FLOOR_DB, top = high pitch)."""
    padded = np.concatenate([np.zeros(N_FFT // 2, np.float32), mono,
                             np.zeros(N_FFT // 2, np.float32)])
    centres = np.linspace(0, len(mono), width, endpoint=False).astype(np.int64)
    frames = np.stack([padded[c:c + N_FFT] for c in centres])
    spectra = np.abs(np.fft.rfft(frames * np.hanning(N_FFT).astype(np.float32), axis=1))
    spectra /= N_FFT / 4  # a full-scale sine near 0 dB
    nyquist = rate / 2
    edges = np.geomspace(LOW_HZ, nyquist, height + 1)
    bins = np.clip((edges / nyquist * (N_FFT // 2)).astype(np.int64), 0, N_FFT // 2)
    rows = np.empty((height, width), dtype=np.float32)
    for r in range(height):  # each row the loudest bin in its band
        lo, hi = bins[r], max(bins[r + 1], bins[r] + 1)
        rows[height - 1 - r] = spectra[:, lo:hi].max(axis=1)
    db = 20 * np.log10(np.maximum(rows, 1e-6))
    return np.clip((db - FLOOR_DB) / -FLOOR_DB, 0.0, 1.0)  # type: ignore[no-any-return]


def _colour(levels: np.ndarray) -> np.ndarray:
    position = levels * (len(_STOPS) - 1)
    low = np.minimum(position.astype(np.int64), len(_STOPS) - 2)
    frac = (position - low)[..., None]
    return (_STOPS[low] * (1 - frac) + _STOPS[low + 1] * frac).astype(np.uint8)


def waveform_png(samples: np.ndarray, rate: int, title: str | None = None) -> bytes:
    """PNG bytes: the waveform (mono mix) above the spectrogram of ``samples``."""
    mono = _mono(samples)
    if not len(mono):
        raise ValueError("there is no audio to draw")
    image = Image.new("RGB", (WIDTH, WAVE_HEIGHT + SPEC_HEIGHT), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    lows, highs = waveform_columns(mono)
    mid = WAVE_HEIGHT / 2
    scale = (WAVE_HEIGHT / 2 - 4)
    for x, (lo, hi) in enumerate(zip(lows, highs, strict=True)):
        draw.line([(x, mid - hi * scale), (x, mid - lo * scale)], fill=_WAVE)
    draw.line([(0, mid), (WIDTH, mid)], fill=(60, 60, 80))
    image.paste(Image.fromarray(_colour(spectrogram(mono, rate)), "RGB"), (0, WAVE_HEIGHT))
    seconds = len(mono) / rate
    label = f"{title} · {seconds:.1f} s" if title else f"{seconds:.1f} s"
    draw.text((6, 4), label[:90], fill=(230, 230, 230))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
