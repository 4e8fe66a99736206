"""What every route receives: the studio, the acting person (``gate`` decided who) and the
web's jobs and uploads, and the session looked up through the store (so its access rule
applies)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from museforge.bots.service import Studio
from museforge.bots.web.gate import ACTING_USER
from museforge.bots.web.jobs import WebJobs
from museforge.bots.web.uploads import Uploads
from museforge.storage.errors import NotFound
from museforge.storage.models import WEB_PLATFORM, Actor, Scope, SessionInfo
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

    @property
    def is_person(self) -> bool:
        """Signed in with a token of their own (not the local user)."""
        return self.actor.user.platform == WEB_PLATFORM

    def scope(self, name: str) -> Scope:
        """Where the session called ``name`` lives: the local user's are the CLI's
        (``local:NAME``), a person's are their own (``web:PERSON:NAME``)."""
        if self.is_person:
            return Scope.web(self.actor.user.external_id, name)
        return Scope.local(name, platform="web")

    def session(self, session_id: int) -> SessionInfo:
        """The session with this id, if the actor may see it; NotFound otherwise (the same
        answer for "no such session" and "not yours")."""
        for s in self.store.list_sessions(self.actor):
            if s.id == session_id:
                return s
        raise NotFound("no such session")


def _web(request: Request) -> Web:
    base: Web = request.app.state.web
    user = request.scope.get(ACTING_USER)
    if user is None:  # the gate lets nothing through without deciding who it is
        raise HTTPException(401, "no one is signed in")
    if user == base.actor.user:
        return base
    return replace(base, actor=Actor(user))


WebDep = Annotated[Web, Depends(_web)]
