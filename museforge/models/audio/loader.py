"""A safe loader for a person's audio file (WAV, FLAC, OGG Vorbis/Opus, MP3).

The format is decided by the file's first bytes, never its name. Its header is read by
this module (not by the decoder) and its sample rate, channels and length are checked
against the caps *before* a sample is decoded: a 1 KB file that claims to last six hours,
a zero sample rate, a header that promises more bytes than the file holds are each one
sentence. Decoding (libsndfile through soundfile) then reads at most the capped number
of frames, so a header that lied about its length still cannot make us decode more.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import numpy as np


class AudioFileError(ValueError):
    """A refused audio file; its text is one sentence a person can act on."""


@dataclass(frozen=True)
class AudioLimits:
    max_seconds: float = 600.0
    min_rate: int = 8000
    max_rate: int = 192000
    max_channels: int = 2
    max_bytes: int = 200 * 1024 * 1024


@dataclass(frozen=True)
class AudioHeader:
    """What a file's header says, before any decoding."""

    format: str  # "wav", "flac", "ogg", "mp3"
    codec: str  # "pcm", "float", "flac", "vorbis", "opus", "mp3"...
    sample_rate: int
    channels: int
    frames: int | None  # None when the header does not say (then decoding is capped)

    @property
    def seconds(self) -> float | None:
        return None if self.frames is None else self.frames / self.sample_rate


@dataclass
class Clip:
    """Decoded audio: float32 samples shaped (frames, channels), -1..1."""

    samples: np.ndarray
    sample_rate: int

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def frames(self) -> int:
        return int(self.samples.shape[0])

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


def duration_text(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    if seconds >= 60:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{seconds:.1f} s"


FORMATS = "WAV, FLAC, OGG (Vorbis or Opus) or MP3"
_WAV_CODECS = {1: "pcm", 3: "float", 6: "alaw", 7: "ulaw"}
_MAX_CHUNKS = 64  # a WAV's chunks before "data"; thousands of empty ones are a bomb
_MAX_OGG_PAGES = 1_000_000
_MAX_FLAC_BLOCKS = 128
_BLOCK = 1 << 16  # frames decoded at a time


def sniff(data: bytes) -> str | None:
    """The audio format of ``data`` from its first bytes, or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"fLaC":
        return "flac"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:3] == b"ID3":
        body = data[_id3_size(data):]
        return "flac" if body[:4] == b"fLaC" else "mp3"
    if len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0:
        return "mp3"
    return None


def _other_kind(data: bytes) -> str:
    """What a file that is not audio we read seems to be, for the refusal."""
    if data[:4] == b"RIFF":
        return {b"AVI ": "an AVI video", b"WEBP": "a WebP image", b"RMID": "a MIDI file"} \
            .get(data[8:12], "a RIFF file that is not WAV audio")
    if data[:4] == b"RF64":
        return "an RF64 (64-bit WAV) file"
    for magic, what in ((b"MThd", "a MIDI file"), (b"\x89PNG", "a PNG image"),
                        (b"\xff\xd8\xff", "a JPEG image"), (b"FORM", "an AIFF file"),
                        (b"PK\x03\x04", "a ZIP archive"), (b"%PDF", "a PDF document")):
        if data.startswith(magic):
            return what
    if data[4:8] == b"ftyp":
        return "an MP4/M4A file"
    return "not an audio file I know"


def probe(data: bytes, limits: AudioLimits | None = None) -> AudioHeader:
    """Read and check the header of ``data``; refuse it with one sentence when it is not
    an audio file we read, is damaged, or is over the caps. Decodes nothing."""
    limits = limits or AudioLimits()
    if not data:
        raise AudioFileError("The file is empty.")
    if len(data) > limits.max_bytes:
        raise AudioFileError(f"The file is {len(data) / 2**20:.0f} MB; the largest audio file "
                             f"I take is {limits.max_bytes // 2**20} MB.")
    fmt = sniff(data)
    if fmt is None:
        raise AudioFileError(f"This is {_other_kind(data)}; send a {FORMATS} file.")
    try:
        header, truncated = {"wav": _wav, "flac": _flac, "ogg": _ogg, "mp3": _mp3}[fmt](data)
    except (struct.error, IndexError):
        raise AudioFileError(f"The {fmt.upper()} file is truncated: its header ends "
                             "before it says what the audio is.") from None
    check(header, limits)  # a header that claims hours is refused for that, cut short or not
    if truncated:
        raise AudioFileError(f"The {fmt.upper()} file is truncated: {truncated}.")
    return header


def check(header: AudioHeader, limits: AudioLimits) -> None:
    what = header.format.upper()
    if header.sample_rate <= 0:
        raise AudioFileError(f"The {what} file claims a sample rate of {header.sample_rate} Hz, "
                             "which no audio has; the file is damaged.")
    if not limits.min_rate <= header.sample_rate <= limits.max_rate:
        raise AudioFileError(f"The {what} file's sample rate is {header.sample_rate} Hz; I "
                             f"take {limits.min_rate} to {limits.max_rate} Hz.")
    if header.channels < 1:
        raise AudioFileError(f"The {what} file claims {header.channels} channels; the file "
                             "is damaged.")
    if header.channels > limits.max_channels:
        raise AudioFileError(f"The {what} file has {header.channels} channels; I take mono "
                             "or stereo audio.")
    seconds = header.seconds
    if seconds is not None and seconds > limits.max_seconds:
        raise AudioFileError(f"The {what} file's header says it lasts {duration_text(seconds)}; "
                             f"the longest audio I take is {duration_text(limits.max_seconds)}.")


def load_audio(data: bytes, limits: AudioLimits | None = None) -> tuple[Clip, AudioHeader]:
    """Decode ``data`` after ``probe`` accepted it, reading no more than the caps allow."""
    import soundfile

    limits = limits or AudioLimits()
    header = probe(data, limits)
    cap = int(limits.max_seconds * header.sample_rate)
    what = header.format.upper()
    blocks: list[np.ndarray] = []
    decoded, failed = 0, ""
    try:
        with soundfile.SoundFile(io.BytesIO(data)) as f:
            if (f.samplerate, f.channels) != (header.sample_rate, header.channels):
                raise AudioFileError(
                    f"The {what} file's header says {header.sample_rate} Hz, "
                    f"{header.channels} channel(s), but its audio is {f.samplerate} Hz, "
                    f"{f.channels} channel(s); the file is damaged.")
            while decoded <= cap:
                try:
                    block = f.read(frames=min(_BLOCK, cap + 1 - decoded), dtype="float32",
                                   always_2d=True)
                except soundfile.LibsndfileError as error:
                    failed = str(error).strip()[:120]
                    break
                if not len(block):
                    break
                blocks.append(block)
                decoded += len(block)
    except soundfile.LibsndfileError as error:
        raise AudioFileError(f"The {what} file could not be decoded "
                             f"({str(error).strip()[:120]}); it is damaged or in an encoding "
                             "I do not read.") from None
    if decoded > cap:
        raise AudioFileError(f"The {what} file lasts more than "
                             f"{duration_text(limits.max_seconds)}, the longest audio I take.")
    # A header that knows its length and a stream that stops well short of it (or breaks
    # off): the file was cut. (MP3 lengths are estimates, so only a break counts there.)
    short = header.frames is not None and header.format != "mp3" and \
        decoded < header.frames * 0.99 - 2048
    if failed or short:
        if header.frames is not None and decoded < header.frames * 0.99:
            raise AudioFileError(f"The {what} file is truncated: its header says it lasts "
                                 f"{duration_text(header.frames / header.sample_rate)} and "
                                 f"it holds {duration_text(decoded / header.sample_rate)}.")
        raise AudioFileError(f"The {what} file could not be decoded ({failed}); it is "
                             "damaged or in an encoding I do not read.")
    if not decoded:
        raise AudioFileError(f"The {what} file holds no audio.")
    samples = np.concatenate(blocks)
    np.clip(samples, -1.0, 1.0, out=samples)
    return Clip(np.ascontiguousarray(samples), header.sample_rate), header


# -- headers ---------------------------------------------------------------------------------

Parsed = tuple[AudioHeader, str | None]  # the header, and why it is truncated (or None)


def _wav(data: bytes) -> Parsed:
    fmt: tuple[int, int, int, int, int] | None = None
    pos, chunks = 12, 0
    while pos + 8 <= len(data):
        chunks += 1
        if chunks > _MAX_CHUNKS:
            raise AudioFileError(f"The WAV file has more than {_MAX_CHUNKS} chunks before its "
                                 "audio; it is damaged or hostile.")
        cid, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if cid == b"fmt ":
            if size < 16 or body + size > len(data):
                raise AudioFileError("The WAV file's format chunk is truncated.")
            tag, channels, rate, _, align, bits = struct.unpack_from("<HHIIHH", data, body)
            if tag == 0xFFFE and size >= 40:  # WAVE_FORMAT_EXTENSIBLE: the tag is in the GUID
                tag = struct.unpack_from("<H", data, body + 24)[0]
            fmt = (tag, channels, rate, align, bits)
        elif cid == b"data":
            if fmt is None:
                raise AudioFileError("The WAV file has its audio before its format chunk; it "
                                     "is damaged.")
            tag, channels, rate, align, bits = fmt
            codec = _WAV_CODECS.get(tag)
            if codec is None:
                raise AudioFileError(f"The WAV file is in encoding {tag:#06x}; I read PCM, "
                                     "float, A-law and µ-law WAV.")
            if align == 0 or channels == 0 or align % channels or bits not in (8, 16, 24, 32, 64):
                check(AudioHeader("wav", codec, rate, channels, None), _ANY)  # zero rates first
                raise AudioFileError(f"The WAV file's format chunk is inconsistent ({channels} "
                                     f"channels, {bits} bits, {align}-byte frames); it is damaged.")
            header = AudioHeader("wav", codec, rate, channels, size // align)
            held = len(data) - body
            return header, (f"its header promises {_bytes(size)} of audio and it holds "
                            f"{_bytes(held)}" if held < size else None)
        pos = body + size + (size & 1)
    if fmt is None:
        raise AudioFileError("The WAV file is truncated: it ends before its format chunk.")
    raise AudioFileError("The WAV file is truncated: it ends before its audio.")


# Caps that only refuse what no audio can be (a zero rate, no channels): what a parser
# checks before saying something else is wrong, so a zero rate is said as such.
_ANY = AudioLimits(max_seconds=float("inf"), min_rate=1, max_rate=1 << 31, max_channels=1 << 16,
                   max_bytes=1 << 62)


def _bytes(n: int) -> str:
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def _flac(data: bytes) -> Parsed:
    pos = _id3_size(data) if data[:3] == b"ID3" else 0
    pos += 4  # fLaC
    for _ in range(_MAX_FLAC_BLOCKS):
        first, size_hi, size_lo = data[pos], data[pos + 1], data[pos + 2:pos + 4]
        kind, size = first & 0x7F, (size_hi << 16) | struct.unpack(">H", size_lo)[0]
        body = pos + 4
        if kind == 0:  # STREAMINFO
            if size < 34 or body + 34 > len(data):
                raise AudioFileError("The FLAC file is truncated: its stream header is cut short.")
            bits = int.from_bytes(data[body + 10:body + 18], "big")
            rate = bits >> 44
            channels = ((bits >> 41) & 0x7) + 1
            total = bits & ((1 << 36) - 1)
            header = AudioHeader("flac", "flac", rate, channels, total or None)
            if not total and rate:
                # libsndfile cannot read past its first 65536 frames of such a stream
                raise AudioFileError("The FLAC file does not say how long it lasts (a "
                                     "stream saved while recording); save it again, or "
                                     "send it as WAV.")
            return header, ("it ends before its audio" if len(data) <= body + size else None)
        pos = body + size
        if first & 0x80 or pos >= len(data):
            break
    raise AudioFileError("The FLAC file has no stream header; it is damaged.")


def _ogg_pages(data: bytes) -> tuple[bytes, int, str | None]:
    """(first packet of the first page, last granule position, why it is truncated)."""
    pos, first, granule, ended, pages = 0, b"", -1, False, 0
    while pos < len(data):
        if data[pos:pos + 4] != b"OggS":
            raise AudioFileError("The OGG file is damaged: a page does not start where the one "
                                 "before it ended.")
        pages += 1
        if pages > _MAX_OGG_PAGES:
            raise AudioFileError("The OGG file has too many pages; it is damaged or hostile.")
        segments = data[pos + 26] if pos + 27 <= len(data) else 0
        end = pos + 27 + segments + sum(data[pos + 27:pos + 27 + segments])
        if pos + 27 + segments > len(data) or end > len(data):
            if pages == 1:
                raise IndexError  # not even the first page: said as a cut-short header
            return first, granule, (f"its last page promises {_bytes(end - pos)} and holds "
                                    f"{_bytes(len(data) - pos)}")
        if pages == 1:
            first = data[pos + 27 + segments:end]
        page_granule = struct.unpack_from("<q", data, pos + 6)[0]
        if page_granule >= 0:
            granule = page_granule
        ended = bool(data[pos + 5] & 0x04)
        pos = end
    return first, granule, None if ended else "its stream stops before its end"


def _ogg(data: bytes) -> Parsed:
    first, granule, truncated = _ogg_pages(data)
    if first[:7] == b"\x01vorbis":
        channels, rate = first[11], struct.unpack_from("<I", first, 12)[0]
        header = AudioHeader("ogg", "vorbis", rate, channels, granule if granule >= 0 else None)
    elif first[:8] == b"OpusHead":
        channels, preskip = first[9], struct.unpack_from("<H", first, 10)[0]
        # Opus always decodes at 48 kHz; its granule positions count 48 kHz samples.
        frames = max(0, granule - preskip) if granule >= 0 else None
        header = AudioHeader("ogg", "opus", 48000, channels, frames)
    elif first[:5] == b"\x7fFLAC":
        raise AudioFileError("This is FLAC inside OGG, which I do not read; send the .flac "
                             "file itself, or WAV.")
    else:
        raise AudioFileError("The OGG file holds no Vorbis or Opus audio (it may be a video or "
                             "another codec); send WAV, FLAC, OGG Vorbis/Opus or MP3.")
    return header, truncated


def _id3_size(data: bytes) -> int:
    """Bytes of an ID3v2 tag at the start (header, synchsafe size, optional footer)."""
    if len(data) < 10:
        raise IndexError
    size = 0
    for b in data[6:10]:
        size = (size << 7) | (b & 0x7F)
    return 10 + size + (10 if data[5] & 0x10 else 0)


_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_MP3_KBPS = {  # (version is MPEG-1, layer) -> bitrates by index
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_KBPS[(False, 3)] = _MP3_KBPS[(False, 2)]


def _mp3(data: bytes) -> Parsed:
    pos = _id3_size(data) if data[:3] == b"ID3" else 0
    if pos >= len(data):
        raise AudioFileError("The MP3 file is truncated: it ends inside its ID3 tag.")
    sync = data.find(b"\xff", pos, pos + (1 << 16))  # padding after the tag, then a frame
    while sync >= 0 and data[sync + 1] & 0xE0 != 0xE0:
        sync = data.find(b"\xff", sync + 1, pos + (1 << 16))
    if sync < 0:
        raise AudioFileError("The file has an MP3 tag but no MP3 audio frame after it.")
    pos = sync
    b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
    version, layer_bits = (b1 >> 3) & 3, (b1 >> 1) & 3
    rate_index, bitrate_index = (b2 >> 2) & 3, b2 >> 4
    if version == 1 or layer_bits == 0 or rate_index == 3 or bitrate_index in (0, 15):
        raise AudioFileError("The MP3 file's first frame header is invalid; the file is damaged "
                             "(or free-format MP3, which I do not read).")
    mpeg1, layer = version == 3, 4 - layer_bits
    rate = _MP3_RATES[version][rate_index]
    channels = 1 if (b3 >> 6) == 3 else 2
    kbps = _MP3_KBPS[(mpeg1, layer)][bitrate_index]
    per_frame = 384 if layer == 1 else (1152 if mpeg1 or layer == 2 else 576)
    frames = _xing_frames(data, pos, mpeg1, channels)
    if frames is not None:
        samples = frames * per_frame
    else:  # constant bit rate: the length follows from the size
        samples = int((len(data) - pos) * 8 / (kbps * 1000) * rate)
    return AudioHeader("mp3", f"mp3-layer{layer}", rate, channels, samples), None


def _xing_frames(data: bytes, pos: int, mpeg1: bool, channels: int) -> int | None:
    """The frame count of a Xing/Info (VBR) header in the first frame, if it has one."""
    offset = pos + 4 + ((32 if channels == 2 else 17) if mpeg1 else (17 if channels == 2 else 9))
    if data[offset:offset + 4] in (b"Xing", b"Info"):
        flags = struct.unpack_from(">I", data, offset + 4)[0]
        if flags & 1:
            return int(struct.unpack_from(">I", data, offset + 8)[0])
    if data[pos + 36:pos + 40] == b"VBRI":
        return int(struct.unpack_from(">I", data, pos + 36 + 14)[0])
    return None
