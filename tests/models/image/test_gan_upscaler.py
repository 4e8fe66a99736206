"""The GAN upscaler on a tiny random-weight Real-ESRGAN saved locally (.pth and
.safetensors), loaded through spandrel: tiled and untiled give the same pixels, bad and
missing weights are one clear sentence, and upscale_image uses it through a real turn."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# spandrel is imported through museforge's loader (it stands in for torchvision).
if importlib.util.find_spec("spandrel") is None:
    pytest.skip("spandrel is not installed (scripts/setup.sh installs it)",
                allow_module_level=True)

from museforge.models.image.base import ImageBackendError, WeightsMissing  # noqa: E402
from museforge.models.image.upscalers import GanUpscaler  # noqa: E402
from museforge.tools.base import Services

from .tiny_esrgan import save, tiny_rrdbnet  # noqa: E402


def picture(w: int = 80, h: int = 96) -> Image.Image:
    y, x = np.mgrid[0:h, 0:w]
    return Image.fromarray(np.stack([x * 3 % 256, y * 2 % 256, (x + y) % 256], -1)
                           .astype(np.uint8))


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("esrgan")
    return {"x4": save(tiny_rrdbnet(4), folder / "tiny_x4.pth"),
            "x2": save(tiny_rrdbnet(2, seed=1), folder / "tiny_x2.safetensors")}


def test_tiled_and_untiled_give_the_same_pixels(weights):
    # Tolerance: with overlap 16 every pixel is within 1/255 of the untiled run (float
    # sums in another order); with no overlap the seams show (so the check can fail).
    whole = np.asarray(GanUpscaler(str(weights["x4"]), tile=0).upscale(picture(), 4)
                       .images[0], dtype=np.int16)
    assert whole.shape == (384, 320, 3) and whole.std() > 20  # a picture, not a flat field
    tiled = GanUpscaler(str(weights["x4"]), tile=40, overlap=16).upscale(picture(), 4)
    assert tiled.recipe["tiles"] == 6
    assert np.abs(np.asarray(tiled.images[0], dtype=np.int16) - whole).max() <= 1
    seamy = GanUpscaler(str(weights["x4"]), tile=40, overlap=0).upscale(picture(), 4)
    assert np.abs(np.asarray(seamy.images[0], dtype=np.int16) - whole).max() > 10


def test_safetensors_x2_and_a_x4_model_asked_for_x2(weights):
    two = GanUpscaler(str(weights["x2"])).upscale(picture(), 2)
    assert two.images[0].size == (160, 192) and two.recipe["model_scale"] == 2
    down = GanUpscaler(str(weights["x4"])).upscale(picture(), 2)
    assert down.images[0].size == (160, 192) and "Lanczos" in down.recipe["notes"][0]


def test_a_file_spandrel_does_not_know_is_refused(tmp_path):
    import torch

    odd = tmp_path / "odd.pth"
    torch.save({"weight": torch.zeros(3, 3)}, odd)
    with pytest.raises(ImageBackendError, match="not an upscaler spandrel knows"):
        GanUpscaler(str(odd)).upscale(picture(), 2)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a model")
    with pytest.raises(ImageBackendError, match="not an upscaler spandrel knows"):
        GanUpscaler(str(junk)).upscale(picture(), 2)


def test_missing_weights_are_one_sentence(monkeypatch, tmp_path):
    monkeypatch.setenv("MUSEFORGE_UPSCALER_DIR", str(tmp_path))
    with pytest.raises(WeightsMissing) as missing:
        GanUpscaler("realesrgan-x4plus")
    text = str(missing.value)
    assert "museforge models pull realesrgan-x4plus" in text and "RealESRGAN_x4plus.pth" in text
    assert text.count(". ") == 0 and text.endswith(".")


@pytest.fixture
def me(store):
    from museforge.storage.models import Actor

    return Actor(store.local_user())


@pytest.fixture
def chat(store, me):
    from museforge.storage.models import Scope

    return store.session(me, Scope.local("studio"))


def test_upscale_image_uses_it_through_a_turn_and_remakes_it(store, me, chat, weights,
                                                            monkeypatch, tmp_path):
    from museforge.assistant.offline import OfflinePlanner
    from museforge.assistant.turn import Assistant
    from museforge.models.image.procedural import ProceduralPainter
    from museforge.tools.image_tools import remake

    monkeypatch.setenv("MUSEFORGE_UPSCALER_DIR", str(tmp_path))
    save(tiny_rrdbnet(4), tmp_path / "RealESRGAN_x4plus.pth")
    monkeypatch.setenv("MUSEFORGE_UPSCALE_TILE", "64")
    assistant = Assistant(store, OfflinePlanner(), services=Services(image=ProceduralPainter()))
    assistant.turn(me, chat, "paint a fox, 128x128")
    result = assistant.turn(me, chat, "upscale it 4x")
    assert all(c.ok for c in result.calls), [c.error for c in result.calls]
    assert "with Real-ESRGAN x4plus" in result.reply
    _, version = store.resolve(me, chat, "#1")
    backend = version.recipe["backend"]
    assert backend["backend"] == "spandrel" and backend["tile"] == 64
    assert len(backend["weights_sha256"]) == 64
    _, first = store.resolve(me, chat, "#1 v1")
    with Image.open(first.files["png"]) as im:
        source = im.convert("RGB")
    again = remake(GanUpscaler.from_recipe(backend), version.recipe, [source])
    with Image.open(version.files["png"]) as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), np.asarray(again))
