"""What the procedural painter learns from pictures (palette, light, finish) and how
painting with it moves a fresh picture toward them, measurably and repeatably."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from museforge.models.image.base import (
    GenerateRequest,
    ImageBackendError,
    LearntStyle,
    TrainRequest,
)
from museforge.models.image.procedural import ProceduralPainter

REQ = GenerateRequest("a castle at night", width=128, height=128, seed=3)


def rust_pictures() -> list[Image.Image]:
    """Warm, dark, grainy pictures: oranges and browns with fine noise."""
    rng = np.random.default_rng(0)
    out = []
    for base in ((170, 80, 30), (120, 50, 20), (200, 120, 40)):
        px = np.asarray(base, np.float64) + rng.normal(0, 25, (96, 96, 3))
        out.append(Image.fromarray(px.clip(0, 255).astype(np.uint8)))
    return out


def learnt(tmp_path: Path, weight: float = 1.0):
    made = ProceduralPainter().train_style(TrainRequest("rust", rust_pictures(), [""] * 3))
    sha = hashlib.sha256(made.data).hexdigest()
    path = tmp_path / f"{sha}.json"
    path.write_bytes(made.data)
    return made, LearntStyle("rust", 1, path, sha, weight, "procedural")


def hue_share(image: Image.Image) -> tuple[float, float]:
    """(mean red minus blue, mean brightness) of a picture."""
    px = np.asarray(image, np.float64)
    return float((px[..., 0] - px[..., 2]).mean()), float(px.mean())


def test_the_painter_learns_palette_light_and_finish_and_says_so(tmp_path: Path) -> None:
    made, _ = learnt(tmp_path)
    stats = made.recipe["statistics"]
    assert stats["pictures"] == 3 and len(stats["palette"]) >= 3
    reds = [p["rgb"][0] - p["rgb"][2] for p in stats["palette"]]
    assert min(reds) > 40  # every learnt colour is warm
    assert stats["detail"] > 3  # the grain was measured
    assert "palette" in made.learnt and "light" in made.learnt and "finish" in made.learnt
    assert "cannot learn shapes, subjects or a character" in made.learnt


def test_painting_with_the_style_moves_the_palette_toward_it(tmp_path: Path) -> None:
    _, style = learnt(tmp_path)
    painter = ProceduralPainter()
    plain = painter.generate(REQ).images[0]
    styled = painter.generate(REQ.with_(learnt=(style,)))
    half = painter.generate(REQ.with_(learnt=(LearntStyle(
        style.name, 1, style.path, style.sha256, 0.4, "procedural"),))).images[0]

    warm_plain, _ = hue_share(plain)
    warm_styled, _ = hue_share(styled.images[0])
    warm_half, _ = hue_share(half)
    target = np.mean([hue_share(im)[0] for im in rust_pictures()])
    assert abs(warm_styled - target) < abs(warm_plain - target) / 3
    assert warm_plain < warm_half < warm_styled
    assert styled.recipe["learnt_styles"][0]["name"] == "rust"
    # The same request paints the same pixels (replay relies on it).
    again = painter.generate(REQ.with_(learnt=(style,))).images[0]
    assert (np.asarray(again) == np.asarray(styled.images[0])).all()


def test_a_lora_style_is_refused_by_the_painter(tmp_path: Path) -> None:
    _, style = learnt(tmp_path)
    lora = LearntStyle("pip", 1, style.path, style.sha256, 1.0, "diffusers")
    with pytest.raises(ImageBackendError, match="LoRA learnt on a diffusers model"):
        ProceduralPainter().generate(REQ.with_(learnt=(lora,)))
