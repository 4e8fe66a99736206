"""A person's own score through the web chat: an ABC or MusicXML upload becomes a piece
whose reply says what was read, the file as sent is served back with its own type, and a
piece exported as ABC or MusicXML (in words or by a card's button) is a download link
the session's access rule guards, never a server path."""

from __future__ import annotations

import io
import zipfile

from fastapi.testclient import TestClient
from webutil import LOCAL, turn

from museforge.bots.web import create_app
from museforge.models.music.scorefiles import load_abc, load_musicxml

JIG = """X:1
T:The Test Jig
M:6/8
L:1/8
Q:3/8=120
K:D
|:A|dfa afd|g2e c2A|dfa agf|e3 d2:|
"""


def upload(client: TestClient, sid: int, data: bytes, filename: str = "",
           content_type: str = "application/octet-stream") -> str:
    params = {"filename": filename} if filename else {}
    r = client.post(f"/api/sessions/{sid}/uploads", params=params, content=data,
                    headers={"content-type": content_type})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def pitches(reading) -> list[int]:
    return [n.pitch for n in reading.piece.part("melody").notes]


def test_an_abc_upload_is_a_piece_whose_reply_says_what_was_read(client, sid):
    job = turn(client, sid, uploads=[upload(client, sid, JIG.encode(), "jig.abc")])

    result = job["result"]
    [piece] = result["artifacts"]
    assert (piece["ref"], piece["kind"], piece["title"]) == ("#1", "music", "The Test Jig")
    assert set(piece["files"]) == {"mid", "ogg", "png", "abc"}
    # The echo of what was read, so the person can correct it.
    assert result["reply"].startswith("Added The Test Jig as #1. I read: 1 part (melody), ")
    assert "6/8" in result["reply"] and "D major" in result["reply"]
    sent = client.get(piece["files"]["abc"])
    assert sent.content == JIG.encode()
    assert sent.headers["content-type"].startswith("text/vnd.abc")
    assert sent.headers["content-disposition"].startswith("attachment")
    assert sent.headers["content-disposition"].endswith('.abc"')
    assert [a["action"] for a in piece["actions"]][-2:] == ["export_abc", "export_musicxml"]


def test_a_score_sent_with_only_its_type_is_read_by_that_type(client, sid):
    xml = export_of(client, sid, "musicxml")
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("META-INF/container.xml", '<container><rootfiles><rootfile '
                    'full-path="score.musicxml"/></rootfiles></container>')
        zf.writestr("score.musicxml", xml)

    # No name with a suffix (a browser's blob): the Content-Type says what it is.
    job = turn(client, sid, uploads=[
        upload(client, sid, packed.getvalue(), content_type="application/vnd.recordare.musicxml"),
        upload(client, sid, xml, content_type="application/vnd.recordare.musicxml+xml")])

    result = job["result"]
    assert result["errors"] == []
    mxl, plain = result["artifacts"]
    assert "I read: 1 part (melody)" in result["reply"]
    served = client.get(mxl["files"]["musicxml"])
    assert served.headers["content-type"] == "application/vnd.recordare.musicxml"
    assert served.headers["content-disposition"].endswith('.mxl"')
    assert served.content == packed.getvalue()
    plain_served = client.get(plain["files"]["musicxml"])
    assert plain_served.headers["content-type"] == "application/vnd.recordare.musicxml+xml"
    assert pitches(load_musicxml(plain_served.content)) == pitches(load_abc(JIG))


def export_of(client: TestClient, sid: int, fmt: str) -> bytes:
    """The jig brought in, then exported by its card's button; the download's bytes."""
    job = turn(client, sid, uploads=[upload(client, sid, JIG.encode(), "jig.abc")])
    [piece] = job["result"]["artifacts"]
    pressed = turn(client, sid, action=f"export_{fmt}", artwork=piece["artwork"],
                   version=piece["version"])["result"]
    assert pressed["tool_calls"] == [{"name": "export_music", "ok": True, "error": None}]
    [download] = pressed["downloads"]
    assert download["format"] == fmt and download["artwork"] == piece["artwork"]
    r = client.get(download["url"])
    assert r.status_code == 200, r.text
    return r.content


def test_an_export_is_a_download_link_and_never_a_server_path(client, sid, museforge_home):
    turn(client, sid, uploads=[upload(client, sid, JIG.encode(), "jig.abc")])

    job = turn(client, sid, "export #1 as MusicXML")

    result = job["result"]
    [download] = result["downloads"]
    assert download["name"] == "1-v1-the-test-jig.musicxml"
    assert download["url"] == f"/api/sessions/{sid}/exports/1-v1-the-test-jig.musicxml"
    assert "Wrote #1 as MusicXML: 1-v1-the-test-jig.musicxml." in result["reply"]
    r = client.get(download["url"])
    assert r.headers["content-type"] == "application/vnd.recordare.musicxml+xml"
    assert r.headers["content-disposition"].startswith("attachment")
    assert pitches(load_musicxml(r.content)) == pitches(load_abc(JIG))

    abc = turn(client, sid, "export #1 as ABC")["result"]
    [as_abc] = abc["downloads"]
    got = client.get(as_abc["url"])
    assert got.headers["content-type"].startswith("text/vnd.abc")
    assert pitches(load_abc(got.content)) == pitches(load_abc(JIG))

    # The history links the same files, and says their names, not where they are.
    messages = client.get(f"/api/sessions/{sid}/messages")
    assert [d["name"] for m in messages.json() for d in m["downloads"]] == [
        "1-v1-the-test-jig.musicxml", "1-v1-the-test-jig.abc"]
    for text in (str(job), str(abc), messages.text):
        assert str(museforge_home) not in text, text


def test_an_export_is_served_only_to_the_session_that_made_it(client, studio, sid):
    turn(client, sid, uploads=[upload(client, sid, JIG.encode(), "jig.abc")])
    [download] = turn(client, sid, "export #1 as ABC")["result"]["downloads"]
    other = int(client.post("/api/sessions", json={"name": "other"}).json()["id"])

    assert client.get(download["url"].replace(f"/{sid}/", f"/{other}/")).status_code == 404
    assert client.get(f"/api/sessions/{sid}/exports/1-v1-the-test-jig.musicxml"
                      ).status_code == 404  # never exported
    assert client.get(f"/api/sessions/{sid}/exports/..%2F..%2Fmuseforge.db"
                      ).status_code in (404, 422)
    with TestClient(create_app(studio, token="s3cret"), base_url=LOCAL) as locked:
        assert locked.get(download["url"]).status_code == 401


def test_a_hostile_score_upload_is_one_sentence_and_the_turn_goes_on(client, sid):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
            b'"&lol;&lol;&lol;">]><score-partwise>&lol2;</score-partwise>')
    job = turn(client, sid, "list my artworks",
               uploads=[upload(client, sid, bomb, "bomb.musicxml")])

    result = job["result"]
    [error] = result["errors"]
    assert error["file"] == "bomb.musicxml" and "XML entities" in error["error"]
    assert "\n" not in error["error"] and len(error["error"]) < 300


def test_two_people_whose_sessions_share_a_name_each_download_their_own_export(studio):
    # Exports are files in the data dir: two people's "tunes" sessions must not share one.
    _, alice_token = studio.store.add_web_user("Alice")
    _, bob_token = studio.store.add_web_user("Bob")
    bobs_tune = JIG.replace("dfa afd", "AFD DFA")
    assert pitches(load_abc(JIG)) != pitches(load_abc(bobs_tune))
    app = create_app(studio)
    with TestClient(app, base_url=LOCAL,
                    headers={"Authorization": f"Bearer {alice_token}"}) as alice, \
            TestClient(app, base_url=LOCAL,
                       headers={"Authorization": f"Bearer {bob_token}"}) as bob:
        urls = []
        for person, tune in ((alice, JIG), (bob, bobs_tune)):
            sid = int(person.post("/api/sessions", json={"name": "tunes"}).json()["id"])
            turn(person, sid, uploads=[upload(person, sid, tune.encode(), "jig.abc")])
            [download] = turn(person, sid, "export #1 as ABC")["result"]["downloads"]
            urls.append(download["url"])
        assert pitches(load_abc(alice.get(urls[0]).content)) == pitches(load_abc(JIG))
        assert pitches(load_abc(bob.get(urls[1]).content)) == pitches(load_abc(bobs_tune))
        assert alice.get(urls[1]).status_code == 404
