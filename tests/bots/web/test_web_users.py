"""Many people on one web chat, over real HTTP to the real server (uvicorn on a socket):
each person's token opens their own sessions, artworks, messages, files, uploads and jobs
and nothing of anyone else's (404, both ways); a revoked token is refused (401); one
person's flood does not refuse another (429 is per person); the queue's capacity follows
its workers and says how long the wait is; the page signs a person in with their token;
the shared MUSEFORGE_WEB_TOKEN is still the CLI's local user; and `museforge users
add/list/token/remove` through the real command."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from webutil import png_bytes, sse

from museforge.bots.service import Studio
from museforge.bots.web.limits import WAITING_PER_WORKER, queue_capacity
from museforge.bots.web.server import ServeError, check_bind, make_server
from museforge.config import load_settings
from museforge.models.image.procedural import ProceduralPainter
from museforge.storage.models import Actor, Scope
from museforge.tools.base import Services

MUSEFORGE = str(Path(sys.executable).with_name("museforge"))
SHARED = "the-shared-web-token-of-tests"
TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


Serve = Callable[..., str]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """``serve(studio, token=None, host="127.0.0.1")`` -> the base URL (on 127.0.0.1) of
    a real uvicorn server over it."""
    running: list[tuple[Any, threading.Thread]] = []

    def start(studio: Studio, token: str | None = None, host: str = "127.0.0.1") -> str:
        port = free_port()
        server = make_server(studio, host, port, token)
        thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
        thread.start()
        for _ in range(200):
            if server.started:
                break
            thread.join(0.05)
        assert server.started, "uvicorn did not start"
        running.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(10)


class Person:
    """An HTTP client that carries one token (or none)."""

    def __init__(self, url: str, token: str | None = None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=url, headers=headers, timeout=TIMEOUT)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.post(path, **kw)

    def delete(self, path: str) -> httpx.Response:
        return self.http.delete(path)

    def session(self, name: str) -> int:
        r = self.post("/api/sessions", json={"name": name})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def turn(self, sid: int, message: str = "", **body: Any) -> dict[str, Any]:
        if message:
            body["message"] = message
        r = self.post(f"/api/sessions/{sid}/turns", params={"wait": "true"}, json=body)
        assert r.status_code == 200, r.text
        job = r.json()
        assert job["state"] == "done", job
        return job  # type: ignore[no-any-return]

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def people(studio: Studio, serve: Serve) -> Iterator[dict[str, Any]]:
    """Alice and Bob with tokens of their own, on a server with no shared token."""
    _, alice_token = studio.store.add_web_user("Alice")
    _, bob_token = studio.store.add_web_user("bob")
    url = serve(studio)
    out = {"url": url, "alice": Person(url, alice_token), "bob": Person(url, bob_token),
           "alice_token": alice_token, "bob_token": bob_token, "nobody": Person(url)}
    yield out
    for p in out.values():
        if isinstance(p, Person):
            p.close()


def session_paths(sid: int) -> list[str]:
    base = f"/api/sessions/{sid}"
    return [base, f"{base}/messages", f"{base}/artworks", f"{base}/artworks/1",
            f"{base}/artworks/1/versions", f"{base}/artworks/1/versions/1/files/png",
            f"{base}/export", f"{base}/jobs"]


def test_two_people_never_see_each_others_work(people, studio):
    alice, bob = people["alice"], people["bob"]
    a_sid, b_sid = alice.session("sketches"), bob.session("sketches")  # the same name
    assert a_sid != b_sid
    a_job = alice.turn(a_sid, "paint a fox in the snow")
    alice.turn(a_sid, "warmer")
    bob.turn(b_sid, "paint a blue whale")
    a_up = alice.post(f"/api/sessions/{a_sid}/uploads", params={"filename": "mine.png"},
                      content=png_bytes()).json()["id"]
    local = Actor(studio.store.local_user())
    cli = studio.store.session(local, Scope.local("from-the-cli"))

    for me, mine, theirs, their_job in ((alice, a_sid, b_sid, None),
                                        (bob, b_sid, a_sid, a_job["id"])):
        assert [s["id"] for s in me.get("/api/sessions").json()] == [mine]
        for foreign in (theirs, cli.id):
            for path in session_paths(foreign):
                r = me.get(path)
                assert (r.status_code, r.json()) == (404, {"detail": "no such session"}), path
            base = f"/api/sessions/{foreign}"
            assert me.post(f"{base}/turns", json={"message": "undo #1"}).status_code == 404
            assert me.post(f"{base}/turns",
                           json={"action": "undo", "artwork": 1}).status_code == 404
            assert me.post(f"{base}/uploads", content=png_bytes()).status_code == 404
        if their_job is not None:
            assert me.get(f"/api/jobs/{their_job}").status_code == 404
            assert me.get(f"/api/jobs/{their_job}/events").status_code == 404
            assert me.delete(f"/api/jobs/{their_job}").status_code == 404

    # Bob cannot take Alice's upload into his own session, nor act on her #1 from his.
    assert bob.post(f"/api/sessions/{b_sid}/turns",
                    json={"uploads": [a_up]}).status_code == 404
    edited = bob.turn(b_sid, "make #1 warmer")  # his own #1, the whale
    assert [(a["ref"], a["version"]) for a in edited["result"]["artifacts"]] == [("#1", 2)]
    bob.turn(b_sid, action="undo", artwork=1)
    # Each sees their own work in full, untouched by the other's.
    [fox] = alice.get(f"/api/sessions/{a_sid}/artworks").json()
    [whale] = bob.get(f"/api/sessions/{b_sid}/artworks").json()
    assert (fox["versions"], fox["head"], whale["versions"], whale["head"]) == (2, 2, 2, 1)
    assert "fox" in fox["title"].lower() and "whale" in whale["title"].lower()
    png = alice.get(fox["thumbnail"])
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    texts = [m["text"] for m in bob.get(f"/api/sessions/{b_sid}/messages").json()]
    assert texts[0] == "paint a blue whale" and not any("fox" in t for t in texts)
    # In the store, each session is its owner's, and the local user's are not theirs.
    assert {s.name for s in studio.store.list_sessions(local)} == {"from-the-cli"}
    assert alice.get("/api/info").json()["user"] == "Alice"
    assert bob.get("/api/info").json() | {"waiting": 0} == {
        "user": "bob", "signed_in": True, "planner": "offline",
        "max_upload_bytes": 30 * 2**20, "waiting": 0}


def test_no_token_or_a_wrong_one_is_refused_once_people_have_tokens(people):
    nobody, url = people["nobody"], people["url"]
    for path in ("/api/sessions", "/api/info", "/static/app.js"):
        assert nobody.get(path).status_code == 401, path
    page = nobody.get("/")
    assert page.status_code == 401 and 'action="/login"' in page.text
    assert "script" not in page.text.lower()
    assert "form-action 'self'" in page.headers["content-security-policy"]
    wrong = Person(url, people["alice_token"][:-2] + "zz")
    assert wrong.get("/api/sessions").status_code == 401
    assert Person(url, SHARED).get("/api/sessions").status_code == 401  # no shared token here


def test_a_revoked_token_is_refused_and_a_new_one_opens_the_same_work(people, studio):
    alice, url = people["alice"], people["url"]
    sid = alice.session("sketches")
    alice.turn(sid, "paint a fox in the snow")

    assert studio.store.revoke_web_user("alice") == 1

    for path in ("/api/sessions", f"/api/sessions/{sid}/artworks", "/api/info"):
        r = alice.get(path)
        assert r.status_code == 401, path
        assert "not valid" in r.json()["detail"]
    assert alice.post(f"/api/sessions/{sid}/turns", json={"message": "warmer"}).status_code \
        == 401
    assert people["bob"].get("/api/sessions").status_code == 200  # Bob is still in

    _, fresh = studio.store.issue_web_token("alice")
    back = Person(url, fresh)
    assert [s["id"] for s in back.get("/api/sessions").json()] == [sid]
    assert back.get(f"/api/sessions/{sid}/artworks").json()[0]["number"] == 1
    assert Person(url, people["alice_token"]).get("/api/sessions").status_code == 401


def test_the_token_is_not_kept_in_clear_anywhere_in_the_database(people, studio,
                                                                 museforge_home):
    token = people["alice_token"]
    people["alice"].turn(people["alice"].session("s"), "paint a fox")  # in use, then read
    secret = token.split("_", 2)[2]

    with studio.store.engine.connect() as conn:
        [row] = conn.execute(text("SELECT * FROM user_tokens t JOIN users u ON "
                                  "u.id = t.user_id WHERE u.external_id = 'alice'"))
    assert token not in str(tuple(row)) and secret not in str(tuple(row))
    assert row._mapping["digest"].startswith("hmac-sha256:")
    for f in museforge_home.glob("museforge.db*"):  # the file, its WAL and journal
        data = f.read_bytes()
        assert secret.encode() not in data and token.encode() not in data, f.name


def test_one_persons_flood_does_not_refuse_another(people, hold):
    alice, bob = people["alice"], people["bob"]
    a_sid, b_sid = alice.session("flood"), bob.session("calm")
    release = hold()  # someone else's turn holds the only worker

    def post(i: int) -> httpx.Response:
        return alice.post(f"/api/sessions/{a_sid}/turns", json={"message": f"paint fox {i}"})

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(post, range(40)))

    codes = sorted(r.status_code for r in answers)
    assert codes == [202] * 3 + [429] * 37
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.json()["detail"].startswith("busy: you already have 3 requests")
    theirs = bob.post(f"/api/sessions/{b_sid}/turns", json={"message": "paint a whale"})
    assert theirs.status_code == 202, theirs.text
    assert theirs.json()["position"] == 2  # round-robin: after one of Alice's, not her 3
    release.set()
    events = sse(bob.get(theirs.json()["events"]).text)
    assert events[-1][0] == "done"
    for r in answers:
        if r.status_code == 202:
            assert sse(alice.get(r.json()["events"]).text)[-1][0] == "done"


def test_the_page_signs_a_person_in_with_their_token(people):
    url, token = people["url"], people["alice_token"]
    with httpx.Client(base_url=url, timeout=TIMEOUT) as browser:
        origin = {"Origin": url}
        bad = browser.post("/login", data={"token": "nope"}, headers=origin)
        assert bad.status_code == 401 and "not valid" in bad.text
        cross = browser.post("/login", data={"token": token},
                             headers={"Origin": "http://evil.example"})
        assert cross.status_code == 403

        signed = browser.post("/login", data={"token": token}, headers=origin)
        assert signed.status_code == 303 and signed.headers["location"] == "/"
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert browser.get("/").status_code == 200
        assert browser.get("/api/info").json()["user"] == "Alice"

        out = browser.get("/logout")
        assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]
        assert browser.get("/api/info").status_code == 401

        opened = browser.get("/", params={"token": token})  # the address with ?token=
        assert opened.status_code == 303 and "HttpOnly" in opened.headers["set-cookie"]
        assert browser.get("/api/info").json()["user"] == "Alice"


def test_a_cookie_whose_token_was_revoked_is_dropped(people, studio):
    with httpx.Client(base_url=people["url"], timeout=TIMEOUT) as browser:
        browser.get("/", params={"token": people["bob_token"]})
        assert browser.get("/api/info").json()["user"] == "bob"
        studio.store.revoke_web_user("bob")
        page = browser.get("/")
        assert page.status_code == 401 and "not valid" in page.text
        assert "Max-Age=0" in page.headers["set-cookie"]
        assert not browser.cookies.get("museforge_token")


def test_the_shared_token_is_still_the_clis_local_user(studio, serve):
    local = Actor(studio.store.local_user())
    studio.store.session(local, Scope.local("from-the-cli"))
    _, alice_token = studio.store.add_web_user("alice")
    url = serve(studio, SHARED)

    me, alice = Person(url, SHARED), Person(url, alice_token)
    assert [s["name"] for s in me.get("/api/sessions").json()] == ["from-the-cli"]
    assert me.get("/api/info").json()["signed_in"] is False
    assert alice.get("/api/sessions").json() == []
    sid = me.session("web-made")
    assert studio.store.local_session(local, "web-made").id == sid  # the CLI's session
    assert Person(url).get("/api/sessions").status_code == 401


def test_without_tokens_the_loopback_page_is_still_the_local_user(studio, serve):
    url = serve(studio)
    assert Person(url).get("/api/info").json() == {
        "user": "you", "signed_in": False, "planner": "offline",
        "max_upload_bytes": 30 * 2**20, "waiting": 0}
    _, token = studio.store.add_web_user("alice")  # from now on, everyone needs a token
    assert Person(url).get("/api/info").status_code == 401
    assert Person(url, token).get("/api/info").json()["user"] == "alice"


def test_serving_beyond_loopback_needs_a_shared_token_or_peoples_tokens(studio):
    with pytest.raises(ServeError, match="users add"):
        check_bind("0.0.0.0", None)
    check_bind("0.0.0.0", None, accounts=True)
    with pytest.raises(ServeError):
        make_server(studio, "0.0.0.0", free_port())
    studio.store.add_web_user("alice")
    assert make_server(studio, "0.0.0.0", free_port()) is not None


def test_beyond_loopback_nothing_opens_without_a_token_even_after_the_last_is_revoked(
        studio, serve):
    _, token = studio.store.add_web_user("alice")
    url = serve(studio, host="0.0.0.0")
    assert Person(url, token).get("/api/info").json()["user"] == "alice"

    studio.store.revoke_web_user("alice")  # nobody has a token now

    for host in ("127.0.0.1", "localhost"):  # a Host header anyone can send
        r = Person(url).get("/api/sessions", headers={"Host": host})
        assert r.status_code == 401, host


# -- the queue's capacity ---------------------------------------------------------------


@pytest.fixture
def two_workers() -> Iterator[Studio]:
    st = Studio.open(load_settings(workers=2), services=Services(image=ProceduralPainter()))
    yield st
    st.close()


def test_the_queue_holds_200_waiting_turns_per_worker_and_says_how_long(two_workers, serve):
    studio = two_workers
    _, token = studio.store.add_web_user("alice")
    url = serve(studio)
    alice = Person(url, token)
    sid = alice.session("s")
    assert queue_capacity(1) == WAITING_PER_WORKER == 200
    assert studio.queue.max_waiting == queue_capacity(2) == 400

    alice.turn(sid, "paint a fox")  # one measured turn: waits can be estimated from now on
    gates = [threading.Event() for _ in range(2)]
    started = threading.Semaphore(0)

    def occupy(gate: threading.Event) -> Callable[[Any], None]:
        def fn(job: Any) -> None:
            started.release()
            gate.wait(30)
        return fn

    for g in gates:
        studio.queue.jobs.submit(f"holder-{id(g)}", occupy(g))
    for _ in gates:
        assert started.acquire(timeout=5)
    try:
        r = alice.post(f"/api/sessions/{sid}/turns", json={"message": "paint a cat"})
        assert r.status_code == 202
        job = r.json()
        assert job["position"] == 1 and job["wait_s"] >= 1
        for i in range(studio.queue.max_waiting - 1):  # fill the queue, a user per turn
            studio.queue.jobs.submit(f"filler-{i}", lambda job: None)

        full = alice.post(f"/api/sessions/{sid}/turns", json={"message": "paint a dog"})

        assert full.status_code == 429
        detail = full.json()["detail"]
        assert detail.startswith("busy: the queue is full: 400 turns are waiting for 2 "
                                 "workers; a place should free up in about "), detail
        assert 1 <= int(full.headers["retry-after"]) <= 600
    finally:
        for g in gates:
            g.set()
    events = sse(alice.get(job["events"]).text)
    queued = [d for name, d in events if name == "queued"]
    assert queued[0]["wait_s"] >= 1 and "(about " in queued[0]["text"]
    assert events[-1][0] == "done"


# -- the command ------------------------------------------------------------------------


def museforge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MUSEFORGE, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "200"})


def test_users_add_list_token_remove_through_the_real_command(studio, serve):
    url = serve(studio)

    added = museforge("users", "add", "Alice")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert token.startswith("mf_") and len(added.stdout.splitlines()) == 1
    assert "shown this once" in added.stderr
    alice = Person(url, token)
    assert alice.get("/api/info").json()["user"] == "Alice"
    alice.session("from-the-cli-token")

    listed = json.loads(museforge("users", "list", "--json").stdout)
    assert [(p["name"], p["active"], p["sessions"]) for p in listed] == [("Alice", True, 1)]
    assert token not in museforge("users", "list").stdout

    again = museforge("users", "add", "alice")
    assert again.returncode == 1 and "already has an account" in again.stderr
    bad = museforge("users", "add", "no spaces please")
    assert bad.returncode == 2 and "not a name" in bad.stderr
    unknown = museforge("users", "remove", "bob")
    assert unknown.returncode == 1 and "no person called 'bob'" in unknown.stderr

    removed = museforge("users", "remove", "alice")
    assert removed.returncode == 0 and "Revoked" in removed.stdout
    assert alice.get("/api/sessions").status_code == 401
    [gone] = json.loads(museforge("users", "list", "--json").stdout)
    assert gone["active"] is False and gone["revoked"]

    rotated = museforge("users", "token", "alice")
    assert rotated.returncode == 0
    back = Person(url, rotated.stdout.strip())
    assert [s["name"] for s in back.get("/api/sessions").json()] == ["from-the-cli-token"]
    assert alice.get("/api/sessions").status_code == 401
