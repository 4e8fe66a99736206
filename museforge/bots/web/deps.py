"""What every route receives: the studio, the acting user and the web's jobs and uploads,
and the session looked up through the store (so its access rule applies)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from museforge.bots.service import Studio
from museforge.bots.web.jobs import WebJobs
from museforge.bots.web.uploads import Uploads
from museforge.storage.errors import NotFound
from museforge.storage.models import Actor, SessionInfo
from museforge.storage.store import Store


@dataclass
class Web:
    studio: Studio
    actor: Actor
    jobs: WebJobs
    uploads: Uploads

    @property
    def store(self) -> Store:
        return self.studio.store

    def session(self, session_id: int) -> SessionInfo:
        """The session with this id, if the actor may see it; NotFound otherwise (the same
        answer for "no such session" and "not yours")."""
        for s in self.store.list_sessions(self.actor):
            if s.id == session_id:
                return s
        raise NotFound("no such session")


def _web(request: Request) -> Web:
    return request.app.state.web  # type: ignore[no-any-return]


WebDep = Annotated[Web, Depends(_web)]
