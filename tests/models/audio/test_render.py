"""Audio from a piece, by both renderers, and its OGG Vorbis encoding."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest

from museforge.models.audio.render import (
    PEAK,
    TAIL_SECONDS,
    encode_ogg,
    fluidsynth_problem,
    render_audio,
)
from museforge.models.music.base import MusicError
from museforge.models.music.piece import Note, Part, Piece

FLUIDSYNTH = pytest.param(
    "fluidsynth", marks=pytest.mark.skipif(fluidsynth_problem() is not None,
                                           reason=f"{fluidsynth_problem()}"))
RENDERERS = [FLUIDSYNTH, "numpy"]


def band(bars: int = 4, tempo: float = 120.0) -> Piece:
    """Melody (flute), chords (strings), bass, drums: every voice family the synth has
    a recipe for gets a part somewhere in these tests."""
    melody, chords, bass, drums = [], [], [], []
    for bar in range(bars):
        start = bar * 4.0
        melody += [Note(72 + (bar + i) % 5, start + i, start + i + 0.9, 90) for i in range(4)]
        chords += [Note(p, start, start + 3.9, 70) for p in (60, 64, 67)]
        bass += [Note(36, start + i * 2, start + i * 2 + 1.8, 90) for i in range(2)]
        drums += [Note(k, start + i, start + i + 0.1, 100)
                  for i, k in enumerate((36, 42, 38, 46))]
    return Piece([Part("melody", 73, False, melody), Part("chords", 48, False, chords),
                  Part("bass", 33, False, bass), Part("drums", 0, True, drums)], tempo=tempo)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


@pytest.mark.parametrize("renderer", RENDERERS)
def test_audio_has_the_pieces_length_and_is_not_silent(renderer):
    piece = band()  # 16 beats at 120 bpm: 8 seconds
    audio = render_audio(piece, sample_rate=22050, renderer=renderer)

    assert audio.renderer == renderer and audio.sample_rate == 22050
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert audio.seconds == pytest.approx(piece.seconds + TAIL_SECONDS, abs=0.5 / 22050 + 1e-9)
    assert float(np.max(np.abs(audio.samples))) == pytest.approx(PEAK, rel=1e-5)
    assert rms(audio.samples) > 0.05
    # every second of the piece sounds (no part dropped, no silent stretch)
    per_second = audio.samples[: int(piece.seconds) * 22050].reshape(-1, 22050)
    assert min(rms(s) for s in per_second) > 0.02


@pytest.mark.parametrize("renderer", RENDERERS)
def test_rendering_is_deterministic(renderer):
    piece = band(bars=1)
    first = render_audio(piece, sample_rate=16000, renderer=renderer).samples
    assert np.array_equal(first, render_audio(piece, sample_rate=16000,
                                              renderer=renderer).samples)


@pytest.mark.parametrize("program", range(0, 128, 8))
def test_the_numpy_synth_sounds_every_instrument_family(program):
    piece = Piece([Part("melody", program, False, [Note(p, i * 0.5, i * 0.5 + 0.5, 80)
                                                   for i, p in enumerate((24, 60, 96, 127))])])
    audio = render_audio(piece, sample_rate=22050, renderer="numpy")
    assert np.all(np.isfinite(audio.samples)) and rms(audio.samples) > 0.02


def test_every_gm_drum_key_sounds():
    drums = [Note(k, (k - 27) * 0.25, (k - 27) * 0.25 + 0.1, 100) for k in range(27, 88)]
    audio = render_audio(Piece([Part("drums", 0, True, drums)]), sample_rate=16000,
                         renderer="numpy")
    assert np.all(np.isfinite(audio.samples)) and rms(audio.samples) > 0.02


def test_auto_picks_fluidsynth_where_it_works():
    expected = "numpy" if fluidsynth_problem() else "fluidsynth"
    assert render_audio(band(bars=1), sample_rate=16000).renderer == expected


def test_a_piece_without_notes_renders_the_tail_in_silence():
    audio = render_audio(Piece([Part("melody")]), sample_rate=16000, renderer="numpy")
    assert audio.seconds == TAIL_SECONDS and not np.any(audio.samples)


def test_too_long_a_piece_is_refused_before_rendering():
    eleven_minutes = Piece([Part("melody", notes=[Note(60, 0, 1), Note(60, 1319, 1320)])],
                           tempo=120)
    started = time.perf_counter()
    with pytest.raises(MusicError, match="the piece lasts 11:00; the longest audio I render "
                                         "is 10:00"):
        render_audio(eleven_minutes)
    with pytest.raises(MusicError, match="longest audio I render is 0:30"):
        render_audio(band(bars=40), max_seconds=30)
    assert time.perf_counter() - started < 1


def test_bad_render_arguments_are_refused():
    with pytest.raises(MusicError, match='unknown renderer "timidity"'):
        render_audio(band(), renderer="timidity")
    with pytest.raises(MusicError, match="sample rate"):
        render_audio(band(), sample_rate=1_000_000)


@pytest.mark.parametrize("renderer", RENDERERS)
def test_ogg_vorbis_decodes_back_with_the_right_duration(renderer):
    import soundfile

    audio = render_audio(band(), sample_rate=22050, renderer=renderer)
    data = encode_ogg(audio.samples, audio.sample_rate)

    assert data[:4] == b"OggS"
    decoded, sample_rate = soundfile.read(io.BytesIO(data), dtype="float32")
    assert sample_rate == 22050
    assert len(decoded) / sample_rate == pytest.approx(audio.seconds, abs=0.05)
    assert rms(decoded) == pytest.approx(rms(audio.samples), rel=0.1)


def test_the_same_samples_encode_to_the_same_bytes():
    audio = render_audio(band(bars=2), sample_rate=16000, renderer="numpy")
    assert encode_ogg(audio.samples, 16000) == encode_ogg(audio.samples, 16000)


def test_a_long_render_encodes_without_crashing_the_vorbis_encoder():
    """libvorbis overflows its stack when one write hands it minutes of audio; the
    encoder is fed in blocks (this ran into a segfault before)."""
    import soundfile

    samples = (0.3 * np.sin(np.arange(44100 * 130) * 0.05)).astype(np.float32)
    data = encode_ogg(samples, 44100)
    assert soundfile.info(io.BytesIO(data)).duration == pytest.approx(130, abs=0.01)


def test_without_fluidsynth_auto_falls_back_to_numpy(monkeypatch):
    """As on a machine without libfluidsynth: pyfluidsynth's import fails."""
    import sys

    monkeypatch.setitem(sys.modules, "fluidsynth", None)  # `import fluidsynth` raises
    fluidsynth_problem.cache_clear()
    try:
        assert "FluidSynth library or pyfluidsynth is missing" in fluidsynth_problem()
        assert render_audio(band(bars=1), sample_rate=16000).renderer == "numpy"
        with pytest.raises(MusicError, match="cannot render with FluidSynth: the FluidSynth"):
            render_audio(band(bars=1), renderer="fluidsynth")
    finally:
        fluidsynth_problem.cache_clear()
