"""From the store's and the assistant's objects to the API's JSON shapes. Every file
becomes a URL that the asset route answers after the store's access check; no server
path ever leaves the process. ``WebOutput`` is the web's ``assistant.output.Output``."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from museforge.assistant.output import present
from museforge.assistant.turn import TurnResult
from museforge.bots import actions
from museforge.bots.exports import Exported, exports, without_paths
from museforge.bots.web.schemas import (
    ActionOut,
    ArtifactOut,
    ArtworkOut,
    DownloadOut,
    FileError,
    MessageOut,
    SessionOut,
    ToolCallOut,
    TurnOut,
    VersionOut,
)
from museforge.storage.models import Actor, ArtworkInfo, SessionInfo, VersionInfo
from museforge.storage.store import Store
from museforge.tools.base import Artifact

_STORED_REF = re.compile(r"^#(\d+) v(\d+)$")


def file_url(session_id: int, artwork: int, version: int, role: str) -> str:
    return f"/api/sessions/{session_id}/artworks/{artwork}/versions/{version}/files/{role}"


def export_url(session_id: int, name: str) -> str:
    return f"/api/sessions/{session_id}/exports/{name}"


def download_out(session_id: int, e: Exported) -> DownloadOut:
    return DownloadOut(name=e.name, format=e.format, artwork=e.artwork,  # type: ignore[arg-type]
                       version=e.version, url=export_url(session_id, e.name))


def session_out(s: SessionInfo) -> SessionOut:
    return SessionOut(id=s.id, name=s.name, title=s.title, platform=s.platform,
                      artworks=s.artwork_count, created_at=s.created_at)


def artifact_out(session_id: int, a: Artifact) -> ArtifactOut:
    return ArtifactOut(
        artwork=a.artwork, ref=f"#{a.artwork}", version=a.version, kind=a.kind,  # type: ignore[arg-type]
        title=a.title,
        files={role: file_url(session_id, a.artwork, a.version, role) for role in a.files},
        actions=[ActionOut(action=b.name, label=b.label, artwork=a.artwork,
                           version=a.version, message=message)
                 for b, message in actions.buttons(a.kind, a.artwork, a.version, a.recipe)],
    )


def artwork_out(session_id: int, a: ArtworkInfo) -> ArtworkOut:
    thumb = file_url(session_id, a.number, a.head_number, "png") if a.head_number else None
    return ArtworkOut(number=a.number, ref=a.ref, kind=a.kind, title=a.title,  # type: ignore[arg-type]
                      head=a.head_number, versions=a.version_count, can_undo=a.can_undo,
                      can_redo=a.can_redo, thumbnail=thumb, created_at=a.created_at)


def version_out(session_id: int, v: VersionInfo, head: int | None) -> VersionOut:
    return VersionOut(number=v.number, parent=v.parent_number, operation=v.operation,
                      head=v.number == head, created_at=v.created_at,
                      files={role: file_url(session_id, v.artwork_number, v.number, role)
                             for role in v.files},
                      recipe=v.recipe)


class WebOutput:
    """Collects what a turn shows; progress goes straight to ``push`` (the job's events)."""

    def __init__(self, session_id: int,
                 push: Callable[[dict[str, Any]], None] | None = None):
        self.session_id = session_id
        self.push = push
        self.texts: list[str] = []
        self.artifacts: list[ArtifactOut] = []
        self.errors: list[FileError] = []

    def text(self, text: str) -> None:
        self.texts.append(text)

    def image(self, artifact: Artifact) -> None:
        self.artifacts.append(artifact_out(self.session_id, artifact))

    def audio(self, artifact: Artifact) -> None:
        self.artifacts.append(artifact_out(self.session_id, artifact))

    def progress(self, what: str, step: int, total: int) -> None:
        if self.push is not None:
            self.push({"event": "progress", "what": what, "step": step, "total": total})

    def error(self, text: str) -> None:
        self.errors.append(FileError(error=text))


def turn_out(session_id: int, result: TurnResult,
             upload_names: Mapping[str, str] | None = None,
             home: Path | None = None) -> TurnOut:
    """The turn as the page shows it. ``upload_names`` maps the server's temp paths back
    to the names the person uploaded, and a score exported under the data dir ``home`` is
    named by its file name and linked, so that no path leaves the server."""
    out = WebOutput(session_id)
    present(result, out)
    written = exports(result.calls, home) if home is not None else []
    texts = [without_paths(t, home) for t in out.texts] if home is not None else out.texts
    names = upload_names or {}
    errors = [FileError(file=names.get(e["file"], "file") if "file" in e else None,
                        error=e.get("error", "")) for e in result.errors]
    batches = [_batch((a.artwork, a.kind) for a in c.artifacts) for c in result.calls]
    return TurnOut(reply="\n".join(texts), planner=result.planner,
                   tool_calls=[ToolCallOut(name=c.name, ok=c.ok, error=c.error)
                               for c in result.calls],
                   artifacts=out.artifacts, batches=[b for b in batches if b],
                   errors=[*errors, *out.errors],
                   downloads=[download_out(session_id, e) for e in written])


def _batch(made: Iterable[tuple[int, str]]) -> list[int]:
    """Several pictures from one call are a batch (V1..V4 under them)."""
    numbers = list(dict.fromkeys(n for n, kind in made if kind == "image"))
    return numbers if len(numbers) > 1 else []


def messages_out(store: Store, actor: Actor, session: SessionInfo,
                 limit: int) -> list[MessageOut]:
    """The conversation, oldest first, each reply with the artworks it showed: the ones
    its calls made or moved to, after the files the person brought in with the request."""
    history = store.history(actor, session)[-limit:]
    arts = {a.number: a for a in store.list_artworks(actor, session)}
    versions: dict[tuple[int, int], VersionInfo] = {}
    by_message: dict[int, list[VersionInfo]] = {}
    for number in arts:
        for v in store.versions(actor, session, number):
            versions[(number, v.number)] = v
            if v.message_id is not None:
                by_message.setdefault(v.message_id, []).append(v)
    out: list[MessageOut] = []
    last_user: int | None = None
    home = store.home
    for m in history:
        item = MessageOut(id=m.id, role=m.role, text=without_paths(m.text, home),  # type: ignore[arg-type]
                          created_at=m.created_at)
        if m.role == "user":
            last_user = m.id
        elif m.role == "assistant":
            shown: list[tuple[int, int]] = []
            calls = [c for c in m.tool_calls if isinstance(c, dict)]
            item.downloads = [download_out(session.id, e) for e in exports(calls, home)]
            for call in calls:
                item.tool_calls.append(ToolCallOut(name=str(call.get("name", "?")),
                                                   ok=bool(call.get("ok")),
                                                   error=call.get("error")))
                made = [r for r in map(_parse, call.get("artifacts") or []) if r is not None]
                shown.extend(made)
                batch = _batch((n, arts[n].kind) for n, _ in made if n in arts)
                if batch:
                    item.batches.append(batch)
            made_by_tools = set(shown)
            imported = [(v.artwork_number, v.number) for v in by_message.get(last_user or -1, [])
                        if (v.artwork_number, v.number) not in made_by_tools]
            for key in dict.fromkeys([*imported, *shown]):
                if key in versions and key[0] in arts:
                    art, v = arts[key[0]], versions[key]
                    item.artifacts.append(artifact_out(session.id, Artifact.of(art, v)))
        out.append(item)
    return out


def _parse(ref: Any) -> tuple[int, int] | None:
    m = _STORED_REF.match(str(ref))
    return (int(m.group(1)), int(m.group(2))) if m else None
