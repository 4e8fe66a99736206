"""How big a request body may be, checked on the raw ASGI stream before any route runs.

A JSON route's body is read whole and parsed before its schema can refuse it, so a
300 MB body would cost the server gigabytes. Here a declared ``Content-Length`` over the
limit is refused before the app starts, and a body without one (chunked) is counted as
it arrives and refused as soon as it passes the limit, whatever the route was doing
with it. The upload route streams its body to disk under its own, larger limit
(``uploads.Uploads``), so it is left to that."""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from museforge.assistant.jobs import WAITING_PER_WORKER  # the queue's own default, per worker

MAX_BODY_BYTES = 1024 * 1024  # a turn's JSON is a few KB (a message is at most 4,000 chars)
UPLOAD_PATH = re.compile(r"^/api/sessions/[^/]+/uploads/?$")


class BodyTooLarge(Exception):
    """Raised from ``receive`` into the app once the body passes the limit."""


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or UPLOAD_PATH.match(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await refuse(send, f"the request body is {_size(declared)}, over {self._limit()}")
            return
        received = 0
        refused = False  # the body passed the limit: the answer is ours, not the app's
        started = False  # a response has begun (the app's, or our refusal)

        async def counted() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    raise BodyTooLarge(received)
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if refused:  # whatever the app answers to the exception, the answer is 413
                if not started:
                    started = True
                    await refuse(send, self._streamed())
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except BodyTooLarge:
            pass
        if refused and not started:
            await refuse(send, self._streamed())

    def _limit(self) -> str:
        return (f"the {_size(self.max_bytes)} limit for JSON requests (files go to "
                "POST /api/sessions/ID/uploads)")

    def _streamed(self) -> str:
        return f"the request body went past {self._limit()}"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


def _size(size: int) -> str:
    if size < 2**20:
        return f"{size / 1024:g} KB" if size % 1024 == 0 else f"{size:,} bytes"
    mb = size / 2**20
    return f"{mb:.0f} MB" if mb >= 10 or mb == int(mb) else f"{mb:.1f} MB"


async def refuse(send: Send, text: str) -> None:
    body = json.dumps({"detail": text}).encode()
    # The rest of the body is never read, so the connection cannot carry another request.
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


def queue_capacity(workers: int) -> int:
    """How many turns may wait in a queue that ``workers`` workers drain:
    ``WAITING_PER_WORKER`` each (200 for the default single worker, as before)."""
    return WAITING_PER_WORKER * max(1, workers)
