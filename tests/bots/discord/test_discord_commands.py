"""Slash commands: each defers at once, shows progress in its response, then the
result; each becomes the sentence a person would type."""

from __future__ import annotations

import io
import threading
import zipfile

import pytest

discord = pytest.importorskip("discord")

from discordsim import World, bot_edits, file_bytes, labels  # noqa: E402

from museforge.storage.models import Actor  # noqa: E402


def user_messages(studio, env, member, key):
    actor = Actor(studio.store.user("discord", str(member.id)), str(member.guild.id))
    session = studio.store.find_session(actor, key)
    return [m.text for m in studio.store.history(actor, session) if m.role == "user"]


def test_imagine_defers_then_edits_its_response_with_progress_and_the_result(simulate,
                                                                                studio):
    async def scenario(env):
        w = World(env)
        result = await w.alice.slash(w.general, "imagine", prompt="a fox", style="watercolor",
                                     aspect="16:9", seed=5, count=4)

        callbacks = [r.json for r in env.http_requests if r.path.endswith("/callback")]
        assert callbacks[0]["type"] == 5  # deferred: "museforge is thinking…"
        assert bot_edits(env, "step 1/4") and bot_edits(env, "step 4/4")
        response = result.response
        assert response.content.startswith("Painted 4 pictures: #1, #2, #3, #4")
        assert [a.filename for a in response.attachments] == [
            f"museforge-{n}-v1.png" for n in (1, 2, 3, 4)]
        assert all(file_bytes(env, a).startswith(b"\x89PNG") for a in response.attachments)

        # The conversation goes on in a thread opened on the response.
        [thread] = w.general.threads
        assert thread.name == "a fox"
        key = f"guild:{w.guild.id}:thread:{thread.id}"
        buttons = labels(response)
        assert [b for b in buttons] == ["U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4",
                                        "Reroll"]
        assert buttons["V3"] == f"mf:vs:3.1:{key}" and buttons["U1"] == f"mf:up:1.1:{key}"
        assert user_messages(studio, env, w.alice, "discord:" + key) == [
            "paint 4 pictures of a fox, watercolor, 16:9, seed 5"]

    simulate(scenario)


def test_a_busy_studio_says_where_you_are_in_the_queue(simulate, studio):
    async def scenario(env):
        w = World(env)
        gate = threading.Event()
        studio.queue.jobs.submit("someone-else", lambda job: gate.wait(10))  # the GPU is busy
        threading.Timer(0.6, gate.set).start()

        result = await w.alice.slash(w.general, "imagine", prompt="a lighthouse")

        edits = bot_edits(env)
        assert edits[0] == "⏳ The studio is busy: you are number 1 in the queue."
        assert "🎨 Working on it…" in edits
        assert result.response.content.startswith("Painted a picture: #1")
        # While it waited, the status line offered to cancel (only its requester may).
        statuses = [r.json for r in env.http_requests
                    if r.method == "PATCH" and "queue" in (r.json or {}).get("content", "")]
        [row] = statuses[0]["components"]
        assert row["components"][0]["custom_id"].startswith("mf:cancel:")

    simulate(scenario)


def test_history_versions_undo_edit_and_export_in_a_thread(simulate, studio):
    async def scenario(env):
        w = World(env)
        await w.alice.slash(w.general, "imagine", prompt="a red barn")
        [thread] = w.general.threads

        edited = await w.bob.slash(thread, "edit", instruction="make it snowy", artwork="1")
        assert "#1" in edited.response.content and "v2" in edited.response.content
        versions = await w.alice.slash(thread, "versions", artwork="#1")
        assert "v1" in versions.response.content and "v2" in versions.response.content
        undone = await w.alice.slash(thread, "undo")
        assert "now at v1" in undone.response.content
        history = await w.bob.slash(thread, "history")
        assert "#1" in history.response.content and "red barn" in history.response.content

        export = await w.alice.slash(thread, "export")
        assert export.ephemeral
        [archive] = export.response.attachments
        names = zipfile.ZipFile(io.BytesIO(file_bytes(env, archive))).namelist()
        assert "index.html" in names and sum(n.endswith(".png") for n in names) == 2

        key = f"discord:guild:{w.guild.id}:thread:{thread.id}"
        assert user_messages(studio, env, w.alice, key) == [
            "paint a red barn", "on #1, make it snowy", "show the versions of #1", "undo",
            "list my artworks"]

    simulate(scenario)


def test_my_settings_set_defaults_and_private_replies(simulate, studio):
    async def scenario(env):
        w = World(env)
        shown = await w.alice.slash(w.general, "settings me", style="oil", private=True)
        assert shown.ephemeral and "style: **oil**" in shown.response.content

        result = await w.alice.slash(w.general, "imagine", prompt="a boat at sea")
        assert result.ephemeral  # only alice sees it, and no thread is opened for it
        assert w.general.threads == []
        [cid] = [c for c in labels(result.response).values() if c.startswith("mf:up:")]
        key = "discord:" + cid.split(":", 3)[3]
        assert key.startswith(f"discord:dm:{w.alice.id}:")
        assert user_messages(studio, env, w.alice, key) == ["paint a boat at sea, oil"]

        again = await w.alice.slash(w.general, "settings me")
        assert "private replies: **on**" in again.response.content

        # A model preset is asked for on this member's requests (its weights are not on
        # this machine, so the assistant says it painted with the procedural painter).
        await w.bob.slash(w.general, "settings me", preset="sdxl-turbo")
        painted = await w.bob.slash(w.general, "imagine", prompt="a tram")
        assert "'sdxl-turbo' is not on this machine" in painted.response.content

    simulate(scenario)


def test_server_settings_need_manage_server(simulate, studio):
    async def scenario(env):
        w = World(env)
        refused = await w.bob.slash(w.general, "settings server", max_jobs=1)
        assert refused.ephemeral
        assert "Only members with the Manage Guild permission" in refused.response.content
        assert [type(e).__name__ for e in env.errors] == ["MissingPermissions"]
        assert env.bot.prefs.guild(w.guild.id).max_jobs == 3

        admins = w.guild.create_role("admins", permissions=discord.Permissions(
            manage_guild=True))
        carol = w.guild.add_member(env.create_user("carol"), roles=[admins])
        done = await carol.slash(w.general, "settings server", max_jobs=1, model="sdxl-turbo")
        assert "requests in progress per member: **1**" in done.response.content
        assert env.bot.prefs.guild(w.guild.id).model == "sdxl-turbo"
        assert env.bot.prefs.preset_for(w.bob.id, w.guild.id) == "sdxl-turbo"

    simulate(scenario)
