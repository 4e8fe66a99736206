"""Files that are small and within every size limit but cost minutes to decode, all built
here: each is refused quickly, with its real figure, and the normal files next to them load.

CPU bounds use time.process_time (and the reaped children's CPU where the decode
process is involved), with wide margins: each refusal here costs milliseconds, and
the files cost from seconds to minutes to decode without the guards.
"""

from __future__ import annotations

import io
import random
import resource
import struct
import threading
import time
import warnings
import zlib

import pytest
from PIL import Image

from museforge.models import media
from museforge.models.media import DAMAGED, MediaError, load_image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RESAVE_JPEG = "save it again as a baseline JPEG or PNG"
CPU_BOUND = 2.0  # seconds


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def noise(width: int, height: int, seed: int = 0) -> Image.Image:
    return Image.frombytes(
        "RGB", (width, height), random.Random(seed).randbytes(width * height * 3)
    )


def chunk(kind: bytes, payload: bytes = b"") -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def refuse(data: bytes) -> tuple[str, float]:
    """The refusal of `data` (one short line, no warning) and the CPU seconds it took."""
    started = time.process_time()
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        with pytest.raises(MediaError) as caught:
            load_image(data)
    spent = time.process_time() - started
    assert escaped == []
    message = str(caught.value)
    assert "\n" not in message and 0 < len(message) < 120, message
    return message, spent


def with_last_scan_repeated(jpeg: bytes, times: int) -> bytes:
    """A progressive JPEG whose last scan (SOS header and data, up to EOI) comes `times` more times.

    Pillow's encoder writes FF DA only as a marker, and the file ends with EOI.
    """
    assert jpeg.endswith(b"\xff\xd9")
    last_scan = jpeg[jpeg.rindex(b"\xff\xda") : -2]
    return jpeg[:-2] + last_scan * times + jpeg[-2:]


def progressive(width: int, height: int) -> bytes:
    return encode(Image.new("RGB", (width, height), (120, 80, 200)), "JPEG", progressive=True)


def scans(jpeg: bytes) -> int:
    return jpeg.count(b"\xff\xda")


def png_parts(image: Image.Image) -> tuple[bytes, bytes, bytes]:
    """(signature + IHDR, the chunks between, IEND) of a PNG that Pillow writes."""
    data = encode(image, "PNG")
    return data[:33], data[33:-12], data[-12:]


def children_cpu() -> float:
    """CPU seconds of this process and of its children that have been waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime


# ---------------------------------------------------------------- JPEG scans


def test_a_progressive_jpeg_with_its_last_scan_repeated_is_refused_by_its_count() -> None:
    # 2,000 passes over a 4 MP image: tens of seconds of libjpeg, in a 100 KB file.
    bomb = with_last_scan_repeated(progressive(2000, 2000), 1990)
    assert scans(bomb) == 2000 and len(bomb) < 200_000
    message, spent = refuse(bomb)
    assert message == f"the JPEG has 2,000 scans (at most 100 are accepted); {RESAVE_JPEG}"
    assert spent < CPU_BOUND


def test_twenty_thousand_scans_are_counted_without_walking_them() -> None:
    bomb = with_last_scan_repeated(progressive(4000, 4000), 20_000)
    message, spent = refuse(bomb)
    assert message == (
        f"the JPEG has 20,010 scans (at most 62 are accepted at 16.0 megapixels); {RESAVE_JPEG}"
    )
    assert spent < CPU_BOUND


def test_larger_images_get_fewer_scans() -> None:
    # Each scan is a pass over every block: 1,000 scan-megapixels, so 25 scans at 40 MP.
    bomb = with_last_scan_repeated(progressive(7700, 5190), 16)
    message, spent = refuse(bomb)
    assert message == (
        f"the JPEG has 26 scans (at most 25 are accepted at 40.0 megapixels); {RESAVE_JPEG}"
    )
    assert spent < CPU_BOUND


def test_a_hundred_scans_load_and_one_more_is_refused() -> None:
    normal = progressive(64, 48)
    at_limit = with_last_scan_repeated(normal, 100 - scans(normal))
    assert load_image(at_limit).getpixel((10, 10)) == load_image(normal).getpixel((10, 10))
    message, _ = refuse(with_last_scan_repeated(normal, 101 - scans(normal)))
    assert message == f"the JPEG has 101 scans (at most 100 are accepted); {RESAVE_JPEG}"


@pytest.mark.parametrize(
    ("mode", "params"),
    [
        ("RGB", {"quality": 90}),
        ("RGB", {"quality": 95, "subsampling": 0}),
        ("RGB", {"quality": 75, "optimize": True}),
        ("L", {"quality": 90}),
        ("CMYK", {"quality": 90}),
    ],
)
def test_normal_progressive_jpegs_load(mode: str, params: dict[str, object]) -> None:
    original = noise(40, 25).resize((320, 200), Image.Resampling.BICUBIC).convert(mode)
    data = encode(original, "JPEG", progressive=True, **params)
    assert 2 <= scans(data) <= 20
    image = load_image(data)
    assert image.size == (320, 200)
    # Block averages survive JPEG's losses; compare them with the original's.
    shown = image.resize((8, 5), Image.Resampling.BOX).tobytes()
    expected = original.convert("RGB").resize((8, 5), Image.Resampling.BOX).tobytes()
    assert max(abs(a - b) for a, b in zip(shown, expected, strict=True)) <= 8


# ---------------------------------------------------------------- JPEG segments and padding


def test_millions_of_empty_comments_are_refused_by_their_count() -> None:
    # Pillow reads the header's segments one by one in Python: 7 million of them.
    normal = progressive(64, 48)
    bomb = normal[:2] + b"\xff\xfe\x00\x02" * 7_000_000 + normal[2:]
    message, spent = refuse(bomb)
    assert message == (
        f"the JPEG has over 1,000 segments (at most 1,000 are accepted); {RESAVE_JPEG}"
    )
    assert spent < CPU_BOUND


def test_a_camera_style_header_loads() -> None:
    # EXIF, an ICC profile in a few APP2 segments, a comment: a few dozen segments in all.
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    data = encode(
        noise(64, 48),
        "JPEG",
        progressive=True,
        exif=exif.tobytes(),
        icc_profile=random.Random(3).randbytes(200_000),
        comment=b"taken on a hill",
    )
    assert load_image(data).size == (64, 48)


def test_megabytes_of_padding_in_the_header_are_refused() -> None:
    # Pillow steps over 0xFF padding one byte at a time in Python.
    normal = progressive(64, 48)
    at = normal.index(b"\xff\xdb")  # before the first quantization table
    bomb = normal[:at] + b"\xff" * 20_000_000 + normal[at:]
    message, spent = refuse(bomb)
    assert message == DAMAGED
    assert spent < CPU_BOUND
    assert load_image(normal[:at] + b"\xff" * 16 + normal[at:]).size == (64, 48)


def test_photoshop_resource_blocks_by_the_million_are_refused() -> None:
    # 480 APP13 segments of empty 8BIM blocks: Pillow parses each block in Python.
    def app13(count: int) -> bytes:
        blocks = b"Photoshop 3.0\x00" + b"8BIM\x04\x04\x00\x00\x00\x00\x00\x00" * count
        return b"\xff\xed" + struct.pack(">H", len(blocks) + 2) + blocks

    normal = progressive(64, 48)
    message, spent = refuse(normal[:2] + app13(5459) * 480 + normal[2:])
    assert message == (
        f"the JPEG has 2,620,320 Photoshop resource blocks (at most 10,000 are accepted); "
        f"{RESAVE_JPEG}"
    )
    assert spent < CPU_BOUND
    assert load_image(normal[:2] + app13(40) + normal[2:]).size == (64, 48)


def test_megabytes_of_quantization_tables_are_refused() -> None:
    tables = (b"\x00" + bytes(range(1, 65))) * 1008  # 1,008 tables in one segment
    segment = b"\xff\xdb" + struct.pack(">H", len(tables) + 2) + tables
    normal = progressive(64, 48)
    at = normal.index(b"\xff\xdb")
    message, spent = refuse(normal[:at] + segment * 480 + normal[at:])
    assert message == (
        f"the JPEG has 30,712 KB of quantization tables (at most 64 KB are accepted); {RESAVE_JPEG}"
    )
    assert spent < CPU_BOUND


# ---------------------------------------------------------------- PNG chunks


def test_a_png_of_millions_of_empty_private_chunks_is_refused_by_their_count() -> None:
    head, body, tail = png_parts(Image.new("RGB", (64, 64), "red"))
    bomb = head + chunk(b"prVt") * 2_400_000 + body + tail
    assert len(bomb) > 28_000_000
    message, spent = refuse(bomb)
    assert message == (
        "the PNG has over 20,000 chunks (at most 20,000 are accepted); "
        "export it again and resend it"
    )
    assert spent < CPU_BOUND


def test_nineteen_thousand_chunks_still_load() -> None:
    head, body, tail = png_parts(Image.new("RGB", (64, 64), "red"))
    data = head + chunk(b"prVt") * 19_000 + body + tail
    assert load_image(data).getpixel((5, 5)) == (255, 0, 0)


def test_pixel_data_split_into_thousands_of_chunks_loads_exactly() -> None:
    original = noise(200, 150)
    head, body, tail = png_parts(original)
    pixels, pos = b"", 0
    while pos < len(body):  # Pillow writes the pixel data in IDATs of 64 KB
        (length,) = struct.unpack_from(">I", body, pos)
        assert body[pos + 4 : pos + 8] == b"IDAT"
        pixels += body[pos + 8 : pos + 8 + length]
        pos += 12 + length
    split = b"".join(chunk(b"IDAT", pixels[i : i + 16]) for i in range(0, len(pixels), 16))
    data = head + split + tail
    assert data.count(b"IDAT") > 5_000
    assert load_image(data).tobytes() == original.tobytes()


def test_a_png_with_a_few_text_chunks_loads() -> None:
    head, body, tail = png_parts(Image.new("RGB", (32, 32), "blue"))
    text = chunk(b"tEXt", b"Title\x00a lighthouse") + chunk(
        b"zTXt", b"Comment\x00\x00" + zlib.compress(b"at dusk " * 1000)
    )
    itxt = chunk(b"iTXt", b"Description\x00\x00\x00\x00\x00" + "灯台".encode())
    data = head + text + chunk(b"prVt", b"private") + body + itxt + tail
    image = load_image(data)
    assert image.getpixel((0, 0)) == (0, 0, 255) and image.info == {}
    assert media.read_png_text(data) == {
        "Title": "a lighthouse",
        "Comment": "at dusk " * 1000,
        "Description": "灯台",
    }


def test_metadata_over_8_mb_is_refused_with_its_size() -> None:
    head, body, tail = png_parts(Image.new("RGB", (32, 32), "blue"))
    blob = random.Random(4).randbytes(9 * 2**20)
    message, spent = refuse(head + chunk(b"prVt", blob) + body + tail)
    assert message == (
        "the PNG carries 9.0 MB of metadata (at most 8 MB is accepted); export it again without it"
    )
    assert spent < CPU_BOUND
    assert load_image(head + chunk(b"prVt", blob[: 7 * 2**20]) + body + tail).size == (32, 32)


# ---------------------------------------------------------------- GIF extensions


def gif_split(image: Image.Image) -> tuple[bytes, bytes]:
    """(header, screen descriptor and global colour table; the rest) of a GIF Pillow writes."""
    data = encode(image, "GIF")
    flags = data[10]
    table = 3 << ((flags & 7) + 1) if flags & 0x80 else 0
    return data[: 13 + table], data[13 + table :]


def test_a_gif_of_millions_of_comments_is_refused() -> None:
    head, rest = gif_split(Image.new("P", (64, 64), 1))
    bomb = head + b"\x21\xfe\x01X\x00" * 5_000_000 + rest  # a one-byte comment, 5 million times
    message, spent = refuse(bomb)
    assert message == (
        "the GIF has over 10,000 blocks before its first frame (at most 10,000 are "
        "accepted); export it again and resend it"
    )
    assert spent < CPU_BOUND


def test_a_gif_with_a_long_comment_loads() -> None:
    head, rest = gif_split(Image.new("P", (64, 64), 1))
    comment = b"\x21\xfe" + (b"\xff" + b"c" * 255) * 100 + b"\x00"  # 25 KB in 100 sub-blocks
    assert load_image(head + comment + rest).size == (64, 64)


# ---------------------------------------------------------------- headers, with the real size


def huge_png() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 65535, 65535, 8, 2, 0, 0, 0)
    return PNG_SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"\xff" * 64) + chunk(b"IEND")


def huge_jpeg() -> bytes:
    data = bytearray(encode(noise(64, 48), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 65535, 65535)
    return bytes(data)


def huge_gif() -> bytes:
    data = bytearray(encode(Image.new("P", (64, 48)), "GIF"))
    data[6:10] = struct.pack("<HH", 65535, 65535)  # the logical screen
    return bytes(data)


def huge_webp() -> bytes:
    frames = [Image.new("RGB", (64, 48), colour) for colour in ("red", "blue")]
    data = bytearray(encode(frames[0], "WEBP", save_all=True, append_images=frames[1:]))
    assert data[12:16] == b"VP8X"
    data[24:30] = (65535 - 1).to_bytes(3, "little") * 2  # canvas width - 1, height - 1
    return bytes(data)


@pytest.mark.parametrize("make", [huge_png, huge_jpeg, huge_gif, huge_webp])
def test_a_65535_squared_header_is_refused_with_its_own_size(make: object) -> None:
    message, spent = refuse(make())  # type: ignore[operator]
    assert message == (
        "the image is 65535x65535 pixels (4,294.8 megapixels); the limit is 40 megapixels"
    )
    assert spent < CPU_BOUND


# ---------------------------------------------------------------- the CPU limit on decoding


def test_a_decode_over_its_cpu_limit_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    # 62 scans of 16 MP pass the scan count and cost most of a second of libjpeg:
    # with the limit lowered to 0.1 s, the decode is stopped there, inside C.
    normal = progressive(4000, 4000)
    heavy = with_last_scan_repeated(normal, 62 - scans(normal))
    monkeypatch.setattr(media, "MAX_DECODE_CPU_SECONDS", 0.1)
    monkeypatch.setattr(media, "MAX_DECODE_CPU_SECONDS_PER_MEGAPIXEL", 0.0)
    media._DECODER.stop()  # a fresh decode process, so its CPU is this file's alone
    before = children_cpu()
    message, _ = refuse(heavy)
    assert message == (
        "the image took over 0.1 s of CPU time to decode, the limit for its size; "
        "export it again and resend it"
    )
    assert children_cpu() - before < CPU_BOUND
    assert load_image(encode(noise(64, 48), "PNG")).size == (64, 48)  # a new process takes over


def test_loads_from_several_threads_share_the_decode_process() -> None:
    originals = [noise(64 + i, 48, seed=i) for i in range(8)]
    results: dict[int, bytes] = {}

    def load(i: int) -> None:
        results[i] = load_image(encode(originals[i], "PNG")).tobytes()

    threads = [threading.Thread(target=load, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {i: image.tobytes() for i, image in enumerate(originals)}


# ---------------------------------------------------------------- the memory limit on decoding


@pytest.mark.parametrize(
    ("fmt", "per_pixel", "limit_mb"), [("PNG", 1, 31), ("JPEG", 1, 31), ("WEBP", 8, 138)]
)
def test_a_decode_over_its_memory_limit_is_refused_and_the_process_lives_on(
    monkeypatch: pytest.MonkeyPatch, fmt: str, per_pixel: int, limit_mb: int
) -> None:
    # 4000x4000 pixels take 15 bytes each (28 for a WebP) to decode and convert to RGB;
    # with 16 MB and 1 byte a pixel allowed (31 MB at 16 MP), an allocation fails in
    # Pillow. (libwebp allocates the canvas as it opens, and says a failed allocation
    # there is a damaged file: so more for a WebP, still far short of what it needs.)
    big = encode(Image.new("RGB", (4000, 4000), (120, 80, 200)), fmt)
    monkeypatch.setattr(media, "MAX_DECODE_MEMORY_BYTES", 16 * 2**20)
    monkeypatch.setattr(media, "MAX_DECODE_MEMORY_BYTES_PER_PIXEL", per_pixel)
    assert load_image(encode(noise(64, 48), "PNG")).size == (64, 48)  # room for a small one
    process = media._DECODER._process
    message, _ = refuse(big)
    assert message == (
        f"the image needs more than {limit_mb} MB of memory to decode, the limit for its size; "
        "export it again and resend it"
    )
    small = noise(64, 48, seed=3)
    assert load_image(encode(small, "PNG")).tobytes() == small.tobytes()
    assert media._DECODER._process is process  # it lived on: no new process was started
    monkeypatch.undo()
    assert load_image(big).size == (4000, 4000)


def nine_thousand_squared_lossless_webp() -> bytes:
    data = bytearray(encode(Image.new("RGB", (64, 48)), "WEBP", lossless=True))
    assert data[12:16] == b"VP8L"
    data[21:25] = ((9000 - 1) | (9000 - 1) << 14).to_bytes(4, "little")
    return bytes(data)


def nine_thousand_squared_lossy_webp() -> bytes:
    data = bytearray(encode(Image.new("RGB", (64, 48)), "WEBP", quality=80))
    assert data[12:16] == b"VP8 "
    data[26:30] = struct.pack("<HH", 9000, 9000)
    return bytes(data)


@pytest.mark.parametrize(
    "make", [nine_thousand_squared_lossless_webp, nine_thousand_squared_lossy_webp]
)
def test_a_webp_header_over_the_limits_is_refused_with_its_own_size(make: object) -> None:
    # libwebp allocates the canvas (324 MB here) as it opens, under the memory limit for
    # the size read before: read wrong, it would fail there and be called damaged.
    message, spent = refuse(make())  # type: ignore[operator]
    assert message == "the image is 9000x9000 pixels (81.0 megapixels); the limit is 40 megapixels"
    assert spent < CPU_BOUND
