"""The Pillow editor: deterministic, instant edits on the CPU. Each function takes an RGB
image and plain arguments and returns a new image; the same arguments give the same
pixels, so a recipe replays exactly. Also the masks and canvases the generative tools
need (named regions, zoom-out)."""

from __future__ import annotations

import re

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

FILTERS = ("grayscale", "sepia", "invert", "posterize", "vignette", "emboss", "contour",
           "sharpen", "smooth")
POSITIONS = ("top", "bottom", "center", "left", "right", "top left", "top right",
             "bottom left", "bottom right")
REGIONS = ("left half", "right half", "top half", "bottom half", "top", "bottom", "left",
           "right", "center", "middle", "background", "foreground", "sky", "ground",
           "top left", "top right", "bottom left", "bottom right", "everything")


class EditError(ValueError):
    """An edit that cannot be done as asked; the text says why."""


def adjust(
    image: Image.Image,
    *,
    brightness: float = 1.0,
    contrast: float = 1.0,
    saturation: float = 1.0,
    warmth: float = 0.0,
    hue_shift: float = 0.0,
    sharpness: float = 1.0,
    blur: float = 0.0,
    filter: str | None = None,  # noqa: A002 - the tool's argument name
) -> Image.Image:
    img = image.convert("RGB")
    if brightness != 1.0:
        img = ImageEnhance.Brightness(img).enhance(brightness)
    if contrast != 1.0:
        img = ImageEnhance.Contrast(img).enhance(contrast)
    if saturation != 1.0:
        img = ImageEnhance.Color(img).enhance(saturation)
    if warmth:
        img = _warm(img, warmth)
    if hue_shift:
        img = _hue(img, hue_shift)
    if sharpness != 1.0:
        img = ImageEnhance.Sharpness(img).enhance(sharpness)
    if blur:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    if filter:
        img = apply_filter(img, filter)
    return img


def _warm(img: Image.Image, warmth: float) -> Image.Image:
    arr = np.asarray(img, dtype=np.float32)
    k = float(warmth)
    # Warm: more red, a little more green, less blue; cool: the reverse.
    gains = np.array([1 + 0.25 * k, 1 + 0.06 * k, 1 - 0.25 * k], dtype=np.float32)
    return Image.fromarray(np.clip(arr * gains, 0, 255).astype(np.uint8), "RGB")


def _hue(img: Image.Image, degrees: float) -> Image.Image:
    hsv = np.asarray(img.convert("HSV"), dtype=np.int16).copy()
    hsv[..., 0] = (hsv[..., 0] + int(round(degrees / 360 * 256))) % 256
    return Image.fromarray(hsv.astype(np.uint8), "HSV").convert("RGB")


def apply_filter(img: Image.Image, name: str) -> Image.Image:
    if name == "grayscale":
        return ImageOps.grayscale(img).convert("RGB")
    if name == "sepia":
        gray = ImageOps.grayscale(img)
        return ImageOps.colorize(gray, black=(40, 26, 13), white=(255, 240, 205),
                                 mid=(160, 120, 80))
    if name == "invert":
        return ImageOps.invert(img)
    if name == "posterize":
        return ImageOps.posterize(img, 3)
    if name == "vignette":
        w, h = img.size
        y, x = np.ogrid[:h, :w]
        d = np.sqrt(((x - w / 2) / (w / 2)) ** 2 + ((y - h / 2) / (h / 2)) ** 2)
        fall = np.clip(1.15 - 0.55 * d**2, 0.25, 1.0)[..., None]
        arr = np.asarray(img, dtype=np.float32) * fall
        return Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB")
    if name == "emboss":
        return img.filter(ImageFilter.EMBOSS)
    if name == "contour":
        return img.filter(ImageFilter.CONTOUR)
    if name == "sharpen":
        return img.filter(ImageFilter.SHARPEN)
    if name == "smooth":
        return img.filter(ImageFilter.SMOOTH_MORE)
    raise EditError(f"unknown filter '{name}'; choose one of {', '.join(FILTERS)}")


def parse_aspect(aspect: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d{1,3})\s*[:x/]\s*(\d{1,3})\s*", aspect or "")
    if not m:
        raise EditError(f"aspect '{aspect}' should look like 16:9")
    a, b = int(m.group(1)), int(m.group(2))
    if a == 0 or b == 0 or not 0.25 <= a / b <= 4:
        raise EditError(f"aspect {a}:{b} is out of range (from 1:4 to 4:1)")
    return a, b


def size_for(aspect: str | None, base: int, width: int | None, height: int | None
             ) -> tuple[int, int]:
    """A size in multiples of 8 from an aspect and a base edge, or explicit sides."""
    if width and height:
        return _snap(width), _snap(height)
    a, b = parse_aspect(aspect) if aspect else (1, 1)
    area = base * base
    if width:
        return _snap(width), _snap(width * b / a)
    if height:
        return _snap(height * a / b), _snap(height)
    w = (area * a / b) ** 0.5
    return _snap(w), _snap(area / w)


def _snap(v: float) -> int:
    return max(64, int(round(v / 8)) * 8)


def reframe(
    image: Image.Image,
    *,
    aspect: str | None = None,
    rotate: float = 0.0,
    flip: str | None = None,
    width: int | None = None,
    height: int | None = None,
) -> Image.Image:
    img = image.convert("RGB")
    if rotate:
        img = img.rotate(-rotate, resample=Image.Resampling.BICUBIC, expand=True,
                         fillcolor=(255, 255, 255))
    if flip in ("horizontal", "both"):
        img = ImageOps.mirror(img)
    if flip in ("vertical", "both"):
        img = ImageOps.flip(img)
    if aspect:
        img = img.crop(aspect_box(img.size, aspect))
    if width or height:
        img = img.resize(resized_size(img.size, width, height), Image.Resampling.LANCZOS)
    return img


def aspect_box(size: tuple[int, int], aspect: str) -> tuple[int, int, int, int]:
    """The centred box of ``size`` that ``reframe`` crops to for ``aspect`` (the whole
    picture when it already has that aspect)."""
    a, b = parse_aspect(aspect)
    w, h = size
    if w / h > a / b:  # too wide: crop the sides
        nw = int(round(h * a / b))
        left = (w - nw) // 2
        return (left, 0, left + nw, h)
    nh = int(round(w * b / a))
    top = (h - nh) // 2
    return (0, top, w, top + nh)


def resized_size(size: tuple[int, int], width: int | None, height: int | None
                 ) -> tuple[int, int]:
    """The size ``reframe`` resizes to: the sides given, the other one kept in proportion."""
    w, h = size
    nw = width or int(round(w * (height or h) / h))
    nh = height or int(round(h * nw / w))
    return nw, nh


def zoom_out_canvas(image: Image.Image, factor: float) -> tuple[Image.Image, Image.Image]:
    """The image centred on a canvas ``factor`` times larger (edges smeared outwards as
    a starting point), and the mask of what must be painted (white)."""
    img = image.convert("RGB")
    w, h = img.size
    cw, ch = _snap(w * factor), _snap(h * factor)
    canvas = img.resize((cw, ch), Image.Resampling.BILINEAR).filter(
        ImageFilter.GaussianBlur(max(4, cw // 40)))
    left, top = (cw - w) // 2, (ch - h) // 2
    canvas.paste(img, (left, top))
    mask = Image.new("L", (cw, ch), 255)
    inset = max(2, min(w, h) // 64)  # overlap a little so the seam is repainted
    ImageDraw.Draw(mask).rectangle((left + inset, top + inset, left + w - inset,
                                    top + h - inset), fill=0)
    return canvas, mask


def region_mask(size: tuple[int, int], region: str) -> Image.Image:
    """White where ``region`` is: a named region or a box 'x0,y0,x1,y1' in 0..1 units."""
    w, h = size
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    name = " ".join(region.lower().replace("the ", "").split())
    box = re.fullmatch(r"\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*", name)
    if box:
        x0, y0, x1, y1 = (float(v) for v in box.groups())
        if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
            raise EditError("a box is x0,y0,x1,y1 with 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1")
        draw.rectangle((x0 * w, y0 * h, x1 * w, y1 * h), fill=255)
        return mask
    boxes = {
        "left half": (0, 0, 0.5, 1), "left": (0, 0, 0.5, 1),
        "right half": (0.5, 0, 1, 1), "right": (0.5, 0, 1, 1),
        "top half": (0, 0, 1, 0.5), "top": (0, 0, 1, 0.5),
        "bottom half": (0, 0.5, 1, 1), "bottom": (0, 0.5, 1, 1),
        "sky": (0, 0, 1, 0.45), "ground": (0, 0.6, 1, 1), "foreground": (0, 0.55, 1, 1),
        "top left": (0, 0, 0.5, 0.5), "top right": (0.5, 0, 1, 0.5),
        "bottom left": (0, 0.5, 0.5, 1), "bottom right": (0.5, 0.5, 1, 1),
        "everything": (0, 0, 1, 1),
    }
    if name in boxes:
        x0, y0, x1, y1 = boxes[name]
        draw.rectangle((x0 * w, y0 * h, x1 * w, y1 * h), fill=255)
    elif name in ("center", "middle"):
        draw.ellipse((0.25 * w, 0.25 * h, 0.75 * w, 0.75 * h), fill=255)
    elif name == "background":
        draw.rectangle((0, 0, w, h), fill=255)
        draw.ellipse((0.25 * w, 0.2 * h, 0.75 * w, 0.9 * h), fill=0)
    else:
        raise EditError(f"I don't know the region '{region}'; use one of "
                        f"{', '.join(REGIONS)} or a box x0,y0,x1,y1 (0..1)")
    return mask


def add_text(image: Image.Image, text: str, position: str = "bottom",
             color: tuple[int, int, int] | None = None) -> Image.Image:
    if position not in POSITIONS:
        raise EditError(f"position must be one of {', '.join(POSITIONS)}")
    img = image.convert("RGB")
    w, h = img.size
    size = max(12, int(min(w, h) * 0.08))
    font = ImageFont.load_default(size=size)
    draw = ImageDraw.Draw(img)
    lines = _wrap(text, font, draw, int(w * 0.9))
    spacing = size // 4
    box = draw.multiline_textbbox((0, 0), "\n".join(lines), font=font, spacing=spacing,
                                  align="center")
    tw, th = box[2] - box[0], box[3] - box[1]
    margin = int(min(w, h) * 0.05)
    x = {"left": margin, "right": w - tw - margin}.get(position.split()[-1], (w - tw) // 2)
    y = {"top": margin, "bottom": h - th - margin}.get(position.split()[0], (h - th) // 2)
    if color is None:  # light text on dark pictures, dark on light, with an outline
        region = img.crop((max(0, x), max(0, y), min(w, x + tw), min(h, y + th)))
        light = np.asarray(region.convert("L")).mean() < 128 if region.size[0] else True
        color = (255, 255, 255) if light else (20, 20, 20)
    outline = (0, 0, 0) if sum(color) > 384 else (255, 255, 255)
    draw.multiline_text((x - box[0], y - box[1]), "\n".join(lines), font=font, fill=color,
                        spacing=spacing, align="center", stroke_width=max(1, size // 14),
                        stroke_fill=outline)
    return img


def _wrap(text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
          draw: ImageDraw.ImageDraw, max_width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            trial = f"{current} {word}".strip()
            if draw.textlength(trial, font=font) <= max_width or not current:
                current = trial
            else:
                lines.append(current)
                current = word
        lines.append(current)
    return lines


def blend(images: list[Image.Image], size: tuple[int, int]) -> Image.Image:
    """The even mix of 2-4 images at ``size`` (the start of ``blend_images``)."""
    arrays = [np.asarray(i.convert("RGB").resize(size, Image.Resampling.LANCZOS), np.float32)
              for i in images]
    return Image.fromarray(np.mean(arrays, axis=0).round().astype(np.uint8), "RGB")
