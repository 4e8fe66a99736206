"""The image tools on the embedded defaults (the procedural painter, the Pillow editor):
every tool reachable through ``museforge ask``, PNGs that carry their recipe, versions
that replay to the same pixels, attachments through the safe loader, and bad input that
loses nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cliutil import ask, check_contract, museforge
from PIL import Image
from sqlalchemy import update
from sqlalchemy.orm import Session

from museforge.assistant.offline import OfflinePlanner
from museforge.assistant.turn import Assistant
from museforge.models.image.procedural import ProceduralPainter
from museforge.models.media import read_png_text
from museforge.storage.models import Actor, Scope
from museforge.storage.schema import Version
from museforge.tools.base import Services, ToolContext
from museforge.tools.registry import get_tool
from museforge.tools.replay import replay


@pytest.fixture
def assistant(store) -> Assistant:
    return Assistant(store, OfflinePlanner(), services=Services(image=ProceduralPainter()))


def say(assistant, me, chat, text):
    result = assistant.turn(me, chat, text)
    failed = [c for c in result.calls if not c.ok]
    return result, failed


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.int16)


def test_every_image_tool_through_a_conversation(store, me, chat, assistant):
    script = [
        ("paint a fox in the snow, watercolor, seed 5", "generate_image", (1, 1)),
        ("warmer", "adjust_image", (1, 2)),
        ("make it snowy at night", "edit_image", (1, 3)),
        ("put a moon in the sky", "inpaint_image", (1, 4)),
        ("zoom out", "reframe_image", (1, 5)),
        ("crop it to 16:9", "reframe_image", (1, 6)),
        ("add the text 'Winter' at the top", "add_text", (1, 7)),
        ("upscale it", "upscale_image", (1, 8)),
        ("a strong variation of #1", "vary_image", (2, 1)),
        ("blend #1 and #2", "blend_images", (3, 1)),
    ]
    for text, tool, (artwork, version) in script:
        result, failed = say(assistant, me, chat, text)
        assert not failed, (text, failed[0].error)
        assert [c.name for c in result.calls] == [tool], text
        made = result.artifacts[-1]
        assert (made.artwork, made.version) == (artwork, version), text
        assert made.files["png"].is_file()
    sizes = [v.recipe["size"] for v in store.versions(me, chat, 1)]
    assert sizes[4] == [768, 768]  # zoomed out 1.5x from 512
    assert sizes[7][0] == 2 * sizes[6][0]  # upscaled 2x
    tree = {v.number: v.parent_number for v in store.versions(me, chat, 1)}
    assert tree == {1: None, 2: 1, 3: 2, 4: 3, 5: 4, 6: 5, 7: 6, 8: 7}


def test_a_batch_makes_one_artwork_per_picture_and_ordinals_follow_it(
        store, me, chat, assistant):
    result, failed = say(assistant, me, chat, "paint three pictures of a lighthouse")
    assert not failed and [a.artwork for a in result.artifacts] == [1, 2, 3]
    seeds = [store.resolve(me, chat, f"#{n}")[1].recipe["seed"] for n in (1, 2, 3)]
    assert seeds[1] == seeds[0] + 1 and seeds[2] == seeds[0] + 2
    result, failed = say(assistant, me, chat, "make the second one black and white")
    assert not failed and result.calls[0].args["artwork"] == "#2"
    assert result.calls[0].args["filter"] == "grayscale"
    gray = pixels(result.artifacts[0].files["png"])
    assert np.array_equal(gray[..., 0], gray[..., 2])
    result, _ = say(assistant, me, chat, "warmer")  # "it" is #2, the last one touched
    assert result.calls[0].args["artwork"] == "#2"


def test_the_png_carries_its_recipe(store, me, chat, assistant):
    say(assistant, me, chat, "paint a red barn at sunset, oil painting, seed 1234")
    _, version = store.resolve(me, chat, "#1")
    text = read_png_text(version.files["png"].read_bytes())
    assert text["parameters"].startswith("a red barn at sunset")
    assert "Seed: 1234" in text["parameters"] and "Size: 512x512" in text["parameters"]
    recipe = json.loads(text["museforge"])
    assert recipe["tool"] == "generate_image" and recipe["args"]["style"] == "oil"
    assert recipe == json.loads(json.dumps(version.recipe))


def test_versions_replay_to_the_same_pixels_and_a_changed_recipe_is_caught(
        store, me, chat, assistant):
    for text in ("paint a castle on a hill, seed 3", "brighter", "zoom out",
                 "make it snowy", "add the text 'Hi'", "a variation of #1"):
        _, failed = say(assistant, me, chat, text)
        assert not failed, text
    ctx = ToolContext(store, me, chat)
    for ref in ("#1 v1", "#1 v2", "#1 v3", "#1 v4", "#1 v5", "#2"):
        report = replay(ctx, ref)
        assert report.identical, (ref, report.detail)
    _, v2 = store.resolve(me, chat, "#1 v2")
    changed = dict(v2.recipe, args=dict(v2.recipe["args"], brightness=1.9))
    with Session(store.engine) as s, s.begin():
        s.execute(update(Version).where(Version.id == v2.id).values(recipe=changed))
    report = replay(ctx, "#1 v2")
    assert not report.identical and "differ" in report.detail


def test_replay_command_exit_status(store, me, chat, assistant, db_url):
    say(assistant, me, chat, "paint a fox, seed 9")
    done = museforge("replay", "#1", "--session", "studio", url=db_url)
    assert done.returncode == 0, done.stderr
    assert "match" in done.stdout
    done = museforge("replay", "#7", "--session", "studio", url=db_url)
    assert done.returncode == 1 and "#7" in done.stderr


def test_an_attached_picture_becomes_an_artwork_to_edit(tmp_path):
    photo = tmp_path / "holiday.jpg"
    Image.new("RGB", (64, 48), (40, 90, 160)).save(photo, "JPEG")
    out = ask("make it brighter", "--attach", str(photo))
    check_contract(out)
    assert out["errors"] == []
    assert [a["artwork"] for a in out["artifacts"]] == ["#1", "#1"]
    assert out["tool_calls"][0]["args"]["artwork"] == "#1"
    before = pixels(Path(out["artifacts"][0]["files"]["png"]))
    after = pixels(Path(out["artifacts"][1]["files"]["png"]))
    assert after.mean() > before.mean() + 10


def test_refused_attachments_say_what_they_are(tmp_path):
    tiff = tmp_path / "scan.png"
    Image.new("RGB", (64, 64)).save(tiff, "TIFF")
    out = ask("list my pictures", "--attach", str(tiff))
    assert "TIFF" in out["errors"][0]["error"]
    assert out["tool_calls"][0]["name"] == "list_artworks"
    assert "There are no images" in out["reply"]


def test_absurd_arguments_are_refused_and_nothing_is_stored(store, me, chat, assistant):
    say(assistant, me, chat, "paint a fox")
    result, failed = say(assistant, me, chat, "brightness 9 on #1")
    assert failed and "brightness" in failed[0].error and "4" in failed[0].error
    result, failed = say(assistant, me, chat, "upscale #1 4x")
    assert not failed  # 512 -> 2048 is allowed
    result, failed = say(assistant, me, chat, "upscale #1 4x")
    assert failed and "4096" in failed[0].error  # 2048 -> 8192 is not
    assert [v.number for v in store.versions(me, chat, 1)] == [1, 2]


def test_another_users_artwork_is_not_found(store, me, chat, assistant):
    say(assistant, me, chat, "paint a fox")
    stranger = Actor(store.user("web", "stranger"))
    theirs = store.session(stranger, Scope.web("stranger", "studio"))
    result, failed = say(assistant, stranger, theirs, "make #1 warmer")
    assert failed and "no artwork #1" in failed[0].error
    assert [v.number for v in store.versions(me, chat, 1)] == [1]


def test_every_image_tool_is_reachable_through_ask_on_the_embedded_defaults():
    out = ask("paint a lighthouse by the sea at dusk")
    check_contract(out)
    assert out["tool_calls"][0]["name"] == "generate_image" and out["tool_calls"][0]["ok"]
    assert "procedural painter" in out["reply"]  # said once...
    asks = ["warmer", "make it stormy", "replace the sky with a starry night",
            "rotate it 90 degrees", "zoom out", "write 'Hello' at the bottom",
            "upscale it", "a variation of #1", "blend #1 and #2"]
    for text in asks:
        out = ask(text)
        check_contract(out)
        assert all(c["ok"] for c in out["tool_calls"]), (text, out["tool_calls"])
        assert "procedural painter" not in out["reply"]  # ...and only once
    names = [json.loads(museforge("history", "studio", "--json").stdout)]
    assert names


def test_reframe_says_what_it_did(store, me, chat):
    ctx = ToolContext(store, me, chat, services=Services(image=ProceduralPainter()))

    def reframe(**args):
        return get_tool("reframe_image").run(ctx, {"artwork": "#1", **args}).message

    get_tool("generate_image").run(ctx, {"prompt": "a lighthouse", "seed": 1,
                                         "aspect": "3:2"})
    w, h = store.resolve(me, chat, "#1")[1].recipe["size"]
    assert reframe(rotate=90, flip="horizontal") == (
        f"Rotated #1 90° clockwise and flipped it horizontally ({h}×{w}): now v2.")
    assert reframe(flip="vertical") == "Flipped #1 vertically: now v3."
    assert reframe(rotate=-90) == f"Rotated #1 90° counterclockwise ({w}×{h}): now v4."
    assert reframe(flip="both") == "Flipped #1 horizontally and vertically: now v5."
    assert reframe(aspect="1:1") == f"Cropped #1 to 1:1 ({h}×{h}): now v6."
    assert reframe(width=200) == "Resized #1 to 200×200: now v7."
    assert reframe(rotate=180) == "Rotated #1 180°: now v8."
    assert reframe(zoom_out=1.5, seed=1) == (
        "Zoomed #1 out ×1.5, painting in the new border (304×304): now v9.")
