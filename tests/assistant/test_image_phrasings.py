"""The offline planner's image rules against the way people ask for pictures and edits:
phrasing -> expected call, through real ``--plan-only`` turns (references resolved,
nothing run). The test prints its accuracy and lists every miss.

Session: #1 "a red fox", #2 "a blue whale", #3 "a lighthouse at dusk" (images); the last
thing touched was #3, so "it" is #3.
"""

from __future__ import annotations

from typing import Any

import pytest
from phrasing import Call, check_table_shape, run_table


def gen(prompt: str, **kw: Any) -> list[Call]:
    return [("generate_image", {"prompt": prompt, **kw})]


def adjust(n: int = 3, **kw: Any) -> list[Call]:
    return [("adjust_image", {"artwork": f"#{n}", **kw})]


def edit(n: int = 3, **kw: Any) -> list[Call]:
    return [("edit_image", {"artwork": f"#{n}", **kw})]


def vary(n: int = 3, **kw: Any) -> list[Call]:
    return [("vary_image", {"artwork": f"#{n}", **kw})]


def reframe(n: int = 3, **kw: Any) -> list[Call]:
    return [("reframe_image", {"artwork": f"#{n}", **kw})]


def upscale(n: int = 3, factor: int = 2) -> list[Call]:
    return [("upscale_image", {"artwork": f"#{n}", "factor": factor})]


def inpaint(n: int = 3, **kw: Any) -> list[Call]:
    return [("inpaint_image", {"artwork": f"#{n}", **kw})]


def text(n: int = 3, **kw: Any) -> list[Call]:
    return [("add_text", {"artwork": f"#{n}", **kw})]


PHRASINGS: list[tuple[str, list[Call]]] = [
    # -- generate: verbs, filler words, styles, aspects, counts, seeds, negatives -----
    ("paint a fox in the snow, watercolor", gen("a fox in the snow", style="watercolor")),
    ("draw a castle on a hill", gen("a castle on a hill")),
    ("generate an image of a city at night", gen("a city at night")),
    ("can you make me a picture of a lighthouse by the sea",
     gen("a lighthouse by the sea")),
    ("create a painting of mountains in autumn", gen("mountains in autumn")),
    ("show me a dragon over a forest", gen("a dragon over a forest")),
    ("I'd like a poster of a sunset over the ocean", gen("a sunset over the ocean")),
    ("imagine a robot reading a book", gen("a robot reading a book")),
    ("a cat sleeping on a windowsill, oil painting",
     gen("a cat sleeping on a windowsill", style="oil")),
    ("paint a neon city in the rain", gen("a city in the rain", style="neon")),
    ("draw a knight in pixel art", gen("a knight", style="pixel art")),
    ("sketch an owl in pencil", gen("an owl", style="sketch")),
    ("make a minimalist poster of a mountain", gen("a mountain", style="minimal")),
    ("paint a beach at sunrise in 16:9", gen("a beach at sunrise", aspect="16:9")),
    ("a widescreen picture of a desert", gen("a desert", aspect="16:9")),
    ("paint a square picture of a rose", gen("a rose", aspect="1:1")),
    ("a phone wallpaper of a starry night", gen("a starry night", aspect="9:16")),
    ("paint four pictures of a wolf", gen("a wolf", count=4)),
    ("give me three images of a koi pond", gen("a koi pond", count=3)),
    ("draw 2 versions of a treehouse", gen("a treehouse", count=2)),
    ("paint a forest at dawn with seed 42", gen("a forest at dawn", seed=42)),
    ("paint a beach without people", gen("a beach", negative_prompt="people")),
    ("paint a harbor at dusk, 1024x576", gen("a harbor at dusk", width=1024, height=576)),
    ("compose a picture that fits #1", [("generate_image", {"inspired_by": "#1"})]),
    # -- adjust: intensities, synonyms, filters ----------------------------------------
    ("warmer", adjust(warmth=0.3)),
    ("make it warmer", adjust(warmth=0.3)),
    ("a bit warmer", adjust(warmth=0.18)),
    ("much warmer please", adjust(warmth=0.6)),
    ("cooler", adjust(warmth=-0.3)),
    ("make #1 brighter", adjust(1, brightness=1.25)),
    ("darken it a little", adjust(brightness=0.85)),
    ("more contrast", adjust(contrast=1.3)),
    ("less saturated", adjust(saturation=0.65)),
    ("make the colors pop", adjust(saturation=1.35)),
    ("black and white", adjust(filter="grayscale")),
    ("turn #2 into black and white", adjust(2, filter="grayscale")),
    ("give it a vintage sepia look", adjust(filter="sepia")),
    ("invert the colors of #1", adjust(1, filter="invert")),
    ("add a vignette", adjust(filter="vignette")),
    ("sharpen it", adjust(sharpness=1.7)),
    ("blur it", adjust(blur=2.0)),
    ("brighter and warmer", adjust(brightness=1.25, warmth=0.3)),
    ("increase brightness by 20%", adjust(brightness=1.2)),
    ("shift the hue by 45 degrees", adjust(hue_shift=45.0)),
    # -- semantic edits ---------------------------------------------------------------
    ("make it snowy", edit(instruction="make it snowy")),
    ("add a red hat to the fox in #1", edit(1)),
    ("turn day into night", edit(instruction="turn day into night")),
    ("make #2 look like a watercolor", edit(2)),
    ("remove the boat", edit(instruction="remove the boat")),
    # -- variations -------------------------------------------------------------------
    ("a variation of #1", vary(1, strength="subtle")),
    ("make a variation of it", vary(strength="subtle")),
    ("give me 4 variations of #2", vary(2, count=4)),
    ("a strong variation of the fox one", vary(1, strength="strong")),
    ("more like #2", vary(2)),
    ("try again", vary()),
    # -- reframe, upscale -------------------------------------------------------------
    ("crop it to 16:9", reframe(aspect="16:9")),
    ("make #1 square", reframe(1, aspect="1:1")),
    ("rotate it 90 degrees", reframe(rotate=90.0)),
    ("rotate #2 left", reframe(2, rotate=-90.0)),
    ("flip it horizontally", reframe(flip="horizontal")),
    ("mirror #1", reframe(1, flip="horizontal")),
    ("turn it upside down", reframe(rotate=180.0)),  # a half turn; "flip it" mirrors it
    ("flip it upside down", reframe(flip="vertical")),
    ("zoom out", reframe(zoom_out=1.5)),
    ("zoom out 2x on #1", reframe(1, zoom_out=2.0)),
    ("show more of the scene", reframe(zoom_out=1.5)),
    ("resize it to 800x600", reframe(width=800, height=600)),
    ("upscale it", upscale()),
    ("upscale #2 4x", upscale(2, 4)),
    ("make it bigger", upscale()),
    ("I want a high-res version of #1", upscale(1)),
    # -- inpaint, text, blend ---------------------------------------------------------
    ("replace the background with a forest",
     inpaint(region="background", prompt="a forest")),
    ("put a moon in the sky", inpaint(region="sky", prompt="a moon")),
    ("repaint the left half of #1 with flowers",
     inpaint(1, region="left half", prompt="flowers")),
    ("change the sky to a starry night", inpaint(region="sky", prompt="a starry night")),
    ("add the text 'Happy birthday' at the top", text(text="Happy birthday", position="top")),
    ('write "Hello" on #2', text(2, text="Hello")),
    ("caption it 'Winter 2026'", text(text="Winter 2026")),
    ("blend #1 and #2", [("blend_images", {"artworks": ["#1", "#2"]})]),
    ("mix #1 with #3 into a dreamy landscape",
     [("blend_images", {"artworks": ["#1", "#3"], "prompt": "dreamy landscape"})]),
    ("combine the last two", [("blend_images", {"artworks": ["#2", "#3"]})]),
    # -- several requests ------------------------------------------------------------
    ("paint a fox and then make it grayscale",
     gen("a fox") + [("adjust_image", {"artwork": "#4", "filter": "grayscale"})]),
    ("paint a fox and make it warmer",
     gen("a fox") + [("adjust_image", {"artwork": "#4", "warmth": 0.3})]),
    ("make #1 brighter, then upscale it", adjust(1, brightness=1.25) + upscale(1)),
]


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture
def three_images(paint, remember):
    for title in ("a red fox", "a blue whale", "a lighthouse at dusk"):
        paint(title, versions=2)
    remember([3])






def test_the_image_phrasing_table_is_big_and_has_no_duplicates():
    check_table_shape(PHRASINGS, 60)


def test_the_offline_planner_understands_image_requests(me, chat, assistant, three_images,
        heads, capsys):
    run_table("image phrasings", PHRASINGS, assistant, me, chat, heads, capsys)
