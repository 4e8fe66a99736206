"""Audio clips in Discord: an attached recording (WAV, FLAC, OGG, MP3) becomes a clip
whose reply carries its OGG (Discord plays it inline) and its waveform-and-spectrogram
PNG, with the clip's buttons; a press edits the samples and Undo moves the head back.
Tiny real clips made with numpy and soundfile, through simcord's offline Discord."""

from __future__ import annotations

import io

import pytest

pytest.importorskip("discord")

import numpy as np  # noqa: E402
import soundfile  # noqa: E402
from discordsim import World, custom_ids, file_bytes  # noqa: E402

from museforge.assistant.turn import CallRecord, TurnResult  # noqa: E402
from museforge.bots.discord.render import groups  # noqa: E402
from museforge.storage.models import Actor  # noqa: E402
from museforge.tools.base import Artifact  # noqa: E402

RATE = 22050


def tone(seconds: float = 2.0, fmt: str = "WAV") -> bytes:
    t = np.arange(int(seconds * RATE)) / RATE
    buf = io.BytesIO()
    soundfile.write(buf, (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), RATE,
                    format=fmt)
    return buf.getvalue()


def samples(data: bytes) -> np.ndarray:
    out, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    assert rate == RATE
    return out


def test_an_attached_recording_is_a_clip_with_its_ogg_png_and_buttons(simulate, studio):
    async def scenario(env):
        w = World(env)
        await w.alice.send(w.general, f"{w.me}",
                           attachments=[("Rain Roof.wav", tone(3.0))])

        [thread] = w.general.threads
        reply = [m for m in thread.history() if m.author.id == env.bot.user.id][-1]
        assert reply.content.startswith("Added Rain Roof as #1.")
        files = {a.filename: file_bytes(env, a) for a in reply.attachments}
        assert list(files) == ["museforge-1-v1.ogg", "museforge-1-v1-wave.png"]
        assert files["museforge-1-v1.ogg"][:4] == b"OggS"
        assert abs(len(samples(files["museforge-1-v1.ogg"])) / RATE - 3.0) < 0.05
        assert files["museforge-1-v1-wave.png"].startswith(b"\x89PNG")
        key = f"guild:{w.guild.id}:thread:{thread.id}"
        assert custom_ids(reply) == [f"mf:{a}:1.1:{key}"
                                     for a in ("fi", "fo", "ld", "qt", "lp", "un")]

        pressed = await w.bob.click(reply, label="Fade out")
        answer = pressed.response
        [ogg, _] = answer.attachments
        assert ogg.filename == "museforge-1-v2.ogg"
        faded = samples(file_bytes(env, ogg))
        assert np.abs(faded[-300:]).max() < 0.02 and np.abs(faded[:RATE]).max() > 0.4
        assert custom_ids(answer)[0] == f"mf:fi:1.2:{key}"

        looped = await w.alice.click(answer, label="Loop to 30 s")
        [ogg, _] = looped.response.attachments
        assert abs(len(samples(file_bytes(env, ogg))) / RATE - 30.0) < 0.05

        undone = await w.alice.click(looped.response, label="Undo")
        assert "Undid the last change to #1: now at v2 (was v3)" in undone.response.content
        actor = Actor(studio.store.user("discord", str(w.alice.id)), str(w.guild.id))
        session = studio.store.find_session(actor, "discord:" + key)
        [art] = studio.store.list_artworks(actor, session, "audio")
        assert (art.head_number, art.version_count) == (2, 3)

    simulate(scenario)


def test_recordings_of_each_format_are_clips_and_a_broken_one_is_one_sentence(simulate):
    async def scenario(env):
        w = World(env)
        await w.alice.send(w.general, f"{w.me} list my artworks",
                           attachments=[("a.flac", tone(fmt="FLAC")), ("b.ogg", tone(fmt="OGG")),
                                        ("c.mp3", tone(fmt="MP3")),
                                        ("cut.wav", tone()[:60])])
        [thread] = w.general.threads
        first, *clips = [m for m in thread.history() if m.author.id == env.bot.user.id]
        assert "I couldn't use cut.wav:" in first.content
        assert "3 artworks:" in first.content
        for n, name in enumerate("abc", 1):
            assert f"#{n} clip “{name}” (v1 of 1)" in first.content
        # One message per clip, each with its OGG and picture.
        assert [[a.filename for a in m.attachments] for m in [first, *clips]] == [
            [f"museforge-{n}-v1.ogg", f"museforge-{n}-v1-wave.png"] for n in (1, 2, 3)]

    simulate(scenario)


def test_a_clip_is_its_own_message_never_in_a_batch_of_pictures(tmp_path):
    def art(n: int, kind: str) -> Artifact:
        return Artifact(artwork=n, version=1, kind=kind, title=f"t{n}",
                        files={"png": tmp_path / "x.png"}, recipe={})

    made = [art(1, "image"), art(2, "audio"), art(3, "image")]
    result = TurnResult(session="s", planner="offline", reply="", imported=[art(4, "audio")],
                        calls=[CallRecord("blend", {}, True, artifacts=made)])
    assert [(k, [a.artwork for a in arts]) for k, arts in groups(result)] == [
        ("audio", [4]), ("batch", [1, 3]), ("audio", [2])]
