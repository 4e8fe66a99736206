"""Scoring a phrasing table (phrasing -> the calls a person would expect) against the
offline planner, through real ``--plan-only`` turns. Shared by the history, image and
music tables."""

from __future__ import annotations

from typing import Any

Call = tuple[str, dict[str, Any]]
NOT_UNDERSTOOD = "Here is what I can do"


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float) and isinstance(got, int | float):
        return abs(got - want) < 0.051
    return bool(got == want)


def _matches(got: list[Call], want: list[Call]) -> bool:
    return len(got) == len(want) and all(
        g[0] == w[0] and all(_same(g[1].get(k), v) for k, v in w[1].items())
        for g, w in zip(got, want, strict=True))


def check_table_shape(table: list[tuple[str, list[Call]]], minimum: int) -> None:
    phrasings = [p.lower() for p, _ in table]
    assert len(phrasings) >= minimum
    assert len(set(phrasings)) == len(phrasings)


def run_table(label: str, table: list[tuple[str, list[Call]]], assistant: Any, me: Any,
              chat: Any, heads: Any, capsys: Any) -> None:
    """Plan every phrasing; print the accuracy; fail under 90 % listing every miss. An
    empty expectation means "not understood": the reply must say what it can do."""
    before = heads()
    misses = []
    for phrase, want in table:
        result = assistant.turn(me, chat, phrase, plan_only=True)
        got = [(c.name, c.args) for c in result.calls]
        ok = _matches(got, want)
        if ok and not want:
            ok = NOT_UNDERSTOOD in result.reply
        if ok and want:  # every reference resolved
            ok = all(c.ok for c in result.calls)
        if not ok:
            errors = [c.error for c in result.calls if c.error]
            misses.append(f"  {phrase!r}: got {got or result.reply[:60]!r} {errors or ''}, "
                          f"want {want}")
    hits = len(table) - len(misses)
    accuracy = hits / len(table)
    with capsys.disabled():
        print(f"\n{label}: {hits}/{len(table)} = {accuracy:.1%}")
    assert heads() == before, "a --plan-only turn moved a head"
    report = "\n".join(misses)
    assert accuracy >= 0.98, f"{len(misses)} {label} missed:\n{report}"
    if misses:  # also shown on success, with -rA
        print(f"missed:\n{report}")
