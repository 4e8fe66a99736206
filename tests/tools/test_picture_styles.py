"""Picture styles through the real tools and store (SQLite): learn_style on a person's
pictures with the built-in painter and with a tiny random-weight SD pipeline (LoRA),
then generate_image and the edits with learnt_style; replay re-makes the pixels; another
person never sees the style; a cancel or a crash mid-training stores nothing; a bad
picture is refused with its reason while the rest are learnt from."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from museforge.storage.models import Actor, Scope
from museforge.tools.base import Cancelled, Services, ToolContext, ToolError
from museforge.tools.image_support import import_image
from museforge.tools.registry import get_tool

SIZE = 64


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory) -> Path:
    pytest.importorskip("peft")
    from tests.models.image.tiny_pipelines import build_sd

    return build_sd(tmp_path_factory.mktemp("tiny-sd") / "sd")


@pytest.fixture
def painter_ctx(store, me, chat):
    from museforge.models.image.procedural import ProceduralPainter

    return ToolContext(store, me, chat, services=Services(image=ProceduralPainter()))


@pytest.fixture
def lora_ctx(store, me, chat, tiny_sd, tmp_path, monkeypatch):
    from museforge.models.image.diffusers_backend import DiffusersBackend
    from museforge.models.image.pipeline_cache import PipelineCache

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))  # no helper models
    backend = DiffusersBackend(str(tiny_sd), device="cpu", cache=PipelineCache())
    return ToolContext(store, me, chat, services=Services(image=backend))


def run(ctx, tool_name, **args):
    return get_tool(tool_name).run(ctx, args)


def attach(ctx, folder: Path, pictures: list[Image.Image]) -> list[str]:
    refs = []
    for i, picture in enumerate(pictures):
        path = folder / f"picture{i + 1}.png"
        picture.save(path)
        made = import_image(ctx, path)
        assert made is not None
        refs.append(made.ref)
    return refs


def rust_pictures(n: int = 3) -> list[Image.Image]:
    rng = np.random.default_rng(0)
    return [Image.fromarray((np.asarray(base, np.float64) + rng.normal(0, 20, (SIZE, SIZE, 3)))
                            .clip(0, 255).astype(np.uint8))
            for base in ((170, 80, 30), (120, 50, 20), (200, 120, 40))[:n]]


def warmth(path: Path) -> float:
    with Image.open(path) as im:
        px = np.asarray(im.convert("RGB"), np.float64)
    return float((px[..., 0] - px[..., 2]).mean())


LORA = {"steps": 3, "resolution": SIZE}


def test_the_painter_learns_a_picture_style_and_paints_with_it(painter_ctx, tmp_path):
    ctx = painter_ctx
    refs = attach(ctx, tmp_path, [*rust_pictures(), Image.new("RGB", (16, 16), "red")])

    said = run(ctx, "learn_style", name="Rust", artworks=refs, kind="image").message

    assert said.startswith("Learnt picture style 'Rust' from 3 pictures: the built-in "
                           "painter learnt")
    assert "palette" in said and "cannot learn shapes" in said
    assert "Left out: #4 (16×16 is too small to learn from; at least 64 px a side)" in said
    [style] = ctx.store.list_styles(ctx.actor)
    assert (style.kind, style.version, style.recipe["trainer"]) == ("image", 1, "procedural")
    assert [d["artwork"] for d in style.recipe["data"]] == [1, 2, 3]
    assert style.recipe["weights_sha256"] == hashlib.sha256(style.weights.read_bytes()
                                                            ).hexdigest()
    assert "from 3 pictures" in run(ctx, "list_styles").message

    plain = run(ctx, "generate_image", prompt="a castle at night", seed=5).artifacts[0]
    styled = run(ctx, "generate_image", prompt="a castle at night", seed=5,
                 learnt_style="Rust").artifacts[0]
    assert warmth(styled.files["png"]) > warmth(plain.files["png"]) + 20
    assert styled.recipe["learnt_styles"][0]["name"] == "Rust"
    from museforge.tools.replay import replay

    report = replay(ctx, styled.ref)
    assert report.identical, report.detail
    run(ctx, "forget_style", name="Rust")
    with pytest.raises(ToolError, match="painted with the learnt style 'Rust' v1"):
        replay(ctx, styled.ref)


def test_a_lora_style_paints_edits_and_replays_identically(lora_ctx, tmp_path):
    from museforge.tools.replay import replay

    ctx = lora_ctx
    seen: list[tuple[str, int, int]] = []
    ctx.progress = lambda what, step, total: seen.append((what, step, total))
    refs = attach(ctx, tmp_path, rust_pictures(2))

    said = run(ctx, "learn_style", name="Rust", artworks=refs, **LORA).message
    assert said.startswith("Learnt picture style 'Rust' from 2 pictures: a LoRA adapter")
    assert seen[0][0].startswith("learning 'Rust' from 2 pictures, about ")
    assert [s[1:] for s in seen[1:]] == [(i, 3) for i in range(1, 4)]
    assert all(", loss " in s[0] for s in seen[1:])

    args = {"prompt": "a red fox", "seed": 3, "width": SIZE, "height": SIZE, "steps": 2}
    plain = run(ctx, "generate_image", **args).artifacts[0]
    styled = run(ctx, "generate_image", **args, learnt_style=["Rust"],
                 learnt_strength=1.0).artifacts[0]
    with Image.open(plain.files["png"]) as a, Image.open(styled.files["png"]) as b:
        # At the real learning rate a few steps move the pixels only a little, but they
        # move: without the adapter applied they would be exactly the plain ones.
        assert (np.asarray(a) != np.asarray(b)).any()
    edited = run(ctx, "edit_image", artwork=styled.ref, instruction="make it snowy",
                 strength=0.5).artifacts[0]
    assert edited.recipe["learnt_styles"] == styled.recipe["learnt_styles"]  # carried over

    run(ctx, "learn_style", name="Rust", artworks=refs, **LORA, seed=1)  # v2 is newest now
    assert ctx.store.style(ctx.actor, "Rust").version == 2
    for made in (styled, edited):
        report = replay(ctx, f"#{made.artwork} v{made.version}")
        assert report.identical, report.detail


def test_another_persons_picture_style_is_not_found(painter_ctx, store, tmp_path):
    from museforge.models.image.procedural import ProceduralPainter

    refs = attach(painter_ctx, tmp_path, rust_pictures())
    run(painter_ctx, "learn_style", name="Rust", artworks=refs, kind="image")
    someone = Actor(store.user("web", "mallory", "Mallory"))
    theirs = ToolContext(store, someone, store.session(someone, Scope.web("mallory", "x")),
                         services=Services(image=ProceduralPainter()))

    with pytest.raises(ToolError, match="no picture style called 'Rust'"):
        run(theirs, "generate_image", prompt="a castle", learnt_style="Rust")
    assert run(theirs, "list_styles").message.startswith("You have no learnt styles")


@pytest.mark.parametrize("stop", ["cancel", "crash"])
def test_a_picture_training_stopped_midway_leaves_no_style(lora_ctx, tmp_path, stop):
    ctx = lora_ctx
    refs = attach(ctx, tmp_path, rust_pictures(2))
    steps = []

    def progress(what, step, total):
        if step == 2:
            if stop == "cancel":
                ctx.cancel.set()
            else:
                raise RuntimeError("the machine fell over")
        steps.append(step)

    ctx.progress = progress
    with pytest.raises(Cancelled if stop == "cancel" else RuntimeError):
        run(ctx, "learn_style", name="half", artworks=refs, steps=50, resolution=SIZE)
    assert ctx.store.list_styles(ctx.actor) == []
    assert max(steps) <= 2 if stop == "cancel" else max(steps) == 1


def test_backends_that_cannot_learn_or_use_a_style_say_why(painter_ctx, lora_ctx, store,
                                                           me, chat, tmp_path):
    from museforge.models.image.openai_backend import OpenAIImageBackend

    refs = attach(painter_ctx, tmp_path, rust_pictures())
    remote = ToolContext(store, me, chat, services=Services(
        image=OpenAIImageBackend(api_key="sk-test")))
    with pytest.raises(ToolError, match="OpenAI image backend cannot learn a style"):
        run(remote, "learn_style", name="Rust", artworks=refs)
    assert store.list_styles(me) == []

    run(painter_ctx, "learn_style", name="Rust", artworks=refs)
    with pytest.raises(ToolError, match="learnt by the built-in painter; the diffusers"):
        run(lora_ctx, "generate_image", prompt="a fox", learnt_style="Rust", width=SIZE,
            height=SIZE, steps=2)
    with pytest.raises(ToolError, match="one learnt_strength, or one per style"):
        run(painter_ctx, "generate_image", prompt="a fox", learnt_style=["Rust"],
            learnt_strength=[0.5, 0.5])


def test_train_style_and_ask_learn_from_attached_pictures(tmp_path, monkeypatch):
    """The scripting doors on the built-in painter: ``museforge train-style`` with a file
    that is not a picture (left out, said), and ``ask --attach`` with a phrasing the
    planner knows."""
    import json

    from tests.cliutil import museforge

    monkeypatch.setenv("MUSEFORGE_IMAGE_BACKEND", "procedural")
    paths = []
    for i, picture in enumerate(rust_pictures(2)):
        paths.append(tmp_path / f"rust{i}.png")
        picture.save(paths[-1])
    fake = tmp_path / "fake.png"
    fake.write_text("not a picture")

    done = museforge("train-style", "Rust", str(paths[0]), str(fake), str(paths[1]))
    assert done.returncode == 0, done.stderr
    assert "Learnt picture style 'Rust' from 2 pictures" in done.stdout
    assert "fake.png: left out" in done.stderr and "learning 'Rust'" in done.stderr

    done = museforge("ask", "learn my style from #1 and #2 as Aird", "--session", "web",
                     "--json", "--attach", str(paths[0]), "--attach", str(paths[1]))
    out = json.loads(done.stdout)
    [call] = out["tool_calls"]
    assert (call["name"], call["ok"]) == ("learn_style", True)
    assert "Learnt picture style 'Aird' from 2 pictures" in out["reply"]
    listed = museforge("ask", "list my styles", "--session", "web", "--json")
    assert "'Aird' (image, v1 from 2 pictures)" in json.loads(listed.stdout)["reply"]
    assert "'Rust' (image, v1 from 2 pictures)" in json.loads(listed.stdout)["reply"]


def test_limits_pictures_per_style_and_disk_per_person(painter_ctx, tmp_path, monkeypatch):
    from museforge.tools import style_tools

    ctx = painter_ctx
    refs = attach(ctx, tmp_path, rust_pictures())
    monkeypatch.setattr(style_tools, "MAX_STYLE_IMAGES", 2)
    with pytest.raises(ToolError, match="at most 2 pictures, not 3"):
        run(ctx, "learn_style", name="Rust", artworks=refs)
    monkeypatch.setattr(style_tools, "MAX_STYLE_IMAGES", 40)
    run(ctx, "learn_style", name="Rust", artworks=refs)
    used = ctx.store.style(ctx.actor, "Rust").weights.stat().st_size
    monkeypatch.setattr(style_tools, "MAX_STYLE_DISK", used)
    with pytest.raises(ToolError, match="your styles already take"):
        run(ctx, "learn_style", name="Rust", artworks=refs[:2])
    assert ctx.store.style(ctx.actor, "Rust").version == 1


def test_a_character_is_called_by_its_name(painter_ctx, tmp_path):
    ctx = painter_ctx
    refs = attach(ctx, tmp_path, rust_pictures())
    said = run(ctx, "learn_style", name="Pip", artworks=refs, character=True).message
    assert "Prompts call the character 'Pip'" in said
    assert ctx.store.style(ctx.actor, "Pip").recipe["trigger"] == "Pip"

    made = run(ctx, "generate_image", prompt="riding a bicycle", seed=1,
               learnt_style="Pip").artifacts[0]
    assert made.recipe["prompt"] == "Pip, riding a bicycle"
    named = run(ctx, "generate_image", prompt="pip on a hill", seed=1,
                learnt_style="Pip").artifacts[0]
    assert named.recipe["prompt"] == "pip on a hill"  # already named: left as written


def test_the_estimate_follows_the_backend_and_the_steps(painter_ctx, lora_ctx, tmp_path):
    from museforge.tools.costs import estimate

    refs = attach(painter_ctx, tmp_path, rust_pictures())
    args = get_tool("learn_style").args.model_validate({"name": "x", "artworks": refs})
    assert estimate("learn_style", painter_ctx, args) < 2
    lora = estimate("learn_style", lora_ctx, args.model_copy(update={"steps": 500}))
    assert lora > estimate("learn_style", lora_ctx, args.model_copy(update={"steps": 100}))
    assert lora > 60 * 10  # 500 steps of a 512 px UNet on a CPU: far over a turn's budget


def test_no_weights_is_a_refusal_with_the_reason(painter_ctx, store, me, chat, tmp_path,
                                                 monkeypatch):
    refs = attach(painter_ctx, tmp_path, rust_pictures(2))
    monkeypatch.setenv("MUSEFORGE_IMAGE_BACKEND", "diffusers")
    monkeypatch.setenv("MUSEFORGE_IMAGE_MODEL", str(tmp_path / "no-such-model"))
    bare = ToolContext(store, me, chat)  # the backend made from the settings
    with pytest.raises(ToolError, match="cannot learn a picture style: .*not on this machine"):
        run(bare, "learn_style", name="Rust", artworks=refs)
    assert store.list_styles(me) == []


def test_one_picture_training_per_person_at_a_time(painter_ctx, store, me, tmp_path):
    import threading

    from museforge.models.image.procedural import ProceduralPainter

    refs = attach(painter_ctx, tmp_path, rust_pictures())
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold(what, step, total):
        started.set()
        release.wait(30)

    first = ToolContext(store, me, painter_ctx.session, progress=hold,
                        services=Services(image=ProceduralPainter()))

    def train():
        try:
            run(first, "learn_style", name="first", artworks=refs)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    worker = threading.Thread(target=train)
    worker.start()
    try:
        assert started.wait(30)
        with pytest.raises(ToolError, match="already have a style training"):
            run(painter_ctx, "learn_style", name="second", artworks=refs)
    finally:
        release.set()
        worker.join(30)
    assert not errors
    assert [s.name for s in store.list_styles(me)] == ["first"]


def test_learning_a_name_again_learns_from_the_earlier_pictures_too(painter_ctx, tmp_path):
    ctx = painter_ctx
    refs = attach(ctx, tmp_path, rust_pictures())
    run(ctx, "learn_style", name="Rust", artworks=refs[:2])

    said = run(ctx, "learn_style", name="Rust", artworks=refs[2:]).message

    assert said.startswith("Learnt v2 of picture style 'Rust' from 3 pictures (2 of them the "
                           "ones v1 learnt from)")
    v2 = ctx.store.style(ctx.actor, "Rust")
    assert sorted(d["artwork"] for d in v2.recipe["data"]) == [1, 2, 3]
    assert v2.recipe["started_from"] == 1
