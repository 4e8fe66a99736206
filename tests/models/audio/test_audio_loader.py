"""The safe audio loader on real files (written here by libsndfile) and a malformed corpus:
truncated files, headers that claim hours or gigabytes, zero and absurd sample rates, too
many channels, unknown formats. Each refusal is one sentence, and nothing is decoded past
the caps (a header that lies about its length is caught by the frame cap)."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import soundfile

from museforge.models.audio.loader import AudioFileError, AudioLimits, load_audio, probe, sniff

RATE = 22050


def tone(seconds: float = 1.0, channels: int = 1, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.5 * np.sin(2 * np.pi * 440 * t)
    return np.stack([wave] * channels, axis=1).astype(np.float32)


def encode(fmt: str, subtype: str | None = None, seconds: float = 1.0, channels: int = 1,
           rate: int = RATE) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, tone(seconds, channels, rate), rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def wav(rate: int = RATE, channels: int = 1, data_size: int | None = None,
        frames: int = 2205, tag: int = 1, bits: int = 16) -> bytes:
    """A hand-made PCM WAV whose header can say anything."""
    align = channels * bits // 8
    body = b"\x01\x00" * (frames * channels)
    size = len(body) if data_size is None else data_size
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits)
    return (b"RIFF" + struct.pack("<I", 36 + len(body)) + b"WAVE" + b"fmt " +
            struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", size) + body)


def refused(data: bytes, limits: AudioLimits | None = None) -> str:
    with pytest.raises(AudioFileError) as error:
        load_audio(data, limits)
    text = str(error.value)
    assert text.endswith(".") and text.count(". ") == 0, text  # one sentence
    return text


@pytest.mark.parametrize("fmt, subtype, codec", [
    ("WAV", "PCM_16", "pcm"), ("WAV", "FLOAT", "float"), ("FLAC", None, "flac"),
    ("OGG", "VORBIS", "vorbis"), ("OGG", "OPUS", "opus"), ("MP3", None, "mp3-layer3")])
def test_real_files_load_with_their_length_rate_and_channels(fmt, subtype, codec):
    rate = 48000 if subtype == "OPUS" else RATE
    data = encode(fmt, subtype, seconds=1.5, channels=2, rate=rate)
    header = probe(data)
    assert (header.codec, header.sample_rate, header.channels) == (codec, rate, 2)
    assert header.seconds is not None and abs(header.seconds - 1.5) < 0.1
    clip, _ = load_audio(data)
    assert clip.samples.dtype == np.float32 and clip.channels == 2
    assert abs(clip.seconds - 1.5) < 0.1
    assert 0.2 < float(np.abs(clip.samples).max()) <= 1.0  # the tone, not silence


def test_the_format_is_read_from_the_bytes_not_the_name():
    assert sniff(encode("FLAC")) == "flac" and sniff(encode("WAV")) == "wav"
    assert sniff(b"ID3\x03\x00\x00\x00\x00\x00\x00" + encode("MP3")) == "mp3"
    assert "a MIDI file" in refused(b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60")
    assert "a PNG image" in refused(b"\x89PNG\r\n\x1a\n" + bytes(40))
    assert "not an audio file I know" in refused(b"hello, this is text")
    assert "empty" in refused(b"")
    assert "AVI video" in refused(b"RIFF\x00\x00\x00\x00AVI LIST")


def test_an_id3_tagged_mp3_loads():
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x20" + bytes(32)
    clip, header = load_audio(tag + encode("MP3"))
    assert header.format == "mp3" and abs(clip.seconds - 1.0) < 0.1


def test_truncated_files_are_said_to_be_truncated():
    for fmt, subtype in (("WAV", "PCM_16"), ("OGG", "VORBIS"), ("FLAC", None)):
        data = encode(fmt, subtype, seconds=2.0)
        cut = data[: len(data) // 2]
        assert "truncated" in refused(cut), fmt
    assert "truncated" in refused(encode("WAV")[:30])  # inside the format chunk
    assert "truncated" in refused(b"RIFF\x00\x00\x00\x00WAVE")  # no chunks at all
    assert "truncated" in refused(encode("FLAC")[:20])
    assert "truncated" in refused(encode("OGG", "VORBIS")[:20])


def test_huge_header_claims_are_refused_before_decoding():
    # A 4 KB WAV whose data chunk claims 4 GB: 27 hours of mono 22 kHz audio.
    text = refused(wav(data_size=0xFFFFFFF0))
    assert "27 h" in text and "10 min" in text
    # A claim within the caps but past the end of the file is a truncated file.
    text = refused(wav(data_size=1_000_000))
    assert "truncated" in text and "976.6 KB" in text


def test_hour_long_claims_are_refused():
    assert "lasts 1 h 00 min" in refused(forge_flac_total(encode("FLAC", seconds=0.5),
                                                          3600 * RATE))
    # The same for OGG: the last page's granule position claims an hour.
    ogg = bytearray(encode("OGG", "VORBIS", seconds=0.5))
    last = ogg.rfind(b"OggS")
    ogg[last + 6:last + 14] = struct.pack("<q", 3600 * RATE)
    assert "lasts 1 h 00 min" in refused(bytes(ogg))
    # A caller's own, shorter cap.
    assert "lasts 1.0 s" in refused(encode("WAV"), AudioLimits(max_seconds=0.5))


def test_zero_and_absurd_rates_and_channel_counts():
    assert "sample rate of 0 Hz" in refused(wav(rate=0))
    assert "4000 Hz" in refused(wav(rate=4000))
    assert "384000 Hz" in refused(wav(rate=384000))
    assert "6 channels" in refused(wav(channels=6))
    assert "claims 0 channels" in refused(wav(channels=0))
    assert "encoding 0x0055" in refused(wav(tag=0x55))  # MP3 inside WAV
    flac = bytearray(encode("FLAC"))
    flac[18:21] = b"\x00\x00\x00"  # STREAMINFO sample rate 0 (its top 20 bits)
    flac[21] &= 0x0F
    assert "sample rate of 0 Hz" in refused(bytes(flac))


def forge_flac_total(data: bytes, total: int) -> bytes:
    """``data`` (a FLAC file) with STREAMINFO's 36-bit total-samples field set to ``total``."""
    bits = int.from_bytes(data[18:26], "big")
    bits = (bits & ~((1 << 36) - 1)) | total
    return data[:18] + bits.to_bytes(8, "big") + data[26:]


def test_a_flac_that_does_not_say_its_length_is_refused():
    # FLAC's total-samples field 0 means "unknown" (streaming encoders write it).
    assert "does not say how long it lasts" in refused(
        forge_flac_total(encode("FLAC", seconds=3.0), 0))


def test_a_stream_that_stops_short_of_its_header_is_truncated():
    cut = encode("FLAC", seconds=3.0)
    text = refused(forge_flac_total(cut, 6 * RATE))  # says 6 s, holds 3 s
    assert "truncated" in text and "6.0 s" in text


def test_a_chunk_bomb_is_refused_without_walking_it():
    chunks = b"".join(b"junk" + struct.pack("<I", 0) for _ in range(10_000))
    data = wav()[:12] + chunks + wav()[12:]
    assert "more than 64 chunks" in refused(data)


def test_the_size_cap():
    assert "largest audio file" in refused(encode("WAV"), AudioLimits(max_bytes=1000))
