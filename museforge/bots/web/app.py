"""The web chat: a FastAPI app over one ``Studio`` (store, assistant, fair job queue).

``/`` is the chat page (plain HTML, CSS and JS from ``static/``, no build step); it uses
only the JSON API under ``/api``, which ``/docs`` documents. The app translates; the
assistant decides."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from museforge.bots.service import QueueFull, Studio
from museforge.bots.web import api_sessions, api_turns
from museforge.bots.web.deps import Web
from museforge.bots.web.gate import Gate
from museforge.bots.web.jobs import WebJobs
from museforge.bots.web.limits import MAX_BODY_BYTES, BodyLimit
from museforge.bots.web.uploads import MAX_UPLOAD_BYTES, UploadRefused, Uploads
from museforge.storage.errors import NotFound, StorageError
from museforge.storage.models import Actor

STATIC = Path(__file__).with_name("static")
# The page runs only its own script and talks only to its own server: even text that
# slipped into the DOM as markup could not run.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
        "media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def create_app(studio: Studio, *, token: str | None = None,
               max_upload_bytes: int = MAX_UPLOAD_BYTES,
               max_body_bytes: int = MAX_BODY_BYTES, open_local: bool = True) -> FastAPI:
    """The web chat for ``studio``. Without ``token``, and while nobody has a token of
    their own (``museforge users add``), it serves only the local user on localhost; with
    one, every request must carry it, or a person's own token (see ``gate``); with
    ``open_local=False`` (a server bound beyond loopback) every request needs one. A request
    body over ``max_body_bytes`` is refused before it is read (uploads have their own
    limit; see ``limits``). The shared queue may hold ``limits.queue_capacity`` waiting
    turns for its number of workers."""
    uploads = Uploads(max_upload_bytes)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        uploads.close()

    app = FastAPI(title="museforge web chat", version=_version(), lifespan=lifespan,
                  description="Talk to museforge: sessions, turns (with server-sent "
                              "progress), artworks, version trees and their files.")
    actor = Actor(studio.store.local_user())
    jobs = WebJobs(studio, uploads)
    studio.queue.max_waiting = jobs.capacity()
    app.state.web = Web(studio, actor, jobs, uploads)
    app.include_router(api_sessions.router)
    app.include_router(api_turns.router)
    _errors(app)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(Gate, token=token, local=actor.user,  # added last, so it runs first
                       authenticate=studio.store.authenticate_web_token,
                       accounts_exist=studio.store.web_accounts_exist, open_local=open_local)
    return app


def _version() -> str:
    try:
        return version("museforge")
    except PackageNotFoundError:
        return "0"


def _errors(app: FastAPI) -> None:
    """The store's and the queue's refusals as HTTP answers with their sentence."""

    @app.exception_handler(NotFound)
    async def not_found(_r: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(StorageError)
    async def refused(_r: Request, exc: StorageError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(QueueFull)
    async def busy(_r: Request, exc: QueueFull) -> JSONResponse:
        retry = getattr(exc, "retry_after", 10)  # jobs.QueueBusy: when a place frees
        return JSONResponse({"detail": f"busy: {exc}"}, status_code=429,
                            headers={"Retry-After": str(retry)})

    @app.exception_handler(UploadRefused)
    async def upload_refused(_r: Request, exc: UploadRefused) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)
