"""Audio edits that need no model, on float32 samples shaped (frames, channels): trim,
fades, looping to a length, gain and peak normalising, a tempo change that keeps the pitch
(WSOLA: overlap-added windows, each taken where it best continues the one before), mixing
two clips, and resampling (for mixing clips of different rates). Pure numpy; the same
input gives the same samples."""

from __future__ import annotations

import numpy as np

NORMALISE_PEAK_DB = -1.0
LOOP_CROSSFADE_S = 0.02
WSOLA_FRAME_S = 0.05
WSOLA_SEARCH_S = 0.0125  # how far (either way) a window may move to fit the last one
TEMPO_SCALES = (0.5, 2.0)


class AudioEditError(ValueError):
    """An edit that cannot be made; its text is one sentence."""


def as_frames(samples: np.ndarray) -> np.ndarray:
    data = np.asarray(samples, dtype=np.float32)
    return data[:, None] if data.ndim == 1 else data


def trim(samples: np.ndarray, rate: int, start: float, end: float | None) -> np.ndarray:
    length = len(samples) / rate
    end = length if end is None else end
    if not 0 <= start < end:
        raise AudioEditError(f"A trim keeps from its start to its end, and {start:g} s to "
                             f"{end:g} s is not a stretch of time.")
    if start >= length:
        raise AudioEditError(f"The clip lasts {length:.2f} s; a trim cannot start at "
                             f"{start:g} s.")
    if end > length + 1e-6:
        raise AudioEditError(f"The clip lasts {length:.2f} s; a trim cannot end at {end:g} s.")
    return samples[int(round(start * rate)):int(round(end * rate))].copy()


def _ramp(n: int) -> np.ndarray:
    """0 → 1 over ``n`` samples along a half cosine (no click at either end)."""
    return (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n))).astype(np.float32)[:, None]


def fade(samples: np.ndarray, rate: int, fade_in: float = 0.0, fade_out: float = 0.0
         ) -> np.ndarray:
    length = len(samples) / rate
    if fade_in + fade_out > length + 1e-6:
        raise AudioEditError(f"The fades ({fade_in:g} s in, {fade_out:g} s out) are longer "
                             f"than the clip ({length:.2f} s).")
    out = samples.copy()
    n_in, n_out = int(round(fade_in * rate)), int(round(fade_out * rate))
    if n_in:
        out[:n_in] *= _ramp(n_in)
    if n_out:
        out[len(out) - n_out:] *= _ramp(n_out)[::-1]
    return out


def loop_to(samples: np.ndarray, rate: int, seconds: float) -> np.ndarray:
    """The clip repeated (with a short crossfade at each join) and cut to ``seconds``."""
    total = int(round(seconds * rate))
    if total <= len(samples):
        raise AudioEditError(f"Looping makes a clip longer: it lasts {len(samples) / rate:.2f} "
                             f"s already, so {seconds:g} s is a trim.")
    cross = min(int(LOOP_CROSSFADE_S * rate), len(samples) // 4)
    step = len(samples) - cross
    out = np.zeros((total + len(samples), samples.shape[1]), dtype=np.float32)
    up = _ramp(cross) if cross else None
    pos = 0
    while pos < total:
        piece = samples.copy()
        if up is not None and pos:
            piece[:cross] *= up
            out[pos:pos + cross] *= up[::-1]
        out[pos:pos + len(piece)] += piece
        pos += step
    return out[:total]


def gain(samples: np.ndarray, db: float) -> np.ndarray:
    return samples * np.float32(10 ** (db / 20))


def peak_db(samples: np.ndarray) -> float:
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    return -np.inf if peak == 0 else 20 * float(np.log10(peak))


def normalise(samples: np.ndarray, target_db: float = NORMALISE_PEAK_DB) -> np.ndarray:
    peak = peak_db(samples)
    if peak == -np.inf:
        raise AudioEditError("The clip is silent, so there is nothing to normalise.")
    return gain(samples, target_db - peak)


def time_stretch(samples: np.ndarray, rate: int, tempo_scale: float) -> np.ndarray:
    """The clip played ``tempo_scale`` times as fast, at the same pitch (WSOLA)."""
    if not TEMPO_SCALES[0] <= tempo_scale <= TEMPO_SCALES[1]:
        raise AudioEditError(f"The tempo scale is {TEMPO_SCALES[0]} to {TEMPO_SCALES[1]}, "
                             f"not {tempo_scale:g}.")
    frame = int(WSOLA_FRAME_S * rate) // 2 * 2
    hop = frame // 2
    if len(samples) < 2 * frame:
        raise AudioEditError(f"The clip is too short ({len(samples) / rate:.2f} s) to change "
                             "its tempo.")
    tolerance = int(WSOLA_SEARCH_S * rate)
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame) / frame)).astype(np.float32)
    # the search compares a mono mix, decimated to ~11 kHz, then refines at full rate
    mono = samples.mean(axis=1)
    step = max(1, rate // 11025)
    n_out = int(round(len(samples) / tempo_scale))
    n_frames = max(1, (n_out - frame) // hop + 1)
    padded = np.concatenate([samples, np.zeros((frame + 2 * tolerance, samples.shape[1]),
                                               np.float32)])
    mono = np.concatenate([mono, np.zeros(frame + 2 * tolerance, np.float32)])
    coarse = mono[::step]
    out = np.zeros((n_frames * hop + frame, samples.shape[1]), dtype=np.float32)
    weight = np.zeros(len(out), dtype=np.float32)
    last_input = len(samples) - frame
    pos = 0
    for k in range(n_frames):
        if k:
            natural = pos + hop  # what would continue the last window seamlessly
            nominal = min(int(round(k * hop * tempo_scale)), last_input)
            lo, hi = max(0, nominal - tolerance), min(last_input, nominal + tolerance)
            pos = _best_fit(mono, coarse, step, natural, lo, hi, frame) if hi > lo else lo
        out[k * hop:k * hop + frame] += padded[pos:pos + frame] * window[:, None]
        weight[k * hop:k * hop + frame] += window
    out /= np.maximum(weight, 1e-3)[:, None]
    return out[:n_out]


def _best_fit(mono: np.ndarray, coarse: np.ndarray, step: int, natural: int, lo: int, hi: int,
              frame: int) -> int:
    """The start in ``lo..hi`` whose window best matches the one at ``natural``."""
    target = coarse[natural // step:(natural + frame) // step]
    region = coarse[lo // step:hi // step + len(target)]
    if len(region) < len(target) or not len(target):
        return lo
    scores = np.correlate(region, target, mode="valid")
    rough = lo + int(np.argmax(scores)) * step
    if step == 1:
        return rough
    a, b = max(lo, rough - step), min(hi, rough + step)
    fine_target = mono[natural:natural + frame]
    fine = np.correlate(mono[a:b + frame], fine_target, mode="valid")
    return a + int(np.argmax(fine))


def resample(samples: np.ndarray, rate: int, new_rate: int) -> np.ndarray:
    """Linear-interpolation resampling (used only to mix a render into a clip)."""
    if rate == new_rate:
        return samples
    n = int(round(len(samples) * new_rate / rate))
    where = np.arange(n) * (rate / new_rate)
    index = np.arange(len(samples))
    return np.stack([np.interp(where, index, samples[:, c]) for c in range(samples.shape[1])],
                    axis=1).astype(np.float32)


def match_channels(samples: np.ndarray, channels: int) -> np.ndarray:
    if samples.shape[1] == channels:
        return samples
    if samples.shape[1] == 1:
        return np.repeat(samples, channels, axis=1)
    return samples.mean(axis=1, keepdims=True)


def mix(base: np.ndarray, other: np.ndarray, other_db: float = 0.0) -> tuple[np.ndarray, float]:
    """``other`` (at ``other_db``) laid over ``base`` from its start; the result is as long
    as the longer one. When the sum would clip, it is scaled down to a -1 dBFS peak; the
    second value is that scaling in dB (0 when none was needed)."""
    other = match_channels(other, base.shape[1])
    out = np.zeros((max(len(base), len(other)), base.shape[1]), dtype=np.float32)
    out[:len(base)] += base
    out[:len(other)] += gain(other, other_db)
    peak = peak_db(out)
    if peak > 0:
        return normalise(out), NORMALISE_PEAK_DB - peak
    return out, 0.0
