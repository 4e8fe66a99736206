"""The procedural painter's weather and vocabulary: inpainting "storm clouds" (or rain,
fog, a rainbow...) into the sky changes its pixels the way the words say instead of
painting a clear sky; painter version 1 still paints as it did; and ``unknown_words``
names the things of a prompt the painter cannot draw."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from museforge.models.image.base import GenerateRequest
from museforge.models.image.editor import region_mask
from museforge.models.image.procedural import (
    VERSION,
    ProceduralPainter,
    paint,
    unknown_words,
    weather_only,
)

SIZE = 192
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
SCENES = [("a lighthouse by the sea", 3), ("mountains at noon", 2), ("a fox in the snow", 5)]


def sky(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """(luminance, saturation 0..255) of the inside of the sky region (rows 2%..40%; the
    "sky" mask is the top 45%, its edge softened)."""
    rows = slice(int(SIZE * 0.02), int(SIZE * 0.40))
    rgb = np.asarray(image.convert("RGB"), np.float32)[rows]
    sat = np.asarray(image.convert("HSV"), np.float32)[rows][..., 1]
    return rgb @ LUMA, sat


def texture(lum: np.ndarray, block: int = 12) -> float:
    """How much the sky varies within small patches, its top-to-bottom gradient taken
    out: the median over 12×12 patches of the spread of luminance within each patch row.
    ~0 for a clear sky (a sun or a few flakes touch few patches), a few units where
    clouds have shapes, more with rain streaks or lightning."""
    h, w = (lum.shape[0] // block) * block, (lum.shape[1] // block) * block
    patches = lum[:h, :w].reshape(h // block, block, w // block, block).transpose(0, 2, 1, 3)
    patches = patches - patches.mean(axis=3, keepdims=True)
    return float(np.median(patches.std(axis=(2, 3))))


def inpaint(base: Image.Image, prompt: str, seed: int = 1, region: str = "sky",
            painter: ProceduralPainter | None = None) -> Image.Image:
    req = GenerateRequest(prompt=prompt, width=base.width, height=base.height, seed=seed)
    painter = painter or ProceduralPainter()
    return painter.inpaint(base, region_mask(base.size, region), req).images[0]


@pytest.mark.parametrize("scene, seed", SCENES)
def test_storm_clouds_in_the_sky_make_it_dark_grey_and_clouded_not_clear(scene, seed):
    base = paint(scene, seed, SIZE, SIZE)
    storm = inpaint(base, "storm clouds", seed)
    clear = inpaint(base, "a clear blue sky", seed)
    (b_lum, b_sat), (s_lum, s_sat), (c_lum, _) = sky(base), sky(storm), sky(clear)
    assert s_lum.mean() < b_lum.mean() - 35, (s_lum.mean(), b_lum.mean())
    assert s_lum.mean() < c_lum.mean() - 35, (s_lum.mean(), c_lum.mean())
    assert s_sat.mean() < 0.5 * b_sat.mean(), (s_sat.mean(), b_sat.mean())
    # cloud shapes: the storm sky varies from patch to patch, the clear one does not
    assert texture(s_lum) > max(2.0, texture(b_lum) + 1.0), (texture(s_lum), texture(b_lum))
    # grey: the channels are close together
    rgb = np.asarray(storm.convert("RGB"), np.float32)[: int(SIZE * 0.4)]
    assert float((rgb.max(axis=2) - rgb.min(axis=2)).mean()) < 30


def test_the_old_inpaint_painted_a_clear_sky_for_storm_clouds():
    """What the issue was: painter version 1 paints a fresh day scene there."""
    base = paint("a lighthouse by the sea", 3, SIZE, SIZE)
    old = inpaint(base, "storm clouds", 3, painter=ProceduralPainter(version=1))
    new = inpaint(base, "storm clouds", 3)
    assert sky(old)[0].mean() > sky(base)[0].mean() - 10  # as bright as the clear sky
    assert sky(new)[0].mean() < sky(old)[0].mean() - 35


@pytest.mark.parametrize("prompt", ["dark clouds", "rain", "a thunderstorm", "heavy rain",
                                    "a blizzard"])
def test_heavy_weather_darkens_greys_and_textures_the_sky(prompt):
    base = paint("a lighthouse by the sea", 3, SIZE, SIZE)
    (b_lum, b_sat), (lum, sat) = sky(base), sky(inpaint(base, prompt, 4))
    assert lum.mean() < b_lum.mean() - 10, prompt
    assert sat.mean() < 0.6 * b_sat.mean(), prompt
    assert texture(lum) > texture(b_lum) + 2.0, prompt


def test_each_weather_word_moves_the_pixels_its_way():
    base = paint("a lighthouse by the sea", 3, SIZE, SIZE)
    b_lum, b_sat = sky(base)

    lum, sat = sky(inpaint(base, "clouds"))  # fair clouds: white shapes on the blue
    assert lum.mean() > b_lum.mean() and sat.mean() < b_sat.mean()
    assert texture(lum) > texture(b_lum) + 2.0

    lum, sat = sky(inpaint(base, "fog"))  # paler, greyer, less contrast
    assert lum.mean() > b_lum.mean() and sat.mean() < 0.6 * b_sat.mean()
    assert lum.std() < 0.7 * b_lum.std()

    lum, _ = sky(inpaint(base, "a thunderstorm"))  # a bolt: near-white pixels in the dark
    assert lum.mean() < b_lum.mean() - 35 and (lum > 235).sum() > SIZE // 4

    rain = inpaint(base, "rain")  # slanted streaks: many small light-dark steps
    assert texture(sky(rain)[0]) > texture(b_lum) + 4.0

    def share(image: Image.Image, lo: int, hi: int) -> float:
        hsv = np.asarray(image.convert("HSV"), np.int32)[: int(SIZE * 0.45)]
        hue, s = hsv[..., 0], hsv[..., 1]
        return float(((hue >= lo) & (hue <= hi) & (s > 90)).mean())

    rainbow = inpaint(base, "a rainbow")  # reds/oranges and greens in a blue sky
    assert share(rainbow, 0, 30) > share(base, 0, 30) + 0.01
    assert share(rainbow, 60, 110) > share(base, 60, 110) + 0.01

    flakes = sky(inpaint(base, "snow"))[0] - b_lum  # white specks on the sky
    assert (flakes > 40).sum() > SIZE // 4

    for word in ("a moon", "stars"):  # night comes with them
        lum, _ = sky(inpaint(base, word))
        assert lum.mean() < b_lum.mean() - 60, word
    night = paint("a forest at night", 2, SIZE, SIZE)
    assert sky(inpaint(night, "the sun"))[0].mean() > sky(night)[0].mean() + 60


def test_weather_stays_in_its_region_and_repeats_exactly():
    base = paint("a lighthouse by the sea", 3, SIZE, SIZE)
    a = inpaint(base, "storm clouds", 7)
    assert np.array_equal(np.asarray(a), np.asarray(inpaint(base, "storm clouds", 7)))
    assert not np.array_equal(np.asarray(a), np.asarray(inpaint(base, "storm clouds", 8)))
    below = slice(int(SIZE * 0.55), SIZE)  # past the soft edge of the sky mask
    assert np.array_equal(np.asarray(a)[below], np.asarray(base)[below])


def test_weather_words_paint_weather_in_new_pictures_too():
    calm, storm = paint("a lighthouse", 4, SIZE, SIZE), paint("a lighthouse in a storm", 4,
                                                               SIZE, SIZE)
    (c_lum, c_sat), (s_lum, s_sat) = sky(calm), sky(storm)
    assert s_lum.mean() < c_lum.mean() - 35 and s_sat.mean() < 0.5 * c_sat.mean()
    assert texture(s_lum) > texture(c_lum) + 1.5
    forest, foggy = paint("a forest", 4, SIZE, SIZE), paint("a foggy forest", 4, SIZE, SIZE)
    gray = [np.asarray(im.convert("L"), np.float32) for im in (forest, foggy)]
    assert gray[1].std() < 0.7 * gray[0].std()


@pytest.mark.parametrize("prompt", ["a fox in the snow, watercolor", "a red sunset over the sea",
                                    "a forest at night", "a pelican on a pier", "a castle",
                                    "mountains at dawn, pixel art"])
def test_prompts_without_weather_paint_as_version_1_did(prompt):
    new = paint(prompt, 11, 96, 96)
    assert np.array_equal(np.asarray(new), np.asarray(paint(prompt, 11, 96, 96, version=1)))


def test_version_1_still_paints_weather_prompts_as_it_did_and_recipes_say_the_version():
    assert VERSION == 2
    v1 = paint("a lighthouse in a storm", 4, 96, 96, version=1)
    assert not np.array_equal(np.asarray(v1), np.asarray(paint("a lighthouse in a storm", 4,
                                                                96, 96)))
    assert np.array_equal(np.asarray(v1), np.asarray(paint("a lighthouse", 4, 96, 96,
                                                           version=1)))
    req = GenerateRequest(prompt="a lighthouse", width=64, height=64, seed=1)
    assert ProceduralPainter().generate(req).recipe["painter_version"] == 2
    assert ProceduralPainter(version=1).generate(req).recipe["painter_version"] == 1
    with pytest.raises(ValueError):
        ProceduralPainter(version=9)


def test_only_weather_alone_is_painted_over_the_picture():
    for prompt in ("storm clouds", "dark clouds", "rain", "a thunderstorm", "thick fog",
                   "snow", "a rainbow", "grey clouds"):
        assert weather_only(prompt), prompt
    for prompt in ("a moon", "stars", "a forest in the rain", "a lighthouse", "winter",
                   "storm clouds at sunset", "a pelican"):
        assert not weather_only(prompt), prompt


@pytest.mark.parametrize("prompt, unknown", [
    ("a pelican on a pier", ["pelican", "pier"]),
    ("a tram in Lisbon", ["tram", "Lisbon"]),
    ("two pelicans sitting on a wooden pier at sunset, watercolor", ["pelicans", "pier"]),
    ("a cute puppy playing with a ball in the garden", ["puppy", "ball", "garden"]),
    ("add a red hat to the cat", ["hat"]),
    ("the Eiffel Tower at night, 4k, highly detailed", ["Eiffel"]),
    ("a wizard's tower beside a butterfly", ["butterfly"]),
])
def test_unknown_words_are_the_things_it_cannot_draw(prompt, unknown):
    assert unknown_words(prompt) == unknown


@pytest.mark.parametrize("prompt", [
    "a fox in the snow", "three foxes in a snowy forest, watercolor", "storm clouds",
    "make it snowy at night", "a knight fighting a dragon at sunset",
    "portrait of a woman, oil painting", "wolves howling at the moon under the stars",
    "a cozy cabin in the woods", "turn day into night", "a beautifully lit castle on a hill",
    "replace the background with a forest", "a lighthouse by the sea in a thunderstorm",
    "a vibrant neon city skyline, pixel art", "a clear blue sky"])
def test_known_words_and_grammar_are_not_unknown(prompt):
    assert unknown_words(prompt) == []
