"""Learning a style through ``museforge ask --attach`` on the embedded defaults (the
offline planner, the built-in painter, the committed melody model), then using it, and
checking what a person would: the style is listed, the new artwork's recipe names it,
it differs from the same request without the style, and another person cannot see or
use it. The real command in a subprocess, as scripts run it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cliutil import ask, check_contract
from PIL import Image

from museforge.storage.models import Actor, Scope

STYLE_IMAGES = ((170, 80, 30), (120, 50, 20), (200, 120, 40))  # rust, umber, ochre


def rust_pictures(folder: Path) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for i, base in enumerate(STYLE_IMAGES):
        px = (np.asarray(base, np.float64) + rng.normal(0, 20, (64, 64, 3))).clip(0, 255)
        path = folder / f"rust{i + 1}.png"
        Image.fromarray(px.astype(np.uint8)).save(path)
        paths.append(path)
    return paths


def warmth(path: str) -> float:
    with Image.open(path) as im:
        px = np.asarray(im.convert("RGB"), np.float64)
    return float((px[..., 0] - px[..., 2]).mean())


def attached(paths: list[Path]) -> list[str]:
    return [flag for p in paths for flag in ("--attach", str(p))]


def someone_else_asks(message: str) -> str:
    """A turn of another person (a web user) on the same data dir, through the studio
    every front-end uses; the reply."""
    from museforge.bots.service import Studio
    from museforge.config import load_settings
    from museforge.models.image.procedural import ProceduralPainter
    from museforge.tools.base import Services

    studio = Studio.open(load_settings(), services=Services(image=ProceduralPainter()))
    try:
        mallory = Actor(studio.store.user("web", "mallory", "Mallory"))
        session = studio.store.session(mallory, Scope.web("mallory", "hers"))
        return studio.assistant.turn(mallory, session, message).reply
    finally:
        studio.close()


def test_a_picture_style_learnt_from_attachments_paints_a_harbour(tmp_path):
    learnt = ask("learn my style from these pictures and call it Rust",
                 *attached(rust_pictures(tmp_path)))

    check_contract(learnt)
    assert learnt["errors"] == []
    assert [a["artwork"] for a in learnt["artifacts"]] == ["#1", "#2", "#3"]  # the uploads
    [call] = learnt["tool_calls"]
    assert (call["name"], call["ok"]) == ("learn_style", True), learnt["reply"]
    assert call["args"] == {"name": "Rust", "artworks": ["#1", "#2", "#3"], "kind": "image"}
    assert "Learnt picture style 'Rust' from 3 pictures" in learnt["reply"]
    assert "palette" in learnt["reply"]  # the painter says what it could learn

    listed = ask("list my styles")
    assert "'Rust' (image, v1 from 3 pictures)" in listed["reply"]

    styled = ask("paint a harbour in my Rust style, seed 5")
    plain = ask("paint a harbour, seed 5")

    for out in (styled, plain):
        check_contract(out)
        assert [c["ok"] for c in out["tool_calls"]] == [True], out["reply"]
    [mine], [theirs] = styled["artifacts"], plain["artifacts"]
    assert "Rust" in styled["reply"]
    assert [s["name"] for s in mine["recipe"]["learnt_styles"]] == ["Rust"]
    assert mine["recipe"]["learnt_styles"][0]["version"] == 1
    assert not theirs["recipe"].get("learnt_styles")
    assert mine["recipe"]["seed"] == theirs["recipe"]["seed"] == 5
    assert Path(mine["files"]["png"]).read_bytes() != Path(theirs["files"]["png"]).read_bytes()
    assert warmth(mine["files"]["png"]) > warmth(theirs["files"]["png"]) + 10  # rust-warm

    assert someone_else_asks("list my styles").startswith("You have no learnt styles")
    refused = someone_else_asks("paint a harbour in my Rust style")
    assert "no picture style called 'Rust'" in refused, refused


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_a_melody_style_learnt_from_attached_midi_composes_a_jig(tmp_path):
    """Slow: 300 fine-tuning steps of the committed model (a minute on a free core,
    several on a busy one)."""
    from museforge.models.music.midi import to_midi_bytes
    from tests.models.music.test_finetune import aird_jigs

    paths = []
    for i, piece in enumerate(aird_jigs(5)):
        paths.append(tmp_path / f"jig{i + 1}.mid")
        paths[-1].write_bytes(to_midi_bytes(piece))

    learnt = ask("learn the feel of these reels and call it Aird", *attached(paths),
                 timeout=1200)

    assert learnt["errors"] == []
    [call] = learnt["tool_calls"]
    assert (call["name"], call["ok"]) == ("learn_style", True), learnt["reply"]
    assert call["args"]["kind"] == "music" and call["args"]["name"] == "Aird"
    assert "Learnt music style 'Aird' from 5 pieces" in learnt["reply"]
    assert "nats per phrase" in learnt["reply"]
    assert "'Aird' (music, v1 from 5 pieces)" in ask("list my styles")["reply"]

    styled = ask("compose a jig in my Aird style, seed 3")
    plain = ask("compose a jig, seed 3")

    [mine], [theirs] = styled["artifacts"], plain["artifacts"]
    assert "Aird" in styled["reply"]
    assert mine["recipe"]["learnt_style"]["name"] == "Aird"
    assert "learnt_style" not in theirs["recipe"]
    assert Path(mine["files"]["mid"]).read_bytes() != Path(theirs["files"]["mid"]).read_bytes()
    refused = someone_else_asks("compose a jig in my Aird style")
    assert "no music style called 'Aird'" in refused, refused
