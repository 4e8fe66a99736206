"""What every tool shares: the context the caller injects, the result types, the error a
person can act on, and the ``Tool`` record the registry lists.

A tool is a typed function ``fn(ctx, args) -> ToolResult`` whose docstring is exactly what
a model reads, with a pydantic argument model that holds the hard limits. Who is acting
(user, session) lives in the ``ToolContext``, which the caller builds: never an argument.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from museforge.config import Settings, load_settings
from museforge.storage.models import Actor, ArtworkInfo, SessionInfo, VersionInfo
from museforge.storage.refs import parse_ref
from museforge.storage.store import Store

if TYPE_CHECKING:
    from museforge.models.audio.generation import AudioGenerator
    from museforge.models.image.base import ImageBackend
    from museforge.models.image.upscalers import GanUpscaler
    from museforge.models.music.base import MelodyModel, PhraseModel
    from museforge.tools.costs import TurnBudget

# A reference the assistant has already resolved: "#3" or "#3 v2".
ArtworkRef = Annotated[
    str,
    Field(min_length=1, max_length=200,
          description="The artwork: '#3' (its current version), '#3 v2', 'latest', 'it'."),
]
Kind = Literal["image", "music", "audio"]


TITLE_CHARS = 80  # an artwork's title as tools write it


def file_title(path: Path, fallback: str) -> str:
    """A title from a person's file name: printable characters only, bounded."""
    return "".join(ch for ch in path.stem if ch.isprintable())[:TITLE_CHARS] or fallback


def source_record(art: ArtworkInfo, version: VersionInfo, role: str) -> dict[str, Any]:
    """How a recipe names the version it was made from (and the file's hash)."""
    return {"artwork": art.number, "version": version.number,
            "sha256": version.files[role].stem}


class ToolError(Exception):
    """A failure the user (or the model) can act on; its text is shown as is."""


class Cancelled(ToolError):
    def __init__(self) -> None:
        super().__init__("cancelled")


class Args(BaseModel):
    """Base of every argument model: unknown arguments are refused, not ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


ProgressFn = Callable[[str, int, int], None]  # (what, step, total)

# The store's writes that change what a session holds: a new artwork, a new version, a
# head moved. A tool makes them through ``ctx.store``, which checks the cancel first.
CHANGES: dict[str, Literal["artwork", "version", "head"]] = {
    "create_artwork": "artwork", "add_version": "version",
    "undo": "head", "redo": "head", "revert": "head"}


@dataclass(frozen=True)
class Change:
    """One change a tool wrote to the store: a new artwork (``#3``), a new version of one
    (``#3 v2``), or its head moved (undo, redo, revert)."""

    what: Literal["artwork", "version", "head"]
    artwork: int
    version: int


class GuardedStore:
    """The store as a tool sees it. Each write that changes the session checks the
    cancel right before it is made, so that a result computed while the person was
    cancelling is thrown away instead of stored; each change made is noted in
    ``ctx.changes`` (what a cancelled turn says it kept). Reads pass straight through.
    A cancel that arrives while a write is already under way (milliseconds) finds it
    made: it is kept, and said to be."""

    def __init__(self, store: Store, ctx: ToolContext):
        self.inner = store
        self._ctx = ctx

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        what = CHANGES.get(name)
        if what is None:
            return value

        def write(*args: Any, **kwargs: Any) -> Any:
            self._ctx.check_cancelled()
            out = value(*args, **kwargs)
            version = out[1] if isinstance(out, tuple) else out
            self._ctx.changes.append(Change(what, version.artwork_number, version.number))
            return out

        return write


@dataclass
class Services:
    """The backends tools use: handed in by the caller (tests, benchmarks, another
    backend), else made once from the settings by the tool that first needs one and kept
    here for the turns after (one ``Services`` per assistant)."""

    image: ImageBackend | None = None
    melody: MelodyModel | None = None  # the committed melody model
    phrases: PhraseModel | None = None  # the committed 16-bar phrase model, where present
    audio: AudioGenerator | None = None  # text to audio
    audio_melody: AudioGenerator | None = None  # audio that follows a melody
    upscaler: GanUpscaler | None = None  # handed in: used for every factor
    # Made from the settings: (weights, tile, overlap) -> upscaler.
    upscalers: dict[tuple[str, int, int], GanUpscaler] = field(default_factory=dict)
    styles: dict[str, MelodyModel] = field(default_factory=dict)  # "id:vN" -> learnt model
    notes: list[str] = field(default_factory=list)  # fallbacks to say with the next picture
    said_notes: set[str] = field(default_factory=set)  # fallbacks already said

    def without_image(self) -> Services:
        """The same backends for an assistant that paints with another image model."""
        return Services(melody=self.melody, phrases=self.phrases, audio=self.audio,
                        audio_melody=self.audio_melody,
                        upscaler=self.upscaler, upscalers=self.upscalers, styles=self.styles)


@dataclass
class ToolContext:
    store: Store  # tools write through it; a cancel stops any later write (GuardedStore)
    actor: Actor
    session: SessionInfo
    settings: Settings = field(default_factory=load_settings)
    message_id: int | None = None
    progress: ProgressFn | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    services: Services = field(default_factory=Services)
    changes: list[Change] = field(default_factory=list)  # what was written, in order
    budget: TurnBudget | None = None  # the turn's estimated seconds left (tools/costs.py)

    def __post_init__(self) -> None:
        raw = self.store.inner if isinstance(self.store, GuardedStore) else self.store
        self.store = cast(Store, GuardedStore(raw, self))

    def report(self, what: str, step: int, total: int) -> None:
        self.check_cancelled()
        if self.progress is not None:
            self.progress(what, step, total)

    def check_cancelled(self) -> None:
        if self.cancel.is_set():
            raise Cancelled()

    def resolve(self, ref: str) -> tuple[ArtworkInfo, VersionInfo]:
        return self.store.resolve(self.actor, self.session, parse_ref(ref))


@dataclass(frozen=True)
class Artifact:
    """One artwork version a tool made or brought back, as front-ends show it."""

    artwork: int
    version: int
    kind: str
    title: str
    files: dict[str, Path]
    recipe: dict[str, Any]

    @property
    def ref(self) -> str:
        return f"#{self.artwork}"

    @classmethod
    def of(cls, art: ArtworkInfo, version: VersionInfo) -> Artifact:
        return cls(art.number, version.number, art.kind, art.title, dict(version.files),
                   dict(version.recipe))


@dataclass
class ToolResult:
    """``message`` is the sentence the reply uses; ``artifacts`` what the user sees;
    ``touched`` the artworks this call was about (what "it" means next)."""

    message: str
    artifacts: list[Artifact] = field(default_factory=list)
    touched: list[tuple[int, str]] = field(default_factory=list)  # (number, kind)

    def __post_init__(self) -> None:
        if not self.touched:
            self.touched = [(a.artwork, a.kind) for a in self.artifacts]


def version_ref(art: ArtworkInfo, version: VersionInfo) -> str:
    """How a reply names the version a tool worked on: ``#2``, or ``#2 v1`` when that is
    not the artwork's current version."""
    return art.ref if version.number == art.head_number else f"{art.ref} v{version.number}"


def said_and(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def nothing_changed(art: ArtworkInfo, version: VersionInfo, already: list[str],
                    idle: list[str] | None = None) -> ToolResult:
    """The result of an edit that would change nothing, found before anything is stored:
    no version, the head where it was, and a reply that says why. ``already`` is what the
    version already is ("in D minor", "square (1:1)"); ``idle`` the arguments that move
    nothing by themselves ("transposing by 0 semitones"), said when ``already`` is empty.
    It is still about the artwork, so "it" goes on meaning it."""
    ref = version_ref(art, version)
    if already:
        said = f"{ref} is already {said_and(already)}"
    else:
        text = said_and(idle or ["that"])
        said = f"{text[0].upper()}{text[1:]} leaves {ref} as it is"
    return ToolResult(f"{said}; nothing changed.", touched=[(art.number, art.kind)])


@dataclass(frozen=True)
class Tool:
    name: str
    fn: Callable[[ToolContext, Any], ToolResult]
    args: type[Args]
    family: str
    kind: Kind | None = None  # what "it" should be for this tool's artwork argument
    makes: Literal["artwork", "version", "nothing"] = "nothing"
    ref_fields: tuple[str, ...] = ()
    ref_kinds: dict[str, Kind | None] = field(default_factory=dict)

    @property
    def description(self) -> str:
        return inspect.getdoc(self.fn) or ""

    def run(self, ctx: ToolContext, raw: dict[str, Any]) -> ToolResult:
        """Validate ``raw``, charge the call's estimated cost to the turn's budget (a call
        that does not fit is refused before it starts), then run it."""
        args = self.args.model_validate(raw)
        if ctx.budget is not None:
            ctx.budget.charge(self, ctx, args)
        return self.fn(ctx, args)


def tool(
    args: type[Args],
    *,
    family: str,
    kind: Kind | None = None,
    makes: Literal["artwork", "version", "nothing"] = "nothing",
    ref_kinds: dict[str, Kind | None] | None = None,
) -> Callable[[Callable[[ToolContext, Any], ToolResult]], Tool]:
    """Declare a tool; the registry still lists it explicitly."""

    def wrap(fn: Callable[[ToolContext, Any], ToolResult]) -> Tool:
        refs = tuple(name for name in args.model_fields if name in REF_FIELDS)
        kinds = {name: kind for name in refs}
        kinds.update(ref_kinds or {})
        return Tool(fn.__name__, fn, args, family, kind, makes, refs, kinds)

    return wrap


# Argument names that hold artwork references (a list for ``artworks``).
REF_FIELDS = ("artwork", "artworks", "artwork_a", "artwork_b", "inspired_by", "mix_with",
              "melody_from")
