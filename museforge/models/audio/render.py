"""Audio for a Piece: FluidSynth with the General MIDI soundfont pretty_midi ships
(TimGM6mb.sf2) when the FluidSynth library and pyfluidsynth load, else the pure-numpy
synthesizer of ``synth.py``. The result says which renderer ran, so a recipe can record it.

Every render is the piece's length plus a one-second release tail, mono float32, peak
normalised; a piece longer than ``max_seconds`` is refused before any sample is made.
"""

from __future__ import annotations

import io
import struct
import zlib
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from museforge.models.music.base import MusicError
from museforge.models.music.midi import format_duration, validate_piece
from museforge.models.music.piece import Piece
from museforge.models.quiet import quiet_import

RENDERERS = ("auto", "fluidsynth", "numpy")
TAIL_SECONDS = 1.0  # room for the last notes' release
PEAK = 0.89  # about -1 dBFS, headroom for the Vorbis encoder
_FADE_SECONDS = 0.05
SAMPLE_RATES = (8000, 96000)
_OGG_BLOCK = 8192  # frames per write to the Vorbis encoder
_SYNTH_CHANNELS = 256  # pyfluidsynth's default; every 16th from 9 is a drum channel


class RenderedAudio(NamedTuple):
    samples: np.ndarray  # float32, mono, -PEAK..PEAK
    sample_rate: int
    renderer: str  # "fluidsynth" or "numpy"

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


@lru_cache(maxsize=1)
def fluidsynth_problem() -> str | None:
    """Why FluidSynth cannot render here, or None when it can."""
    try:
        quiet_import("fluidsynth")  # pyfluidsynth loads libfluidsynth on import
        pm_fluidsynth = quiet_import("pretty_midi.fluidsynth")
    except (ImportError, OSError) as exc:
        return f"the FluidSynth library or pyfluidsynth is missing ({exc})"
    if not pm_fluidsynth._HAS_FLUIDSYNTH:
        return "pretty_midi found no pyfluidsynth"
    import importlib.resources
    import os

    soundfont = os.path.join(str(importlib.resources.files("pretty_midi")),
                             pm_fluidsynth.DEFAULT_SF2)
    if not os.path.exists(soundfont):
        return f"pretty_midi's soundfont {pm_fluidsynth.DEFAULT_SF2} is missing"
    return None


def render_audio(piece: Piece, *, sample_rate: int = 44100, max_seconds: float = 600.0,
                 renderer: str = "auto") -> RenderedAudio:
    """Render ``piece`` to mono audio. ``renderer``: ``"auto"`` (FluidSynth when it works
    here, else numpy), ``"fluidsynth"`` (refused when missing) or ``"numpy"``."""
    if renderer not in RENDERERS:
        raise MusicError(f'unknown renderer "{renderer}"; use one of: {", ".join(RENDERERS)}')
    if not SAMPLE_RATES[0] <= sample_rate <= SAMPLE_RATES[1]:
        raise MusicError(f"the sample rate must be {SAMPLE_RATES[0]}..{SAMPLE_RATES[1]} Hz, "
                         f"not {sample_rate}")
    validate_piece(piece)
    if piece.seconds > max_seconds:
        raise MusicError(f"the piece lasts {format_duration(piece.seconds)}; the longest audio "
                         f"I render is {format_duration(max_seconds)}")
    if renderer == "auto":
        renderer = "numpy" if fluidsynth_problem() else "fluidsynth"
    elif renderer == "fluidsynth" and (problem := fluidsynth_problem()):
        raise MusicError(f"cannot render with FluidSynth: {problem}")

    total = int(round((piece.seconds + TAIL_SECONDS) * sample_rate))
    if renderer == "fluidsynth":
        raw = _fluidsynth(piece, sample_rate, total)
    else:
        from museforge.models.audio.synth import synthesize

        raw = synthesize(piece, sample_rate, total)
    return RenderedAudio(_finish(raw, total, sample_rate), sample_rate, renderer)


def _fluidsynth(piece: Piece, sample_rate: int, total: int) -> np.ndarray:
    """One pass of one synthesizer with a channel per part, in the soundfont pretty_midi
    ships. (``PrettyMIDI.fluidsynth()`` renders each instrument in a pass of its own and
    holds every result at once: time and memory grow with the number of parts, and a
    user's 64-part, 10-minute file would want 64 full-length buffers.)"""
    get_fluidsynth_instance = quiet_import("pretty_midi.fluidsynth").get_fluidsynth_instance

    synth, soundfont, _ = get_fluidsynth_instance(None, 0, sample_rate)
    try:
        events: list[tuple[int, int, int, int, int]] = []  # sample, on?, channel, pitch, vel
        seconds_per_beat = 60.0 / piece.tempo
        drum_channels = iter(range(9, _SYNTH_CHANNELS, 16))
        pitched_channels = iter(c for c in range(_SYNTH_CHANNELS) if c % 16 != 9)
        for part in piece.parts:
            if not part.notes:
                continue
            if part.is_drum:
                channel = next(drum_channels)
                if synth.program_select(channel, soundfont, 128, part.program) == -1:
                    synth.program_select(channel, soundfont, 128, 0)  # the standard kit
            else:
                channel = next(pitched_channels)
                synth.program_select(channel, soundfont, 0, part.program)
            for note in part.notes:
                start = int(round(note.start * seconds_per_beat * sample_rate))
                end = max(start + 1, int(round(note.end * seconds_per_beat * sample_rate)))
                events.append((start, 1, channel, note.pitch, note.velocity))
                events.append((end, 0, channel, note.pitch, 0))
        events.sort()  # at one instant, note-offs (0) before note-ons (1)
        out = np.zeros(total, dtype=np.float32)
        position = 0
        for when, on, channel, pitch, velocity in events:
            when = min(when, total)
            if when > position:
                out[position:when] = _mono(synth.get_samples(when - position))
                position = when
            if on:
                synth.noteon(channel, pitch, velocity)
            else:
                synth.noteoff(channel, pitch)
        if total > position:
            out[position:] = _mono(synth.get_samples(total - position))
        return out
    finally:
        synth.delete()


def _mono(stereo: np.ndarray) -> np.ndarray:
    frames = np.asarray(stereo, dtype=np.float32).reshape(-1, 2)
    return (frames[:, 0] + frames[:, 1]) * (0.5 / 32768)


def _finish(raw: np.ndarray, total: int, sample_rate: int) -> np.ndarray:
    """Exactly ``total`` samples, a short fade at the end, the peak at PEAK."""
    samples = np.zeros(total, dtype=np.float32)
    n = min(total, len(raw))
    samples[:n] = raw[:n]
    fade = min(total, int(_FADE_SECONDS * sample_rate))
    if fade:
        samples[total - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    peak = float(np.max(np.abs(samples))) if total else 0.0
    if peak > 0:
        samples *= PEAK / peak
    return samples


def encode_ogg(samples: np.ndarray, sample_rate: int) -> bytes:
    """OGG Vorbis bytes of float samples (mono, or stereo as (n, 2))."""
    import soundfile

    if len(samples) == 0:
        raise MusicError("there is no audio to encode")
    data = np.asarray(samples, dtype=np.float32)
    buffer = io.BytesIO()
    channels = 1 if data.ndim == 1 else data.shape[1]
    with soundfile.SoundFile(buffer, "w", sample_rate, channels, format="OGG",
                             subtype="VORBIS") as out:
        # libvorbis allocas a work buffer on the stack sized by what one write hands it:
        # a long piece written at once overflows the stack (libsndfile issue #1095,
        # python-soundfile #396, #426). Small blocks keep it bounded.
        for start in range(0, len(data), _OGG_BLOCK):
            out.write(data[start:start + _OGG_BLOCK])
    return _fix_ogg_serial(buffer.getvalue())


# libsndfile gives each Ogg stream a random serial number, so the same samples encoded
# twice differ in 8 bytes per page. A fixed serial (and the page checksums redone) makes
# the same piece give the same file, which content-addressed storage and replay rely on.
_OGG_SERIAL = struct.pack("<I", 0x6D757365)
_BIT_REVERSED = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def _ogg_crc(page: bytes) -> int:
    """Ogg's CRC-32 (polynomial 0x04C11DB7, unreflected, init 0, no final xor), from
    zlib's reflected CRC-32: reverse the bits of each byte in and of the word out, and
    cancel zlib's init and final xor with the CRC of as many zero bytes."""
    reflected = zlib.crc32(page.translate(_BIT_REVERSED)) ^ zlib.crc32(bytes(len(page)))
    return int(f"{reflected:032b}"[::-1], 2)


def _fix_ogg_serial(data: bytes) -> bytes:
    out = bytearray(data)
    pos = 0
    while pos + 27 <= len(out) and out[pos:pos + 4] == b"OggS":
        segments = out[pos + 26]
        size = 27 + segments + sum(out[pos + 27:pos + 27 + segments])
        out[pos + 14:pos + 18] = _OGG_SERIAL
        out[pos + 22:pos + 26] = b"\0\0\0\0"
        out[pos + 22:pos + 26] = struct.pack("<I", _ogg_crc(bytes(out[pos:pos + size])))
        pos += size
    if pos != len(out):
        raise MusicError("the Ogg encoder wrote a stream I cannot read back")
    return bytes(out)
