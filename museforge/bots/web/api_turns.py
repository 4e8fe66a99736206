"""Writing routes: a turn (typed words, or a button's action), its job in the shared
queue with server-sent progress, cancelling it, and uploads that a turn brings in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from museforge.bots import actions
from museforge.bots.web.deps import WebDep
from museforge.bots.web.jobs import WebJob
from museforge.bots.web.schemas import InfoOut, JobOut, TurnIn, UploadOut
from museforge.storage.errors import NotFound

router = APIRouter(prefix="/api")
SessionId = Annotated[int, PathParam(ge=1, description="A session id from GET /api/sessions.")]
JobId = Annotated[str, PathParam(max_length=40, description="A job id from POST .../turns.")]
BUSY = {"description": "The queue is full, or you already have several turns waiting.",
        "content": {"application/json": {"example": {"detail": "the queue is full; try "
                                                               "again in a minute"}}}}


@router.get("/info", tags=["turns"])
def info(web: WebDep) -> InfoOut:
    return InfoOut(user=web.actor.user.display_name or "you", signed_in=web.is_person,
                   planner=web.studio.assistant.planner.name,
                   max_upload_bytes=web.uploads.max_bytes,
                   waiting=web.studio.queue.waiting())


@router.post("/sessions/{session_id}/turns", status_code=status.HTTP_202_ACCEPTED,
             tags=["turns"], responses={429: BUSY, 200: {"model": JobOut,
                                                         "description": "With ?wait=true."}})
async def post_turn(session_id: SessionId, body: TurnIn, web: WebDep, response: Response,
                    wait: Annotated[bool, Query(description="Answer when the turn is done.")]
                    = False) -> JobOut:
    """Queue one turn: ``message`` as typed (with ``uploads`` to bring in first), or a
    button's ``action`` on ``artwork``, which is a turn with that button's fixed message
    (``revert`` with ``version``: "revert #N to vM"). Follow it at ``events``."""
    session = await run_in_threadpool(web.session, session_id)
    if body.action is not None:
        assert body.artwork is not None  # TurnIn checks
        recipe = None
        if body.action == "reroll":  # a generated picture is asked for again
            ref = f"#{body.artwork}" + (f" v{body.version}" if body.version else "")
            _art, shown = await run_in_threadpool(web.store.resolve, web.actor, session, ref)
            recipe = shown.recipe
        message = actions.request(body.action, body.artwork, body.version, recipe)
    else:
        message = body.message.strip()
    taken = web.uploads.take(body.uploads, web.actor.user.id, session.id) if body.uploads \
        else []
    try:
        job = web.jobs.submit(web.actor, session, message, taken)
    except BaseException:
        web.uploads.restore(taken)
        raise
    if wait:
        await job.wait()
        response.status_code = status.HTTP_200_OK
    return job.out()


@router.get("/sessions/{session_id}/jobs", tags=["turns"])
async def active_jobs(session_id: SessionId, web: WebDep) -> list[JobOut]:
    """This session's turns that are waiting or running (a reopened page follows them)."""
    session = await run_in_threadpool(web.session, session_id)
    return [j.out() for j in web.jobs.active(web.actor, session.id)]


@router.get("/jobs/{job_id}", tags=["turns"])
def get_job(job_id: JobId, web: WebDep) -> JobOut:
    return _job(web, job_id).out()


@router.delete("/jobs/{job_id}", tags=["turns"])
def cancel_job(job_id: JobId, web: WebDep) -> JobOut:
    """Cancel a turn: a waiting one never runs; a running one stops at its next step."""
    job = _job(web, job_id)
    if job.job is not None and job.final is None:
        job.job.cancel()
    return job.out()


@router.get("/jobs/{job_id}/events", tags=["turns"], response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": (
                "Server-sent events: `queued` {position, text}, `started`, `progress` "
                "{what, step, total}, then one of `done` {result}, `failed` {error}, "
                "`cancelled`. Every event from the job's start is replayed first.")}})
def job_events(job_id: JobId, web: WebDep) -> StreamingResponse:
    job = _job(web, job_id)
    return StreamingResponse(_sse(job), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/sessions/{session_id}/uploads", status_code=status.HTTP_201_CREATED,
             tags=["turns"], responses={413: {"description": "The file is too big."}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/octet-stream": {"schema": {"type": "string",
                                                         "format": "binary"}}}}})
async def upload(session_id: SessionId, request: Request, web: WebDep,
                 filename: Annotated[str, Query(max_length=255,
                                                description="The file's name, for display.")]
                 = "upload") -> UploadOut:
    """Send an image (PNG, JPEG, WebP, GIF) or a MIDI file as the request body; pass the
    returned id in the next turn's ``uploads`` ("make this brighter"). The assistant's
    safe loaders decide whether it is usable."""
    session = await run_in_threadpool(web.session, session_id)
    got = await web.uploads.receive(request, web.actor.user.id, session.id, filename)
    return UploadOut(id=got.id, name=got.name, size=got.size)


def _job(web: Any, job_id: str) -> WebJob:
    job = web.jobs.get(job_id, web.actor)
    if job is None:
        raise NotFound("no such job (finished jobs are kept for ten minutes)")
    return job  # type: ignore[no-any-return]


async def _sse(job: WebJob) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    async for event in job.stream():
        name = event.get("event", "message")
        if name == "ping":
            yield ": ping\n\n"
            continue
        data = json.dumps({k: v for k, v in event.items() if k != "event"})
        yield f"event: {name}\ndata: {data}\n\n"

