"""The Pillow editor: each adjustment does what its name says, in DESIGN.md's units, and
the same arguments give the same pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from museforge.models.image import editor
from museforge.models.image.editor import EditError
from museforge.models.image.procedural import paint


@pytest.fixture(scope="module")
def picture() -> Image.Image:
    return paint("a fox on a hill at noon", 3, 160, 120)


def arr(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float32)


def test_neutral_values_change_nothing(picture):
    assert np.array_equal(arr(editor.adjust(picture)), arr(picture))


def test_multipliers_and_warmth(picture):
    assert arr(editor.adjust(picture, brightness=1.5)).mean() > arr(picture).mean() + 15
    assert arr(editor.adjust(picture, brightness=0.5)).mean() < arr(picture).mean() - 15
    warm = arr(editor.adjust(picture, warmth=0.8))
    cool = arr(editor.adjust(picture, warmth=-0.8))
    assert (warm[..., 0] - warm[..., 2]).mean() > (cool[..., 0] - cool[..., 2]).mean() + 40
    flat = arr(editor.adjust(picture, saturation=0.0))
    assert np.abs(flat[..., 0] - flat[..., 2]).max() <= 1
    assert arr(editor.adjust(picture, contrast=2.0)).std() > arr(picture).std()
    assert arr(editor.adjust(picture, blur=4)).std() < arr(picture).std()


def test_hue_shift_and_filters(picture):
    shifted = editor.adjust(picture, hue_shift=180)
    assert np.abs(arr(shifted) - arr(picture)).mean() > 10
    gray = arr(editor.adjust(picture, filter="grayscale"))
    assert np.array_equal(gray[..., 0], gray[..., 1])
    inverted = arr(editor.adjust(picture, filter="invert"))
    assert np.allclose(inverted + arr(picture), 255)
    sepia = arr(editor.adjust(picture, filter="sepia"))
    assert (sepia[..., 0] >= sepia[..., 2]).mean() > 0.95
    vignette = arr(editor.adjust(picture, filter="vignette"))
    assert vignette[:5, :5].mean() < arr(picture)[:5, :5].mean()
    with pytest.raises(EditError, match="unknown filter"):
        editor.apply_filter(picture, "glitter")


def test_reframe_crops_rotates_flips_and_resizes(picture):
    wide = editor.reframe(picture, aspect="16:9")
    assert abs(wide.width / wide.height - 16 / 9) < 0.02
    assert editor.reframe(picture, rotate=90).size == (120, 160)
    flipped = editor.reframe(picture, flip="horizontal")
    assert np.array_equal(arr(flipped), arr(picture)[:, ::-1])
    assert editor.reframe(picture, width=80).size == (80, 60)
    with pytest.raises(EditError, match="out of range"):
        editor.parse_aspect("9:1")
    with pytest.raises(EditError, match="like 16:9"):
        editor.parse_aspect("wide")


def test_zoom_out_canvas_keeps_the_picture_in_the_middle(picture):
    canvas, mask = editor.zoom_out_canvas(picture, 2.0)
    assert canvas.size == (320, 240)
    m = np.asarray(mask)
    assert m[0, 0] == 255 and m[120, 160] == 0
    left, top = (320 - 160) // 2, (240 - 120) // 2
    assert np.array_equal(arr(canvas)[top:top + 120, left:left + 160], arr(picture))


def test_region_masks():
    assert np.asarray(editor.region_mask((100, 50), "left half"))[:, :50].min() == 255
    assert np.asarray(editor.region_mask((100, 50), "left half"))[:, 51:].max() == 0
    box = np.asarray(editor.region_mask((100, 100), "0.1,0.2,0.5,0.6"))
    assert box[30, 30] == 255 and box[80, 80] == 0
    background = np.asarray(editor.region_mask((100, 100), "the background"))
    assert background[2, 2] == 255 and background[55, 50] == 0
    with pytest.raises(EditError, match="don't know the region"):
        editor.region_mask((10, 10), "the moon")
    with pytest.raises(EditError, match="x0,y0,x1,y1"):
        editor.region_mask((10, 10), "0.5,0.5,0.2,0.9")


def test_add_text_writes_where_it_was_asked(picture):
    top = arr(editor.add_text(picture, "Hello", "top"))
    changed = np.abs(top - arr(picture)).max(axis=2) > 30
    rows = np.nonzero(changed.any(axis=1))[0]
    assert rows.size and rows.max() < 60  # only the upper half
    bottom = arr(editor.add_text(picture, "Hello", "bottom"))
    rows = np.nonzero((np.abs(bottom - arr(picture)).max(axis=2) > 30).any(axis=1))[0]
    assert rows.min() > 60
    with pytest.raises(EditError, match="position"):
        editor.add_text(picture, "x", "sideways")


def test_blend_is_the_even_mix():
    a = Image.new("RGB", (10, 10), (200, 0, 0))
    b = Image.new("RGB", (20, 20), (0, 0, 100))
    mixed = editor.blend([a, b], (10, 10))
    assert mixed.getpixel((5, 5)) == (100, 0, 50)
