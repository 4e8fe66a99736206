"""Scoring a planner on the request corpus: every line is a real ``--plan-only`` turn
(planned, references resolved, nothing run) in a session that holds its line's
conversation state, in a throw-away SQLite store.

Each line ends one of three ways:
- right: the calls expected (tools in order, every checked argument, every reference
  resolved), or, for a line that expects no call, the kind of answer expected;
- wrong: something would have run that the person did not ask for (the costly miss);
- missed: nothing ran and the answer was not the expected one ("I didn't understand").
"""

from __future__ import annotations

import tempfile
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from museforge.assistant.intent.corpus import STATES, VERSIONS, Line, call_matches
from museforge.storage.models import Actor, FileIn, Scope, SessionInfo
from museforge.storage.store import Store


@dataclass
class Outcome:
    line: Line
    verdict: str  # right | wrong | missed
    got: list[tuple[str, dict[str, Any]]]
    reply: str
    answer: str | None  # the kind of answer when nothing ran (ask, refuse, chat, say...)


@dataclass
class Score:
    outcomes: list[Outcome] = field(default_factory=list)

    def _count(self, verdict: str, subset: Sequence[Outcome] | None = None) -> int:
        return sum(o.verdict == verdict for o in (self.outcomes if subset is None else subset))

    @property
    def n(self) -> int:
        return len(self.outcomes)

    @property
    def accuracy(self) -> float:
        return self._count("right") / self.n if self.n else 0.0

    @property
    def wrong_rate(self) -> float:
        return self._count("wrong") / self.n if self.n else 0.0

    def by_area(self) -> dict[str, tuple[int, float, float]]:
        """area -> (lines, accuracy, wrong-action rate); the area is a family's prefix."""
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for o in self.outcomes:
            groups[area(o.line.family)].append(o)
        return {a: (len(g), self._count("right", g) / len(g), self._count("wrong", g) / len(g))
                for a, g in sorted(groups.items())}

    def figures(self) -> dict[str, Any]:
        return {"lines": self.n, "accuracy": round(self.accuracy, 4),
                "wrong_action_rate": round(self.wrong_rate, 4),
                "by_area": {a: {"lines": n, "accuracy": round(acc, 4), "wrong": round(w, 4)}
                            for a, (n, acc, w) in self.by_area().items()}}


def area(family: str) -> str:
    parts = family.split("-")
    if parts[0] == "unseen" and len(parts) > 1:
        return "unseen-" + parts[1]
    return parts[0]


def evaluate(lines: Sequence[Line], make_planner: Any) -> Score:
    """Plan every line in a fresh store. ``make_planner()`` gives the planner to score."""
    from museforge.assistant.turn import Assistant

    with tempfile.TemporaryDirectory(prefix="museforge-eval-") as tmp:
        home = Path(tmp)
        store = Store(f"sqlite:///{home / 'eval.db'}", home)
        with store:
            actor = Actor(store.local_user())
            sessions = {name: _build(store, actor, name) for name in STATES}
            assistant = Assistant(store, make_planner())
            score = Score()
            for line in lines:
                result = assistant.turn(actor, sessions[line.context], line.text,
                                        plan_only=True)
                score.outcomes.append(judge(line, result))
            return score


def judge(line: Line, result: Any) -> Outcome:
    got = [(c.name, c.args) for c in result.calls]
    would_run = [c for c in result.calls if c.ok]
    answer = result.answer
    if any(c.error and c.error.rstrip().endswith("Which one?") for c in result.calls):
        answer = "ask"
    expect = line.expect
    if isinstance(expect, str):
        if would_run:
            verdict = "wrong"
        elif expect == "say":
            verdict = "right" if answer != "unknown" else "missed"
        else:
            verdict = "right" if answer == expect else "missed"
        return Outcome(line, verdict, got, result.reply, answer)
    right = (len(got) == len(expect) and len(would_run) == len(got)
             and all(call_matches(n, a, w) for (n, a), w in zip(got, expect, strict=True)))
    verdict = "right" if right else ("wrong" if would_run else "missed")
    return Outcome(line, verdict, got, result.reply, answer)


def _build(store: Store, actor: Actor, name: str) -> SessionInfo:
    state = STATES[name]
    session = store.session(actor, Scope.local(f"eval-{name}"))
    kinds = {}
    for i, art in enumerate(state.artworks, 1):
        info, _ = store.create_artwork(
            actor, session, art.kind, title=art.title, prompt=art.title,
            operation="generate_image" if art.kind == "image" else "compose_music",
            recipe={"prompt": art.title}, files=_files(f"{name}-{i}-1"))
        kinds[info.number] = art.kind
        for v in range(2, VERSIONS + 1):
            store.add_version(actor, session, info.number, operation="edit",
                              recipe={"step": v}, files=_files(f"{name}-{i}-{v}"))
    if state.focus:
        store.add_message(actor, session, "user", "(earlier)")
        store.add_message(actor, session, "assistant", "(done)", planner="offline",
                          tool_calls=[{"name": "earlier", "args": {}, "ok": True,
                                       "error": None, "result": "", "ms": 0.0,
                                       "artifacts": [],
                                       "touched": [[n, kinds[n]] for n in state.focus]}])
    return session


def _files(tag: str) -> dict[str, FileIn]:
    return {"png": FileIn(f"eval {tag}".encode(), "image/png")}


def report(score: Score, title: str, misses: int = 0) -> str:
    lines = [f"{title}: {score.n} lines, right {score.accuracy:.3f}, "
             f"wrong actions {score.wrong_rate:.3f}"]
    for a, (n, acc, w) in score.by_area().items():
        lines.append(f"  {a:<16} {n:>5}  right {acc:.3f}  wrong {w:.3f}")
    verdicts = Counter(o.verdict for o in score.outcomes)
    lines.append(f"  ({verdicts['right']} right, {verdicts['wrong']} wrong, "
                 f"{verdicts['missed']} missed)")
    shown = [o for o in score.outcomes if o.verdict != "right"][:misses]
    for o in shown:
        lines.append(f"  [{o.verdict}] {o.line.context}: {o.line.text!r}\n"
                     f"      got {o.got or o.answer}  want {o.line.expect}")
    return "\n".join(lines)
