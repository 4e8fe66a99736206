"""Learning a style in the web chat, over real HTTP to the real server: Alice uploads her
pictures (and MIDI files), asks to learn a style from them, and paints (composes) with
it; the studio runs the embedded defaults (the offline planner and the built-in painter;
for melodies the tiny random-weight melody model, at the fewest training steps a music
style takes, so the test takes seconds; the CLI's slow test fine-tunes the committed
model). What she checks: the style is listed, the new artwork's recipe names it, the
picture differs from the same request without it; Bob cannot see it or use it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image
from test_web_users import Person, people, serve  # noqa: F401  (fixtures)

from museforge.bots.service import Studio
from museforge.config import load_settings
from museforge.models.image.procedural import ProceduralPainter
from museforge.tools.base import Services


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
def studio(monkeypatch: pytest.MonkeyPatch) -> Iterator[Studio]:
    from museforge.tools import style_tools

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


def upload(person: Person, sid: int, name: str, data: bytes) -> str:
    r = person.post(f"/api/sessions/{sid}/uploads", params={"filename": name}, content=data)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def recipe(person: Person, sid: int, ref: str, version: int = 1) -> dict[str, Any]:
    versions = person.get(f"/api/sessions/{sid}/artworks/{ref.lstrip('#')}/versions").json()
    return dict(next(v for v in versions if v["number"] == version)["recipe"])


def called(job: dict[str, Any]) -> list[tuple[str, bool]]:
    return [(c["name"], c["ok"]) for c in job["result"]["tool_calls"]]


def warmth(png: bytes) -> float:
    px = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), np.float64)
    return float((px[..., 0] - px[..., 2]).mean())


def test_a_picture_style_from_uploads_is_hers_alone(people):  # noqa: F811
    alice, bob = people["alice"], people["bob"]
    sid = alice.session("my paintings")
    ids = [upload(alice, sid, f"rust{i + 1}.png", rust_png(i)) for i in range(3)]

    learnt = alice.turn(sid, "learn my style from these pictures and call it Rust", uploads=ids)

    result = learnt["result"]
    assert result["errors"] == [] and called(learnt) == [("learn_style", True)], result
    assert [a["ref"] for a in result["artifacts"]] == ["#1", "#2", "#3"]
    assert "Learnt picture style 'Rust' from 3 pictures" in result["reply"]
    listed = alice.turn(sid, "list my styles")["result"]["reply"]
    assert "'Rust' (image, v1 from 3 pictures)" in listed

    styled = alice.turn(sid, "paint a harbour in my Rust style, seed 5")
    plain = alice.turn(sid, "paint a harbour, seed 5")

    assert called(styled) == called(plain) == [("generate_image", True)]
    [mine], [theirs] = styled["result"]["artifacts"], plain["result"]["artifacts"]
    assert "in your style 'Rust'" in styled["result"]["reply"]
    made = recipe(alice, sid, mine["ref"])
    assert [(s["name"], s["version"]) for s in made["learnt_styles"]] == [("Rust", 1)]
    assert not recipe(alice, sid, theirs["ref"]).get("learnt_styles")
    mine_png = alice.get(mine["files"]["png"]).content
    theirs_png = alice.get(theirs["files"]["png"]).content
    assert mine_png.startswith(b"\x89PNG") and mine_png != theirs_png
    assert warmth(mine_png) > warmth(theirs_png) + 10

    # Bob, on the same server: no such style, in his list or in a picture.
    b_sid = bob.session("my paintings")
    assert bob.turn(b_sid, "list my styles")["result"]["reply"].startswith(
        "You have no learnt styles")
    refused = bob.turn(b_sid, "paint a harbour in my Rust style")
    assert called(refused) == [("generate_image", False)]
    assert "no picture style called 'Rust'" in refused["result"]["reply"]
    assert bob.get(f"/api/sessions/{b_sid}/artworks").json() == []


def test_a_melody_style_from_uploaded_midi_is_hers_alone(people):  # noqa: F811
    from museforge.models.music.midi import to_midi_bytes
    from tests.models.music.test_finetune import aird_jigs

    alice, bob = people["alice"], people["bob"]
    sid = alice.session("my tunes")
    ids = [upload(alice, sid, f"jig{i + 1}.mid", to_midi_bytes(p))
           for i, p in enumerate(aird_jigs(5))]

    learnt = alice.turn(sid, "learn the feel of these reels and call it Aird", uploads=ids)

    result = learnt["result"]
    assert result["errors"] == [] and called(learnt) == [("learn_style", True)], result
    assert "Learnt music style 'Aird' from 5 pieces" in result["reply"]
    assert "nats per phrase" in result["reply"]
    assert "'Aird' (music, v1 from 5 pieces)" in alice.turn(
        sid, "list my styles")["result"]["reply"]

    styled = alice.turn(sid, "compose a jig in my Aird style, seed 3")
    plain = alice.turn(sid, "compose a jig, seed 3")

    assert called(styled) == called(plain) == [("compose_music", True)]
    [mine], [theirs] = styled["result"]["artifacts"], plain["result"]["artifacts"]
    assert "in your style 'Aird'" in styled["result"]["reply"]
    assert recipe(alice, sid, mine["ref"])["learnt_style"]["name"] == "Aird"
    assert "learnt_style" not in recipe(alice, sid, theirs["ref"])
    assert alice.get(mine["files"]["mid"]).content != alice.get(theirs["files"]["mid"]).content

    b_sid = bob.session("my tunes")
    refused = bob.turn(b_sid, "compose a jig in my Aird style")
    assert called(refused) == [("compose_music", False)]
    assert "no music style called 'Aird'" in refused["result"]["reply"]
