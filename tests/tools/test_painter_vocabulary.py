"""When the built-in painter cannot draw what a prompt names, the reply says so in one
clause (at most three words) and how to get a real model; never for a known subject,
never for another backend. Inpainting weather paints weather, and every version,
including ones made by painter version 1, replays to the same pixels."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from museforge.assistant.offline import OfflinePlanner
from museforge.assistant.turn import Assistant
from museforge.models.image.base import GenerateRequest, ImageResult, RunControl
from museforge.models.image.procedural import ProceduralPainter
from museforge.tools.base import Services, ToolContext, ToolError
from museforge.tools.registry import get_tool
from museforge.tools.replay import backend_for, replay

PULL = "`museforge models pull sd-turbo` gets a real model"


@pytest.fixture
def ctx(store, me, chat) -> ToolContext:
    return ToolContext(store, me, chat, services=Services(image=ProceduralPainter()))


def run(ctx: ToolContext, tool: str, **args) -> str:
    return get_tool(tool).run(ctx, args).message


def clauses(message: str) -> list[str]:
    return re.findall(r"\(the built-in painter doesn't know [^)]*\)", message)


def test_an_unknown_subject_is_said_in_one_clause_with_how_to_get_a_real_model(ctx):
    message = run(ctx, "generate_image", prompt="a pelican on a pier", seed=1)
    assert message == (
        "Painted a picture: #1 “a pelican on a pier”. (the built-in painter doesn't know "
        f"“pelican” or “pier”, so it painted the scene around them; {PULL})")
    message = run(ctx, "generate_image", prompt="a tram in Lisbon", seed=2, count=2)
    assert clauses(message) == [
        f"(the built-in painter doesn't know “tram” or “Lisbon”, so it painted the scene "
        f"around them; {PULL})"]  # one clause for the whole batch


def test_at_most_three_words_are_named(ctx):
    message = run(ctx, "generate_image", seed=1,
                  prompt="a pelican and a walrus on a pier beside a tram and a kiosk")
    (clause,) = clauses(message)
    assert clause.startswith("(the built-in painter doesn't know “pelican”, “walrus” or "
                             "“pier”, so it painted the scene around them;")
    assert "tram" not in clause and "kiosk" not in clause


def test_one_unknown_word_is_it(ctx):
    message = run(ctx, "generate_image", prompt="two cats sitting on a windowsill", seed=1)
    assert clauses(message) == [
        f"(the built-in painter doesn't know “windowsill”, so it painted the scene around "
        f"it; {PULL})"]


@pytest.mark.parametrize("prompt", ["a fox in the snow", "three wolves howling at the moon",
                                    "a cozy cabin in the woods at sunset, watercolor",
                                    "a lighthouse by the sea in a thunderstorm"])
def test_a_known_subject_gets_no_clause(ctx, prompt):
    message = run(ctx, "generate_image", prompt=prompt, seed=1)
    assert message == f"Painted a picture: #1 “{prompt}”."


def test_edits_and_inpainting_say_it_for_their_own_words(ctx):
    run(ctx, "generate_image", prompt="a fox in the snow", seed=1)
    message = run(ctx, "edit_image", artwork="#1", instruction="add a red hat")
    assert message.startswith("Edited #1 (“add a red hat”): now v2.")
    assert clauses(message) == [
        f"(the built-in painter doesn't know “hat”, so it painted the scene around it; "
        f"{PULL})"]
    message = run(ctx, "inpaint_image", artwork="#1", region="sky", prompt="a pelican", seed=2)
    assert clauses(message) == [
        f"(the built-in painter doesn't know “pelican”, so it painted the scene around it; "
        f"{PULL})"]
    for tool, args in [("edit_image", {"instruction": "make it snowy at night"}),
                       ("inpaint_image", {"region": "sky", "prompt": "storm clouds"})]:
        message = run(ctx, tool, artwork="#1", **args)
        assert "doesn't know" not in message and "models pull" not in message, message


def test_the_configured_model_is_the_one_to_pull(store, me, chat):
    class Settings:
        image_backend = "procedural"
        image_model = "sdxl-turbo"

    ctx = ToolContext(store, me, chat, settings=Settings(),
                      services=Services(image=ProceduralPainter()))
    message = run(ctx, "generate_image", prompt="a pelican", seed=1)
    assert message.endswith("(the built-in painter doesn't know “pelican”, so it painted the "
                            "scene around it; `museforge models pull sdxl-turbo` with "
                            "MUSEFORGE_IMAGE_BACKEND=auto gets a real model)")


class OtherBackend:
    """Another backend (as diffusers or the Images API would be): pictures come from the
    procedural painter, the recipe names the other backend."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.painter = ProceduralPainter()

    def _as_mine(self, result: ImageResult) -> ImageResult:
        result.recipe = {"backend": self.name, "model": "stand-in"}
        return result

    def generate(self, req: GenerateRequest, run: RunControl | None = None) -> ImageResult:
        return self._as_mine(self.painter.generate(req, run))

    def edit(self, image: Image.Image, instruction: str, req: GenerateRequest,
             strength: float, run: RunControl | None = None) -> ImageResult:
        return self._as_mine(self.painter.edit(image, instruction, req, strength, run))

    def inpaint(self, image: Image.Image, mask: Image.Image, req: GenerateRequest,
                run: RunControl | None = None) -> ImageResult:
        return self._as_mine(self.painter.inpaint(image, mask, req, run))


@pytest.mark.parametrize("name", ["diffusers", "openai"])
def test_other_backends_never_get_the_clause(store, me, chat, name):
    ctx = ToolContext(store, me, chat, services=Services(image=OtherBackend(name)))
    for message in (run(ctx, "generate_image", prompt="a pelican on a pier", seed=1),
                    run(ctx, "edit_image", artwork="#1", instruction="add a tram"),
                    run(ctx, "inpaint_image", artwork="#1", region="sky", prompt="a kiosk")):
        assert "doesn't know" not in message and "models pull" not in message, message


def test_the_reply_of_a_turn_carries_the_clause(store, me, chat):
    assistant = Assistant(store, OfflinePlanner(), services=Services(image=ProceduralPainter()))
    result = assistant.turn(me, chat, "paint a pelican on a pier")
    assert [c.name for c in result.calls] == ["generate_image"]
    assert "the built-in painter doesn't know “pelican” or “pier”" in result.reply
    result = assistant.turn(me, chat, "paint a fox in the snow")
    assert "doesn't know" not in result.reply


def sky_luminance(path) -> float:
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"), np.float32)
    return float((rgb[: int(rgb.shape[0] * 0.4)] @ np.array([0.299, 0.587, 0.114])).mean())


def test_storm_clouds_inpainted_into_the_sky_are_stormy_and_replay_exactly(store, me, chat,
                                                                           ctx):
    run(ctx, "generate_image", prompt="a lighthouse by the sea", seed=3)
    run(ctx, "inpaint_image", artwork="#1", region="sky", prompt="storm clouds", seed=4)
    clear, stormy = (store.resolve(me, chat, f"#1 v{n}")[1] for n in (1, 2))
    assert sky_luminance(stormy.files["png"]) < sky_luminance(clear.files["png"]) - 35
    assert stormy.recipe["backend"]["painter_version"] == 2
    for ref in ("#1 v1", "#1 v2"):
        report = replay(ctx, ref)
        assert report.identical, (ref, report.detail)


def test_versions_made_by_painter_version_1_replay_as_they_were_made(store, me, chat):
    old = ToolContext(store, me, chat, services=Services(image=ProceduralPainter(version=1)))
    run(old, "generate_image", prompt="a lighthouse in a storm", seed=3)
    run(old, "inpaint_image", artwork="#1", region="sky", prompt="storm clouds", seed=4)
    assert store.resolve(me, chat, "#1 v2")[1].recipe["backend"]["painter_version"] == 1
    for ref in ("#1 v1", "#1 v2"):
        report = replay(old, ref)
        assert report.identical, (ref, report.detail)
    with pytest.raises(ToolError, match="procedural painter v7"):
        backend_for({"backend": "procedural", "painter_version": 7})
