"""A real OpenAI Images API server on 127.0.0.1: ``/v1/images/generations`` (JSON) and
``/v1/images/edits`` (multipart, with the image and mask files). It records every request
and answers with scripted errors, or else with solid-colour PNGs in base64, ``n`` of them
at the size asked (an edit at ``size: auto``, or without one, gets the uploaded image's
size), as the API does.

    stub = ImagesStub()                 # started; stub.url is the base URL ("…/v1")
    stub.script(error(400, "content_policy_violation", "rejected by the safety system"))
    ...
    stub.requests[0].fields["size"]     # what the client sent
    stub.requests[0].files["mask"]      # the mask's PNG bytes
    stub.close()
"""

from __future__ import annotations

import base64
import io
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image

PALETTE = [(200, 40, 40), (40, 160, 70), (40, 80, 200), (230, 185, 60), (130, 60, 170)]


@dataclass
class Answer:
    status: int = 200
    code: str | None = None
    message: str = "scripted"
    headers: dict[str, str] = field(default_factory=dict)
    hang_s: float = 0.0  # wait this long before answering (past the client's timeout)
    revised_prompt: str | None = None


def error(status: int, code: str | None = None, message: str = "scripted",
          **headers: str) -> Answer:
    return Answer(status=status, code=code, message=message, headers=headers)


def hang(seconds: float) -> Answer:
    return Answer(hang_s=seconds)


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    fields: dict[str, Any]  # the JSON body, or the multipart form's text fields
    files: dict[str, bytes] = field(default_factory=dict)  # multipart files by field name


class ImagesStub:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.answers: deque[Answer] = deque()
        self.colors: list[tuple[int, int, int]] = []  # of every image sent, in order
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

    def record(self, request: Request) -> Answer:
        with self._lock:
            self.requests.append(request)
            return self.answers.popleft() if self.answers else Answer()

    def images(self, n: int, size: tuple[int, int]) -> list[str]:
        with self._lock:
            colors = [PALETTE[(len(self.colors) + i) % len(PALETTE)] for i in range(n)]
            self.colors += colors
        return [base64.b64encode(_png(Image.new("RGB", size, c))).decode() for c in colors]

    def close(self) -> None:
        self.stopping.set()  # lets a hanging answer give up
        self._server.shutdown()
        self._server.server_close()


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """(text fields, files) of a multipart/form-data body."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if part.get_filename() is not None:
            files[str(name)] = payload
        else:
            fields[str(name)] = payload.decode()
    return fields, files


def _size(fields: dict[str, Any], files: dict[str, bytes]) -> tuple[int, int]:
    size = str(fields.get("size") or "auto")
    if size != "auto":
        w, h = size.split("x")
        return int(w), int(h)
    if "image" in files:
        with Image.open(io.BytesIO(files["image"])) as im:
            return im.size
    return 1024, 1024


def _handler(stub: ImagesStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep pytest output quiet
            pass

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            content_type = self.headers.get("Content-Type", "")
            files: dict[str, bytes] = {}
            if self.path == "/v1/images/generations":
                fields = json.loads(raw or b"{}")
            elif self.path == "/v1/images/edits":
                fields, files = parse_multipart(content_type, raw)
            else:
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = stub.record(Request(self.path, headers, fields, files))
            if answer.hang_s and stub.stopping.wait(answer.hang_s):
                return
            try:
                if answer.status != 200:
                    self._json(answer.status, {"error": {
                        "message": answer.message, "type": "invalid_request_error",
                        "param": None, "code": answer.code}}, answer.headers)
                    return
                n = int(fields.get("n") or 1)
                data: list[dict[str, Any]] = [
                    {"b64_json": b64} for b64 in stub.images(n, _size(fields, files))]
                if answer.revised_prompt:
                    for item in data:
                        item["revised_prompt"] = answer.revised_prompt
                self._json(200, {"created": 0, "data": data})
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

    return Handler
