"""Safe loading of user-supplied images: the only place that opens their bytes.

Front-ends hand over raw bytes; `load_image` either returns a plain RGB image
(first frame, EXIF orientation applied, no metadata) or raises `MediaError`
with one line a person can act on. The format is read from the bytes, never
from the file name. Before a single pixel is decoded, the PNG chunks, the JPEG
segments and the GIF blocks before the first frame are walked (lengths, counts,
checksums) and every size limit is checked from the header; the decode itself
then runs in a child process under CPU-time and memory limits for its size.
"""

from __future__ import annotations

import codecs
import io
import json
import logging
import re
import struct
import warnings
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import PurePath

from PIL import Image, ImageOps
from PIL.PngImagePlugin import PngInfo

from museforge.models.decode_process import (
    CpuLimitExceeded,
    DecodeProcess,
    DecodeProcessEnded,
    Limits,
    MemoryLimitExceeded,
    serve,
)

MAX_BYTES = 30 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 12_000
MIN_SIDE = 8
# A progressive JPEG from libjpeg or mozjpeg has about 10 scans, and each scan is
# a pass over every block of the image however few bytes it takes: so fewer
# scans for larger images (25 at 40 MP, about 1.3 s of CPU here; 100 up to 10 MP).
MAX_JPEG_SCANS = 100
MAX_JPEG_SCAN_MEGAPIXELS = 1_000  # scans x megapixels
# Markers, APPn and COM segments included; a camera JPEG has a few dozen.
MAX_JPEG_SEGMENTS = 1_000
# Pillow reads PNG chunks one by one in Python. An encoder that writes one IDAT
# per row makes 12,000 of them for the tallest image accepted.
MAX_PNG_CHUNKS = 20_000
# Text, EXIF, ICC and private chunks (not fdAT, which is animation frame data).
MAX_PNG_METADATA_BYTES = 8 * 1024 * 1024
# Extension sub-blocks (and stray bytes) before the first frame, which Pillow
# reads one by one in Python; a 1 MB ICC profile or XMP packet takes a few thousand.
MAX_GIF_BLOCKS = 10_000
# The CPU time a decode may take: a base, and more for more pixels (8 s at 40 MP).
# Where these were set, a normal 40 MP file cost up to 2.5 s in the decode process
# (a WebP; a progressive JPEG 1.2-1.5 s), so a slower machine still has room.
MAX_DECODE_CPU_SECONDS = 2.0
MAX_DECODE_CPU_SECONDS_PER_MEGAPIXEL = 0.15
# The memory a decode may take beyond what the decode process holds before it: a base,
# and more for more pixels (1.5 GB at 40 MP). Where these were set, a normal 40 MP file
# needed at most 1.06 GB (a WebP with alpha; PNG with alpha 0.76 GB, JPEG 0.57 GB):
# Pillow holds the decoded image, its RGB copy and the bytes sent back at once.
MAX_DECODE_MEMORY_BYTES = 256 * 2**20
MAX_DECODE_MEMORY_BYTES_PER_PIXEL = 32

_log = logging.getLogger(__name__)

_SEND = "send a PNG, JPEG, WebP or GIF image"
DAMAGED = "the image file is truncated or damaged; export it again and resend it"
_RESAVE_JPEG = "save it again as a baseline JPEG or PNG"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ALLOWED_MAGIC = (
    (_PNG_SIGNATURE, "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)
_ALLOWED_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "jpe", "jfif", "webp", "gif"})

# Formats people send by mistake, named so the refusal says what the file is.
_REFUSED_MAGIC = (
    (b"BM", "a BMP image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"II+\x00", "a TIFF image"),
    (b"MM\x00+", "a TIFF image"),
    (b"%PDF-", "a PDF document"),
    (b"%!PS", "a PostScript file"),
    (b"MThd", "a MIDI file"),
    (b"8BPS", "a Photoshop (PSD) file"),
    (b"\x00\x00\x01\x00", "an ICO icon"),
    (b"\xff\x4f\xff\x51", "a JPEG 2000 image"),
    (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
    (b"\xff\x0a", "a JPEG XL image"),
    (b"\x00\x00\x00\x0cJXL ", "a JPEG XL image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"OggS", "an Ogg audio file"),
    (b"fLaC", "a FLAC audio file"),
    (b"ID3", "an MP3 audio file"),
)
_RIFF_KINDS = {b"WAVE": "a WAV audio file", b"AVI ": "an AVI video", b"RMID": "a MIDI file"}
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
)

# What Pillow raises on malformed input of the four allowed formats. Truncating
# and bit-flipping sample files gave only OSError; the plugins raise the others
# on bad headers and chunks (ValueError, for one, on an oversized zTXt).
# Anything else escaping is a bug to see, not to hide.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError)


class MediaError(ValueError):
    """A user-supplied file was refused; the message is one line meant for a person."""


def load_image(data: bytes, *, filename: str = "") -> Image.Image:
    """Decode user-supplied PNG, JPEG, WebP or GIF bytes into an RGB image.

    GIF and animated WebP/PNG give their first frame. EXIF orientation is
    applied, transparency is composited onto white, and no metadata (EXIF,
    ICC, text) is carried over. `filename` only improves the refusal message;
    it never decides the format.
    """
    fmt, pixels = _check_bytes(data, filename)
    payload = _decoded(b"LOAD", fmt, data, pixels)
    width, height = struct.unpack_from(">II", payload)
    return Image.frombytes("RGB", (width, height), memoryview(payload)[8:])


def png_bytes(image: Image.Image, *, text: dict[str, str] | None = None) -> bytes:
    """Encode `image` as PNG with the given text chunks, the same bytes every time.

    Keys are written in sorted order; a Latin-1 value becomes tEXt, any other
    an iTXt (UTF-8) chunk. No time, ICC or EXIF chunk is written.
    """
    info = PngInfo()
    for key, value in sorted((text or {}).items()):
        _check_png_keyword(key)
        info.add_text(key, value)  # Pillow falls back to iTXt when Latin-1 cannot hold it
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info, icc_profile=None, compress_level=6)
    return buffer.getvalue()


def read_png_text(data: bytes) -> dict[str, str]:
    """The tEXt, zTXt and iTXt chunks of PNG bytes, as a plain dict."""
    fmt, pixels = _check_bytes(data, "")
    if fmt != "PNG":
        shown = "WebP" if fmt == "WEBP" else fmt
        raise MediaError(f"this is a {shown} image, not a PNG; PNG text needs a PNG file")
    text: dict[str, str] = json.loads(_decoded(b"TEXT", fmt, data, pixels))
    return text


def _check_bytes(data: bytes, filename: str) -> tuple[str, int]:
    """Refuse by byte count, content type and container structure.

    Returns the Pillow format name and the pixels its header gives (for a GIF, the screen's).
    """
    if not data:
        raise MediaError(f"the file is empty (0 bytes); {_SEND}")
    if len(data) > MAX_BYTES:
        raise MediaError(
            f"the file is {len(data) / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB"
        )
    fmt = _sniff(data)
    if fmt is None:
        claimed = _claimed_extension(filename)
        despite = f", despite its .{claimed} name" if claimed else ""
        kind = _describe(data)
        if kind is None:
            raise MediaError(f"this file is not a recognised image{despite}; {_SEND}")
        raise MediaError(f"this is {kind}{despite}; {_SEND}")
    if fmt == "PNG":
        width, height = _check_png_chunks(data)
    elif fmt == "JPEG":
        width, height = _check_jpeg_segments(data)
    elif fmt == "GIF":
        width, height = _check_gif_blocks(data)
    else:
        width, height = _check_webp_header(data)
    return fmt, width * height


def _sniff(data: bytes) -> str | None:
    for magic, fmt in _ALLOWED_MAGIC:
        if data.startswith(magic):
            return fmt
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _describe(data: bytes) -> str | None:
    """Name a refused file's content, or None when it is not recognised."""
    for magic, kind in _REFUSED_MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] in _RIFF_KINDS:
        return _RIFF_KINDS[data[8:12]]
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"avif", b"avis"):
            return "an AVIF image"
        return "a HEIC image" if brand in _HEIF_BRANDS else "an MP4 or MOV video"
    head = _as_text(data[:2048])
    if head is None:
        return None
    if "<svg" in head.lower():
        return "an SVG drawing"
    return "a text file"


def _as_text(head: bytes) -> str | None:
    try:
        # final=False: the 2 KB cut may split a multi-byte character.
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    if all(ch.isprintable() or ch in "\t\n\r\f" for ch in text):
        return text
    return None


def _claimed_extension(filename: str) -> str | None:
    """The file name's extension when it claims an allowed format (safe to echo)."""
    ext = PurePath(filename).suffix.lower().lstrip(".")
    return ext if ext in _ALLOWED_EXTENSIONS else None


# ---------------------------------------------------------------- container walks
# Pillow reads PNG chunks, GIF extensions and the JPEG header in Python (padding
# one byte at a time), and libjpeg makes a pass over every block of the image
# for each scan, however short. So a file of a million empty chunks or repeated
# scans costs minutes while staying under every size limit. These walks cost
# time linear in the file (C-speed searches, a Python step per chunk or segment,
# stopping at the first count over its limit), and run before any decoder.


def _check_png_chunks(data: bytes) -> tuple[int, int]:
    """Walk the chunks up to IEND: each CRC, the header's size, how many, and their metadata.

    Pillow skips IDAT checksums and may stop inflating once it has every row,
    so a flipped byte near the end of the pixel data can decode into wrong
    pixels without an error; and a file cut before IEND would load.
    """
    view = memoryview(data)
    pos = len(_PNG_SIGNATURE)
    chunks = metadata = 0
    while True:
        if pos + 12 > len(data):
            raise MediaError(DAMAGED)
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 8 + length
        if length > 0x7FFFFFFF or end + 4 > len(data):
            raise MediaError(DAMAGED)
        (crc,) = struct.unpack_from(">I", data, end)
        if zlib.crc32(view[pos + 4 : end]) != crc:
            raise MediaError(DAMAGED)
        chunks += 1
        if chunks == 1:
            if kind != b"IHDR" or length != 13:
                raise MediaError(DAMAGED)
            size = struct.unpack_from(">II", data, pos + 8)
            _check_size(*size)
        elif chunks > MAX_PNG_CHUNKS:
            raise MediaError(
                f"the PNG has over {MAX_PNG_CHUNKS:,} chunks (at most {MAX_PNG_CHUNKS:,} "
                "are accepted); export it again and resend it"
            )
        if kind[0] & 0x20 and kind != b"fdAT":  # a lower-case first letter: ancillary
            metadata += length
        pos = end + 4
        if kind == b"IEND":
            break
    if metadata > MAX_PNG_METADATA_BYTES:
        raise MediaError(
            f"the PNG carries {metadata / 2**20:.1f} MB of metadata (at most "
            f"{MAX_PNG_METADATA_BYTES // 2**20} MB is accepted); export it again without it"
        )
    return size


# Start of frame, in each coding process (the others in 0xC0-0xCF are DHT, JPG and DAC).
_SOF_MARKERS = frozenset({*range(0xC0, 0xD0)} - {0xC4, 0xC8, 0xCC})
# 0xFF then anything but a stuffed zero or a restart marker, which both belong
# to entropy-coded data. The literal first byte lets `re` skip ahead at C speed;
# a run of 0xFF padding is then stepped over by _JPEG_PADDING, also in C.
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")
_JPEG_PADDING = re.compile(rb"\xff+")
# Stray bytes before the first scan (Pillow steps over them one at a time in
# Python), and padding runs that end in a zero or a restart marker anywhere (a
# Python step each here). An encoder writes neither.
_MAX_JPEG_STRAY_BYTES = 64 * 1024
# Before the first scan Pillow also parses quantization tables and Photoshop
# resource blocks one by one in Python; a file has 2-4 tables, a few dozen blocks.
_MAX_JPEG_TABLE_BYTES = 64 * 1024
_MAX_JPEG_PHOTOSHOP_BLOCKS = 10_000


def _check_jpeg_segments(data: bytes) -> tuple[int, int]:
    """Walk the segments from SOI to EOI: their lengths, the frame's size, how many scans."""
    pos = 2  # past SOI
    scans = segments = stray = tables = photoshop = 0
    size: tuple[int, int] | None = None
    while True:
        found = _JPEG_MARKER.search(data, pos)
        if found is None:
            raise MediaError(DAMAGED)  # no EOI
        start = _JPEG_PADDING.match(data, found.start()).end() - 1  # type: ignore[union-attr]
        if start + 1 >= len(data):
            raise MediaError(DAMAGED)
        marker = data[start + 1]
        # Padding then a stuffed zero or a restart marker: no marker after all.
        stuffed = marker == 0x00 or 0xD0 <= marker <= 0xD7
        if not scans:
            stray += start - pos + (2 if stuffed else 0)
        elif stuffed:
            stray += start + 2 - found.start()
        if stray > _MAX_JPEG_STRAY_BYTES:
            raise MediaError(DAMAGED)
        if stuffed or marker == 0x01:  # TEM stands alone, without a length
            pos = start + 2
        elif marker == 0xD9:  # EOI
            break
        elif marker == 0xD8 or start + 4 > len(data):  # a second SOI, or cut short
            raise MediaError(DAMAGED)
        else:
            (length,) = struct.unpack_from(">H", data, start + 2)
            pos = start + 2 + length
            segments += 1
            if length < 2 or pos > len(data):
                raise MediaError(DAMAGED)
            if segments > MAX_JPEG_SEGMENTS:
                raise MediaError(
                    f"the JPEG has over {MAX_JPEG_SEGMENTS:,} segments (at most "
                    f"{MAX_JPEG_SEGMENTS:,} are accepted); {_RESAVE_JPEG}"
                )
            if marker in _SOF_MARKERS and size is None:
                if length < 8 or length != 8 + 3 * data[start + 9]:
                    raise MediaError(DAMAGED)
                height, width = struct.unpack_from(">HH", data, start + 5)
                size = (width, height)
            elif marker == 0xDB and not scans:
                tables += length - 2
            elif marker == 0xED and not scans:
                photoshop += data.count(b"8BIM", start + 4, pos)
            elif marker == 0xDA:  # SOS: a scan's header; its entropy-coded data follows
                if size is None:
                    raise MediaError(DAMAGED)
                scans += 1
                if scans == 1:
                    _check_jpeg_header(tables, photoshop)
                if scans > _jpeg_scans_allowed(*size):
                    _check_size(*size)  # an oversized image says so first
                    # A literal 0xFF in entropy-coded data is stuffed, so FF DA does not
                    # occur there: counting it counts the remaining scans without a walk.
                    _refuse_jpeg_scans(scans + data.count(b"\xff\xda", pos), *size)
    if size is None or not scans:
        raise MediaError(DAMAGED)
    _check_size(*size)
    return size


def _jpeg_scans_allowed(width: int, height: int) -> int:
    return max(
        1, min(MAX_JPEG_SCANS, MAX_JPEG_SCAN_MEGAPIXELS * 1_000_000 // max(width * height, 1))
    )


def _refuse_jpeg_scans(scans: int, width: int, height: int) -> None:
    allowed = _jpeg_scans_allowed(width, height)
    at = "" if allowed == MAX_JPEG_SCANS else f" at {width * height / 1e6:.1f} megapixels"
    raise MediaError(
        f"the JPEG has {scans:,} scans (at most {allowed} are accepted{at}); {_RESAVE_JPEG}"
    )


def _check_jpeg_header(tables: int, photoshop: int) -> None:
    """Refuse what Pillow would parse too long in the segments before the first scan."""
    if tables > _MAX_JPEG_TABLE_BYTES:
        raise MediaError(
            f"the JPEG has {tables // 1024:,} KB of quantization tables (at most "
            f"{_MAX_JPEG_TABLE_BYTES // 1024} KB are accepted); {_RESAVE_JPEG}"
        )
    if photoshop > _MAX_JPEG_PHOTOSHOP_BLOCKS:
        raise MediaError(
            f"the JPEG has {photoshop:,} Photoshop resource blocks (at most "
            f"{_MAX_JPEG_PHOTOSHOP_BLOCKS:,} are accepted); {_RESAVE_JPEG}"
        )


def _check_gif_blocks(data: bytes) -> tuple[int, int]:
    """Walk from the header to the first frame's descriptor; its pixel data is read in C.

    Returns the logical screen's size (Pillow checks the frame's, which may be larger).
    """
    if len(data) < 13:
        raise MediaError(DAMAGED)
    pos = 13
    if data[10] & 0x80:  # a global colour table follows the screen descriptor
        pos += 3 << ((data[10] & 7) + 1)
    blocks = 0
    while pos < len(data) and data[pos] != 0x2C:  # image descriptor
        if data[pos] == 0x21:  # extension: a label, then sub-blocks up to an empty one
            pos += 2
            while pos < len(data) and data[pos]:
                pos += 1 + data[pos]
                blocks += 1
                if blocks > MAX_GIF_BLOCKS:
                    break
        blocks += 1  # the terminating sub-block, or a stray byte
        pos += 1
        if blocks > MAX_GIF_BLOCKS:
            raise MediaError(
                f"the GIF has over {MAX_GIF_BLOCKS:,} blocks before its first frame (at most "
                f"{MAX_GIF_BLOCKS:,} are accepted); export it again and resend it"
            )
    if pos >= len(data):
        raise MediaError(DAMAGED)
    width, height = struct.unpack_from("<HH", data, 6)
    return width, height


def _check_webp_header(data: bytes) -> tuple[int, int]:
    """The size from the first chunk: libwebp allocates an animation's canvas as it opens."""
    if len(data) < 30:
        raise MediaError(DAMAGED)
    kind = data[12:16]
    if kind == b"VP8X":  # extended: the canvas, 24 bits each, less one
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
    elif kind == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":  # lossy: 14 bits each
        width, height = (v & 0x3FFF for v in struct.unpack_from("<HH", data, 26))
    elif kind == b"VP8L" and data[20] == 0x2F:  # lossless: 14 bits each, less one
        (bits,) = struct.unpack_from("<I", data, 21)
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    else:
        raise MediaError(DAMAGED)
    _check_size(width, height)
    return width, height


# ---------------------------------------------------------------- decoding, in a child process

_DECODER = DecodeProcess("from museforge.models.media import _serve_decodes; _serve_decodes()")


def _decoded(op: bytes, fmt: str, data: bytes, pixels: int) -> bytes:
    """The decode process's result for `data`, of `pixels` by its header (see
    decode_process for why a process)."""
    try:
        accepted, payload = _DECODER.run(op, fmt, data, _limits(pixels))
    except CpuLimitExceeded as exc:
        raise MediaError(
            f"the image took over {exc.seconds:.1f} s of CPU time to decode, the limit for "
            "its size; export it again and resend it"
        ) from None
    except MemoryLimitExceeded as exc:
        raise MediaError(
            f"the image needs more than {exc.limit_bytes / 2**20:,.0f} MB of memory to decode, "
            "the limit for its size; export it again and resend it"
        ) from None
    except DecodeProcessEnded as exc:
        _log.warning("refused an image: %s", exc)
        raise MediaError(
            "the image decoder stopped on this file; export it again and resend it"
        ) from None
    if not accepted:
        raise MediaError(payload.decode())
    return payload


def _limits(pixels: int) -> Limits:
    # Read at each call, so that a test (or a deployment's patch) can lower them.
    return Limits(
        cpu_seconds=MAX_DECODE_CPU_SECONDS,
        cpu_seconds_per_megapixel=MAX_DECODE_CPU_SECONDS_PER_MEGAPIXEL,
        memory_bytes=MAX_DECODE_MEMORY_BYTES,
        memory_bytes_per_pixel=MAX_DECODE_MEMORY_BYTES_PER_PIXEL,
        pixels=pixels,
    )


def _serve_decodes() -> None:
    """The decode process's entry point."""
    # The limits here are MAX_PIXELS and MAX_SIDE, checked on the header with the
    # image's own size in the message; Pillow's larger threshold, left on, would
    # refuse the largest headers first, quoting its threshold instead.
    Image.MAX_IMAGE_PIXELS = None
    serve(_decode)


def _decode(
    op: bytes, fmt: str, data: bytes, allow: Callable[[int], None]
) -> tuple[bool, list[bytes]]:
    """Open, check and decode one file, in the decode process: (accepted, the reply's parts)."""
    try:
        with _pillow_warnings(), _open_checked(data, fmt) as image:
            allow(image.width * image.height)
            try:
                if op == b"TEXT":
                    # Text chunks may follow the pixel data, so Pillow decodes to reach them.
                    text = image.text  # type: ignore[attr-defined]
                    found = {str(key): str(value) for key, value in text.items()}
                    return True, [json.dumps(found).encode()]
                image.load()
                rgb = _to_rgb(ImageOps.exif_transpose(image))
            except _DECODE_ERRORS as exc:
                raise MediaError(DAMAGED) from exc
    except MediaError as exc:
        return False, [str(exc).encode()]
    return True, [struct.pack(">II", *rgb.size), rgb.tobytes()]


# ---------------------------------------------------------------- Pillow's side


@contextmanager
def _pillow_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        # Corrupt EXIF only costs the orientation; the picture itself still loads,
        # and the warning would otherwise land in the logs on every such upload.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        yield


def _open_checked(data: bytes, fmt: str) -> Image.Image:
    """Open `data` as `fmt`, reading the header only, and enforce the size limits."""
    try:
        image = Image.open(io.BytesIO(data), formats=[fmt])
    except _DECODE_ERRORS as exc:
        raise MediaError(DAMAGED) from exc
    try:
        _check_size(*image.size)
    except MediaError:
        image.close()
        raise
    return image


def _check_size(width: int, height: int) -> None:
    if min(width, height) < MIN_SIDE:
        raise MediaError(
            f"the image is {width}x{height} pixels; each side must be at least {MIN_SIDE} pixels"
        )
    if width * height > MAX_PIXELS:
        raise MediaError(
            f"the image is {width}x{height} pixels ({width * height / 1e6:,.1f} megapixels); "
            f"the limit is {MAX_PIXELS // 1_000_000} megapixels"
        )
    if max(width, height) > MAX_SIDE:
        raise MediaError(
            f"the image is {width}x{height} pixels; each side must be at most {MAX_SIDE:,} pixels"
        )


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode.startswith("I"):
        # Pillow clips 16-bit grey to 255 when converting; scale it to 8 bits instead.
        image = image.convert("I").point(lambda v: v / 257 + 0.5).convert("L")
    if image.has_transparency_data:
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, image.convert("RGBA")).convert("RGB")
    return image.convert("RGB")


def _check_png_keyword(key: str) -> None:
    """PNG keywords are 1-79 printable Latin-1 characters without edge spaces."""
    ok = 0 < len(key) < 80 and key == key.strip() and "  " not in key
    ok = ok and all(32 <= ord(ch) <= 126 or 161 <= ord(ch) <= 255 for ch in key)
    if not ok:
        raise ValueError(f"PNG text key {key!r} must be 1-79 printable Latin-1 characters")
