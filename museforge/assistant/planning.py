"""What a planner gives back, and the protocol every planner follows (the offline rules
planner here; the LLM planner in ``assistant/llm.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class PlannedCall:
    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    calls: list[PlannedCall] = field(default_factory=list)
    reply: str | None = None  # said when there is nothing to run, or beside the results
    # When nothing is to run, what kind of answer the reply is: "ask" (a question),
    # "refuse" (something it cannot do), "chat" (a greeting, help), "unknown" (not
    # understood); None when there are calls.
    answer: str | None = None
    # Which planner really planned this turn ("llm", "offline", "offline-fallback"...),
    # when it is not the configured one; recorded with the message.
    planner: str | None = None
    # Anything the planner wants back when it writes the final reply (a conversation id,
    # the model's messages so far).
    state: Any = None


@dataclass(frozen=True)
class CallOutcome:
    """What one call did, as a planner that writes the reply sees it."""

    name: str
    args: dict[str, Any]
    ok: bool
    result: str | None
    error: str | None


@dataclass(frozen=True)
class ArtworkBrief:
    number: int
    kind: str
    title: str
    # Optional detail the LLM planner shows the model ("v3 of 4, last change adjust_image").
    head: int | None = None
    versions: int | None = None
    operation: str | None = None
    # The words it was made from, when they differ from its title (a reference by subject
    # may name either: "the lighthouse one" for "untitled sketch" of a lighthouse).
    prompt: str = ""


@dataclass
class PlanContext:
    """What a planner may know of the conversation (never who is asking)."""

    focus: list[ArtworkBrief] = field(default_factory=list)
    recent: list[ArtworkBrief] = field(default_factory=list)  # newest last
    history: list[tuple[str, str]] = field(default_factory=list)  # (role, text), oldest first
    # What the conversation was about before ``history`` begins (a long session's running
    # summary, written by the LLM planner's ``summarize``); empty for a short one.
    summary: str = ""


class Planner(Protocol):
    name: str

    def plan(self, message: str, context: PlanContext) -> Plan: ...


class ReplyWriter(Protocol):
    """A planner that also words the reply once its calls have run (the LLM planner's
    second round-trip). Optional: without it, the assistant composes the reply itself."""

    def write_reply(self, message: str, context: PlanContext, plan: Plan,
                    outcomes: list[CallOutcome]) -> str | None: ...
