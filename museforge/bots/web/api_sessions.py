"""Reading routes: sessions, their messages, artworks, version trees, files and export.
Each goes through the store with the acting user, so what is out of reach is 404."""

from __future__ import annotations

import mimetypes
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from museforge.bots import exports as scores
from museforge.bots.web.deps import WebDep
from museforge.bots.web.schemas import (
    ArtworkOut,
    MessageOut,
    SessionIn,
    SessionOut,
    VersionOut,
)
from museforge.bots.web.views import artwork_out, messages_out, session_out, version_out
from museforge.storage.errors import NotFound
from museforge.storage.export import export_session, zip_export

router = APIRouter(prefix="/api")
MIME = {"png": "image/png", "ogg": "audio/ogg", "wav": "audio/wav", "mid": "audio/midi",
        "abc": scores.MIME["abc"], "musicxml": scores.MIME["musicxml"]}
MXL = "application/vnd.recordare.musicxml"  # compressed MusicXML (a zip)
DOWNLOADED = ("mid", "abc", "musicxml")  # saved, not shown in the page
SessionId = Annotated[int, PathParam(ge=1, description="A session id from GET /api/sessions.")]
Number = Annotated[int, PathParam(ge=1, description="The artwork's number, N of '#N'.")]
VersionNo = Annotated[int, PathParam(ge=1, description="The version's number, M of 'vM'.")]


@router.get("/sessions", tags=["sessions"])
def list_sessions(web: WebDep) -> list[SessionOut]:
    """Your conversations, the most recently active first (the local user's are the
    CLI's too)."""
    return [session_out(s) for s in web.store.list_sessions(web.actor)]


@router.post("/sessions", status_code=status.HTTP_201_CREATED, tags=["sessions"])
def open_session(body: SessionIn, web: WebDep) -> SessionOut:
    """Open the session called ``name``, creating it if new (for the local user, the same
    session as ``museforge chat --session NAME``; a person's sessions are their own)."""
    name = " ".join(body.name.split())
    return session_out(web.store.session(web.actor, web.scope(name)))


@router.get("/sessions/{session_id}", tags=["sessions"])
def get_session(session_id: SessionId, web: WebDep) -> SessionOut:
    return session_out(web.session(session_id))


@router.get("/sessions/{session_id}/messages", tags=["sessions"])
def list_messages(session_id: SessionId, web: WebDep,
                  limit: Annotated[int, Query(ge=1, le=2000)] = 300) -> list[MessageOut]:
    """The conversation, oldest first; each reply lists the artworks it showed."""
    return messages_out(web.store, web.actor, web.session(session_id), limit)


Kind = Annotated[str | None, Query(pattern="^(image|music|audio)$",
                                   description="Only pictures, pieces or clips.")]


@router.get("/sessions/{session_id}/artworks", tags=["artworks"])
def list_artworks(session_id: SessionId, web: WebDep, kind: Kind = None) -> list[ArtworkOut]:
    session = web.session(session_id)
    return [artwork_out(session.id, a) for a in web.store.list_artworks(web.actor, session, kind)]


@router.get("/sessions/{session_id}/artworks/{number}", tags=["artworks"])
def get_artwork(session_id: SessionId, number: Number, web: WebDep) -> ArtworkOut:
    session = web.session(session_id)
    return artwork_out(session.id, web.store.artwork(web.actor, session, number))


@router.get("/sessions/{session_id}/artworks/{number}/versions", tags=["artworks"])
def list_versions(session_id: SessionId, number: Number, web: WebDep) -> list[VersionOut]:
    """Every version of ``#number`` in the order they were made; ``parent`` links them
    into a tree and ``head`` marks the current one."""
    session = web.session(session_id)
    art = web.store.artwork(web.actor, session, number)
    return [version_out(session.id, v, art.head_number)
            for v in web.store.versions(web.actor, session, number)]


@router.get("/sessions/{session_id}/artworks/{number}/versions/{version}/files/{role}",
            tags=["artworks"], response_class=FileResponse,
            responses={200: {"content": {m: {} for m in MIME.values()},
                             "description": "The file's bytes."}})
def get_file(session_id: SessionId, number: Number, version: VersionNo,
             role: Annotated[str, PathParam(pattern=r"^[a-z0-9_]{1,20}$",
                                            description="png, mid, ogg or wav")],
             web: WebDep) -> FileResponse:
    """One file of one version: the picture (``png``), a piece's ``mid``, ``ogg``
    (audio) and ``png`` (piano roll), or a clip's ``wav``, ``ogg`` and ``png`` (waveform
    and spectrogram)."""
    session = web.session(session_id)
    found = [v for v in web.store.versions(web.actor, session, number) if v.number == version]
    path = found[0].files.get(role) if found else None
    if path is None or not path.is_file():
        raise NotFound(f"#{number} v{version} has no {role} file")
    mime = MIME.get(role) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    suffix = f".{role}" if role in ("abc", "musicxml") else path.suffix
    if role == "musicxml" and _zipped(path):  # a .mxl as it was sent
        mime, suffix = MXL, ".mxl"
    # A version's files never change: its number is never reused.
    headers = {"Cache-Control": "private, max-age=86400, immutable"}
    inline = "attachment" if role in DOWNLOADED else "inline"
    return FileResponse(path, media_type=mime, headers=headers,
                        filename=f"museforge-{number}-v{version}{suffix}",
                        content_disposition_type=inline)


def _zipped(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"PK\x03\x04"


@router.get("/sessions/{session_id}/exports/{name}", tags=["artworks"],
            response_class=FileResponse,
            responses={200: {"content": {m: {} for m in scores.MIME.values()},
                             "description": "The score's bytes."}})
def get_export(session_id: SessionId,
               name: Annotated[str, PathParam(pattern=scores.FILE_NAME.pattern,
                                              description="A download's name, e.g. "
                                                          "'2-v1-my-tune.musicxml'.")],
               web: WebDep) -> FileResponse:
    """A score that ``export_music`` wrote in this session (ABC, MusicXML or MIDI), as
    its reply linked it; anything the session's conversation did not export is 404."""
    session = web.session(session_id)
    calls = [c for m in web.store.history(web.actor, session) if m.role == "assistant"
             for c in m.tool_calls if isinstance(c, dict)]
    found = [e for e in scores.exports(calls, web.store.home) if e.name == name]
    if not found:
        raise NotFound(f"this session exported no {name}")
    return FileResponse(found[-1].path, media_type=scores.MIME[found[-1].format],
                        filename=name, content_disposition_type="attachment",
                        headers={"Cache-Control": "private, no-cache"})


@router.get("/sessions/{session_id}/export", tags=["sessions"], response_class=FileResponse,
            responses={200: {"content": {"application/zip": {}},
                             "description": "index.html and every file, zipped."}})
def export(session_id: SessionId, web: WebDep) -> FileResponse:
    """The whole session as a zip: every file and an ``index.html`` gallery."""
    session = web.session(session_id)
    work = Path(tempfile.mkdtemp(prefix="museforge-export-"))
    try:
        export_session(web.store.export_data(web.actor, session), work / "session")
        zipped = zip_export(work / "session", work / "session.zip")
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return FileResponse(zipped, media_type="application/zip",
                        filename=f"museforge-{session.id}.zip",
                        background=BackgroundTask(shutil.rmtree, work, ignore_errors=True))
