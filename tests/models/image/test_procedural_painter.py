"""The procedural painter: colors follow the words, subjects change the layout, styles
change the finish, and the same prompt + seed gives the same pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from museforge.models.image.base import GenerateRequest
from museforge.models.image.procedural import ProceduralPainter, paint

SIZE = 128


def arr(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float32)


def diff(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(arr(a) - arr(b)).mean())


def test_same_prompt_and_seed_give_the_same_pixels():
    a = paint("a fox in the snow, watercolor", 7, SIZE, SIZE)
    b = paint("a fox in the snow, watercolor", 7, SIZE, SIZE)
    assert np.array_equal(arr(a), arr(b))
    assert diff(a, paint("a fox in the snow, watercolor", 8, SIZE, SIZE)) > 1.0


@pytest.mark.parametrize("color, channel", [("red", 0), ("green", 1), ("blue", 2)])
def test_a_named_color_dominates(color, channel):
    image = arr(paint(f"a {color} abstract composition", 3, SIZE, SIZE))
    means = image.reshape(-1, 3).mean(axis=0)
    others = [means[i] for i in range(3) if i != channel]
    assert means[channel] > max(others) + 15, means


def test_red_and_blue_prompts_differ_in_the_way_people_expect():
    red = arr(paint("a red sunset over the sea", 1, SIZE, SIZE)).reshape(-1, 3).mean(axis=0)
    blue = arr(paint("a blue sunset over the sea", 1, SIZE, SIZE)).reshape(-1, 3).mean(axis=0)
    assert red[0] - red[2] > blue[0] - blue[2] + 30


def test_night_is_darker_than_noon():
    night = arr(paint("a forest at night", 2, SIZE, SIZE)).mean()
    noon = arr(paint("a forest at noon", 2, SIZE, SIZE)).mean()
    assert night < noon - 40


def _vertical_edges(image: Image.Image) -> float:
    gray = arr(image).mean(axis=2)
    return float(np.abs(np.diff(gray, axis=1)).mean())


def _horizontal_edges(image: Image.Image) -> float:
    gray = arr(image).mean(axis=2)
    return float(np.abs(np.diff(gray, axis=0)).mean())


def test_subject_words_change_the_layout_measurably():
    subjects = ["the sea", "mountains", "a forest", "a city skyline", "a castle"]
    images = {s: paint(f"{s} at noon", 5, SIZE, SIZE) for s in subjects}
    for i, a in enumerate(subjects):
        for b in subjects[i + 1:]:
            assert diff(images[a], images[b]) > 4.0, (a, b)
    # A city is a thing of vertical edges; the sea of horizontal ones.
    city, sea = images["a city skyline"], images["the sea"]
    assert _vertical_edges(city) > 2 * _vertical_edges(sea)
    assert _horizontal_edges(sea) > _vertical_edges(sea)


def test_styles_differ_measurably_and_in_character():
    prompt = "a lighthouse by the sea at dusk"
    styles = ["watercolor", "oil", "pixel art", "sketch", "neon", "minimal"]
    images = {s: paint(prompt, 4, SIZE, SIZE, s) for s in styles}
    plain = paint(prompt, 4, SIZE, SIZE)
    for s in styles:
        assert diff(images[s], plain) > 2.0, s
    for i, a in enumerate(styles):
        for b in styles[i + 1:]:
            assert diff(images[a], images[b]) > 2.0, (a, b)
    assert len(np.unique(arr(images["pixel art"]).reshape(-1, 3), axis=0)) <= 16
    sketch = arr(images["sketch"])
    assert np.abs(sketch[..., 0] - sketch[..., 1]).mean() < 3  # nearly gray
    assert arr(images["neon"]).mean() < arr(plain).mean() - 30  # dark with glowing lines


def test_the_style_word_in_the_prompt_picks_the_finish():
    assert np.array_equal(arr(paint("a fox, watercolor", 1, SIZE, SIZE)),
                          arr(paint("a fox, watercolor", 1, SIZE, SIZE, "watercolor")))


def test_every_backend_operation_works_on_the_painter():
    painter = ProceduralPainter()
    req = GenerateRequest(prompt="a cat on a hill", width=96, height=64, seed=11, count=2)
    made = painter.generate(req)
    assert [im.size for im in made.images] == [(96, 64), (96, 64)]
    assert made.seeds == [11, 12] and made.recipe["backend"] == "procedural"
    source = made.images[0]
    kept = painter.img2img(source, req.with_(count=1), 0.0).images[0]
    assert np.array_equal(arr(kept), arr(source))  # strength 0 keeps the picture
    moved = painter.img2img(source, req.with_(count=1, seed=99), 0.7).images[0]
    assert diff(moved, source) > 1.0
    mask = Image.new("L", (96, 64), 0)
    mask.paste(255, (48, 0, 96, 64))
    painted = painter.inpaint(source, mask, req.with_(prompt="a red moon", count=1)).images[0]
    left = (slice(None), slice(0, 40))
    assert np.abs(arr(painted)[left] - arr(source)[left]).max() < 12  # outside: kept
    assert diff(painted, source) > 1.0
    big = painter.upscale(source, 2, req).images[0]
    assert big.size == (192, 128)
    edited = painter.edit(source, "at night", req.with_(count=1), 0.6)
    assert edited.recipe["prompt"].endswith("at night")
    assert arr(edited.images[0]).mean() < arr(source).mean()
