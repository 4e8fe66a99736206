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

from museforge.assistant.intent.corpus import (
    STATES,
    VERSIONS,
    Conversation,
    Line,
    call_matches,
    norm,
)
from museforge.storage.errors import StorageError
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


def evaluate_conversations(conversations: Sequence[Conversation], make_planner: Any,
                           seen: Sequence[Line] = ()) -> Score:
    """Play every conversation turn by turn in a session of its own. Each turn is a real
    ``--plan-only`` turn; then the state moves on as the turn's *expected* calls would
    have left it (teacher forcing: one miss does not spoil the turns after it), with the
    person's message and the planner's real reply in the history. A turn whose words are
    those of a ``seen`` line (a training line) is played but not counted."""
    from museforge.assistant.turn import Assistant

    known = {norm(line.text) for line in seen}
    with tempfile.TemporaryDirectory(prefix="museforge-eval-") as tmp:
        home = Path(tmp)
        store = Store(f"sqlite:///{home / 'eval.db'}", home)
        with store:
            actor = Actor(store.local_user())
            assistant = Assistant(store, make_planner())
            score = Score()
            for i, conv in enumerate(conversations):
                session = _build(store, actor, conv.start, f"conv-{i}")
                for turn in conv.turns:
                    result = assistant.turn(actor, session, turn.text, plan_only=True)
                    outcome = judge(turn, result)
                    if norm(turn.text) not in known:
                        score.outcomes.append(outcome)
                    # a turn planned right titles what it makes as the tools would: with
                    # the planner's own prompt ("a lighthouse at night like a real photo"),
                    # not only the subject words its label checks ("lighthouse")
                    titles = [str(a.get("prompt") or "") for n, a in outcome.got
                              if n in ("generate_image", "compose_music")] \
                        if outcome.verdict == "right" else []
                    _play(store, actor, session, turn, result.reply or "", titles)
            return score


_MAKES = {"generate_image": "image", "compose_music": "music", "vary_image": "image",
          "vary_music": "music", "blend_images": "image", "interpolate_music": "music"}
_MOVES_HEAD = ("undo", "redo", "revert", "show_versions", "list_artworks")


def _play(store: Store, actor: Actor, session: SessionInfo, turn: Line, reply: str,
          titles: Sequence[str] = ()) -> None:
    """The state a turn's expected calls leave: what they made, what they touched.
    ``titles``: the prompts the planner gave the new artworks, when it planned the turn
    right (the tools title a new artwork with its prompt)."""
    store.add_message(actor, session, "user", turn.text)
    records = []
    given = list(titles)
    for call in turn.expect if isinstance(turn.expect, list) else []:
        title = given.pop(0) if given and call["tool"] in ("generate_image", "compose_music") \
            else ""
        touched = _effect(store, actor, session, call, turn.text, title)
        records.append({"name": call["tool"], "args": call.get("args") or {}, "ok": True,
                        "error": None, "result": "", "ms": 0.0, "artifacts": [],
                        "touched": [list(t) for t in touched]})
    store.add_message(actor, session, "assistant", reply or "(done)", planner="offline",
                      tool_calls=records)


def _effect(store: Store, actor: Actor, session: SessionInfo, call: dict[str, Any],
            said: str = "", planned_title: str = "") -> list[tuple[int, str]]:
    tool = str(call["tool"])
    args = {k.rstrip("~<>"): v for k, v in (call.get("args") or {}).items()
            if not k.endswith("!")}
    existing = {a.number: a for a in store.list_artworks(actor, session)}
    named = [n for n in _numbers(args) if n in existing]
    kind = _MAKES.get(tool)
    if kind:
        prompt = args.get("prompt")
        prompt = " ".join(map(str, prompt)) if isinstance(prompt, list) else str(prompt or "")
        # titles as the tools write them ("variation of #2: …", "blend of #1 + #2")
        if tool in ("generate_image", "compose_music") or not named:
            # the tools title a new artwork with its prompt, which is mostly the person's
            # words: the checked subject words, else what the person said
            title = planned_title[:120] or prompt or said[:80] or (
                "a picture" if kind == "image" else "music")
        elif tool in ("vary_image", "vary_music"):
            title = f"variation of #{named[0]}: {existing[named[0]].title}"
        elif tool == "blend_images":
            title = "blend of " + " + ".join(f"#{n}" for n in named)
        else:
            title = " → ".join(f"#{n}" for n in named[:2])
        many = tool in ("generate_image", "vary_image", "vary_music")
        count = min(4, max(1, int(args.get("count") or 1))) if many else 1
        made: list[tuple[int, str]] = []
        for _ in range(count):
            info, _v = store.create_artwork(
                actor, session, kind, title=title, prompt=title, operation=tool,
                recipe={"prompt": title}, files=_files(f"{session.id}-{len(existing) + len(made)}"))
            made.append((info.number, kind))
        return made
    for n in named:
        try:
            if tool == "undo":
                store.undo(actor, session, n)
            elif tool == "redo":
                store.redo(actor, session, n)
            elif tool == "revert" and isinstance(args.get("version"), int):
                store.revert(actor, session, n, args["version"])
            elif tool not in _MOVES_HEAD:
                store.add_version(actor, session, n, operation=tool, recipe=dict(args),
                                  files=_files(f"{session.id}-{n}-{tool}-{id(call)}"))
        except StorageError:
            pass  # a label that asks for a step the history does not have: nothing moves
    return [(n, existing[n].kind) for n in named]


def _numbers(args: dict[str, Any]) -> list[int]:
    refs: list[Any] = []
    for key in ("artwork", "artworks", "artwork_a", "artwork_b"):
        value = args.get(key)
        refs.extend(value if isinstance(value, list) else [value] if value else [])
    out = []
    for ref in refs:
        digits = str(ref).lstrip("#").split()[0] if str(ref).startswith("#") else ""
        if digits.isdigit():
            out.append(int(digits))
    return out


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


def _build(store: Store, actor: Actor, name: str, scope: str = "") -> SessionInfo:
    state = STATES[name]
    session = store.session(actor, Scope.local(f"eval-{scope or name}"))
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
        store.undo(actor, session, info.number)  # at v2: both "undo" and "redo" have a step
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
