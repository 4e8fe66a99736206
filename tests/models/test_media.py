"""The safe image loader against a corpus of good, odd and hostile files, all built here."""

from __future__ import annotations

import io
import random
import struct
import warnings
import zlib

import pytest
from PIL import Image, ImageFile

from museforge.models.media import (
    DAMAGED,
    MAX_BYTES,
    MediaError,
    load_image,
    png_bytes,
    read_png_text,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SEND = "send a PNG, JPEG, WebP or GIF image"


# ---------------------------------------------------------------- helpers


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def noise(width: int = 48, height: int = 40, seed: int = 0) -> Image.Image:
    """Incompressible pixels, so that every format's pixel data fills most of the file."""
    return Image.frombytes(
        "RGB", (width, height), random.Random(seed).randbytes(width * height * 3)
    )


def chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_by_hand(width: int, height: int, idat: bytes, *, color_type: int = 0) -> bytes:
    """A PNG whose header says anything we like, with every CRC right."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return PNG_SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def png_chunks(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """(offset, kind, payload) for each chunk of a PNG."""
    out, pos = [], len(PNG_SIGNATURE)
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8]
        out.append((pos, kind, data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return out


def refuse(data: bytes, **kwargs: str) -> str:
    """Load `data`, expect a refusal, and return its message, checked to be one short line.

    No warning may escape the loader: a bomb warning or Pillow chatter about
    corrupt EXIF would be noise in the logs (and a bomb warning no refusal).
    """
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        with pytest.raises(MediaError) as caught:
            load_image(data, **kwargs)
    assert escaped == []
    message = str(caught.value)
    assert "\n" not in message and 0 < len(message) < 120, message
    assert "Traceback" not in message and "PIL" not in message, message
    return message


def load(data: bytes, **kwargs: str) -> Image.Image:
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        image = load_image(data, **kwargs)
    assert escaped == []
    assert image.mode == "RGB"
    assert image.info == {}
    return image


def close_to(actual: object, expected: tuple[int, ...], tolerance: int = 12) -> bool:
    assert isinstance(actual, tuple), actual
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


# ---------------------------------------------------------------- size limits


def test_bomb_header_10000_squared_is_refused_before_decoding() -> None:
    # 100 MP: above Pillow's warning threshold, below its hard error. The pixel
    # data is garbage (with a right CRC), so a decode would say "damaged".
    data = png_by_hand(10_000, 10_000, b"\xff" * 64)
    message = refuse(data)
    assert message == (
        "the image is 10000x10000 pixels (100.0 megapixels); the limit is 40 megapixels"
    )


def test_bomb_header_50000_squared_is_refused_before_decoding() -> None:
    # Pillow's own threshold (178 MP) never speaks first: the message has the real size.
    data = png_by_hand(50_000, 50_000, b"\xff" * 64)
    message = refuse(data)
    assert message == (
        "the image is 50000x50000 pixels (2,500.0 megapixels); the limit is 40 megapixels"
    )


def test_solid_9000_squared_png_is_refused_for_its_megapixels() -> None:
    # A real, decodable 81 MP image (below Pillow's own threshold), streamed so
    # the test never holds the raw pixels.
    packer = zlib.compressobj(9)
    row = b"\x00" + bytes(9000)  # filter byte + one row of black grey-scale pixels
    idat = b"".join(packer.compress(row) for _ in range(9000)) + packer.flush()
    message = refuse(png_by_hand(9000, 9000, idat))
    assert message == (
        "the image is 9000x9000 pixels (81.0 megapixels); the limit is 40 megapixels"
    )


def test_a_side_over_12000_pixels_is_refused() -> None:
    message = refuse(png_by_hand(13_000, 100, b"\xff" * 64))
    assert message == "the image is 13000x100 pixels; each side must be at most 12,000 pixels"


@pytest.mark.parametrize("size", [(1, 1), (7, 300), (300, 7)])
def test_tiny_images_are_refused(size: tuple[int, int]) -> None:
    message = refuse(encode(Image.new("RGB", size, "red"), "PNG"))
    assert message == (
        f"the image is {size[0]}x{size[1]} pixels; each side must be at least 8 pixels"
    )


def test_eight_pixels_is_enough() -> None:
    assert load(encode(Image.new("RGB", (8, 8), "red"), "PNG")).size == (8, 8)


def test_too_many_bytes_is_refused_before_anything_else() -> None:
    data = PNG_SIGNATURE + bytes(MAX_BYTES)
    assert refuse(data) == "the file is 30.0 MB; the limit is 30 MB"


# ---------------------------------------------------------------- damaged files


def test_zero_bytes() -> None:
    assert refuse(b"") == f"the file is empty (0 bytes); {SEND}"


def test_truncated_png() -> None:
    data = encode(noise(), "PNG")
    assert refuse(data[: len(data) // 2]) == DAMAGED


def test_truncated_jpeg() -> None:
    data = encode(noise(), "JPEG")
    assert refuse(data[: len(data) // 2]) == DAMAGED


@pytest.mark.parametrize(
    ("fmt", "params"),
    [("PNG", {}), ("JPEG", {}), ("JPEG", {"progressive": True}), ("WEBP", {}), ("GIF", {})],
)
def test_every_truncation_is_refused(fmt: str, params: dict[str, object]) -> None:
    image = noise(24, 20).convert("P") if fmt == "GIF" else noise(24, 20)
    data = encode(image, fmt, **params)
    # A GIF missing only its end markers holds the whole picture, and loads.
    whole_from = len(data) - 2 if fmt == "GIF" else len(data)
    for cut in range(whole_from):
        with pytest.raises(MediaError):
            load_image(data[:cut])


def test_corrupt_idat_with_stale_crc_is_refused() -> None:
    # Pillow skips IDAT checksums and may stop inflating once it has every row,
    # so a flipped byte near the end of the pixel data can decode into wrong
    # pixels without any error (it does for this palette image with Pillow 13).
    data = encode(noise(64, 64).convert("P"), "PNG", compress_level=1)
    offset, _, payload = next(c for c in png_chunks(data) if c[1] == b"IDAT")
    end = offset + 8 + len(payload)
    for position in range(end - 64, end):
        damaged = bytearray(data)
        damaged[position] ^= 0x55
        assert refuse(bytes(damaged)) == DAMAGED


def test_corrupt_idat_with_right_crc_is_refused() -> None:
    # The chunk is well formed but its zlib stream is not.
    assert refuse(png_by_hand(16, 16, b"\xff" * 40)) == DAMAGED


def test_png_without_iend_is_refused() -> None:
    data = encode(noise(), "PNG")
    assert refuse(data[:-12]) == DAMAGED


def test_bad_png_header_crc() -> None:
    data = bytearray(png_by_hand(16, 16, zlib.compress(bytes(17 * 16))))
    data[8 + 8] ^= 0x01  # a bit of the width, so the IHDR CRC no longer matches
    assert refuse(bytes(data)) == DAMAGED


def test_jpeg_magic_then_junk() -> None:
    assert refuse(b"\xff\xd8\xff" + random.Random(1).randbytes(500)) == DAMAGED


def test_gif_magic_then_nothing() -> None:
    assert refuse(b"GIF89a") == DAMAGED


@pytest.mark.parametrize(
    ("fmt", "params"),
    [
        ("PNG", {}),
        ("JPEG", {}),
        ("WEBP", {}),
        ("WEBP", {"lossless": True}),
        ("GIF", {}),
    ],
)
def test_bit_flips_load_or_refuse_never_crash(fmt: str, params: dict[str, object]) -> None:
    image = noise(32, 24).convert("P") if fmt == "GIF" else noise(32, 24)
    original = encode(image, fmt, **params)
    rng = random.Random(f"{fmt}{params}")
    for _ in range(300):
        data = bytearray(original)
        for _ in range(rng.randrange(1, 5)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        with warnings.catch_warnings(record=True) as escaped:
            warnings.simplefilter("always")
            try:
                assert load_image(bytes(data)).mode == "RGB"
            except MediaError as exc:
                assert "\n" not in str(exc)
        assert escaped == []


# ---------------------------------------------------------------- refused formats


def test_random_bytes() -> None:
    data = random.Random(2).randbytes(4096)
    assert refuse(data) == f"this file is not a recognised image; {SEND}"


def test_random_bytes_named_png() -> None:
    data = random.Random(2).randbytes(4096)
    message = refuse(data, filename="holiday/photo.PNG")
    assert message == f"this file is not a recognised image, despite its .png name; {SEND}"


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda: encode(noise(), "TIFF"), "a TIFF image"),
        (lambda: encode(noise(), "TIFF", compression="tiff_lzw"), "a TIFF image"),
        (lambda: encode(noise(), "BMP"), "a BMP image"),
        (lambda: encode(noise(), "PDF"), "a PDF document"),
        (lambda: encode(noise(), "ICO"), "an ICO icon"),
        (
            lambda: (
                b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
                b'width="10" height="10"><rect width="10" height="10"/></svg>\n'
            ),
            "an SVG drawing",
        ),
        (lambda: b"\xef\xbb\xbf<svg viewBox='0 0 1 1'></svg>", "an SVG drawing"),
        (lambda: "a cat wearing a hat, très chic\n".encode(), "a text file"),
        (
            lambda: (
                b"MThd"
                + struct.pack(">IHHH", 6, 0, 1, 480)
                + b"MTrk"
                + struct.pack(">I", 4)
                + b"\x00\xff\x2f\x00"
            ),
            "a MIDI file",
        ),
        (lambda: b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(32), "a WAV audio file"),
        (lambda: b"\x00\x00\x00\x1cftypheic" + bytes(20), "a HEIC image"),
        (lambda: b"\x00\x00\x00\x1cftypavif" + bytes(20), "an AVIF image"),
    ],
)
def test_refused_formats_are_named(make: object, kind: str) -> None:
    data = make()  # type: ignore[operator]
    assert refuse(data) == f"this is {kind}; {SEND}"


def test_disallowed_content_with_an_allowed_name_says_so() -> None:
    message = refuse(encode(noise(), "TIFF"), filename="scan.png")
    assert message == f"this is a TIFF image, despite its .png name; {SEND}"


def test_the_name_is_never_echoed_beyond_a_known_extension() -> None:
    message = refuse(encode(noise(), "BMP"), filename="evil\nname.bmp")
    assert message == f"this is a BMP image; {SEND}"


# ---------------------------------------------------------------- accepted files


def test_wrong_extension_with_allowed_content_loads() -> None:
    image = load(encode(Image.new("RGB", (20, 10), "blue"), "JPEG"), filename="photo.png")
    assert image.size == (20, 10)
    assert close_to(image.getpixel((5, 5)), (0, 0, 255))


def test_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (16, 16), colour) for colour in ("red", "lime", "blue")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    with Image.open(io.BytesIO(data)) as check:
        assert getattr(check, "n_frames", 1) == 3
    image = load(data)
    assert image.size == (16, 16)
    assert image.getpixel((8, 8)) == (255, 0, 0)


def test_animated_webp_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (16, 16), colour) for colour in ("red", "lime", "blue")]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    assert load(data).getpixel((8, 8)) == (255, 0, 0)


def test_lossless_webp_loads_exactly() -> None:
    original = noise()
    assert load(encode(original, "WEBP", lossless=True)).tobytes() == original.tobytes()


def test_jpeg_exif_orientation_6_is_applied() -> None:
    # Stored 40 wide, 20 high, red on the left; orientation 6 means "turn 90°
    # clockwise to view", which puts the left edge on top.
    stored = Image.new("RGB", (40, 20), "blue")
    stored.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    image = load(encode(stored, "JPEG", exif=exif.tobytes(), quality=95))
    assert image.size == (20, 40)
    assert close_to(image.getpixel((10, 5)), (255, 0, 0))
    assert close_to(image.getpixel((10, 35)), (0, 0, 255))


def test_corrupt_exif_still_loads_without_warnings() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    raw = exif.tobytes()
    data = encode(Image.new("RGB", (40, 20), "red"), "JPEG", exif=raw[: len(raw) - 4])
    assert load(data).size in ((40, 20), (20, 40))


def test_rgba_png_is_composited_on_white() -> None:
    rgba = Image.new("RGBA", (16, 8), (0, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (8, 0, 16, 8))
    rgba.putpixel((0, 0), (255, 0, 0, 128))
    image = load(encode(rgba, "PNG"))
    assert image.getpixel((4, 4)) == (255, 255, 255)
    assert image.getpixel((12, 4)) == (0, 0, 255)
    assert close_to(image.getpixel((0, 0)), (255, 127, 127), tolerance=1)


def test_grey_alpha_png_is_composited_on_white() -> None:
    image = load(encode(Image.new("LA", (8, 8), (0, 0)), "PNG"))
    assert image.getpixel((0, 0)) == (255, 255, 255)


def test_palette_png_keeps_its_colours() -> None:
    palette = Image.new("RGB", (16, 16), (200, 30, 60)).convert("P", palette=Image.Palette.ADAPTIVE)
    data = encode(palette, "PNG")
    with Image.open(io.BytesIO(data)) as check:
        assert check.mode == "P"
    assert load(data).getpixel((3, 3)) == (200, 30, 60)


def test_palette_png_with_transparency_is_white_there() -> None:
    palette = Image.new("P", (16, 16), 1)
    palette.putpalette([0, 0, 0, 10, 200, 10])
    palette.putpixel((0, 0), 0)
    image = load(encode(palette, "PNG", transparency=0))
    assert image.getpixel((0, 0)) == (255, 255, 255)
    assert image.getpixel((5, 5)) == (10, 200, 10)


def test_cmyk_jpeg_becomes_rgb() -> None:
    cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # full magenta + yellow: red
    data = encode(cmyk, "JPEG", quality=95)
    with Image.open(io.BytesIO(data)) as check:
        assert check.mode == "CMYK"
    assert close_to(load(data).getpixel((8, 8)), (255, 0, 0))


def test_16_bit_greyscale_png_is_scaled_not_clipped() -> None:
    grey16 = Image.new("I;16", (16, 16), 0x8080)
    data = encode(grey16, "PNG")
    assert data[24] == 16 and data[25] == 0  # IHDR: bit depth 16, grey-scale
    assert load(data).getpixel((0, 0)) == (128, 128, 128)


def test_grey_and_one_bit_pngs_become_rgb() -> None:
    assert load(encode(Image.new("L", (8, 8), 77), "PNG")).getpixel((0, 0)) == (77, 77, 77)
    assert load(encode(Image.new("1", (8, 8), 1), "PNG")).getpixel((0, 0)) == (255, 255, 255)


def test_metadata_is_not_carried_over() -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # any EXIF, GPS included, stays behind
    image = load(encode(noise(), "JPEG", exif=exif.tobytes()))
    assert len(image.getexif()) == 0


def test_pillows_global_switch_for_truncated_images_does_not_reach_the_decoder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With it on, Pillow fills missing pixel data instead of failing. Here the
    # chunks are whole (right CRCs, IEND) and only the compressed rows stop short.
    data = encode(noise(), "PNG")
    _, _, idat = next(c for c in png_chunks(data) if c[1] == b"IDAT")
    cut = png_by_hand(48, 40, idat[: len(idat) // 2], color_type=2)
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with Image.open(io.BytesIO(cut)) as padded:
        padded.load()  # what a load in this process would do
    assert refuse(cut) == DAMAGED  # the decode runs in a process of its own, where it is off


# ---------------------------------------------------------------- PNG text


def test_png_bytes_round_trips_text_and_pixels() -> None:
    original = noise()
    text = {"prompt": "a lighthouse at dusk", "note": "café ☕ 灯台", "recipe": "{}" * 600}
    data = png_bytes(original, text=text)
    assert read_png_text(data) == text
    assert load(data).tobytes() == original.tobytes()
    kinds = [kind for _, kind, _ in png_chunks(data)]
    assert b"tEXt" in kinds and b"iTXt" in kinds
    assert b"tIME" not in kinds and b"iCCP" not in kinds and b"eXIf" not in kinds


def test_png_bytes_is_deterministic() -> None:
    image = noise()
    first = png_bytes(image, text={"a": "1", "b": "2"})
    assert png_bytes(image, text={"b": "2", "a": "1"}) == first
    assert png_bytes(image.copy(), text={"a": "1", "b": "2"}) == first


def test_png_bytes_leaves_source_metadata_behind() -> None:
    image = noise()
    image.info.update({"icc_profile": b"a profile", "prompt": "from the source"})
    data = png_bytes(image)
    assert b"iCCP" not in [kind for _, kind, _ in png_chunks(data)]
    assert read_png_text(data) == {}


def test_png_bytes_without_text() -> None:
    assert read_png_text(png_bytes(noise())) == {}


@pytest.mark.parametrize("key", ["", " lead", "trail ", "two  spaces", "k" * 80, "灯台", "a\nb"])
def test_png_bytes_refuses_invalid_keys(key: str) -> None:
    with pytest.raises(ValueError, match="PNG text key"):
        png_bytes(noise(), text={key: "value"})


def test_read_png_text_refuses_other_formats_and_bombs() -> None:
    with pytest.raises(MediaError, match="not a PNG"):
        read_png_text(encode(noise(), "JPEG"))
    with pytest.raises(MediaError, match="megapixels"):
        read_png_text(png_by_hand(10_000, 10_000, b"\xff" * 64))
    with pytest.raises(MediaError, match="truncated or damaged"):
        data = png_bytes(noise(), text={"a": "b"})
        read_png_text(data[: len(data) // 2])
