"""Buttons under results: a press is a turn in the same session by whoever pressed it;
the buttons keep working after a restart; a button never reaches another guild's work."""

from __future__ import annotations

import pytest

pytest.importorskip("discord")

from discordsim import World, file_bytes, forge_button, labels, new_bot  # noqa: E402

from museforge.storage.models import Actor  # noqa: E402


def said(studio, member, guild_id, key):
    actor = Actor(studio.store.user("discord", str(member.id)), str(guild_id))
    session = studio.store.find_session(actor, key)
    return [(m.user_id, m.text) for m in studio.store.history(actor, session)
            if m.role == "user"]


def test_a_press_is_a_turn_by_the_presser_in_the_same_session(simulate, studio):
    async def scenario(env):
        w = World(env)
        made = await w.alice.slash(w.general, "imagine", prompt="a castle", count=2)
        [thread] = w.general.threads

        pressed = await w.bob.click(made.response.message, label="V2")

        assert pressed.response.content.startswith("Made 1 subtle variation of #2: #3")
        [picture] = pressed.response.attachments
        assert picture.filename == "museforge-3-v1.png"
        assert file_bytes(env, picture).startswith(b"\x89PNG")
        key = f"guild:{w.guild.id}:thread:{thread.id}"
        assert set(labels(pressed.response).values()) == {
            f"mf:{a}:3.1:{key}" for a in ("up", "vs", "vx", "rr", "un")}
        bob = studio.store.user("discord", str(w.bob.id))
        assert said(studio, w.bob, w.guild.id, "discord:" + key)[-1] == (
            bob.id, "a subtle variation of #2 v1")

        # Reroll asks again for what was asked first (a new seed), as the presser.
        again = await w.alice.click(made.response.message, label="Reroll")
        assert again.response.content.startswith("Painted 2 pictures: #4, #5")
        assert said(studio, w.alice, w.guild.id, "discord:" + key)[-1][1] == (
            "paint 2 pictures of a castle")

    simulate(scenario)


def test_another_guilds_number_one_is_not_found(simulate, studio):
    async def scenario(env):
        here = World(env, "Guild A")
        made = await here.alice.slash(here.general, "imagine", prompt="a secret garden")
        upscale = labels(made.response)["Upscale"]

        there = World(env, "Guild B", tag="-b")
        # Someone in guild B presses a button that names guild A's conversation.
        stolen = forge_button(env, there.general, upscale)
        pressed = await there.alice.click(stolen, custom_id=upscale)
        assert pressed.response.content.startswith("I can't find that here")
        assert pressed.response.attachments == []
        # And guild B's own #1 is its own (there is none yet).
        asked = await there.alice.slash(there.general, "versions", artwork="#1")
        assert "no artwork #1" in asked.response.content
        assert "secret garden" not in asked.response.content
        assert asked.response.attachments == []

    simulate(scenario)


def test_buttons_keep_working_after_a_restart(simulate, studio):
    async def scenario(env):
        w = World(env)
        made = await w.alice.slash(w.general, "imagine", prompt="a windmill")
        old_bot = env.bot

        await env.restart_bot(new_bot(studio))  # a new process: same store, same Discord
        assert env.bot is not old_bot

        pressed = await w.bob.click(made.response.message, label="Upscale")
        assert "now v2" in pressed.response.content
        assert [a.filename for a in pressed.response.attachments] == ["museforge-1-v2.png"]
        undone = await w.alice.click(pressed.response.message, label="Undo")
        assert "now at v1" in undone.response.content

    simulate(scenario)


def test_a_finished_requests_cancel_button_says_so(simulate, studio):
    async def scenario(env):
        w = World(env)
        stale = forge_button(env, w.general, "mf:cancel:999999")
        pressed = await w.alice.click(stale, custom_id="mf:cancel:999999")
        assert pressed.ephemeral
        assert pressed.response.content == "That request has already finished."

    simulate(scenario)
