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


@dataclass(frozen=True)
class ArtworkBrief:
    number: int
    kind: str
    title: str


@dataclass
class PlanContext:
    """What a planner may know of the conversation (never who is asking)."""

    focus: list[ArtworkBrief] = field(default_factory=list)
    recent: list[ArtworkBrief] = field(default_factory=list)  # newest last
    history: list[tuple[str, str]] = field(default_factory=list)  # (role, text), oldest first


class Planner(Protocol):
    name: str

    def plan(self, message: str, context: PlanContext) -> Plan: ...
