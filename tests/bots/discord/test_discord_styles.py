"""Learning a style in Discord from the pictures (or MIDI files) attached to a message,
then painting (composing) with it, in words and through /imagine and /compose, whose
style option offers the person's own styles as they type. On the embedded defaults: the
offline planner and the built-in painter; for melodies the tiny random-weight melody
model at the fewest training steps a music style takes (the CLI's slow test fine-tunes
the committed model). What a person checks: the style is listed, the new artwork's
recipe names it, the picture differs from the same request without it, and someone else
in the same thread can neither see it nor paint with it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("discord")

import numpy as np  # noqa: E402
from discordsim import World, file_bytes  # noqa: E402
from PIL import Image  # noqa: E402

from museforge.storage.models import Actor  # noqa: E402


def tiny_melody_model() -> Any:
    import torch

    from museforge.models.music.model import MelodyVAEModel
    from museforge.models.music.vae import MelodyVAE, VAEConfig

    torch.manual_seed(0)
    config = VAEConfig(embed=8, meter_embed=4, encoder=16, decoder=16, latent=8)
    net = MelodyVAE(config)
    net.eval()
    return MelodyVAEModel(net, {"model": config.to_dict()}, "tiny-random")


@pytest.fixture
def studio(museforge_home, monkeypatch) -> Iterator[Any]:
    from museforge.bots.service import Studio
    from museforge.config import load_settings
    from museforge.models.image.procedural import ProceduralPainter
    from museforge.tools import style_tools
    from museforge.tools.base import Services

    monkeypatch.setattr(style_tools, "DEFAULT_STEPS", style_tools.MIN_MUSIC_STEPS)
    st = Studio.open(load_settings(), services=Services(image=ProceduralPainter(),
                                                        melody=tiny_melody_model()))
    yield st
    st.close()


def rust_png(i: int) -> bytes:
    base = ((170, 80, 30), (120, 50, 20), (200, 120, 40))[i]
    rng = np.random.default_rng(i)
    px = (np.asarray(base, np.float64) + rng.normal(0, 20, (64, 64, 3))).clip(0, 255)
    buf = io.BytesIO()
    Image.fromarray(px.astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def warmth(png: bytes) -> float:
    px = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), np.float64)
    return float((px[..., 0] - px[..., 2]).mean())


def bot_replies(env: Any, channel: Any) -> list[Any]:
    return [m for m in channel.history() if m.author.id == env.bot.user.id]


def recipe(studio: Any, member: Any, key: str, number: int) -> dict[str, Any]:
    actor = Actor(studio.store.user("discord", str(member.id)), str(member.guild.id))
    session = studio.store.find_session(actor, key)
    return dict(studio.store.versions(actor, session, number)[0].recipe)


def test_a_picture_style_from_attachments_is_the_members_own(simulate, studio):
    async def scenario(env):
        w = World(env)
        await w.alice.send(w.general, f"{w.me} learn my style from these pictures and call "
                           "it Rust", attachments=[(f"rust{i + 1}.png", rust_png(i))
                                                   for i in range(3)])

        [thread] = w.general.threads
        key = f"discord:guild:{w.guild.id}:thread:{thread.id}"
        said = "\n".join(m.content for m in bot_replies(env, thread))
        assert "Added rust1 as #1" in said and "Added rust3 as #3" in said
        assert "Learnt picture style 'Rust' from 3 pictures" in said
        await w.alice.send(thread, "list my styles")
        assert "'Rust' (image, v1 from 3 pictures)" in thread.last_message.content

        await w.alice.send(thread, "paint a harbour in my Rust style, seed 5")
        styled = thread.last_message
        await w.alice.send(thread, "paint a harbour, seed 5")
        plain = thread.last_message

        assert "#4" in styled.content and "in your style 'Rust'" in styled.content
        assert "#5" in plain.content and "Rust" not in plain.content
        assert [(s["name"], s["version"]) for s in
                recipe(studio, w.alice, key, 4)["learnt_styles"]] == [("Rust", 1)]
        assert not recipe(studio, w.alice, key, 5).get("learnt_styles")
        [mine], [theirs] = styled.attachments, plain.attachments
        mine_png, theirs_png = file_bytes(env, mine), file_bytes(env, theirs)
        assert mine_png != theirs_png and warmth(mine_png) > warmth(theirs_png) + 10

        # Bob posts in the same thread: the style is Alice's, not the thread's.
        await w.bob.send(thread, "list my styles")
        assert thread.last_message.content.startswith("You have no learnt styles")
        await w.bob.send(thread, "paint a harbour in my Rust style")
        assert "no picture style called 'Rust'" in thread.last_message.content
        assert not thread.last_message.attachments

    simulate(scenario)


def test_imagine_offers_my_styles_and_paints_with_the_one_chosen(simulate, studio):
    async def scenario(env):
        w = World(env)
        await w.alice.send(w.general, f"{w.me} learn my style from these pictures and call "
                           "it Rust", attachments=[(f"rust{i + 1}.png", rust_png(i))
                                                   for i in range(3)])
        [learnt_in] = w.general.threads
        said = "\n".join(m.content for m in bot_replies(env, learnt_in))
        assert "Learnt picture style 'Rust'" in said

        offered = await w.alice.autocomplete(w.general, "imagine", "style", "",
                                             prompt="a harbour")
        assert offered[0] == {"name": "Rust (your style)", "value": "Rust"}
        assert {"name": "watercolor", "value": "watercolor"} in offered
        assert await w.alice.autocomplete(w.general, "imagine", "style", "ru") == [
            {"name": "Rust (your style)", "value": "Rust"}]
        theirs = await w.bob.autocomplete(w.general, "imagine", "style", "")
        assert all("your style" not in c["name"] for c in theirs) and theirs

        result = await w.alice.slash(w.general, "imagine", prompt="a fox in the snow at dusk",
                                     style="Rust", aspect="16:9", seed=5)
        assert "in your style 'Rust'" in result.response.content
        [thread] = [t for t in w.general.threads if t.id != learnt_in.id]  # another session
        key = f"discord:guild:{w.guild.id}:thread:{thread.id}"
        made = recipe(studio, w.alice, key, 1)
        assert made["args"]["prompt"] == "a fox in the snow at dusk"
        assert [s["name"] for s in made["learnt_styles"]] == ["Rust"]
        assert made["args"]["aspect"] == "16:9" and made["seed"] == 5

        # A name Bob never taught is said back to him, not painted without.
        refused = await w.bob.slash(w.general, "imagine", prompt="a tram", style="Rust")
        assert "no picture style called 'Rust'" in refused.response.content

    simulate(scenario)


def test_a_melody_style_from_attached_midi_composes_with_compose(simulate, studio):
    from museforge.models.music.midi import to_midi_bytes
    from tests.models.music.test_finetune import aird_jigs

    jigs = [(f"jig{i + 1}.mid", to_midi_bytes(p)) for i, p in enumerate(aird_jigs(5))]

    async def scenario(env):
        w = World(env)
        await w.alice.send(w.general, f"{w.me} learn the feel of these reels and call it "
                           "Aird", attachments=jigs)
        [thread] = w.general.threads
        said = "\n".join(m.content for m in bot_replies(env, thread))
        assert "Learnt music style 'Aird' from 5 pieces" in said, said
        assert "nats per phrase" in said

        assert await w.alice.autocomplete(w.general, "compose", "style", "") == [
            {"name": "Aird (your style)", "value": "Aird"}]
        assert await w.bob.autocomplete(w.general, "compose", "style", "") == []
        styled = await w.alice.slash(w.general, "compose", prompt="a jig", style="Aird")
        assert "in your style 'Aird'" in styled.response.content
        second = [t for t in w.general.threads if t.id != thread.id][0]
        key = f"discord:guild:{w.guild.id}:thread:{second.id}"
        assert recipe(studio, w.alice, key, 1)["learnt_style"]["name"] == "Aird"

        refused = await w.bob.slash(w.general, "compose", prompt="a jig", style="Aird")
        assert "no music style called 'Aird'" in refused.response.content

    simulate(scenario)
