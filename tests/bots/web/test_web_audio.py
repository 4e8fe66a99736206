"""Audio clips in the web chat: a recording uploaded (by its name, or only by its type)
becomes a clip whose card has the player's OGG, the WAV, the waveform-and-spectrogram PNG
and the clip's buttons; a press edits the samples (fade out, louder, loop) and undo moves
the head back; the artworks list filters by kind. Real tiny clips made with numpy and
soundfile, through the real upload path, queue, planner and audio tools."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile
from fastapi.testclient import TestClient
from PIL import Image
from webutil import LOCAL, seed_music, turn

from museforge.bots.web import create_app
from museforge.bots.web.uploads import suffix_for
from museforge.storage.models import Actor

RATE = 22050
AUDIO_LABELS = ["Fade in", "Fade out", "Louder", "Quieter", "Loop to 30 s", "Undo"]


def tone(seconds: float = 2.0, hz: float = 440.0, fmt: str = "WAV", channels: int = 1) -> bytes:
    t = np.arange(int(seconds * RATE)) / RATE
    wave = np.stack([0.5 * np.sin(2 * np.pi * hz * t)] * channels, axis=1).astype(np.float32)
    buf = io.BytesIO()
    soundfile.write(buf, wave, RATE, format=fmt)
    return buf.getvalue()


def upload(client: TestClient, sid: int, data: bytes, filename: str = "",
           content_type: str = "application/octet-stream") -> str:
    params = {"filename": filename} if filename else {}
    r = client.post(f"/api/sessions/{sid}/uploads", params=params, content=data,
                    headers={"content-type": content_type})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def decoded(client: TestClient, url: str) -> tuple[np.ndarray, int]:
    r = client.get(url)
    assert r.status_code == 200, r.text
    data, rate = soundfile.read(io.BytesIO(r.content), dtype="float32", always_2d=True)
    return data, rate


def clip_in(client: TestClient, sid: int, **kw) -> dict:
    job = turn(client, sid, uploads=[upload(client, sid, tone(**kw), "Rain on a roof.wav")])
    [clip] = job["result"]["artifacts"]
    return clip


def test_an_uploaded_wav_is_a_clip_card_with_player_files_and_buttons(client, sid):
    clip = clip_in(client, sid)

    assert (clip["ref"], clip["kind"], clip["version"]) == ("#1", "audio", 1)
    assert clip["title"] == "Rain on a roof"
    assert set(clip["files"]) == {"wav", "ogg", "png"}
    assert [a["label"] for a in clip["actions"]] == AUDIO_LABELS
    assert {a["message"] for a in clip["actions"]} >= {"fade out #1 v1", "make #1 v1 louder",
                                                       "loop #1 v1 to 30 seconds", "undo #1"}
    wav = client.get(clip["files"]["wav"])
    assert wav.headers["content-type"] == "audio/wav"
    ogg = client.get(clip["files"]["ogg"])
    assert ogg.headers["content-type"] == "audio/ogg" and ogg.content[:4] == b"OggS"
    samples, rate = decoded(client, clip["files"]["wav"])
    assert rate == RATE and len(samples) == 2 * RATE
    assert np.abs(samples).max() == pytest.approx(0.5, abs=0.01)
    played, rate = decoded(client, clip["files"]["ogg"])
    assert rate == RATE and abs(len(played) / rate - 2.0) < 0.05
    png = client.get(clip["files"]["png"])
    assert png.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(png.content)) as picture:
        assert picture.size == (800, 320)

    # The stored conversation shows the same card (the reply's shape validates).
    [_, reply] = client.get(f"/api/sessions/{sid}/messages").json()
    assert [(a["kind"], sorted(a["files"])) for a in reply["artifacts"]] == [
        ("audio", ["ogg", "png", "wav"])]
    [listed] = client.get(f"/api/sessions/{sid}/artworks").json()
    assert listed["kind"] == "audio" and listed["thumbnail"].endswith("/versions/1/files/png")


def test_the_clip_buttons_edit_the_samples_and_undo_moves_the_head_back(client, sid):
    clip_in(client, sid, seconds=3.0)

    faded = turn(client, sid, action="fade_out", artwork=1, version=1)["result"]
    [v2] = faded["artifacts"]
    assert (v2["kind"], v2["version"]) == ("audio", 2)
    assert [c["name"] for c in faded["tool_calls"]] == ["edit_audio"]
    samples, _ = decoded(client, v2["files"]["wav"])
    assert len(samples) == 3 * RATE
    assert np.abs(samples[-200:]).max() < 0.01  # faded to silence
    assert np.abs(samples[:RATE // 2]).max() > 0.45  # the start untouched

    louder = turn(client, sid, action="louder", artwork=1, version=2)["result"]["artifacts"][0]
    loud, _ = decoded(client, louder["files"]["wav"])
    assert louder["version"] == 3
    assert np.abs(loud[:RATE // 2]).max() > np.abs(samples[:RATE // 2]).max() * 1.3

    looped = turn(client, sid, action="loop_30", artwork=1, version=1)["result"]["artifacts"][0]
    long, _ = decoded(client, looped["files"]["wav"])
    assert abs(len(long) / RATE - 30.0) < 0.01

    undone = turn(client, sid, action="undo", artwork=1)["result"]
    assert [c["name"] for c in undone["tool_calls"]] == ["undo"]
    art = client.get(f"/api/sessions/{sid}/artworks/1").json()
    assert (art["head"], art["versions"]) == (looped["version"] - 1, 4)


@pytest.mark.parametrize(("fmt", "content_type"), [
    ("WAV", "audio/wav"), ("WAV", "audio/x-wav"), ("FLAC", "audio/flac"), ("OGG", "audio/ogg"),
    ("MP3", "audio/mpeg")])
def test_a_recording_sent_as_a_nameless_blob_is_read_by_its_bytes_and_type(client, sid, fmt,
                                                                           content_type):
    job = turn(client, sid, uploads=[upload(client, sid, tone(fmt=fmt), content_type=content_type)])

    result = job["result"]
    assert result["errors"] == []
    [clip] = result["artifacts"]
    assert clip["kind"] == "audio" and clip["title"] == "upload"
    samples, rate = decoded(client, clip["files"]["wav"])
    assert rate == RATE and abs(len(samples) / rate - 2.0) < 0.1


def test_the_upload_suffix_comes_from_the_bytes_then_the_name_then_the_type():
    wav, flac, ogg, mp3 = (tone(fmt=f)[:16] for f in ("WAV", "FLAC", "OGG", "MP3"))
    assert [suffix_for(h, "blob") for h in (wav, flac, ogg, mp3)] == [
        ".wav", ".flac", ".ogg", ".mp3"]
    unknown = b"\x00" * 16
    assert suffix_for(unknown, "song.opus") == ".opus"
    assert suffix_for(unknown, "Song.MP3") == ".mp3"
    assert [suffix_for(unknown, "blob", t) for t in (
        "audio/wav", "audio/x-wav", "audio/flac", "audio/ogg", "audio/mpeg; charset=binary")] \
        == [".wav", ".wav", ".flac", ".ogg", ".mp3"]
    assert suffix_for(unknown, "blob", "audio/aiff") == ".bin"
    assert suffix_for(b"\xff\xd8\xff\xe0" + b"\0" * 12, "blob") == ".jpg"  # not an MP3 frame


def test_a_broken_recording_is_refused_in_one_sentence_and_the_cap_holds(studio, client, sid):
    cut = tone()[:60]  # a WAV header whose data chunk is cut off
    job = turn(client, sid, message="list my artworks",
               uploads=[upload(client, sid, cut, "broken.wav")])
    [error] = job["result"]["errors"]
    assert error["file"] == "broken.wav" and error["error"]
    assert job["result"]["artifacts"] == []
    with TestClient(create_app(studio, max_upload_bytes=1000), base_url=LOCAL) as small:
        r = small.post(f"/api/sessions/{sid}/uploads", params={"filename": "big.wav"},
                       content=tone(), headers={"content-type": "audio/wav"})
        assert r.status_code == 413 and "limit is" in r.json()["detail"]


def test_the_artworks_list_filters_clips_by_kind(client, sid, studio):
    clip_in(client, sid)
    me = Actor(studio.store.local_user())
    session = studio.store.list_sessions(me)[0]
    seed_music(studio.store, me, session)

    kinds = {k: [a["kind"] for a in client.get(f"/api/sessions/{sid}/artworks",
                                               params={"kind": k}).json()]
             for k in ("audio", "music", "image")}
    assert kinds == {"audio": ["audio"], "music": ["music"], "image": []}
    assert client.get(f"/api/sessions/{sid}/artworks", params={"kind": "video"}).status_code \
        == 422
    listing = turn(client, sid, "list my artworks")["result"]["reply"]
    assert "#1 clip “Rain on a roof”" in listing
