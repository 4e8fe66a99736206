"""A small pure-numpy synthesizer: the fallback when FluidSynth is missing.

Pitched notes read a one-period wavetable (a harmonic recipe per General MIDI family,
with the harmonics above Nyquist left out) under an ADSR envelope; drums are one-shot
samples made from sine sweeps and seeded noise, built once per key and reused. No
randomness outside fixed seeds: the same piece gives the same samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from museforge.models.music.piece import Piece
from museforge.models.music.theory import program_family

TABLE_SIZE = 4096


@dataclass(frozen=True)
class Voice:
    harmonics: tuple[float, ...]  # amplitude of harmonic 1, 2, 3, ...
    attack: float  # seconds
    decay: float  # seconds to fall from 1 to the sustain level (time constant)
    sustain: float  # level 0..1 while held
    release: float  # seconds after the note ends
    percussive: bool = False  # decays while held, like a struck or plucked string


_SAW = tuple(1.0 / k for k in range(1, 13))
_SQUARE = tuple((1.0 / k if k % 2 else 0.0) for k in range(1, 13))

VOICES: dict[str, Voice] = {
    "piano": Voice((1, .55, .3, .2, .12, .08, .05, .03), .004, .9, 0.0, .18, True),
    "chromatic percussion": Voice((1, 0, .25, 0, .12, 0, 0, .05), .002, .5, 0.0, .4, True),
    "organ": Voice((1, .9, .5, .45, 0, .3, 0, .2), .012, .05, 1.0, .08),
    "guitar": Voice((1, .6, .4, .3, .18, .1, .06), .003, .7, 0.0, .12, True),
    "bass": Voice((1, .55, .25, .12, .05), .006, .8, .3, .08),
    "strings": Voice(_SAW[:10], .09, .3, .85, .3),
    "ensemble": Voice(_SAW[:8], .14, .4, .85, .45),
    "brass": Voice((1, .85, .7, .55, .45, .35, .25, .18, .12), .045, .25, .8, .14),
    "reed": Voice((1, .12, .6, .1, .38, .08, .22, .05, .12), .03, .2, .85, .1),
    "pipe": Voice((1, .18, .06, .02), .04, .2, .9, .12),
    "synth lead": Voice(_SQUARE, .006, .2, .85, .1),
    "synth pad": Voice((1, .45, .22, .12, .06), .35, .6, .9, .7),
    "synth effects": Voice((1, .3, .3, .2, .1), .2, .5, .8, .6),
    "ethnic": Voice((1, .7, .45, .3, .2, .12), .004, .6, 0.0, .2, True),
    "percussive": Voice((1, .2, .35, .1, .15), .002, .3, 0.0, .2, True),
    "sound effects": Voice((1, .5, .25), .05, .3, .6, .3),
}


@lru_cache(maxsize=512)
def _wavetable(family: str, harmonics: int) -> np.ndarray:
    amplitudes = VOICES[family].harmonics[:max(1, harmonics)]
    phase = np.arange(TABLE_SIZE) / TABLE_SIZE
    table = sum(a * np.sin(2 * np.pi * (k + 1) * phase) for k, a in enumerate(amplitudes) if a)
    table = np.asarray(table, dtype=np.float64)
    return (table / np.max(np.abs(table))).astype(np.float32)


def _envelope(voice: Voice, held: int, total: int, sr: int) -> np.ndarray:
    t = np.arange(total, dtype=np.float32) / sr
    attack = max(voice.attack, 1e-3)
    level = np.minimum(t / attack, 1.0)
    after = np.maximum(t - attack, 0.0)
    if voice.percussive:
        body = np.exp(-after / voice.decay)
    else:
        body = voice.sustain + (1 - voice.sustain) * np.exp(-after / max(voice.decay, 1e-3))
    env = level * body
    if total > held:
        at_release = env[held - 1] if held > 0 else 0.0
        tail = np.arange(total - held, dtype=np.float32) / sr
        env[held:] = at_release * np.exp(-tail / (voice.release / 4))
    return env


def _note(pitch: int, program: int, seconds: float, sr: int) -> np.ndarray:
    family = program_family(program)
    voice = VOICES[family]
    freq = 440.0 * 2 ** ((pitch - 69) / 12)
    held = max(1, int(round(seconds * sr)))
    total = held + int(voice.release * sr)
    harmonics = int((sr / 2) // freq)
    table = _wavetable(family, min(harmonics, len(voice.harmonics)))
    phase = (np.arange(total, dtype=np.float64) * (freq * TABLE_SIZE / sr)) % TABLE_SIZE
    return table[phase.astype(np.int32)] * _envelope(voice, held, total, sr)


def _sweep(sr: int, seconds: float, start_hz: float, end_hz: float, tau: float) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    freq = end_hz + (start_hz - end_hz) * np.exp(-t / 0.04)
    phase = 2 * np.pi * np.cumsum(freq) / sr
    return np.sin(phase) * np.exp(-t / tau)


def _noise(sr: int, seconds: float, tau: float, seed: int, bright: bool) -> np.ndarray:
    n = int(seconds * sr)
    noise = np.random.default_rng(seed).standard_normal(n)
    if bright:  # a first difference tilts the noise toward the highs (hats, cymbals)
        noise = np.diff(noise, prepend=0.0) * 0.5
    return noise * np.exp(-np.arange(n) / sr / tau)


@lru_cache(maxsize=128)
def drum_sample(key: int, sr: int) -> np.ndarray:
    """A one-shot sample for GM percussion ``key`` (its shape by kind: kick, snare, ...)."""
    if key in (35, 36):
        hit = _sweep(sr, .45, 150, 48, .16)
        click = _noise(sr, .01, .003, key, False)
        hit[:len(click)] += .15 * click
    elif key in (38, 40, 37, 39):
        tone = 0.5 * _sweep(sr, .25, 260, 185, .06) if key != 39 else 0.0
        hit = _noise(sr, .25, .07 if key != 37 else .02, key, False) * .8 + tone
    elif key in (42, 44):
        hit = _noise(sr, .12, .025, key, True)
    elif key == 46:
        hit = _noise(sr, .5, .14, key, True)
    elif key in (41, 43, 45, 47, 48, 50):
        base = 70 + (key - 41) * 18
        hit = _sweep(sr, .5, base * 1.6, base, .2)
    elif key in (49, 52, 55, 57):
        hit = _noise(sr, 1.6, .55, key, True)
    elif key in (51, 53, 59):
        bell = .2 * np.sin(2 * np.pi * 2400 * np.arange(int(.9 * sr)) / sr) \
            * np.exp(-np.arange(int(.9 * sr)) / sr / .3)
        hit = _noise(sr, .9, .3, key, True) * .6 + bell
    else:  # hand percussion and the rest: a short bright tick
        hit = _noise(sr, .2, .04, key, True)
    hit = np.asarray(hit, dtype=np.float64)
    return (hit / np.max(np.abs(hit))).astype(np.float32)


def synthesize(piece: Piece, sample_rate: int, total_samples: int) -> np.ndarray:
    """The piece as mono float32 samples (not normalised), ``total_samples`` long."""
    out = np.zeros(total_samples, dtype=np.float32)
    seconds_per_beat = 60.0 / piece.tempo
    for part in piece.parts:
        for note in part.notes:
            start = int(round(note.start * seconds_per_beat * sample_rate))
            if start >= total_samples:
                continue
            if part.is_drum:
                wave = drum_sample(note.pitch, sample_rate)
            else:
                wave = _note(note.pitch, part.program, note.duration * seconds_per_beat,
                             sample_rate)
            wave = wave[: total_samples - start]
            out[start:start + len(wave)] += wave * (note.velocity / 127) ** 1.5
    return out
