"""The agent: one turn = message -> planner -> tool calls -> reply."""

from __future__ import annotations

from museforge.assistant.planning import Planner
from museforge.config import Settings


class PlannerUnavailable(Exception):
    """The configured planner cannot be used (one line, said to the user)."""


def make_planner(settings: Settings | None) -> Planner:
    """The offline rules planner, or the LLM planner when an endpoint is configured (it
    falls back to the offline planner per turn when ``MUSEFORGE_PLANNER=auto`` and the
    model does not answer)."""
    kind = settings.planner_kind if settings is not None else "offline"
    if kind == "llm":
        try:
            from museforge.assistant.llm import LLMPlanner
        except ImportError as exc:
            if settings is not None and settings.planner == "llm":
                raise PlannerUnavailable(f"MUSEFORGE_PLANNER=llm but the LLM planner cannot "
                                         f"load: {exc}") from exc
        else:
            return LLMPlanner.from_settings(settings)
    from museforge.assistant.offline import OfflinePlanner

    return OfflinePlanner()
