"""Running the web chat (``museforge serve``): uvicorn over ``create_app``.

On a loopback address it is the local user's own page; anywhere else it needs a token
(``MUSEFORGE_WEB_TOKEN``) or people with tokens of their own (``museforge users add
NAME``), or it refuses to start. ``make_server`` gives the uvicorn
server itself, for running it beside the Discord bot on one event loop and one queue
(``await server.serve()``)."""

from __future__ import annotations

import ipaddress
from typing import Any

from museforge.bots.service import Studio
from museforge.bots.web.app import create_app
from museforge.config import Settings

TOKEN_ENV = "MUSEFORGE_WEB_TOKEN"


class ServeError(Exception):
    """The server cannot start as asked (one line for the user)."""


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the web chat until Ctrl-C."""
    token = web_token(settings)
    if token is not None or is_loopback(host):
        check_bind(host, token)  # before the studio opens: a bad token fails at once
    studio = Studio.open(settings)
    try:
        server = make_server(studio, host, port, token)
        print(f"museforge web chat on {address(host, port, token)}  (Ctrl-C stops it)",
              flush=True)
        if studio.store.web_accounts_exist():
            print("people sign in with the token `museforge users add NAME` gave them",
                  flush=True)
        server.run()
    finally:
        studio.close()


def make_server(studio: Studio, host: str = "127.0.0.1", port: int = 8000,
                token: str | None = None) -> Any:
    """A ``uvicorn.Server`` for the web chat over ``studio`` (not started)."""
    import uvicorn

    check_bind(host, token, accounts=studio.store.web_accounts_exist())
    app = create_app(studio, token=token, open_local=is_loopback(host))
    config = uvicorn.Config(app, host=host, port=port,
                            log_level="warning", timeout_graceful_shutdown=3,
                            proxy_headers=False)
    return uvicorn.Server(config)


def web_token(settings: Settings) -> str | None:
    """``MUSEFORGE_WEB_TOKEN`` (``settings.web_token``), stripped; None when unset."""
    value = settings.web_token.get_secret_value() if settings.web_token else ""
    return value.strip() or None


def is_loopback(host: str) -> bool:
    if host.strip("[]") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None, *, accounts: bool = False) -> None:
    """Refuse a bind that would open the local user's page to the network: beyond
    loopback, the shared token or people's own tokens (``accounts``) are needed."""
    if token is None and not accounts and not is_loopback(host):
        raise ServeError(f"serving on {host} would show your sessions to anyone who can reach "
                         f"this machine; set {TOKEN_ENV} to a long random string (the page is "
                         "then opened once with ?token=...), give each person a token "
                         "(museforge users add NAME), or bind 127.0.0.1")
    if token is not None and len(token) < 16:
        raise ServeError(f"{TOKEN_ENV} is too short to guess-proof; use 16 characters or "
                         "more (e.g. python -c 'import secrets; print(secrets.token_urlsafe())')")


def address(host: str, port: int, token: str | None) -> str:
    shown = "<this machine's address>" if host in ("0.0.0.0", "::") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
