"""Seeded mutants of valid files through the safe loaders: each one loads, or is refused
with the loader's own error (``MediaError`` for images, ``MusicError`` for music) in one
sentence; anything else escaping, or a file costing more than a bound of CPU time, fails.

Mutants: bit flips, truncations, duplicated chunks / segments / tracks / elements (up to
a thousand times), header fields set to extreme values (with the PNG CRC fixed, so the
inflated field reaches the decoder), splices of two files, and for text formats the same
in characters, lines, numbers and fields. Mutant ``i`` of a format is built from
``Random(f"{seed}:{format}:{i}")``, so one can be rebuilt alone: ``mutant(name, seed, i)``.

CPU time is measured per file: this process's (time.process_time) plus the image decode
process's, read from /proc/PID/task/*/schedstat while it lives, or from RUSAGE_CHILDREN
once it has been stopped at its CPU limit and waited for. The default run makes a few
hundred mutants per format; the slow one (``-m slow``) a few thousand, on other seeds.
"""

from __future__ import annotations

import io
import random
import re
import resource
import struct
import time
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from PIL import Image

from museforge.models import media
from museforge.models.media import MediaError, load_image
from museforge.models.music.base import MusicError
from museforge.models.music.engrave import to_abc, to_musicxml
from museforge.models.music.midi import load_midi, to_midi_bytes
from museforge.models.music.piece import Note, Part, Piece
from museforge.models.music.scorefiles import load_abc, load_musicxml

SEED = 20261202
CPU_BOUND = 2.5  # seconds per file, this process's and the decode process's
MAX_MESSAGE = 300  # characters: a sentence, not a dump
EXTREMES = (0, 1, 2, 7, 8, 9, 127, 128, 255, 256, 4095, 12_000, 12_001, 65_535, 65_536,
            2**24 - 1, 2**31 - 1, 2**32 - 1)

# ---------------------------------------------------------------- the valid files


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def photo(width: int, height: int, seed: int = 0) -> Image.Image:
    w, h = max(width // 8, 2), max(height // 8, 2)
    small = Image.frombytes("RGB", (w, h), random.Random(seed).randbytes(w * h * 3))
    return small.resize((width, height), Image.Resampling.BICUBIC)


def rotated_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = 6
    return exif


def pngs() -> list[bytes]:
    rgba = photo(40, 30, 1).convert("RGBA")
    rgba.putalpha(200)
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("title", "a fox")
    return [encode(photo(48, 32), "PNG"), encode(rgba, "PNG", pnginfo=info),
            encode(photo(32, 32, 2).convert("P"), "PNG", transparency=0)]


def jpegs() -> list[bytes]:
    return [encode(photo(64, 48), "JPEG", quality=80, exif=rotated_exif()),
            encode(photo(40, 40, 3).convert("L"), "JPEG"),
            encode(photo(48, 40, 4).convert("CMYK"), "JPEG")]


def progressive_jpegs() -> list[bytes]:
    return [encode(photo(64, 48), "JPEG", progressive=True, quality=80),
            encode(photo(56, 40, 5), "JPEG", progressive=True, subsampling=0)]


def webps() -> list[bytes]:
    frames = [photo(40, 32, s) for s in (6, 7)]
    return [encode(photo(48, 32), "WEBP", quality=70), encode(photo(32, 24, 8), "WEBP",
                                                              lossless=True),
            encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100)]


def gifs() -> list[bytes]:
    frames = [photo(40, 32, s).convert("P") for s in (9, 10)]
    return [encode(frames[0], "GIF", save_all=True, append_images=frames[1:], loop=0,
                   comment=b"made here"),
            encode(photo(24, 24, 11).convert("P"), "GIF", transparency=0)]


def pieces() -> list[Piece]:
    melody = [Note(62 + (i * 5) % 12, i * 0.5, i * 0.5 + 0.4, 70 + i % 40) for i in range(16)]
    bass = [Note(38 + beat % 3, float(beat), beat + 0.9, 90) for beat in range(8)]
    drums = [Note(36 if beat % 2 == 0 else 42, beat / 2, beat / 2 + 0.1, 100)
             for beat in range(16)]
    return [Piece([Part("melody", 73, False, melody), Part("bass", 33, False, bass),
                   Part("drums", 0, True, drums)], tempo=133.0, time_signature=(4, 4),
                  key="D minor", title="fuzz"),
            Piece([Part("melody", 0, False, melody[:9])], tempo=90.0, time_signature=(3, 4),
                  key="G major", title="waltz")]


def midis() -> list[bytes]:
    return [to_midi_bytes(piece) for piece in pieces()]


JIG = """X:1
T:The Test Jig
M:6/8
L:1/8
Q:3/8=120
K:D
|:A|dfa afd|g2e c2A|dfa agf|e3 d2:|
|:f|g2e c2A|[1 d3 d2:|[2 d3 d2|]
"""

REEL = """X:2
T:Two Voices
M:4/4
L:1/8
K:Ador
V:1 name="fiddle"
EAAB cBAG|(3EFG AB cdec|d2 ^c2 =c2 B2|A8|]
V:2 name="cello"
A,4 E,4|A,4 G,4|D,4 E,4|A,8|]
"""


def abcs() -> list[bytes]:
    return [JIG.encode(), REEL.encode(), str(to_abc(pieces()[1]).text).encode()]


def musicxmls() -> list[bytes]:
    return [_as_bytes(to_musicxml(piece).text) for piece in pieces()]


def mxls() -> list[bytes]:
    return [mxl(xml) for xml in musicxmls()]


CONTAINER = (b'<?xml version="1.0" encoding="UTF-8"?><container><rootfiles>'
             b'<rootfile full-path="score.musicxml"/></rootfiles></container>')


def mxl(score: bytes, container: bytes = CONTAINER) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.recordare.musicxml")
        archive.writestr("META-INF/container.xml", container)
        archive.writestr("score.musicxml", score)
    return buffer.getvalue()


def _as_bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode()


# ---------------------------------------------------------------- generic mutations


def flip_bits(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    out = bytearray(data)
    spots = [rng.randrange(len(out)) for _ in range(rng.choice((1, 1, 2, 4, 16)))]
    for at in spots:
        out[at] ^= 1 << rng.randrange(8)
    return f"bit flips at {spots[:4]}", bytes(out)


def truncate(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    at = rng.randrange(len(data))
    return f"cut at {at}", data[:at]


def duplicate_slice(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    start = rng.randrange(len(data))
    end = min(len(data), start + rng.choice((1, 4, 16, 64, 256)))
    times = rng.choice((1, 2, 10, 100, 1000))
    return (f"bytes {start}:{end} repeated {times}x",
            data[:end] + data[start:end] * times + data[end:])


def overwrite(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    at = rng.randrange(len(data))
    fill = bytes([rng.choice((0x00, 0xFF, 0x7F, 0x80))]) * rng.choice((1, 2, 4, 8, 32))
    return f"{fill[:1].hex()} x{len(fill)} at {at}", data[:at] + fill + data[at + len(fill):]


def splice(rng: random.Random, data: bytes, other: bytes) -> tuple[str, bytes]:
    a, b = rng.randrange(len(data)), rng.randrange(len(other))
    return f"spliced at {a}/{b}", data[:a] + other[b:]


# ---------------------------------------------------------------- units of each format


def png_chunks(data: bytes) -> list[tuple[int, int]]:
    out, pos = [], 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        end = pos + 12 + length
        out.append((pos, min(end, len(data))))
        pos = end
    return out


def jpeg_units(data: bytes) -> list[tuple[int, int]]:
    """Marker to marker: segments, and each scan with its entropy-coded data."""
    starts = [m.start() for m in re.finditer(rb"\xff[^\x00\xd0-\xd7\xff]", data)]
    return list(zip(starts, [*starts[1:], len(data)], strict=True))


def riff_chunks(data: bytes) -> list[tuple[int, int]]:
    out, pos = [], 12
    while pos + 8 <= len(data):
        (length,) = struct.unpack_from("<I", data, pos + 4)
        end = pos + 8 + length + (length & 1)
        out.append((pos, min(end, len(data))))
        pos = end
    return out


def gif_units(data: bytes) -> list[tuple[int, int]]:
    starts = [m.start() for m in re.finditer(rb"[\x21\x2c]", data[13:])]
    starts = [13 + s for s in starts]
    return list(zip(starts, [*starts[1:], len(data)], strict=True)) or [(0, len(data))]


def midi_chunks(data: bytes) -> list[tuple[int, int]]:
    out, pos = [], 0
    while pos + 8 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos + 4)
        out.append((pos, min(pos + 8 + length, len(data))))
        pos += 8 + length
    return out


def duplicate_unit(units: Callable[[bytes], list[tuple[int, int]]]):
    def mutate(rng: random.Random, data: bytes) -> tuple[str, bytes]:
        found = units(data) or [(0, len(data))]
        start, end = rng.choice(found)
        times = rng.choice((1, 2, 10, 100, 1000))
        return (f"unit {start}:{end} repeated {times}x",
                data[:end] + data[start:end] * times + data[end:])

    return mutate


def set_field(data: bytes, at: int, size: int, value: int, order: str) -> bytes:
    if at + size > len(data):
        return data
    value %= 1 << (8 * size)
    return data[:at] + value.to_bytes(size, order) + data[at + size :]  # type: ignore[arg-type]


def extreme(rng: random.Random) -> int:
    return rng.choice(EXTREMES) if rng.random() < 0.8 else rng.randrange(2**32)


def inflate_png(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    chunks = png_chunks(data)
    start, end = rng.choice(chunks)
    fields = {"IHDR": [(8, 4), (12, 4), (16, 1), (17, 1), (18, 1), (19, 1), (20, 1)]}
    kind = data[start + 4 : start + 8].decode("latin-1")
    choices = [(start + 8 + off, size) for off, size in fields.get(kind, [])]
    choices.append((start, 4))  # the chunk's length
    at, size = rng.choice(choices)
    value = extreme(rng)
    out = set_field(data, at, size, value, "big")
    if rng.random() < 0.7 and at != start:  # a right CRC, so the field reaches the decoder
        (length,) = struct.unpack_from(">I", out, start)
        body = out[start + 4 : start + 8 + length]
        out = out[: start + 8 + length] + struct.pack(">I", zlib.crc32(body)) + out[
            start + 12 + length :]
    return f"PNG {kind} field at {at} = {value}", out


def inflate_jpeg(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    units = jpeg_units(data)
    start, _ = rng.choice(units)
    marker = data[start + 1]
    if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # SOF: P, Y, X, Nf
        at, size = rng.choice([(start + 4, 1), (start + 5, 2), (start + 7, 2), (start + 9, 1),
                               (start + 11, 1), (start + 12, 1)])
    elif marker == 0xDA:  # SOS: Ns, then Ss, Se, Ah/Al at its end
        at, size = rng.choice([(start + 4, 1), (start + 6, 1), (start + 2, 2)])
    elif marker == 0xDD:  # DRI
        at, size = start + 4, 2
    else:
        at, size = start + 2, 2  # the segment's length
    value = extreme(rng)
    return f"JPEG {marker:02X} field at {at} = {value}", set_field(data, at, size, value, "big")


def inflate_webp(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    chunks = riff_chunks(data)
    start, _ = rng.choice(chunks)
    kind = data[start : start + 4]
    choices = [(4, 4, "<"), (start + 4, 4, "<")]  # the RIFF size, the chunk's length
    if kind == b"VP8X":
        choices += [(start + 12, 3, "<"), (start + 15, 3, "<"), (start + 8, 1, "<")]
    elif kind == b"VP8 ":
        choices += [(start + 14, 2, "<"), (start + 16, 2, "<")]
    elif kind == b"VP8L":
        choices += [(start + 9, 4, "<")]
    elif kind == b"ANMF":
        choices += [(start + 8 + off, 3, "<") for off in (0, 3, 6, 9)]
    at, size, _ = rng.choice(choices)
    value = extreme(rng)
    return (f"WebP {kind.decode('latin-1')} field at {at} = {value}",
            set_field(data, at, size, value, "little"))


def inflate_gif(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    descriptor = data.find(b"\x2c", 13)
    choices = [(6, 2), (8, 2), (10, 1)]
    if descriptor > 0:
        choices += [(descriptor + off, 2) for off in (1, 3, 5, 7)] + [(descriptor + 9, 1),
                                                                        (descriptor + 10, 1)]
    at, size = rng.choice(choices)
    value = extreme(rng)
    return f"GIF field at {at} = {value}", set_field(data, at, size, value, "little")


def inflate_midi(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    choice = rng.randrange(5)
    if choice == 0:  # format, track count, division
        at = rng.choice((8, 10, 12))
        value = extreme(rng)
        return f"MThd field at {at} = {value}", set_field(data, at, 2, value, "big")
    if choice == 1:  # a chunk's length
        start, _ = rng.choice(midi_chunks(data))
        value = extreme(rng)
        return f"chunk length at {start} = {value}", set_field(data, start + 4, 4, value, "big")
    if choice == 2:  # a tempo
        at = data.find(b"\xff\x51\x03")
        value = rng.choice((0, 1, 2, 0xFFFFFF, rng.randrange(2**24)))
        return f"tempo = {value}", set_field(data, at + 3, 3, value, "big") if at >= 0 else data
    if choice == 3:  # a long delta time before a random event
        tracks = midi_chunks(data)[1:] or [(0, len(data))]
        start, end = rng.choice(tracks)
        at = rng.randrange(start + 8, max(start + 9, end))
        delta = rng.choice((b"\x8f\xff\xff\x7f", b"\xff\xff\xff\xff\x7f", b"\x83\xe8\x00"))
        return f"delta {delta.hex()} at {at}", data[:at] + delta + data[at:]
    # a run of events inside a track, repeated
    tracks = midi_chunks(data)[1:] or [(0, len(data))]
    start, end = rng.choice(tracks)
    a = rng.randrange(start + 8, max(start + 9, end))
    b = min(end, a + rng.choice((3, 4, 8, 32)))
    times = rng.choice((10, 100, 1000, 10_000))
    return f"events {a}:{b} repeated {times}x", data[:b] + data[a:b] * times + data[b:]


# ---------------------------------------------------------------- text mutations

ABC_BITS = (list("ABCDEFGabcdefgzxZ,'^_=/|:[]()<>{}~.!+\"%-\n 0123456789") +
            ["|:", ":|", "::", "[1", "[2", "(3", "(9", "{g}", "!trill!", '"Am"', "&", "\\\n"])
ABC_FIELDS = ("L:1/1000000", "L:0/0", "L:1/0", "M:999999/1", "M:1/1024", "M:0/4", "M:C|",
              "Q:1/4=0", "Q:1/4=1000000", "Q:1/1000000=1", "K:Hp", "K:none", "K:C clef=perc",
              "V:99", "V:1 clef=bass", "P:ABABABAB", "I:linebreak $", "U:T=!trill!",
              "X:2", "T:" + "x" * 500, "%%MIDI program 200", "K:D\n" + "|:" * 200)


def abc_mutate(rng: random.Random, data: bytes, other: bytes) -> tuple[str, bytes]:
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    op = rng.randrange(8)
    if op == 0:
        at = rng.randrange(len(text))
        bit = rng.choice(ABC_BITS)
        return f"{bit!r} at {at}", (text[:at] + bit + text[at + rng.randrange(2):]).encode()
    if op == 1:
        at = rng.randrange(len(text))
        return f"cut at {at}", text[:at].encode()
    if op == 2:
        i = rng.randrange(len(lines))
        times = rng.choice((2, 10, 100, 1000))
        return f"line {i} repeated {times}x", "\n".join(
            lines[:i] + [lines[i]] * times + lines[i + 1 :]).encode()
    if op == 3:
        numbers = list(re.finditer(r"\d+", text))
        if numbers:
            m = rng.choice(numbers)
            value = str(rng.choice((0, 1, 10**3, 10**6, 10**9, 10**12, 10**40)))
            return f"number at {m.start()} = {value}", (text[: m.start()] + value +
                                                       text[m.end() :]).encode()
    if op == 4:
        i = rng.randrange(len(lines) + 1)
        field = rng.choice(ABC_FIELDS)
        return f"line {i} = {field[:20]!r}", "\n".join(lines[:i] + [field] + lines[i:]).encode()
    if op == 5:  # a bar's worth repeated, or wrapped in repeat signs
        bars = [m.start() for m in re.finditer(r"\|", text)]
        if len(bars) >= 2:
            a = rng.randrange(len(bars) - 1)
            segment = text[bars[a] : bars[a + 1]]
            times = rng.choice((10, 100, 1000, 10_000))
            wrap = rng.choice(("", "|:", "::"))
            return f"bar at {bars[a]} repeated {times}x", (
                text[: bars[a + 1]] + (wrap + segment) * times + text[bars[a + 1] :]).encode()
    if op == 6:
        return splice(rng, data, other)
    at = rng.randrange(len(text))
    return f"deleted {at}:+40", (text[:at] + text[at + 40 :]).encode()


XML_INSERTS = ('<repeat direction="backward" times="1000000"/>', '<sound tempo="0.0001"/>',
               '<sound tempo="1e308"/>', "<divisions>0</divisions>", "<alter>1e308</alter>",
               "<octave>99999</octave>", "<duration>999999999999999</duration>",
               "<time><beats>99999</beats><beat-type>3</beat-type></time>",
               "<staves>1000</staves>", "<voice>-1</voice>", "<backup><duration>4</duration>"
               "</backup>", "<chord/>", "<tie type=\"start\"/>", "<![CDATA[", "<!--", "&amp;",
               "&bogus;", "<note>", "</measure>", "<measure number=\"x\">", "\x00")


def xml_mutate(rng: random.Random, data: bytes, other: bytes) -> tuple[str, bytes]:
    op = rng.randrange(7)
    if op == 0:
        return flip_bits(rng, data)
    if op == 1:
        return truncate(rng, data)
    text = data.decode("utf-8", errors="replace")
    if op == 2:  # an element repeated
        name = rng.choice(("note", "measure", "part", "score-part", "direction", "attributes",
                           "pitch", "forward", "backup"))
        found = [m for m in re.finditer(rf"<{name}[\s>].*?</{name}>", text, re.S)]
        if found:
            m = rng.choice(found)
            times = rng.choice((2, 10, 100, 1000))
            return f"<{name}> at {m.start()} repeated {times}x", (
                text[: m.end()] + m.group(0) * times + text[m.end() :]).encode()
    if op == 3:  # a number in a tag or an attribute
        numbers = list(re.finditer(r"(?<=[>\"'])-?\d+(?:\.\d+)?(?=[<\"'])", text))
        if numbers:
            m = rng.choice(numbers)
            value = rng.choice(("0", "-1", "1e308", "nan", "999999999999", "0.000001",
                                str(10**40), ""))
            return f"number at {m.start()} = {value}", (text[: m.start()] + value +
                                                       text[m.end() :]).encode()
    if op == 4:
        tags = [m.end() for m in re.finditer(r">", text)]
        at = rng.choice(tags) if tags else 0
        insert = rng.choice(XML_INSERTS)
        return f"{insert[:24]!r} at {at}", (text[:at] + insert + text[at:]).encode()
    if op == 5:
        return splice(rng, data, other)
    return duplicate_slice(rng, data)


def mxl_mutate(rng: random.Random, data: bytes, other: bytes) -> tuple[str, bytes]:
    op = rng.randrange(5)
    if op == 0:
        return flip_bits(rng, data)
    if op == 1:
        return truncate(rng, data)
    if op == 2:
        return overwrite(rng, data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        score = archive.read("score.musicxml")
        other_score = zipfile.ZipFile(io.BytesIO(other)).read("score.musicxml")
    if op == 3:
        what, mutated = xml_mutate(rng, score, other_score)
        return f"score: {what}", mxl(mutated)
    path = rng.choice(("missing.xml", "../score.musicxml", "score.musicxml\x00", ""))
    container = CONTAINER.replace(b"score.musicxml", path.encode())
    return f"container names {path!r}", mxl(score, container)


# ---------------------------------------------------------------- the formats


@dataclass(frozen=True)
class Format:
    name: str
    samples: Callable[[], list[bytes]]
    mutations: tuple[Callable[..., tuple[str, bytes]], ...]  # (rng, data[, other])
    load: Callable[[bytes], object]
    error: type[Exception]


def image_mutations(units: Callable[[bytes], list[tuple[int, int]]],
                    inflate: Callable[..., tuple[str, bytes]]) -> tuple[Callable[..., tuple[
                        str, bytes]], ...]:
    return (flip_bits, flip_bits, truncate, duplicate_unit(units), duplicate_unit(units),
            inflate, inflate, duplicate_slice, overwrite, splice)


FORMATS = {
    "PNG": Format("PNG", pngs, image_mutations(png_chunks, inflate_png), load_image,
                  MediaError),
    "JPEG": Format("JPEG", jpegs, image_mutations(jpeg_units, inflate_jpeg), load_image,
                   MediaError),
    "progressive JPEG": Format("progressive JPEG", progressive_jpegs,
                               image_mutations(jpeg_units, inflate_jpeg), load_image,
                               MediaError),
    "WebP": Format("WebP", webps, image_mutations(riff_chunks, inflate_webp), load_image,
                   MediaError),
    "GIF": Format("GIF", gifs, image_mutations(gif_units, inflate_gif), load_image, MediaError),
    "MIDI": Format("MIDI", midis, (flip_bits, truncate, duplicate_unit(midi_chunks),
                                   inflate_midi, inflate_midi, duplicate_slice, overwrite,
                                   splice), load_midi, MusicError),
    "ABC": Format("ABC", abcs, (abc_mutate,), load_abc, MusicError),
    "MusicXML": Format("MusicXML", musicxmls, (xml_mutate,), load_musicxml, MusicError),
    "MXL": Format("MXL", mxls, (mxl_mutate,), load_musicxml, MusicError),
}
# Images and MIDI cost about a millisecond each, ABC and MusicXML ~0.1 s (music21).
DEFAULT_COUNTS = {"PNG": 600, "JPEG": 500, "progressive JPEG": 500, "WebP": 400, "GIF": 400,
                  "MIDI": 800, "ABC": 200, "MusicXML": 150, "MXL": 150}


@cache
def samples(name: str) -> tuple[bytes, ...]:
    return tuple(FORMATS[name].samples())


def mutant(name: str, seed: int, index: int) -> tuple[str, bytes]:
    """Mutant ``index`` of format ``name``: (what was done, the bytes)."""
    rng = random.Random(f"{seed}:{name}:{index}")
    files = samples(name)
    data, other = rng.choice(files), rng.choice(files)
    mutate = rng.choice(FORMATS[name].mutations)
    what, out = mutate(rng, data, other) if mutate.__code__.co_argcount == 3 else mutate(
        rng, data)
    if rng.random() < 0.15:  # now and then, two mutations on top of each other
        more, out = flip_bits(rng, out) if out else ("", out)
        what += f"; {more}"
    return what, out


# ---------------------------------------------------------------- CPU time


def _live_cpu(pid: int) -> float:
    tasks = Path(f"/proc/{pid}/task")
    return sum(int((t / "schedstat").read_text().split()[0]) for t in tasks.iterdir()) / 1e9


def _reaped_cpu() -> float:
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    return reaped.ru_utime + reaped.ru_stime


def _decode_process() -> tuple[int | None, float]:
    process = media._DECODER._process
    if process is None or process.poll() is not None:
        return None, 0.0
    try:
        return process.pid, _live_cpu(process.pid)
    except OSError:  # ended between the two reads
        return None, 0.0


def cpu_of(call: Callable[[], object]) -> tuple[BaseException | None, float]:
    """What ``call`` raised (None when it returned) and the CPU seconds it cost here and in
    the decode process."""
    pid, child_before = _decode_process()
    reaped_before, own_before = _reaped_cpu(), time.process_time()
    raised: BaseException | None = None
    try:
        call()
    except Exception as exc:  # judged by the caller, with the seed
        raised = exc
    own = time.process_time() - own_before
    pid_after, child_after = _decode_process()
    reaped = _reaped_cpu() - reaped_before
    if pid is not None and pid_after == pid:
        child = child_after - child_before
    else:  # the old process was stopped and reaped (all its life's CPU), a new one started
        child = reaped - child_before + child_after if pid is not None else child_after
        reaped = 0.0
    return raised, own + child + reaped


# ---------------------------------------------------------------- the run


def fuzz(name: str, seed: int, count: int) -> dict[str, int]:
    fmt = FORMATS[name]
    outcomes = {"loaded": 0, "refused": 0}
    problems: list[str] = []
    if fmt.load is load_image:
        load_image(samples(name)[0])  # a warm decode process, as between two uploads
    else:
        fmt.load(samples(name)[0])  # the library imported before anything is timed
    for index in range(count):
        what, data = mutant(name, seed, index)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # judged: what is raised, and what it costs
            raised, spent = cpu_of(lambda data=data: fmt.load(data))
        where = f"{name} seed={seed} index={index} ({what}, {len(data):,} bytes)"
        if raised is None:
            outcomes["loaded"] += 1
        elif type(raised) is fmt.error:
            outcomes["refused"] += 1
            message = str(raised)
            if not message or len(message) >= MAX_MESSAGE or "\n" in message or (
                    "Traceback" in message or 'File "' in message):
                problems.append(f"{where}: not a sentence: {message[:400]!r}")
        else:
            problems.append(f"{where}: {type(raised).__name__}: {str(raised)[:200]!r}")
        if spent > CPU_BOUND:
            problems.append(f"{where}: {spent:.2f} s of CPU (the bound is {CPU_BOUND} s)")
    assert not problems, f"{len(problems)} of {count} mutants:\n" + "\n".join(problems[:20])
    return outcomes


@pytest.mark.parametrize("name", list(FORMATS))
def test_mutants_load_or_are_refused_in_a_sentence_within_the_cpu_bound(name: str) -> None:
    outcomes = fuzz(name, SEED, DEFAULT_COUNTS[name])
    # Both happen: the mutations reach past the first check (a fuzzer whose every mutant
    # is refused by the magic bytes would prove nothing).
    assert outcomes["refused"] > 0 and outcomes["loaded"] > 0, outcomes


@pytest.mark.slow
@pytest.mark.parametrize("seed", [SEED + 1, SEED + 2])
@pytest.mark.parametrize("name", list(FORMATS))
def test_thousands_of_mutants(name: str, seed: int) -> None:
    fuzz(name, seed, 10 * DEFAULT_COUNTS[name])


def test_a_mutant_is_the_same_whenever_it_is_built() -> None:
    assert mutant("PNG", SEED, 17) == mutant("PNG", SEED, 17)
    assert mutant("ABC", SEED, 3) != mutant("ABC", SEED, 4)
