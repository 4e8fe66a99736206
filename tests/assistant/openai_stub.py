"""A real OpenAI-compatible chat-completions server on 127.0.0.1 that replays scripted
answers and records every request it was sent. It speaks both plain JSON and, when the
request says ``"stream": true``, server-sent events with content and tool-call deltas
cut into pieces, as OpenAI, vLLM, llama.cpp and Ollama send them.

    stub = OpenAIStub()            # started; stub.url is the base URL ("…/v1")
    stub.script(calls(("undo", {"artwork": "#1"})), say("Done."))
    ...
    stub.requests[0]["tools"]       # what the client sent
    stub.close()

Streamed answers are made as they are sent, so a client that hangs up early (it read
enough) stops the stub too; ``stub.streams`` says, per streamed answer, how many chunks
went out and whether the last one did.
"""

from __future__ import annotations

import json
import queue
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PIECE = 7  # characters per streamed delta: every value arrives split


@dataclass
class Answer:
    """One scripted response. ``tool_calls`` are (name, arguments): a dict is sent as
    JSON, a str as written (to send malformed JSON)."""

    content: str = ""
    tool_calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang_s: float = 0.0  # wait this long before answering (past the client's timeout)
    stall_s: float = 0.0  # streaming: wait this long after the first chunk
    body: str | None = None  # sent as it is, in place of a completion (a broken server)


def say(text: str) -> Answer:
    return Answer(content=text)


def calls(*tool_calls: tuple[str, dict[str, Any] | str], content: str = "") -> Answer:
    return Answer(content=content, tool_calls=list(tool_calls))


def status(code: int, **headers: str) -> Answer:
    return Answer(status=code, headers=headers)


def hang(seconds: float) -> Answer:
    return Answer(hang_s=seconds)


class OpenAIStub:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.answers: deque[Answer] = deque()
        self.streams: queue.Queue[tuple[int, bool]] = queue.Queue()  # (chunks sent, all?)
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *answers: Answer) -> None:
        self.answers.extend(answers)

    def next_answer(self, body: dict[str, Any], headers: dict[str, str]) -> Answer | None:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            return self.answers.popleft() if self.answers else None

    def messages(self, request: int = -1) -> list[dict[str, Any]]:
        return list(self.requests[request]["messages"])

    def close(self) -> None:
        self.stopping.set()  # lets a hanging answer give up
        self._server.shutdown()
        self._server.server_close()


def _handler(stub: OpenAIStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep pytest output quiet
            pass

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            answer = stub.next_answer(body, {k.lower(): v for k, v in self.headers.items()})
            if answer is None:  # 400: the client must not retry it
                self._json(400, {"error": {"message": "the stub has no scripted answer left"}})
                return
            if answer.hang_s and stub.stopping.wait(answer.hang_s):
                return
            try:
                if answer.body is not None:
                    self._raw(answer.body)
                elif answer.status != 200:
                    self._json(answer.status, {"error": {"message": f"scripted {answer.status}",
                                                         "type": "scripted"}}, answer.headers)
                elif body.get("stream"):
                    self._stream(answer, body)
                else:
                    self._json(200, _completion(answer, body))
            except (BrokenPipeError, ConnectionResetError):  # the client gave up
                pass

        def _json(self, code: int, payload: dict[str, Any],
                  headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(data)

        def _raw(self, text: str) -> None:
            data = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, answer: Answer, body: dict[str, Any]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()  # HTTP/1.0: the body ends when the connection closes
            sent, complete = 0, False
            try:
                for n, chunk in enumerate(_chunks(answer, body)):
                    if n == 1 and answer.stall_s and stub.stopping.wait(answer.stall_s):
                        return
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    sent += 1
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                complete = True
            finally:
                stub.streams.put((sent, complete))

    return Handler


def _arguments(args: dict[str, Any] | str) -> str:
    return args if isinstance(args, str) else json.dumps(args)


def _finish(answer: Answer) -> str:
    return "tool_calls" if answer.tool_calls else "stop"


def _completion(answer: Answer, body: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": answer.content or None}
    if answer.tool_calls:
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function",
             "function": {"name": name, "arguments": _arguments(args)}}
            for i, (name, args) in enumerate(answer.tool_calls)]
    return {"id": "chatcmpl-stub", "object": "chat.completion", "created": 0,
            "model": body.get("model", "stub"),
            "choices": [{"index": 0, "message": message, "finish_reason": _finish(answer)}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def _chunks(answer: Answer, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 0,
                "model": body.get("model", "stub"),
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    yield chunk({"role": "assistant", "content": ""})
    text = answer.content
    for i in range(0, len(text), PIECE):
        yield chunk({"content": text[i:i + PIECE]})
    for n, (name, args) in enumerate(answer.tool_calls):
        yield chunk({"tool_calls": [{"index": n, "id": f"call_{n}", "type": "function",
                                     "function": {"name": name, "arguments": ""}}]})
        raw = _arguments(args)
        for i in range(0, len(raw), PIECE):
            yield chunk({"tool_calls": [{"index": n,
                                         "function": {"arguments": raw[i:i + PIECE]}}]})
    yield chunk({}, _finish(answer))
