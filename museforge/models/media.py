"""Safe loading of user-supplied images: the only place that opens their bytes.

Front-ends hand over raw bytes; `load_image` either returns a plain RGB image
(first frame, EXIF orientation applied, no metadata) or raises `MediaError`
with one line a person can act on. The format is read from the bytes, never
from the file name, and every size limit is checked from the header before a
single pixel is decoded.
"""

from __future__ import annotations

import codecs
import io
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePath

from PIL import Image, ImageFile, ImageOps
from PIL.PngImagePlugin import PngInfo

MAX_BYTES = 30 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 12_000
MIN_SIDE = 8

_SEND = "send a PNG, JPEG, WebP or GIF image"
DAMAGED = "the image file is truncated or damaged; export it again and resend it"

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
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # With it on, Pillow pads a truncated JPEG with grey instead of failing.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on; turn it off")
    fmt = _check_bytes(data, filename)
    with _pillow_warnings():
        with _open_checked(data, fmt) as im:
            try:
                im.load()
                upright = ImageOps.exif_transpose(im)
                rgb = _to_rgb(upright)
            except _DECODE_ERRORS as exc:
                raise MediaError(DAMAGED) from exc
    rgb.info.clear()
    return rgb


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
    fmt = _check_bytes(data, "")
    if fmt != "PNG":
        shown = "WebP" if fmt == "WEBP" else fmt
        raise MediaError(f"this is a {shown} image, not a PNG; PNG text needs a PNG file")
    with _pillow_warnings():
        with _open_checked(data, fmt) as im:
            try:
                # Text chunks may follow the pixel data, so Pillow decodes to reach them.
                text = im.text  # type: ignore[attr-defined]
            except _DECODE_ERRORS as exc:
                raise MediaError(DAMAGED) from exc
    return {str(key): str(value) for key, value in text.items()}


@contextmanager
def _pillow_warnings() -> Iterator[None]:
    # catch_warnings is process-wide, not per thread. Should two loads race,
    # the worst case is a bomb warning printed instead of raised: the image is
    # still refused, since MAX_PIXELS sits below Pillow's MAX_IMAGE_PIXELS.
    with warnings.catch_warnings():
        # Corrupt EXIF only costs the orientation; the picture itself still loads,
        # and the warning would otherwise land in the logs on every such upload.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; a warning
        # is not a refusal, so make it raise.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _check_bytes(data: bytes, filename: str) -> str:
    """Refuse by byte count and content type; return the Pillow format name."""
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
        _check_png_chunks(data)
    return fmt


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


def _check_png_chunks(data: bytes) -> None:
    """Walk the chunks up to IEND, checking each CRC.

    Pillow skips IDAT checksums and may stop inflating once it has every row,
    so a flipped byte near the end of the pixel data can decode into wrong
    pixels without an error; and a file cut before IEND would load.
    """
    view = memoryview(data)
    pos = len(_PNG_SIGNATURE)
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
        pos = end + 4
        if kind == b"IEND":
            return


def _open_checked(data: bytes, fmt: str) -> Image.Image:
    """Open `data` as `fmt`, reading the header only, and enforce the size limits.

    Call it inside a warnings context that turns DecompressionBombWarning into
    an error.
    """
    try:
        image = Image.open(io.BytesIO(data), formats=[fmt])
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise MediaError(_bomb_message(exc)) from exc
    except _DECODE_ERRORS as exc:
        raise MediaError(DAMAGED) from exc
    try:
        _check_size(*image.size)
    except MediaError:
        image.close()
        raise
    return image


def _bomb_message(exc: Exception) -> str:
    limit = Image.MAX_IMAGE_PIXELS or 0
    if isinstance(exc, Image.DecompressionBombError):
        limit *= 2
    return (
        f"the image is over {limit // 1_000_000} megapixels; "
        f"the limit is {MAX_PIXELS // 1_000_000} megapixels"
    )


def _check_size(width: int, height: int) -> None:
    if min(width, height) < MIN_SIDE:
        raise MediaError(
            f"the image is {width}x{height} pixels; each side must be at least {MIN_SIDE} pixels"
        )
    if max(width, height) > MAX_SIDE:
        raise MediaError(
            f"the image is {width}x{height} pixels; each side must be at most {MAX_SIDE:,} pixels"
        )
    if width * height > MAX_PIXELS:
        raise MediaError(
            f"the image is {width}x{height} pixels ({width * height / 1e6:.1f} megapixels); "
            f"the limit is {MAX_PIXELS // 1_000_000} megapixels"
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
