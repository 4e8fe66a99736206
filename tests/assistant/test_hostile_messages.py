"""Messages built to make the offline planner's patterns backtrack, crash or plan what the
tools refuse, through real ``--plan-only`` turns. Each must plan within a bound of CPU
time (process time, not wall time: an ordinary message costs milliseconds, a regex that
backtracks costs seconds to minutes) and give a sentence, never a traceback."""

from __future__ import annotations

import time

import pytest

from museforge.tools.registry import get_tool


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture
def studio(paint, remember):
    paint("a red fox")
    paint("a cat on a wall")
    paint("a jig", kind="music")
    paint("rain on a roof", kind="audio")
    remember([1], kind="image")


HOSTILE = [
    "blend #1 and #2, A" + "a" * 400 + "~",  # one long word split every way
    ("add drums " * 500)[:5000],  # two lazy gaps in a row
    "with chords " * 300,
    "add a beat " * 400,
    "a fox " + ("seeds 1,2 " * 300),  # a seed list per seed list
    "#" * 4000,
    "🎻" * 2000,
    "make " * 800,
    "C D E " * 600,  # notes past the typed-notes cap
]


@pytest.mark.parametrize("message", HOSTILE, ids=lambda m: f"{m[:12]!r}x{len(m)}")
def test_a_hostile_message_plans_in_bounded_cpu_and_says_a_sentence(me, chat, assistant,
                                                                     studio, message):
    start = time.process_time()
    result = assistant.turn(me, chat, message, plan_only=True)
    spent = time.process_time() - start
    assert spent < 5.0, f"{spent:.1f} s of CPU to plan {len(message)} characters"
    assert "Traceback" not in result.reply and len(result.reply) < 2000


def test_the_other_way_of_nothing_is_not_a_division_by_zero(store, me, chat, assistant,
                                                             studio):
    store.add_message(me, chat, "user", "saturation 0")
    store.add_message(me, chat, "assistant", "Done: now v2.", planner="offline")
    result = assistant.turn(me, chat, "no, the other way", plan_only=True)
    assert "division" not in result.reply


@pytest.mark.parametrize("message", [
    "make it 30 db louder", "fade out over 90 seconds", "loop it to 15 minutes",
    "turn it down 60 dB",
])
def test_audio_edits_are_planned_within_the_tools_limits(me, chat, assistant, studio,
                                                         remember, message):
    remember([4], kind="audio")
    result = assistant.turn(me, chat, message, plan_only=True)
    assert [c.name for c in result.calls] == ["edit_audio"]
    get_tool("edit_audio").args.model_validate(result.calls[0].args)  # accepted as is
