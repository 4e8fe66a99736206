"""A request body is refused with 413 once it passes the JSON limit, before it is parsed:
by its Content-Length before the app reads a byte, and by counting when it comes
chunked. The real server over a real socket keeps its memory while a 300 MB body
arrives."""

from __future__ import annotations

import asyncio
import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from webutil import png_bytes, turn

from museforge.bots.web import create_app
from museforge.bots.web.limits import MAX_BODY_BYTES
from museforge.storage.models import Actor

ROOT = Path(__file__).resolve().parents[3]
CHUNK = 64 * 1024


def asgi_post(app: Any, path: str, chunks: list[bytes], length: int | None) -> dict[str, Any]:
    """POST ``chunks`` to the ASGI ``app`` as a server would hand them over; what came back
    and how many body messages the app asked for."""
    headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")]
    headers.append((b"content-length", str(length).encode()) if length is not None
                   else (b"transfer-encoding", b"chunked"))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80)}
    out: dict[str, Any] = {"reads": 0, "status": None, "headers": {}, "body": b""}

    async def receive() -> dict[str, Any]:
        i = out["reads"]
        out["reads"] += 1
        if i < len(chunks):
            return {"type": "http.request", "body": chunks[i], "more_body": i + 1 < len(chunks)}
        await asyncio.sleep(3600)  # a client that sends nothing more
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    async def run() -> None:
        async with _lifespan(app):
            await asyncio.wait_for(app(scope, receive, send), 30)

    asyncio.run(run())
    return out


class _lifespan:
    """The app's startup and shutdown around the request (the web's state lives there)."""

    def __init__(self, app: Any):
        self.app = app

    async def __aenter__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.task = asyncio.create_task(self.app(scope, self.queue.get, self.sent.put))
        await self.queue.put({"type": "lifespan.startup"})
        assert (await self.sent.get())["type"] == "lifespan.startup.complete"

    async def __aexit__(self, *exc: object) -> None:
        await self.queue.put({"type": "lifespan.shutdown"})
        await self.task


def messages(studio: Any, sid: int) -> list[Any]:
    me = Actor(studio.store.local_user())
    [session] = [s for s in studio.store.list_sessions(me) if s.id == sid]
    return list(studio.store.history(me, session))


def detail(out: dict[str, Any]) -> str:
    return str(json.loads(out["body"])["detail"])


def test_a_declared_body_over_the_limit_is_refused_before_the_app_reads_it(studio, sid):
    app = create_app(studio)
    out = asgi_post(app, f"/api/sessions/{sid}/turns", [b'{"message": "hi"}'],
                    length=300 * 2**20)

    assert out["status"] == 413 and out["reads"] == 0
    assert out["headers"]["content-type"] == "application/json"
    assert detail(out) == ("the request body is 300 MB, over the 1 MB limit for JSON requests "
                           "(files go to POST /api/sessions/ID/uploads)")


def test_a_chunked_body_that_grows_past_the_limit_is_refused_as_it_passes(studio, sid):
    app = create_app(studio)
    body = b'{"message": "' + b"x" * (3 * MAX_BODY_BYTES) + b'"}'
    chunks = [body[i:i + CHUNK] for i in range(0, len(body), CHUNK)]

    out = asgi_post(app, f"/api/sessions/{sid}/turns", chunks, length=None)

    assert out["status"] == 413
    assert detail(out).startswith("the request body went past the 1 MB limit for JSON")
    # It stopped reading at the limit: the rest of the 3 MB was never asked for.
    assert out["reads"] == MAX_BODY_BYTES // CHUNK + 1
    assert messages(studio, sid) == []  # nothing of it was stored
    assert out["headers"].get("connection") == "close"


def test_every_route_is_limited_and_the_refusal_is_not_the_apps_400(studio, sid):
    app = create_app(studio, max_body_bytes=1000)
    chunks = [b'{"name": "' + b"y" * 600, b"y" * 600 + b'"}']

    out = asgi_post(app, "/api/sessions", chunks, length=None)

    assert out["status"] == 413
    assert detail(out).startswith("the request body went past the 1,000 bytes limit")


def test_a_body_under_the_limit_is_parsed_and_a_normal_turn_still_works(client, sid):
    almost = json.dumps({"message": "z" * (MAX_BODY_BYTES - 100)})

    r = client.post(f"/api/sessions/{sid}/turns", content=almost,
                    headers={"content-type": "application/json"})

    assert r.status_code == 422  # read and parsed: the schema refuses a 1 MB message
    assert "4000" in r.text
    job = turn(client, sid, "paint a fox in the snow")
    assert job["result"]["artifacts"][0]["ref"] == "#1"
    over = client.post(f"/api/sessions/{sid}/turns", content=almost + " " * 200,
                       headers={"content-type": "application/json"})
    assert over.status_code == 413 and "1 MB" in over.json()["detail"]


def test_uploads_keep_their_own_larger_limit(client, sid):
    big_png = png_bytes() + b"\0" * (2 * MAX_BODY_BYTES)

    r = client.post(f"/api/sessions/{sid}/uploads", params={"filename": "big.png"},
                    content=big_png)

    assert r.status_code == 201, r.text
    assert r.json()["size"] == len(big_png)


# -- the real server --------------------------------------------------------------------

SERVE = """
import sys
from museforge.bots.service import Studio
from museforge.bots.web.server import make_server
from museforge.config import load_settings
from museforge.models.image.procedural import ProceduralPainter
from museforge.tools.base import Services

studio = Studio.open(load_settings(), services=Services(image=ProceduralPainter()))
make_server(studio, "127.0.0.1", int(sys.argv[1])).run()
"""
BODY_MB = 300
GROWTH_BOUND_MB = 50


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(museforge_home: Path) -> Iterator[tuple[int, int]]:
    """``museforge``'s web server in its own process: (pid, port)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", SERVE, str(port)], env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(300):
            try:
                if request(port, b"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 b"Connection: close\r\n\r\n").startswith(b"HTTP/1.1 200"):
                    break
            except OSError:
                pass
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.1)
        else:
            pytest.fail("the web server did not start")
        yield proc.pid, port
    finally:
        proc.terminate()
        proc.wait(10)


def request(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(raw)
        return read_all(s)


def read_all(s: socket.socket, limit: int = 2**20) -> bytes:
    """What the server sends until it closes (its first ``limit`` bytes are enough)."""
    data = bytearray()
    while len(data) < limit:
        try:
            got = s.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not got:
            break
        data += got
    return bytes(data)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc/PID/status")


def send_big_body(port: int, sid: int, chunked: bool) -> tuple[bytes, int]:
    """POST a turn whose message is 300 MB, a MiB at a time, until the server answers;
    (the answer, how many bytes of the body went out before it came)."""
    opening, piece, closing = b'{"message": "', b"x" * 2**20, b'"}'
    head = (f"POST /api/sessions/{sid}/turns HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\n").encode()
    if chunked:
        head += b"Transfer-Encoding: chunked\r\n\r\n"
    else:
        size = len(opening) + BODY_MB * len(piece) + len(closing)
        head += f"Content-Length: {size}\r\n\r\n".encode()

    def framed(data: bytes) -> bytes:
        return b"%x\r\n%s\r\n" % (len(data), data) if chunked else data

    parts = [head + framed(opening), *[framed(piece)] * BODY_MB,
             framed(closing) + (b"0\r\n\r\n" if chunked else b"")]
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        for part in parts:
            if select.select([s], [], [], 0)[0]:
                break  # the server has answered
            try:
                s.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(part)
        return read_all(s), sent


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_the_server_keeps_its_memory_while_a_300_mb_body_arrives(server, chunked):
    pid, port = server
    name = b'{"name": "memory"}'
    made = request(port, b"POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/json\r\nConnection: close\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(name), name))
    sid = json.loads(made.split(b"\r\n\r\n", 1)[1])["id"]
    before = peak_rss_mb(pid)

    answer, sent = send_big_body(port, sid, chunked)

    grown = peak_rss_mb(pid) - before
    print(f"peak RSS {before:.0f} MB before, +{grown:.1f} MB after; {sent / 2**20:.0f} MB "
          "went out before the answer")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"limit for JSON requests" in answer
    assert grown < GROWTH_BOUND_MB
    # The server still answers.
    assert request(port, b"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Connection: close\r\n\r\n").startswith(b"HTTP/1.1 200")
