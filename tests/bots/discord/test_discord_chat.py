"""Talking to the bot: a mention opens a thread, anyone in the thread goes on with it,
a DM is private, an attached picture is the starting artwork, nobody gets pinged."""

from __future__ import annotations

import pytest

pytest.importorskip("discord")

from discordsim import World, bot_edits, custom_ids, file_bytes, png  # noqa: E402

from museforge.storage.errors import NotFound  # noqa: E402
from museforge.storage.models import Actor  # noqa: E402


def test_a_mention_opens_a_thread_and_the_reply_there_carries_a_png(simulate, studio):
    async def scenario(env):
        w = World(env)
        await w.alice.send(w.general, f"{w.me} paint a fox in the snow")

        [thread] = w.general.threads
        assert thread.name == "paint a fox in the snow"
        reply = thread.last_message
        assert reply.author.id == env.bot.user.id
        assert "#1" in reply.content
        [picture] = reply.attachments
        assert picture.filename == "museforge-1-v1.png"
        assert file_bytes(env, picture).startswith(b"\x89PNG\r\n\x1a\n")
        key = f"guild:{w.guild.id}:thread:{thread.id}"
        assert custom_ids(reply) == [f"mf:{a}:1.1:{key}" for a in ("up", "vs", "vx", "rr", "un")]
        # The status line was edited while the picture was painted, then became the result.
        assert any("step 1/1" in text for text in bot_edits(env))
        assert bot_edits(env)[-1] == reply.content
        # Nothing was said in the channel itself but the thread's starter.
        assert all(m.author.id != env.bot.user.id or m.type.name == "thread_created"
                   for m in w.general.history())

    simulate(scenario)


def test_anyone_who_can_post_in_the_thread_goes_on_with_it(simulate, studio):
    async def scenario(env):
        w = World(env)
        await w.alice.send(w.general, f"{w.me} paint a fox in the snow")
        [thread] = w.general.threads
        await w.bob.send(thread, "make it warmer")  # no mention needed in the bot's thread

        reply = thread.last_message
        assert "#1" in reply.content and "v2" in reply.content
        assert [a.filename for a in reply.attachments] == ["museforge-1-v2.png"]

        # Outside the bot's threads, a message without a mention is not for the bot.
        before = len(w.general.history())
        await w.bob.send(w.general, "paint a cat")
        assert len(w.general.history()) == before + 1

        bob = studio.store.user("discord", str(w.bob.id))
        session = studio.store.find_session(Actor(bob, str(w.guild.id)),
                                            f"discord:guild:{w.guild.id}:thread:{thread.id}")
        said = [(m.user_id, m.text) for m in studio.store.history(Actor(bob, str(w.guild.id)),
                                                                   session) if m.role == "user"]
        alice = studio.store.user("discord", str(w.alice.id))
        assert said == [(alice.id, "paint a fox in the snow"), (bob.id, "make it warmer")]

    simulate(scenario)


def test_a_dm_is_a_private_conversation(simulate, studio):
    async def scenario(env):
        w = World(env)
        await w.alice.send_dm("paint a cat on a red sofa")

        reply = w.alice.user.dm_channel.last_message
        assert reply.author.id == env.bot.user.id
        assert [a.filename for a in reply.attachments] == ["museforge-1-v1.png"]
        [cid] = [c for c in custom_ids(reply) if c.startswith("mf:up:")]
        assert cid.startswith(f"mf:up:1.1:dm:{w.alice.id}:")

        key = "discord:" + cid.split(":", 3)[3]
        alice = studio.store.user("discord", str(w.alice.id))
        bob = studio.store.user("discord", str(w.bob.id))
        assert studio.store.find_session(Actor(alice), key).kind == "private"
        with pytest.raises(NotFound):
            studio.store.find_session(Actor(bob, str(w.guild.id)), key)

    simulate(scenario)


def test_an_attached_picture_becomes_the_starting_artwork(simulate, studio):
    async def scenario(env):
        w = World(env)
        await w.alice.send(w.general, f"{w.me} make it warmer",
                           attachments=[("holiday.png", png())])

        thread = w.general.threads[0]
        upload, warmer = [m for m in thread.history() if m.author.id == env.bot.user.id]
        assert "Added holiday as #1" in upload.content
        assert [a.filename for a in upload.attachments] == ["museforge-1-v1.png"]
        assert [a.filename for a in warmer.attachments] == ["museforge-1-v2.png"]

        # Too large for this server's limit: refused with a sentence, the turn goes on.
        env.bot.prefs.set_guild(w.guild.id, max_upload_mb=1)
        big = png((1200, 1200)) + b"\0" * (1024 * 1024)
        await w.alice.send(w.general.threads[0], "paint a lighthouse",
                           attachments=[("big.png", big)])
        reply = w.general.threads[0].last_message
        assert "big.png" in reply.content and "limit here is 1 MB" in reply.content
        assert "#2" in reply.content

    simulate(scenario)


def test_everyone_in_a_prompt_pings_no_one(simulate, studio):
    async def scenario(env):
        w = World(env)
        loud = w.guild.create_role("loud", permissions=__import__("discord").Permissions(
            mention_everyone=True))
        env.backend.add_member_role(w.guild.id, env.bot.user.id, loud.id)  # it could ping

        await w.alice.send(w.general, f"{w.me} paint @everyone look at this @here")
        reply = w.general.threads[0].last_message
        assert "@everyone" in reply.content  # the text is shown as written...
        assert not reply.mention_everyone  # ...and pings no one

        result = await w.alice.slash(w.general, "imagine", prompt="@everyone a fox")
        assert not result.response.message.mention_everyone
        sent = [r.json for r in env.http_requests
                if r.method in ("POST", "PATCH") and "/messages" in r.path
                and isinstance(r.json, dict) and r.json.get("content")]
        assert sent and all(body.get("allowed_mentions") == {"parse": []} for body in sent)

    simulate(scenario)


def test_music_comes_as_audio_a_piano_roll_and_midi_with_music_buttons(simulate, studio):
    async def scenario(env):
        w = World(env)
        await w.alice.send(w.general, f"{w.me} compose a calm piano piece")

        [thread] = w.general.threads
        reply = thread.last_message
        assert "#1" in reply.content
        files = {a.filename: file_bytes(env, a) for a in reply.attachments}
        assert list(files) == ["museforge-1-v1.ogg", "museforge-1-v1-roll.png",
                               "museforge-1-v1.mid"]
        assert files["museforge-1-v1.ogg"].startswith(b"OggS")
        assert files["museforge-1-v1-roll.png"].startswith(b"\x89PNG")
        assert files["museforge-1-v1.mid"].startswith(b"MThd")
        key = f"guild:{w.guild.id}:thread:{thread.id}"
        assert custom_ids(reply) == [f"mf:{a}:1.1:{key}" for a in (
            "mv", "mf", "ms", "tu", "td", "mc", "un", "xa", "xm")]

        faster = await w.bob.click(reply, label="Faster")
        assert "#1" in faster.response.content and "v2" in faster.response.content
        assert "museforge-1-v2.mid" in [a.filename for a in faster.response.attachments]

    simulate(scenario)
