"""The offline planner's rules, one module per tool family. Each module exposes
``RULES``: a list of ``Rule`` the planner tries on every request of a message."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from museforge.assistant.planning import PlanContext, PlannedCall


@dataclass(frozen=True)
class Rule:
    """``when`` recognises a request; ``build`` fills the slots. Higher ``priority`` wins
    when several rules recognise the same request ("go back to v2" is a revert, not an
    undo)."""

    tool: str
    when: re.Pattern[str]
    build: Callable[[str, PlanContext], list[PlannedCall]]
    priority: int = 0
    # Does a request begin here? Used to split "do X and do Y" without cutting prompts.
    starts: re.Pattern[str] | None = None


def all_rules() -> list[Rule]:
    from museforge.assistant.rules import audio, history, images, music, notes, styles

    return [*history.RULES, *images.RULES, *music.RULES, *notes.RULES, *audio.RULES,
            *styles.RULES]
