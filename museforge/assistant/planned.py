"""A turn planned in one place and run in another: the cluster's front-end plans a turn
to route it (``cluster.py``), and its worker runs that plan instead of asking the planner
again (with the LLM planner, one model request less per turn, and the turn that runs is
the one the route was chosen for).

A plan travels as JSON (``PlannedTurn.to_json``) with the job. It holds for the
conversation it was made against: ``basis`` is a digest of everything the planner read
(the message and the ``PlanContext``: what "it" is, the recent artworks and their heads,
the history, the summary). The worker builds the same context when the turn runs; when it
differs (an earlier turn of the same conversation ran in between: "paint a fox" then
"make it brighter", both sent before either ran), the plan was made for a conversation
that is gone, and the turn is planned again. So is one whose JSON is of another format or
another planner's, or missing."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

from museforge.assistant.planning import Plan, PlanContext, PlannedCall, Planner

__all__ = ["PLAN_FORMAT", "PlannedTurn", "StateCodec", "plan_basis"]

# The form of a plan's JSON; raised whenever it changes, so that a plan of the old form
# (a job queued before the upgrade) is planned again rather than misread.
PLAN_FORMAT = 1


@runtime_checkable
class StateCodec(Protocol):
    """A planner whose ``Plan.state`` (what it wants back to word the reply) can travel
    as JSON (the LLM planner's conversation with the model)."""

    def dump_state(self, state: Any) -> Any: ...

    def load_state(self, data: Any) -> Any: ...


def plan_basis(message: str, context: PlanContext) -> str:
    """A digest of what a planner reads for ``message`` in ``context``."""
    text = json.dumps([message, asdict(context)], sort_keys=True, ensure_ascii=False,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class PlannedTurn:
    """``plan``, as ``planner`` made it for a conversation whose digest is ``basis``."""

    planner: str  # the planner's name (Planner.name), not the one a plan may report
    basis: str
    plan: Plan
    state: Any = None  # ``plan.state`` as JSON (``StateCodec.dump_state``)

    @classmethod
    def of(cls, planner: Planner, basis: str, plan: Plan) -> PlannedTurn | None:
        """The plan, ready to travel; None when it cannot (its state is not JSON)."""
        if plan.state is None:
            return cls(planner.name, basis, plan)
        if not isinstance(planner, StateCodec):
            return None
        return cls(planner.name, basis, plan, planner.dump_state(plan.state))

    def to_json(self) -> dict[str, Any]:
        plan = self.plan
        return {"format": PLAN_FORMAT, "planner": self.planner, "basis": self.basis,
                "calls": [{"name": c.name, "args": c.args} for c in plan.calls],
                "reply": plan.reply, "answer": plan.answer, "planned_by": plan.planner,
                "state": self.state}

    @classmethod
    def from_json(cls, data: Any, planner: Planner) -> PlannedTurn | None:
        """The plan of ``data``; None when ``planner`` should plan the turn itself: an
        older (or newer) format, another planner's plan, JSON that does not read."""
        if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
            return None
        if data.get("planner") != planner.name:
            return None
        try:
            calls = [PlannedCall(str(c["name"]), dict(c["args"])) for c in data["calls"]]
            dumped = data.get("state")
            state = None
            if dumped is not None:
                if not isinstance(planner, StateCodec):
                    return None
                state = planner.load_state(dumped)
            plan = Plan(calls=calls, reply=data.get("reply"), answer=data.get("answer"),
                        planner=data.get("planned_by"), state=state)
            return cls(str(data["planner"]), str(data["basis"]), plan, dumped)
        except (KeyError, TypeError, ValueError):
            return None
