"""Who may talk to the web chat, and as whom, checked before any route runs.

There are three kinds of credential, and each request is one person:

- none: the local user's own page (the CLI's user and sessions), answered only by a
  server bound to a loopback address (``open_local``) that has no ``MUSEFORGE_WEB_TOKEN``
  while nobody has a token of their own, and only to requests whose Host is localhost
  (so a web page elsewhere cannot reach it by DNS rebinding). A server bound beyond
  loopback never answers without a token, even after the last person's is revoked;
- the shared ``MUSEFORGE_WEB_TOKEN``: the local user too (a one-person deployment);
- a person's own token (``museforge users add NAME``): that person, with their own
  sessions, artworks and place in the queue; a revoked one is refused (401).

A token is sent as ``Authorization: Bearer TOKEN``, or as the HttpOnly cookie the page
gets when opened once as ``/?token=TOKEN`` or signed in on the page's sign-in form
(``POST /login``). Whatever the credential, a state-changing request from another origin
is refused (no cross-site requests). The person is put in the request's scope under
``ACTING_USER`` for the routes (``deps``)."""

from __future__ import annotations

import hmac
import html
import json
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from museforge.storage.models import UserRef

COOKIE = "museforge_token"
ACTING_USER = "museforge.user"
LOCAL_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_LOGIN_BYTES = 4096
NEEDS_TOKEN = ("this museforge needs a token: open the address `museforge serve` printed (it "
               "ends in ?token=...) or the one `museforge users add` gave you, or send "
               "'Authorization: Bearer TOKEN'")
BAD_TOKEN = ("that token is not valid (mistyped, or revoked: `museforge users token NAME` "
             "gives a new one)")
# The sign-in page is a form and nothing else: no script, no style, no other origin.
SIGN_IN_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; form-action 'self'; base-uri 'none'; "
                                 b"frame-ancestors 'none'"),
    # not no-referrer: with it the form's POST would say 'Origin: null', refused as
    # another site's
    (b"referrer-policy", b"same-origin"),
]


class Gate:
    def __init__(self, app: ASGIApp, token: str | None, local: UserRef | None = None,
                 authenticate: Callable[[str], UserRef | None] | None = None,
                 accounts_exist: Callable[[], bool] | None = None, open_local: bool = True):
        self.app = app
        self.token = token or None
        self.open_local = open_local
        self.local = local
        self.authenticate = authenticate
        self.accounts_exist = accounts_exist

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        path, method = scope.get("path", "/"), scope.get("method", "GET")
        if method not in SAFE_METHODS and _cross_site(headers, host):
            await _respond(send, 403, "requests from other sites are refused", path)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if path == "/" and "token" in query:
            await self._sign_in(send, query["token"][0])
            return
        if path == "/login" and method == "POST":
            await self._sign_in(send, await _form_token(receive))
            return
        if path == "/logout":
            await _redirect(send, _clear_cookie())
            return
        given, from_cookie = _given(headers)
        if given:
            user = await self._identify(given)
            if user is None:  # the page drops a dead cookie and says why (the API keeps
                # it, so the page it sends back to "/" still can)
                await _refuse(send, BAD_TOKEN, path, clear_cookie=from_cookie and path == "/")
                return
        elif self.token is None and self.open_local and not await self._accounts():
            if urlsplit(f"//{host}").hostname not in LOCAL_NAMES:
                await _respond(send, 403, f"this museforge answers only on localhost (not "
                               f"'{host}'); to serve other hosts, set MUSEFORGE_WEB_TOKEN or "
                               "give each person a token (museforge users add NAME)", path)
                return
            user = self.local
        else:
            await _refuse(send, NEEDS_TOKEN, path)
            return
        scope[ACTING_USER] = user
        await self.app(scope, receive, _nosniff(send))

    async def _identify(self, given: str) -> UserRef | None:
        """The person a token stands for: the shared token is the local user."""
        if self.token is not None and hmac.compare_digest(given.encode(), self.token.encode()):
            return self.local
        if self.authenticate is None:
            return None
        return await run_in_threadpool(self.authenticate, given)

    async def _accounts(self) -> bool:
        if self.accounts_exist is None:
            return False
        return await run_in_threadpool(self.accounts_exist)

    async def _sign_in(self, send: Send, given: str) -> None:
        """A right token becomes an HttpOnly cookie and the page opens (a redirect to
        ``/``, so the address bar loses a token given in it)."""
        given = given.strip()
        if not given or await self._identify(given) is None:
            await _refuse(send, BAD_TOKEN, "/")
            return
        await _redirect(send, f"{COOKIE}={given}; HttpOnly; SameSite=Strict; Path=/")


def _cross_site(headers: dict[str, str], host: str) -> bool:
    origin = headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != host:
        return True
    return headers.get("sec-fetch-site") == "cross-site"


def _given(headers: dict[str, str]) -> tuple[str, bool]:
    """(the token the request carries, whether it came in the cookie)."""
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip(), False
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value, True
    return "", False


async def _form_token(receive: Receive) -> str:
    """The ``token`` field of the sign-in form (a small urlencoded body, read here: this
    runs before the body limit)."""
    body, more = b"", True
    while more and len(body) <= MAX_LOGIN_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return ""
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if len(body) > MAX_LOGIN_BYTES:
        return ""
    values = parse_qs(body.decode("latin-1"))
    return values.get("token", [""])[0]


def _clear_cookie() -> str:
    return f"{COOKIE}=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/"


async def _redirect(send: Send, cookie: str) -> None:
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


async def _refuse(send: Send, text: str, path: str, clear_cookie: bool = False) -> None:
    """401: the page answers with its sign-in form; the API and files with the sentence.
    A cookie that no longer works is dropped, so the next visit starts clean."""
    extra = [(b"set-cookie", _clear_cookie().encode())] if clear_cookie else []
    if path == "/":
        await _respond(send, 401, text, path, page=sign_in_page(text), extra=extra)
    else:
        await _respond(send, 401, text, path, extra=extra)


def sign_in_page(text: str) -> str:
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>museforge — sign in</title></head>\n<body><main>\n<h1>museforge</h1>\n"
        f"<p id=\"why\">{html.escape(text)}</p>\n"
        "<form method=\"post\" action=\"/login\" autocomplete=\"off\">\n"
        "<label for=\"token\">Your token</label>\n"
        "<input id=\"token\" name=\"token\" type=\"password\" required autofocus "
        "spellcheck=\"false\">\n<button type=\"submit\">Sign in</button>\n</form>\n"
        "<p>It is the token <code>museforge users add YOUR-NAME</code> printed for you (or "
        "the server's MUSEFORGE_WEB_TOKEN). The browser keeps it until it is closed; "
        "<a href=\"/logout\">/logout</a> forgets it sooner.</p>\n</main></body></html>\n")


async def _respond(send: Send, status: int, text: str, path: str, *, page: str | None = None,
                   extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = list(extra or [])
    if page is not None:
        body, kind = page.encode(), b"text/html; charset=utf-8"
        headers += SIGN_IN_HEADERS
    elif path.startswith("/api"):
        body, kind = json.dumps({"detail": text}).encode(), b"application/json"
    else:
        body, kind = text.encode(), b"text/plain; charset=utf-8"
    headers += [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
