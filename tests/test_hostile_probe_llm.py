"""Hostile OpenAI-compatible servers, scripted on 127.0.0.1 with http.server, driven
through the one door (``Studio.ask``) over a real SQLite file, as the front-ends drive it.

Each case asserts what a person sees: one specific sentence, within the configured
timeout (the client's timeout is per read, so these servers used to keep a turn, and the
worker running it, forever), nothing half stored, and the next turn working."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from museforge.bots.service import Studio, turn_request
from museforge.config import load_settings
from museforge.storage.models import Actor, Scope

TIMEOUT_S = 1.0
# The deadline, the backoff of one retry and a second deadline, with room for a slow CI.
BOUND_S = 2 * TIMEOUT_S + 4.0
MESSAGE = "paint a fox in the snow, watercolor, with a lantern by the old gate please"

Behaviour = Callable[[BaseHTTPRequestHandler, dict[str, Any]], None]


class Hostile:
    """A server that answers every request with ``behaviour``; ``stopping`` ends the
    endless ones once the test is over."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests = 0
        self.stopping = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                size = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(size) or b"{}")
                outer.requests += 1
                try:
                    outer.behaviour(self, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up: what it should do

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


def _completion(content: str = "", tool_calls: list[dict[str, Any]] | None = None) -> bytes:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    return json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                       "choices": [{"index": 0, "message": message,
                                    "finish_reason": "stop"}]}).encode()


def _send(h: BaseHTTPRequestHandler, status: int, body: bytes,
          content_type: str = "application/json") -> None:
    h.send_response(status)
    h.send_header("content-type", content_type)
    h.send_header("content-length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def _start_events(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("content-type", "text/event-stream")
    h.send_header("transfer-encoding", "chunked")
    h.end_headers()


def _event(h: BaseHTTPRequestHandler, payload: bytes) -> None:
    h.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
    h.wfile.flush()


def _delta(delta: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps({
        "id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}).encode() + b"\n\n"


def _forever(server: Hostile, h: BaseHTTPRequestHandler, payload: bytes, every_s: float
             ) -> None:
    _start_events(h)
    while not server.stopping.is_set():
        _event(h, payload)
        time.sleep(every_s)


@pytest.fixture
def door(museforge_home: Any, monkeypatch: pytest.MonkeyPatch
         ) -> Iterator[Callable[[Behaviour, bool], tuple[Hostile, Studio, Actor]]]:
    made: list[tuple[Hostile, Studio]] = []

    def open_door(behaviour: Behaviour, streaming: bool) -> tuple[Hostile, Studio, Actor]:
        server = Hostile(behaviour)
        monkeypatch.setenv("MUSEFORGE_LLM_BASE_URL", server.url)
        monkeypatch.setenv("MUSEFORGE_PLANNER", "llm")
        monkeypatch.setenv("MUSEFORGE_LLM_TIMEOUT_S", str(TIMEOUT_S))
        monkeypatch.setenv("MUSEFORGE_LLM_RETRIES", "1")
        studio = Studio.open(load_settings())
        if streaming:  # what the web and terminal chats set to show the reply as it comes
            studio.assistant.planner.stream_to = lambda delta: None  # type: ignore[attr-defined]
        made.append((server, studio))
        return server, studio, Actor(studio.store.local_user())

    yield open_door
    for server, studio in made:
        server.close()
        studio.close()


def _ask(studio: Studio, actor: Actor, session: str, message: str = MESSAGE
         ) -> tuple[Any, float]:
    info = studio.store.session(actor, Scope.local(session))
    started = time.monotonic()
    result = studio.ask(turn_request(actor, info, message, front_end="cli"))
    return result, time.monotonic() - started


def _nothing_half_stored(studio: Studio, actor: Actor, session: str, reply: str) -> None:
    info = studio.store.session(actor, Scope.local(session))
    assert studio.store.list_artworks(actor, info) == []
    roles = [(m.role, m.text) for m in studio.store.history(actor, info)]
    assert roles == [("user", MESSAGE), ("assistant", reply)]


def _ping(server: Hostile) -> Behaviour:
    return lambda h, body: _forever(server, h, b": ping\n\n", 0.2)


def _empty_deltas(server: Hostile) -> Behaviour:
    return lambda h, body: _forever(server, h, _delta({"content": ""}), 0.05)


def _no_choices(server: Hostile) -> Behaviour:
    chunk = (b'data: {"id":"x","object":"chat.completion.chunk","created":0,"model":"m",'
             b'"choices":[]}\n\n')
    return lambda h, body: _forever(server, h, chunk, 0.05)


def _empty_arguments(server: Hostile) -> Behaviour:
    def behave(h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        _start_events(h)
        _event(h, _delta({"tool_calls": [{"index": 0, "id": "c0", "type": "function",
                                          "function": {"name": "undo", "arguments": ""}}]}))
        while not server.stopping.is_set():
            _event(h, _delta({"tool_calls": [{"index": 0, "function": {"arguments": ""}}]}))
            time.sleep(0.02)
    return behave


def _trickled_json(server: Hostile) -> Behaviour:
    def behave(h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        h.send_response(200)
        h.send_header("content-type", "application/json")
        h.send_header("content-length", "1000000")
        h.end_headers()
        while not server.stopping.is_set():
            h.wfile.write(b" ")
            h.wfile.flush()
            time.sleep(0.3)
    return behave


ENDLESS = {"sse-pings": _ping, "empty-deltas": _empty_deltas, "no-choices": _no_choices,
           "empty-arguments": _empty_arguments, "trickled-json": _trickled_json}


@pytest.mark.parametrize("streaming", [False, True], ids=["plain", "streaming"])
@pytest.mark.parametrize("kind", list(ENDLESS))
def test_an_answer_that_never_ends_is_cut_at_the_timeout(door, kind, streaming):
    holder: dict[str, Hostile] = {}
    server, studio, me = door(lambda h, body: ENDLESS[kind](holder["s"])(h, body), streaming)
    holder["s"] = server

    result, took = _ask(studio, me, "endless")

    assert took < BOUND_S, f"{kind} took {took:.1f} s"
    assert result.reply.startswith(f"I couldn't reach the model at {server.url}")
    assert f"no answer within {TIMEOUT_S:g} s" in result.reply
    assert result.calls == []
    _nothing_half_stored(studio, me, "endless", result.reply)


def test_another_person_is_answered_while_one_answer_never_ends(door, museforge_home):
    """A shared bot: ann's request to a server that streams pings forever does not hold
    bob's turn (the offline fast path: "undo"), and ann's next turn is answered."""
    holder: dict[str, Hostile] = {}
    server, studio, ann = door(lambda h, body: _ping(holder["s"])(h, body), False)
    holder["s"] = server
    bob = Actor(studio.store.user("web", "bob", "Bob"))
    results: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: results.update(ann=_ask(studio, ann, "a")))
    worker.start()
    time.sleep(0.3)  # ann's request is being streamed to

    bob_result, bob_took = _ask(studio, bob, "b", "undo")
    worker.join(BOUND_S + 5)

    assert not worker.is_alive()
    assert bob_took < 5.0
    assert "nothing to undo" in bob_result.reply.lower() or bob_result.calls
    ann_result, ann_took = results["ann"]
    assert ann_took < BOUND_S
    assert "no answer within" in ann_result.reply


def test_an_answer_of_hundreds_of_megabytes_is_refused_unread(door):
    """The SDK read a whole body into memory before parsing it: 200 MB of words took the
    process to ~950 MB. Past 16 MB the answer is refused, not retried."""
    sent: list[int] = []
    claimed = 200 * 2**20

    def behave(h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        h.send_response(200)
        h.send_header("content-type", "application/json")
        h.send_header("content-length", str(claimed))
        h.end_headers()
        h.wfile.write(b'{"id":"x","object":"chat.completion","choices":[{"index":0,'
                      b'"message":{"role":"assistant","content":"')
        block = b"y" * 2**20
        for _ in range(200):
            h.wfile.write(block)
            sent.append(len(block))

    server, studio, me = door(behave, False)
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result, took = _ask(studio, me, "big")
    grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before

    assert result.reply == (f"I couldn't reach the model at {server.url}: its answer was "
                            "over 16 MB long")
    assert server.requests == 1  # not asked again
    assert grew < 150 * 2**20, f"peak memory grew by {grew / 2**20:.0f} MB"
    assert took < BOUND_S
    _nothing_half_stored(studio, me, "big", result.reply)


@pytest.mark.parametrize("streaming", [False, True], ids=["plain", "streaming"])
def test_a_stream_that_stalls_after_its_first_words_is_cut(door, streaming):
    def behave(h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        if not body.get("stream"):
            _send(h, 200, _completion("I will"))
            return
        _start_events(h)
        _event(h, _delta({"role": "assistant", "content": "I will"}))
        time.sleep(TIMEOUT_S * 3)

    server, studio, me = door(behave, streaming)
    result, took = _ask(studio, me, "stall")

    assert took < BOUND_S
    if streaming:
        assert "no answer within" in result.reply
    else:
        assert result.reply == "I will"


def test_the_next_turn_after_a_hostile_answer_works(door):
    """A server that streams pings forever on the first request and answers the second:
    the first turn is cut and said, the second runs its tool."""
    holder: dict[str, Hostile] = {}
    seen: list[int] = []

    def behave(h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        seen.append(1)
        if len(seen) <= 2:  # the first try and its retry
            _ping(holder["s"])(h, body)
            return
        call = {"id": "c0", "type": "function",
                "function": {"name": "list_artworks", "arguments": "{}"}}
        _send(h, 200, _completion("", [call]) if len(seen) == 3
              else _completion("Nothing yet."))

    server, studio, me = door(behave, False)
    holder["s"] = server
    first, took = _ask(studio, me, "again")
    second, _ = _ask(studio, me, "again", "what have we made so far in this chat?")

    assert "no answer within" in first.reply and took < BOUND_S
    assert [(c.name, c.ok) for c in second.calls] == [("list_artworks", True)]
