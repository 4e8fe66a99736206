"""The web chat's JSON API, through FastAPI's client, over the real assistant and store."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from webutil import LOCAL, png_bytes, seed_music, sse, turn

from museforge.bots.web import create_app
from museforge.storage.models import Actor, Scope

STATIC = Path(__file__).resolve().parents[3] / "museforge" / "bots" / "web" / "static"


def test_sessions_are_the_local_users_the_clis_included(client, studio):
    me = Actor(studio.store.local_user())
    studio.store.session(me, Scope.local("from-the-cli"))

    made = client.post("/api/sessions", json={"name": "sketches"})
    again = client.post("/api/sessions", json={"name": "sketches"})

    assert made.status_code == 201 and again.json()["id"] == made.json()["id"]
    names = [s["name"] for s in client.get("/api/sessions").json()]
    assert set(names) == {"sketches", "from-the-cli"}
    assert client.get(f"/api/sessions/{made.json()['id']}").json()["name"] == "sketches"
    assert client.post("/api/sessions", json={"name": ""}).status_code == 422


def test_a_turn_paints_and_its_artwork_versions_and_png_are_served(client, sid):
    job = turn(client, sid, "paint a fox in the snow")

    result = job["result"]
    assert result["tool_calls"] == [{"name": "generate_image", "ok": True, "error": None}]
    [art] = result["artifacts"]
    assert (art["ref"], art["version"], art["kind"]) == ("#1", 1, "image")
    assert [a["message"] for a in art["actions"]] == [
        "upscale #1 v1", "a subtle variation of #1 v1", "a strong variation of #1 v1",
        "paint a fox in the snow", "undo #1"]
    png = client.get(art["files"]["png"])
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size == (512, 512)

    [listed] = client.get(f"/api/sessions/{sid}/artworks").json()
    assert (listed["ref"], listed["head"], listed["versions"]) == ("#1", 1, 1)
    assert listed["thumbnail"] == art["files"]["png"]
    [v1] = client.get(f"/api/sessions/{sid}/artworks/1/versions").json()
    assert (v1["number"], v1["parent"], v1["operation"], v1["head"]) == (
        1, None, "generate_image", True)
    assert client.get(f"/api/sessions/{sid}/artworks/1/versions/1/files/mid").status_code == 404
    assert client.get(f"/api/sessions/{sid}/artworks/2").status_code == 404


def test_no_server_path_leaves_the_server(client, sid, museforge_home):
    job = turn(client, sid, "paint a lighthouse")
    messages = client.get(f"/api/sessions/{sid}/messages")
    versions = client.get(f"/api/sessions/{sid}/artworks/1/versions")
    for text in (str(job), messages.text, versions.text):
        assert str(museforge_home) not in text and "assets/" not in text


def test_the_history_shows_each_reply_with_its_artworks(client, sid):
    turn(client, sid, "paint a fox in the snow")
    turn(client, sid, "warmer")

    messages = client.get(f"/api/sessions/{sid}/messages").json()

    assert [m["role"] for m in messages] == ["user", "assistant"] * 2
    assert [(a["ref"], a["version"]) for a in messages[1]["artifacts"]] == [("#1", 1)]
    assert [(a["ref"], a["version"]) for a in messages[3]["artifacts"]] == [("#1", 2)]
    assert messages[3]["tool_calls"][0]["name"] == "adjust_image"


def test_a_piece_of_music_shows_audio_a_piano_roll_midi_and_its_buttons(client, studio, sid):
    me = Actor(studio.store.local_user())
    session = next(s for s in studio.store.list_sessions(me) if s.id == sid)
    seed_music(studio.store, me, session)

    reply = client.get(f"/api/sessions/{sid}/messages").json()[-1]

    [piece] = reply["artifacts"]
    assert piece["kind"] == "music" and set(piece["files"]) == {"mid", "ogg", "png"}
    assert [a["message"] for a in piece["actions"]] == [
        "a variation of #1 v1", "make #1 v1 faster", "make #1 v1 slower",
        "transpose #1 v1 up one semitone", "transpose #1 v1 down one semitone",
        "continue #1 v1", "undo #1", "export #1 v1 as ABC", "export #1 v1 as MusicXML"]
    ogg, mid = client.get(piece["files"]["ogg"]), client.get(piece["files"]["mid"])
    assert ogg.headers["content-type"] == "audio/ogg" and ogg.content.startswith(b"OggS")
    assert mid.headers["content-type"] == "audio/midi" and mid.content.startswith(b"MThd")
    assert mid.headers["content-disposition"].startswith("attachment")
    assert client.get(piece["files"]["png"]).content.startswith(b"\x89PNG")


def test_revert_and_undo_are_turns_that_move_the_head(client, sid):
    turn(client, sid, "paint a fox in the snow")
    turn(client, sid, "warmer")

    def head() -> int:
        return int(client.get(f"/api/sessions/{sid}/artworks/1").json()["head"])

    assert head() == 2
    job = turn(client, sid, action="revert", artwork=1, version=1)
    assert job["message"] == "revert #1 to v1"
    assert head() == 1
    versions = client.get(f"/api/sessions/{sid}/artworks/1/versions").json()
    assert [(v["number"], v["parent"], v["head"]) for v in versions] == [
        (1, None, True), (2, 1, False)]
    assert turn(client, sid, action="undo", artwork=1)["message"] == "undo #1"
    assert head() == 2
    last = client.get(f"/api/sessions/{sid}/messages").json()[-2]
    assert last == {**last, "role": "user", "text": "undo #1"}


def test_buttons_of_a_batch(client, sid):
    job = turn(client, sid, "paint four pictures of a cat")
    assert job["result"]["batches"] == [[1, 2, 3, 4]]
    made = turn(client, sid, action="variation", artwork=2)
    assert made["message"] == "a variation of #2"
    assert made["result"]["tool_calls"][0]["name"] == "vary_image"
    reroll = turn(client, sid, action="reroll", artwork=1, version=1)
    assert reroll["message"] == "paint 4 pictures of a cat"
    assert client.get(f"/api/sessions/{sid}/messages").json()[1]["batches"] == [[1, 2, 3, 4]]


@pytest.mark.parametrize("body", [
    {"message": "warmer", "action": "undo", "artwork": 1},
    {"action": "undo"},
    {"action": "revert", "artwork": 1},
    {"action": "explode", "artwork": 1},
    {"message": "   "},
    {"message": "x" * 4001},
])
def test_a_malformed_turn_is_refused_with_a_reason(client, sid, body):
    r = client.post(f"/api/sessions/{sid}/turns", json=body)
    assert r.status_code == 422 and r.json()["detail"]


def test_an_uploaded_png_becomes_an_artwork(client, sid):
    up = client.post(f"/api/sessions/{sid}/uploads",
                     params={"filename": "../../etc/My Cat!.png"},
                     content=png_bytes(color="#804020"))  # pure red can't get brighter
    assert up.status_code == 201, up.text
    assert up.json()["name"] == "My Cat!.png" and up.json()["size"] > 0

    job = turn(client, sid, "make it brighter", uploads=[up.json()["id"]])

    result = job["result"]
    assert [(a["ref"], a["version"], a["title"]) for a in result["artifacts"]] == [
        ("#1", 1, "My Cat"), ("#1", 2, "My Cat")]
    assert result["reply"].startswith("Added My Cat as #1.")
    assert result["errors"] == []
    # an upload is used once
    again = client.post(f"/api/sessions/{sid}/turns", json={"uploads": [up.json()["id"]]})
    assert again.status_code == 404
    history = client.get(f"/api/sessions/{sid}/messages").json()
    assert [(a["ref"], a["version"]) for a in history[1]["artifacts"]] == [("#1", 1), ("#1", 2)]


def test_a_malformed_upload_is_a_clear_error_and_the_turn_goes_on(client, sid):
    up = client.post(f"/api/sessions/{sid}/uploads", params={"filename": "junk.png"},
                     content=b"this is not a picture at all").json()

    job = turn(client, sid, "paint a fox in the snow", uploads=[up["id"]])

    result = job["result"]
    assert result["errors"] == [{"file": "junk.png", "error": result["errors"][0]["error"]}]
    assert "text file" in result["errors"][0]["error"]
    assert "PNG" in result["errors"][0]["error"]
    assert "couldn't use junk.png" in result["reply"]
    assert [a["ref"] for a in result["artifacts"]] == ["#1"]


def test_uploads_are_size_limited_and_bound_to_their_session(studio, sid, client):
    with TestClient(create_app(studio, max_upload_bytes=1000), base_url=LOCAL) as small:
        r = small.post(f"/api/sessions/{sid}/uploads", content=b"x" * 1001)
        assert r.status_code == 413 and "limit is" in r.json()["detail"]
        assert small.post(f"/api/sessions/{sid}/uploads", content=b"").status_code == 400
    other = client.post("/api/sessions", json={"name": "other"}).json()["id"]
    up = client.post(f"/api/sessions/{sid}/uploads", content=png_bytes()).json()
    r = client.post(f"/api/sessions/{other}/turns", json={"uploads": [up["id"]]})
    assert r.status_code == 404


def test_a_session_out_of_reach_is_not_found(client, studio, sid):
    """Another user's session (a web user 'alice'): nothing of it is listed or served."""
    alice = Actor(studio.store.user("web", "alice", "Alice"))
    hers = studio.store.session(alice, Scope.web("alice", "private"))
    studio.assistant.turn(alice, hers, "paint a secret garden")
    assert studio.store.versions(alice, hers, 1)[0].files["png"].is_file()

    assert hers.id not in [s["id"] for s in client.get("/api/sessions").json()]
    base = f"/api/sessions/{hers.id}"
    for path in ("", "/messages", "/artworks", "/artworks/1", "/artworks/1/versions",
                 "/artworks/1/versions/1/files/png", "/export", "/jobs"):
        r = client.get(base + path)
        assert r.status_code == 404, path
        assert r.json() == {"detail": "no such session"}
    assert client.post(f"{base}/turns", json={"message": "undo #1"}).status_code == 404
    assert client.post(f"{base}/uploads", content=png_bytes()).status_code == 404
    assert studio.store.artwork(alice, hers, 1).head_number == 1


def test_files_are_named_by_artwork_version_and_role_never_by_path(client, sid):
    turn(client, sid, "paint a fox in the snow")
    base = f"/api/sessions/{sid}/artworks/1/versions/1/files/"
    for role in ("..%2F..%2Fmuseforge.db", "../../museforge.db", "PNG", "png.png"):
        assert client.get(base + role).status_code in (404, 422), role


def test_a_token_is_required_when_set(studio):
    token = "s3cret-token-for-tests"
    app = create_app(studio, token=token)
    with TestClient(app, base_url="http://192.168.1.20:8000") as c:
        assert c.get("/api/sessions").status_code == 401
        assert c.get("/").status_code == 401
        assert c.get("/", params={"token": "wrong"}).status_code == 401
        bearer = c.get("/api/sessions", headers={"Authorization": f"Bearer {token}"})
        assert bearer.status_code == 200

        welcome = c.get("/", params={"token": token}, follow_redirects=False)
        assert welcome.status_code == 303 and welcome.headers["location"] == "/"
        assert "HttpOnly" in welcome.headers["set-cookie"]
        assert c.get("/").status_code == 200  # the cookie now
        assert c.get("/api/sessions").status_code == 200


def test_only_localhost_and_same_origin_without_a_token(client, sid):
    assert client.get("/api/sessions", headers={"Host": "evil.example"}).status_code == 403
    assert client.get("/api/sessions", headers={"Host": "localhost:8000"}).status_code == 200
    cross = client.post("/api/sessions", json={"name": "x"},
                        headers={"Origin": "http://evil.example"})
    assert cross.status_code == 403
    same = client.post("/api/sessions", json={"name": "x"}, headers={"Origin": LOCAL})
    assert same.status_code == 201


def test_user_text_comes_back_as_text_and_the_page_never_injects_it(client, sid):
    nasty = "<script>alert(1)</script><img src=x onerror=alert(2)> & \"quotes\""
    turn(client, sid, nasty)
    messages = client.get(f"/api/sessions/{sid}/messages")
    assert messages.headers["content-type"] == "application/json"
    assert messages.json()[0]["text"] == nasty

    page = client.get("/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in page.text and re.search(r"<script src=\"/static/app.js\"", page.text)
    script = (STATIC / "app.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                 "new Function"):
        assert sink not in script, sink
    assert client.get("/static/app.js").headers["x-content-type-options"] == "nosniff"


def test_progress_arrives_as_server_sent_events_place_in_queue_first(client, sid, hold):
    release = hold()  # someone else's job holds the only worker
    r = client.post(f"/api/sessions/{sid}/turns", json={"message": "paint a fox in the snow"})
    assert r.status_code == 202
    job = r.json()
    assert (job["state"], job["position"]) == ("queued", 1)
    assert client.get(f"/api/sessions/{sid}/jobs").json()[0]["id"] == job["id"]
    release.set()

    stream = client.get(job["events"])

    assert stream.headers["content-type"].startswith("text/event-stream")
    events = sse(stream.text)
    names = [name for name, _ in events]
    assert names[0] == "queued" and events[0][1] == {"position": 1, "text": "next in line"}
    assert names[1] == "started" and names[-1] == "done"
    progress = [d for name, d in events if name == "progress"]
    assert progress and progress[-1]["step"] == progress[-1]["total"]
    assert events[-1][1]["result"]["artifacts"][0]["ref"] == "#1"
    assert client.get(f"/api/jobs/{job['id']}").json()["state"] == "done"
    assert client.get(f"/api/sessions/{sid}/jobs").json() == []


def test_a_waiting_turn_can_be_cancelled(client, sid, hold):
    hold()
    job = client.post(f"/api/sessions/{sid}/turns", json={"message": "paint a cat"}).json()

    cancelled = client.delete(f"/api/jobs/{job['id']}").json()

    assert cancelled["state"] == "cancelled"
    assert [n for n, _ in sse(client.get(job["events"]).text)][-1] == "cancelled"
    assert client.get(f"/api/sessions/{sid}/artworks").json() == []
    assert client.get("/api/jobs/nope").status_code == 404


def test_a_full_queue_answers_429_busy(client, sid, hold):
    hold("cli:local")  # the local user's own jobs: one running, two waiting
    hold("cli:local", wait_started=False)
    hold("cli:local", wait_started=False)
    up = client.post(f"/api/sessions/{sid}/uploads", content=png_bytes()).json()

    r = client.post(f"/api/sessions/{sid}/turns", json={"message": "hi", "uploads": [up["id"]]})

    assert r.status_code == 429 and r.headers["retry-after"]
    assert r.json()["detail"].startswith("busy: you already have 3 requests")
    # the upload is kept for when the queue has room
    assert client.post(f"/api/sessions/{sid}/turns",
                       json={"uploads": [up["id"]]}).status_code == 429


def test_the_openapi_schema_lists_the_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/info", "/api/sessions", "/api/sessions/{session_id}",
        "/api/sessions/{session_id}/messages", "/api/sessions/{session_id}/turns",
        "/api/sessions/{session_id}/uploads", "/api/sessions/{session_id}/jobs",
        "/api/sessions/{session_id}/artworks", "/api/sessions/{session_id}/artworks/{number}",
        "/api/sessions/{session_id}/artworks/{number}/versions",
        "/api/sessions/{session_id}/artworks/{number}/versions/{version}/files/{role}",
        "/api/sessions/{session_id}/export", "/api/jobs/{job_id}", "/api/jobs/{job_id}/events",
    } <= set(paths)
    assert "text/event-stream" in str(paths["/api/jobs/{job_id}/events"])
    assert "429" in paths["/api/sessions/{session_id}/turns"]["post"]["responses"]
    assert client.get("/docs").status_code == 200


def test_export_is_a_zip_of_the_session(client, sid):
    import zipfile

    turn(client, sid, "paint a fox in the snow")
    r = client.get(f"/api/sessions/{sid}/export")
    assert r.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert "index.html" in names and any(n.endswith(".png") for n in names)


def test_info_says_who_and_how(client):
    info = client.get("/api/info").json()
    assert info == {"user": "you", "signed_in": False, "planner": "offline",
                    "max_upload_bytes": 30 * 2**20, "waiting": 0}
