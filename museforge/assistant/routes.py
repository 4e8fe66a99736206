"""Which Celery queue a turn goes to, and which a worker consumes (``MUSEFORGE_QUEUE=
celery``): one queue per model family, so that a worker keeps its models warm between
turns. A turn's family is read from the calls it plans (``turn_route``); a worker is
started for families by name (``worker_routes``, ``museforge worker --queues``)."""

from __future__ import annotations

from typing import Any

from museforge.storage.turn_jobs import ANY_ROUTE
from museforge.tools.registry import UnknownTool, get_tool

__all__ = ["ANY_ROUTE", "AUDIO_ROUTE", "MUSIC_ROUTE", "call_family", "family_route",
           "no_worker", "route_for", "turn_route", "worker_queue", "worker_routes"]

ROUTE_PREFIX = "museforge.images."
MUSIC_ROUTE = "museforge.music"  # the melody model, FluidSynth: small, mostly CPU
AUDIO_ROUTE = "museforge.audio"  # the recording model (MusicGen): GPU weights
FAMILIES = ("images", "music", "audio")  # what `museforge worker --queues` names
# A turn that mixes families goes to the queue of the one whose weights cost most to
# load (an image pipeline is gigabytes, the recording model one or two, the melody model
# a few megabytes): the worker there loads the lighter ones beside its own, once, while a
# music worker would have to load a whole image pipeline for it. Any worker can run any
# call; the route only decides whose models are warm.
HEAVIEST_FIRST = ("images", "audio", "music")


def route_for(preset: str) -> str:
    """The Celery queue of the workers that paint with ``preset``."""
    return f"{ROUTE_PREFIX}{preset}"


def worker_queue(name: str) -> str:
    """The Celery queue only the worker ``name`` consumes: the dispatcher sends a job
    there once it has matched it to that worker's slot (``turn_jobs.fill``), so that the
    matching is what runs (on a family's queue, any worker of the family could take it)."""
    return f"museforge.worker.{name}"


def family_route(family: str, preset: str) -> str:
    """The Celery queue of ``family`` ("images" paints with ``preset``)."""
    return route_for(preset) if family == "images" else f"museforge.{family}"


def call_family(name: str, args: dict[str, Any]) -> str | None:
    """The model family a planned call loads; None for a call that loads no model (undo,
    redo, revert, the lists, forgetting a style)."""
    try:
        tool = get_tool(name)
    except UnknownTool:
        return None
    if tool.name == "learn_style":
        # Pictures train an adapter on the image pipeline (a GPU); a style whose kind
        # the plan leaves to the artworks is taken for pictures, the heavier of the two.
        return "music" if args.get("kind") == "music" else "images"
    if tool.family == "history" or tool.kind is None:
        return None
    return "images" if tool.kind == "image" else tool.kind


def turn_route(calls: list[tuple[str, dict[str, Any]]], preset: str) -> str:
    """The queue of a turn whose planned calls are ``calls`` ((name, args)): its family's,
    the heaviest of them when it mixes (``HEAVIEST_FIRST``), or ``ANY_ROUTE``."""
    families = {call_family(name, args) for name, args in calls}
    for family in HEAVIEST_FIRST:
        if family in families:
            return family_route(family, preset)
    return ANY_ROUTE


def worker_routes(queues: list[str], preset: str) -> list[str]:
    """The Celery queues of a worker started with ``--queues`` (``images`` for
    ``preset``, ``images-PRESET``, ``music``, ``audio``), in that order, once each;
    ``ValueError`` with a sentence for a name that is none of these."""
    routes: list[str] = []
    for name in (q.strip() for q in queues):
        if name.startswith("images-") and len(name) > len("images-"):
            route = route_for(name.removeprefix("images-"))
        elif name in FAMILIES:
            route = family_route(name, preset)
        else:
            raise ValueError(f"there is no queue named '{name}': name images (the image "
                             "model's), images-PRESET, music or audio")
        if route not in routes:
            routes.append(route)
    if not routes:
        raise ValueError("name at least one queue: images, images-PRESET, music or audio")
    return routes


def no_worker(route: str) -> str:
    """What a person is told when no live worker takes ``route``."""
    if route.startswith(ROUTE_PREFIX):
        preset = route.removeprefix(ROUTE_PREFIX)
        what, start = f"the image model {preset}", f"--preset {preset}"
    elif route == ANY_ROUTE:
        return "no worker is running right now (`museforge worker` starts one); try again " \
               "in a minute"
    else:
        family = route.removeprefix("museforge.")
        what = "music" if family == "music" else f"{family} (recordings)"
        start = f"--queues {family}"
    return (f"no worker is running for {what} right now (`museforge worker {start}` starts "
            "one); try again in a minute")
