"""What the procedural painter can honestly learn from a person's pictures, and how it
paints with it: colour and light statistics and a texture measure, not shapes.

Learnt: the palette (the most used colours after median-cut quantisation, with their
shares), the light and colour cast as the mean and spread of each YCbCr channel, the
saturation, and the finish (how much fine detail there is: the mean difference between
the brightness and a blurred copy of it). Painting with a style moves a fresh picture's
channel statistics to the learnt ones (Reinhard-style transfer), pulls each pixel a
little toward its nearest palette colour, and sharpens or softens toward the learnt
finish, each in proportion to the style's strength. Needs only numpy and Pillow."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

FORMAT = 1  # bump when the statistics (or what apply() does with them) change
STAT_SIDE = 256  # pictures are measured at most this big
PALETTE = 6
PALETTE_PULL = 0.3  # how far a pixel moves toward its palette colour at strength 1
MIME = "application/json"


def _ycc(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("YCbCr"), dtype=np.float64)


def _detail(y: np.ndarray) -> float:
    """Mean absolute difference between brightness and a blurred copy, 0..255."""
    img = Image.fromarray(y.clip(0, 255).astype(np.uint8), "L")
    blurred = np.asarray(img.filter(ImageFilter.GaussianBlur(2)), dtype=np.float64)
    return float(np.abs(y - blurred).mean())


def _measured(image: Image.Image) -> Image.Image:
    image = image.convert("RGB")
    image.thumbnail((STAT_SIDE, STAT_SIDE), Image.Resampling.LANCZOS)
    return image


def learn(images: Sequence[Image.Image]) -> dict[str, Any]:
    """The statistics of ``images`` taken together (each picture counts the same)."""
    if not images:
        raise ValueError("nothing to learn from")
    small = [_measured(im) for im in images]
    ycc = [_ycc(im).reshape(-1, 3) for im in small]
    mean = np.mean([c.mean(axis=0) for c in ycc], axis=0)
    std = np.mean([c.std(axis=0) for c in ycc], axis=0)
    hsv = [np.asarray(im.convert("HSV"), dtype=np.float64)[..., 1].mean() / 255 for im in small]
    detail = float(np.mean([_detail(c[:, 0].reshape(im.height, im.width))
                            for c, im in zip(ycc, small, strict=True)]))
    # The palette: each picture's colours quantised, weighed so each picture counts once.
    side = 64
    tiles = [im.resize((side, side), Image.Resampling.BILINEAR) for im in small]
    sheet = Image.new("RGB", (side * len(tiles), side))
    for i, tile in enumerate(tiles):
        sheet.paste(tile, (i * side, 0))
    quantised = sheet.quantize(PALETTE, method=Image.Quantize.MEDIANCUT)
    counts = np.bincount(np.asarray(quantised).ravel(), minlength=PALETTE)[:PALETTE]
    colours = np.asarray((quantised.getpalette() or [])[: PALETTE * 3]).reshape(-1, 3)
    order = np.argsort(-counts)
    palette = [{"rgb": [int(v) for v in colours[i]], "share": round(float(counts[i])
                                                                    / counts.sum(), 4)}
               for i in order if counts[i] > 0]
    return {"format": FORMAT, "pictures": len(images),
            "ycbcr_mean": [round(float(v), 3) for v in mean],
            "ycbcr_std": [round(float(v), 3) for v in std],
            "saturation": round(float(np.mean(hsv)), 4), "detail": round(detail, 4),
            "palette": palette}


def to_bytes(stats: dict[str, Any]) -> bytes:
    return json.dumps(stats, sort_keys=True).encode()


def from_bytes(data: bytes) -> dict[str, Any]:
    stats: dict[str, Any] = json.loads(data)
    if stats.get("format") != FORMAT:
        raise ValueError(f"painter style format {stats.get('format')} is not {FORMAT}")
    return stats


def describe(stats: dict[str, Any]) -> str:
    """What was learnt, in words and figures, for the reply."""
    colours = ", ".join("#{:02x}{:02x}{:02x}".format(*p["rgb"]) for p in stats["palette"][:4])
    light = stats["ycbcr_mean"][0] / 255
    contrast = stats["ycbcr_std"][0] / 255
    return (f"its palette ({colours}…), light (brightness {light:.2f}, contrast "
            f"{contrast:.2f}), saturation {stats['saturation']:.2f} and finish (fine "
            f"detail {stats['detail']:.1f}/255)")


def apply(image: Image.Image, stats: dict[str, Any], weight: float) -> Image.Image:
    """``image`` painted toward the learnt statistics; ``weight`` 0 leaves it, 1 goes
    all the way (deterministic: the same inputs give the same pixels)."""
    if weight <= 0:
        return image
    w = min(1.0, float(weight))
    ycc = _ycc(image)
    flat = ycc.reshape(-1, 3)
    src_mean, src_std = flat.mean(axis=0), flat.std(axis=0)
    tgt_mean = np.asarray(stats["ycbcr_mean"])
    tgt_std = np.asarray(stats["ycbcr_std"])
    moved = (ycc - src_mean) / np.maximum(src_std, 1e-3) * tgt_std + tgt_mean
    ycc = ycc + w * (moved - ycc)
    out = Image.fromarray(ycc.clip(0, 255).round().astype(np.uint8), "YCbCr").convert("RGB")
    rgb = np.asarray(out, dtype=np.float64)
    palette = np.asarray([p["rgb"] for p in stats["palette"]], dtype=np.float64)
    if len(palette):
        nearest = palette[np.argmin(((rgb[..., None, :] - palette) ** 2).sum(-1), axis=-1)]
        rgb = rgb + w * PALETTE_PULL * (nearest - rgb)
    out = Image.fromarray(rgb.clip(0, 255).round().astype(np.uint8), "RGB")
    have = _detail(_ycc(out)[..., 0])
    want = float(stats["detail"])
    if want > have * 1.1:  # a grainier, more detailed finish: sharpen
        sharp = out.filter(ImageFilter.UnsharpMask(radius=2, percent=int(
            min(300, 100 * (want / max(have, 0.5) - 1))), threshold=0))
        out = Image.blend(out, sharp, w)
    elif want < have * 0.9:  # a smoother finish: soften
        soft = out.filter(ImageFilter.GaussianBlur(min(3.0, have / max(want, 0.5) - 1)))
        out = Image.blend(out, soft, w)
    return out
