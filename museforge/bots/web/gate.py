"""Who may talk to the web chat, checked before any route runs.

Without a token the app is the local user's own page: it answers only requests whose
Host is localhost (so a web page elsewhere cannot reach it by DNS rebinding). With a token
every request must carry it: ``Authorization: Bearer TOKEN``, or the cookie the page gets
when opened once as ``/?token=TOKEN``. Either way a state-changing request from another
origin is refused (no cross-site requests)."""

from __future__ import annotations

import hmac
import json
from urllib.parse import parse_qs, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "museforge_token"
LOCAL_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Gate:
    def __init__(self, app: ASGIApp, token: str | None):
        self.app = app
        self.token = token or None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        path, method = scope.get("path", "/"), scope.get("method", "GET")
        problem = self._problem(headers, host, method)
        if problem is not None:
            await _respond(send, 403, problem, path)
            return
        if self.token is not None:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            if path == "/" and "token" in query:
                await self._welcome(send, query["token"][0])
                return
            if not self._carries_token(headers):
                await _respond(send, 401, "this museforge needs its token: open the address "
                               "`museforge serve` printed (it ends in ?token=...), or send "
                               "'Authorization: Bearer TOKEN'", path)
                return
        await self.app(scope, receive, _nosniff(send))

    def _problem(self, headers: dict[str, str], host: str, method: str) -> str | None:
        if self.token is None and urlsplit(f"//{host}").hostname not in LOCAL_NAMES:
            return (f"this museforge answers only on localhost (not '{host}'); to serve "
                    "other hosts, set MUSEFORGE_WEB_TOKEN")
        if method not in SAFE_METHODS:
            origin = headers.get("origin")
            if origin is not None and urlsplit(origin).netloc != host:
                return "requests from other sites are refused"
            if headers.get("sec-fetch-site") == "cross-site":
                return "requests from other sites are refused"
        return None

    def _carries_token(self, headers: dict[str, str]) -> bool:
        assert self.token is not None
        given = ""
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        else:
            for part in headers.get("cookie", "").split(";"):
                name, _, value = part.strip().partition("=")
                if name == COOKIE:
                    given = value
        return bool(given) and hmac.compare_digest(given.encode(), self.token.encode())

    async def _welcome(self, send: Send, given: str) -> None:
        """``/?token=...``: a right token becomes an HttpOnly cookie; the address bar then
        loses it (a redirect to ``/``)."""
        assert self.token is not None
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            await _respond(send, 401, "wrong token", "/")
            return
        cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
        await send({"type": "http.response.start", "status": 303,
                    "headers": [(b"location", b"/"), (b"set-cookie", cookie.encode()),
                                (b"cache-control", b"no-store"), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


def _nosniff(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(k.lower() == b"x-content-type-options" for k, _ in headers):
                headers.append((b"x-content-type-options", b"nosniff"))
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


async def _respond(send: Send, status: int, text: str, path: str) -> None:
    if path.startswith("/api"):
        body, kind = json.dumps({"detail": text}).encode(), b"application/json"
    else:
        body, kind = text.encode(), b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})
