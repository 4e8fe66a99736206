"""The one action table (museforge.bots.actions) and the two front-ends that show it:
for the same artwork the web page's buttons and Discord's send the same requests under
the same labels, each read through that front-end's own code (the web's JSON for a
card; Discord's view, its custom_id matched as discord.py matches it, and the sentence
the bot's press sends)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

import pytest

pytest.importorskip("discord")

from museforge.bots import actions  # noqa: E402
from museforge.bots.discord import translate  # noqa: E402
from museforge.bots.discord.views import ACTION_TEMPLATE, result_view  # noqa: E402
from museforge.bots.web.views import artifact_out  # noqa: E402
from museforge.tools.base import Artifact  # noqa: E402

KEY = "guild:10:thread:20"
RECIPES: dict[str, dict[str, Any]] = {
    "image": {"tool": "generate_image", "args": {"prompt": "a  fox", "style": "oil",
                                                  "aspect": "1:1", "count": 1}},
    "music": {"tool": "compose_music", "args": {"prompt": "a jig"}},
    "audio": {"tool": "import_audio", "args": {}},
}

# Codes already inside custom_ids of messages Discord keeps: a restart must still read
# them, so they are written here once more, on purpose, and never changed.
RELEASED_CODES = {
    "up": "upscale", "vs": "vary_subtle", "vx": "vary_strong", "rr": "reroll", "un": "undo",
    "mv": "vary_music", "mf": "faster", "ms": "slower", "tu": "transpose_up",
    "td": "transpose_down", "mc": "continue", "xa": "export_abc", "xm": "export_musicxml",
    "fi": "fade_in", "fo": "fade_out", "ld": "louder", "qt": "quieter", "lp": "loop_30",
}


def artifact(kind: str, artwork: int = 3, version: int = 2, recipe: dict[str, Any] | None = None
             ) -> Artifact:
    return Artifact(artwork, version, kind, "a title", {"png": Path("/nowhere.png")},
                    recipe if recipe is not None else RECIPES[kind])


def web_offers(a: Artifact) -> list[tuple[str, str]]:
    out = artifact_out(7, a)
    assert all((b.artwork, b.version) == (a.artwork, a.version) for b in out.actions)
    return [(b.label, b.message) for b in out.actions]


def discord_offers(kind: str, arts: list[Artifact]) -> list[tuple[str, str]]:
    view = result_view(kind, arts, KEY)
    assert view is not None
    recipes = {(a.artwork, a.version): a.recipe for a in arts}
    offered = []
    sent = [b for row in view.to_components() for b in row["components"]]  # the payload
    for button in sent:
        custom_id = button["custom_id"]
        assert len(custom_id) <= 100
        m = re.fullmatch(ACTION_TEMPLATE, custom_id)
        assert m is not None and m["key"] == KEY, custom_id
        art, ver = int(m["art"]), int(m["ver"])
        # runner.press reads the shown version's recipe for a reroll only
        recipe = recipes[(art, ver)] if m["action"] == "rr" else None
        offered.append((button["label"], translate.button(m["action"], art, ver, recipe)))
    return offered


@pytest.mark.parametrize("kind", sorted(actions.BUTTONS))
def test_web_and_discord_offer_the_same_requests_for_one_result(kind):
    a = artifact(kind)

    web = web_offers(a)

    assert web == discord_offers(kind, [a])
    assert [label for label, _ in web] == [actions.BY_NAME[n].label
                                           for n in actions.BUTTONS[kind]]
    assert len(set(web)) == len(web) > 0


def test_a_reroll_asks_again_for_the_picture_on_both():
    [reroll] = [m for label, m in web_offers(artifact("image")) if label == "Reroll"]
    assert reroll == "paint a fox, oil, 1:1"
    assert ("Reroll", reroll) in discord_offers("image", [artifact("image")])
    edited = artifact("image", recipe={"tool": "vary_image", "args": {}})
    assert ("Reroll", "reroll #3 v2") in web_offers(edited)
    assert ("Reroll", "reroll #3 v2") in discord_offers("image", [edited])


def test_each_request_in_a_discord_batch_is_on_the_web_cards_of_that_batch():
    """Discord puts a batch in one message (U1..U4, V1..V4, Reroll); the web shows each
    picture as its own card, so every request Discord offers is on one of them."""
    recipe = {"tool": "generate_image", "args": {"prompt": "a fox", "count": 4}}
    batch = [artifact("image", n, 1, recipe) for n in (1, 2, 3, 4)]

    discord = discord_offers("batch", batch)
    on_cards = {m for a in batch for _, m in web_offers(a)}

    labels = [label for label, _ in discord]
    assert labels == ["U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4", "Reroll"]
    assert {m for _, m in discord} <= on_cards
    assert ("V3", "a subtle variation of #3 v1") in discord
    assert ("Reroll", "paint 4 pictures of a fox") in discord


def test_the_table_names_each_action_once_and_keeps_the_released_codes():
    assert sorted(get_args(actions.ActionName)) == sorted(actions.BY_NAME)
    assert len(actions.BY_NAME) == len(actions.ACTIONS)
    codes = [a.code for a in actions.ACTIONS if a.code]
    assert len(set(codes)) == len(codes)
    assert RELEASED_CODES.items() <= {c: a.name for c, a in actions.BY_CODE.items()}.items()
    shown = {n for names in actions.BUTTONS.values() for n in names}
    shown |= {n for _, n in actions.BATCH_EACH} | set(actions.BATCH_ONCE)
    assert all(actions.BY_NAME[n].code for n in shown)  # Discord can show each of them


def test_a_reroll_keeps_the_persons_own_styles():
    recipe = {"tool": "generate_image", "args": {"prompt": "a fox in the snow at dusk",
                                                 "learnt_style": ["Rust", "Pip"],
                                                 "style": "oil", "count": 2}}
    assert actions.request("reroll", 3, 1, recipe) == (
        "paint 2 pictures of a fox in the snow at dusk, in my Rust and Pip styles, oil")
    assert actions.paint("a harbour", learnt=["Rust"]) == "paint a harbour, in my Rust style"


def test_imagine_and_compose_name_a_learnt_style_as_the_persons_own():
    assert translate.imagine("a harbour", "watercolor") == "paint a harbour, watercolor"
    assert translate.imagine("a harbour", "Rust", "16:9", 5) == (
        "paint a harbour, in my Rust style, 16:9, seed 5")
    assert translate.compose("a jig", "D minor", style="Aird") == (
        "compose a jig, in D minor, in my Aird style")
