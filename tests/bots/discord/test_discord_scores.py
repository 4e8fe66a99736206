"""A person's own score in Discord: an attached ABC or MusicXML file becomes a piece whose
reply says what was read and carries the file as sent; the Export buttons (and the words)
attach the ABC or MusicXML written, named by file, never by the host's path."""

from __future__ import annotations

import pytest

pytest.importorskip("discord")

from discordsim import World, custom_ids, file_bytes  # noqa: E402

from museforge.models.music.scorefiles import load_abc, load_musicxml  # noqa: E402

JIG = """X:1
T:The Test Jig
M:6/8
L:1/8
Q:3/8=120
K:D
|:A|dfa afd|g2e c2A|dfa agf|e3 d2:|
"""


def pitches(reading) -> list[int]:
    return [n.pitch for n in reading.piece.part("melody").notes]


def test_an_attached_abc_tune_is_a_piece_and_exports_as_musicxml(simulate, studio,
                                                                   museforge_home):
    async def scenario(env):
        w = World(env)
        await w.alice.send(w.general, f"{w.me} here is my tune",
                           attachments=[("The Jig.abc", JIG.encode())])

        [thread] = w.general.threads
        reply = [m for m in thread.history() if m.author.id == env.bot.user.id][-1]
        assert "Added The Test Jig as #1. I read: 1 part (melody)" in reply.content
        assert "6/8" in reply.content and "D major" in reply.content
        files = {a.filename: file_bytes(env, a) for a in reply.attachments}
        assert list(files) == ["museforge-1-v1.ogg", "museforge-1-v1-roll.png",
                               "museforge-1-v1.mid", "museforge-1-v1.abc"]
        assert files["museforge-1-v1.abc"] == JIG.encode()
        key = f"guild:{w.guild.id}:thread:{thread.id}"
        assert custom_ids(reply)[-2:] == [f"mf:xa:1.1:{key}", f"mf:xm:1.1:{key}"]

        pressed = await w.bob.click(reply, label="Export MusicXML")
        answer = pressed.response
        assert "Wrote #1 as MusicXML: 1-v1-the-test-jig.musicxml." in answer.content
        assert str(museforge_home) not in answer.content
        [score] = answer.attachments
        assert score.filename == "1-v1-the-test-jig.musicxml"
        assert pitches(load_musicxml(file_bytes(env, score))) == pitches(load_abc(JIG))

        await w.alice.send(thread, "export #1 as ABC")
        said = thread.last_message
        [abc] = said.attachments
        assert abc.filename == "1-v1-the-test-jig.abc"
        assert pitches(load_abc(file_bytes(env, abc))) == pitches(load_abc(JIG))
        assert str(museforge_home) not in said.content

    simulate(scenario)


def test_a_hostile_score_is_refused_in_one_sentence_and_the_turn_goes_on(simulate, studio):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
            b'"&lol;&lol;&lol;">]><score-partwise>&lol2;</score-partwise>')

    async def scenario(env):
        w = World(env)
        await w.alice.send(w.general, f"{w.me} list my artworks",
                           attachments=[("bomb.mxl", b"PK\x03\x04" + b"\0" * 60),
                                        ("lol.musicxml", bomb)])
        reply = w.general.threads[0].last_message
        assert "I couldn't use bomb.mxl: the .mxl file is cut off or damaged" in reply.content
        assert "I couldn't use lol.musicxml: the MusicXML file declares its own XML " \
               "entities" in reply.content
        assert reply.attachments == []

    simulate(scenario)
