"""Every input costs bounded time: a piece too long for the renderer is refused from its
arguments before the model runs (the sentence has the real figures), and a turn spends at
most its budget of estimated generation seconds (MUSEFORGE_TURN_BUDGET_S): the calls that
fit run, the rest are refused with one sentence each.

No melody model is handed to the tools in the refusal tests: a refusal that came after
the work would load the committed model and compose for seconds, which the CPU bound
catches."""

from __future__ import annotations

import re
import time

import pytest

from museforge.assistant.offline import OfflinePlanner
from museforge.assistant.planning import Plan, PlanContext, PlannedCall
from museforge.assistant.turn import Assistant
from museforge.config import load_settings
from museforge.models.music.midi import format_duration, to_midi_bytes
from museforge.models.music.piece import Note, Part, Piece
from museforge.storage.models import FileIn
from museforge.tools.base import Services, ToolContext, ToolError
from museforge.tools.costs import ESTIMATES, TurnBudget, estimate
from museforge.tools.music_support import describe_piece
from museforge.tools.music_tools import check_compose_length
from museforge.tools.registry import TOOLS, get_tool


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


class Scripted:
    """A planner that plans the same calls for every message (as an LLM that asks for
    eight long variations in one answer would)."""

    name = "scripted"

    def __init__(self, *calls: tuple[str, dict]):
        self.calls = [PlannedCall(name, args) for name, args in calls]

    def plan(self, message: str, context: PlanContext) -> Plan:
        return Plan(calls=list(self.calls))


def stored_piece(store, me, chat, bars: int, tempo: float, title: str = "long") -> int:
    """A piece of one held note per bar, stored as the music tools store one (its MIDI and
    the recipe's length), without rendering minutes of audio for the test."""
    notes = [Note(60 + bar % 12, bar * 4.0, bar * 4.0 + 4.0, 80) for bar in range(bars)]
    piece = Piece([Part("melody", 0, False, notes)], tempo, (4, 4), "C major", title)
    art, _ = store.create_artwork(
        me, chat, "music", title=title, prompt=title, operation="import",
        recipe={**describe_piece(piece), "tool": "import", "args": {}, "sources": []},
        files={"mid": FileIn(to_midi_bytes(piece), "audio/midi")})
    return art.number


def refused(ctx, name: str, args: dict) -> tuple[str, float]:
    started = time.process_time()
    with pytest.raises(ToolError) as caught:
        get_tool(name).run(ctx, args)
    return str(caught.value), time.process_time() - started


def test_64_bars_at_20_bpm_are_refused_at_once_with_the_real_length(store, me, chat):
    ctx = ToolContext(store, me, chat)

    message, cpu = refused(ctx, "compose_music", {"prompt": "a hymn", "bars": 64, "tempo": 20})

    assert cpu < 1.0
    assert message == ("64 bars at 20 bpm last 12:48; the longest I make is 10:00: fewer "
                       "bars or a faster tempo")
    assert store.list_artworks(me, chat) == []


def test_the_length_is_counted_in_the_meter_and_at_the_tempo_the_composer_chooses():
    # a lullaby is in 3/4: its 64 bars at 20 bpm last 9:36, which fits
    plan = check_compose_length({"prompt": "a lullaby", "bars": 64, "tempo": 20,
                                 "style": "lullaby"})
    assert plan.time_signature == (3, 4) and format_duration(plan.seconds) == "9:36"
    # no tempo given: the composer's own (96 bpm, x0.8 for sad, x0.8 for slow)
    plan = check_compose_length({"prompt": "a sad slow tune", "bars": 64})
    assert plan.tempo == 61 and plan.seconds == pytest.approx(64 * 4 * 60 / 61)


def test_the_offline_planner_turn_says_the_figures(store, me, chat):
    assistant = Assistant(store, OfflinePlanner())

    result = assistant.turn(me, chat, "compose 64 bars at 20 bpm")

    [call] = result.calls
    assert not call.ok and "12:48" in call.error and "10:00" in call.error
    assert "12:48" in result.reply
    assert store.list_artworks(me, chat) == []


def test_continue_edit_vary_and_interpolate_are_refused_before_the_model_runs(
        store, me, chat):
    ctx = ToolContext(store, me, chat)
    long = stored_piece(store, me, chat, bars=60, tempo=25)  # 9:36
    odd = stored_piece(store, me, chat, bars=59, tempo=23.8)  # 9:55, 10:05 in 2-bar phrases
    other = stored_piece(store, me, chat, bars=59, tempo=23.8)

    cases = [
        ("continue_music", {"artwork": f"#{long}", "bars": 8},
         "#1 (60 bars at 25 bpm) with 8 more bars would last 10:53; the longest I make is "
         "10:00: add fewer bars, or speed it up first"),
        ("edit_music", {"artwork": f"#{long}", "tempo": 20},
         "#1 at 20 bpm would last 12:00; the longest I make is 10:00"),
        ("edit_music", {"artwork": f"#{long}", "bars": 64},
         "#1 looped to 64 bars would last 10:14; the longest I make is 10:00"),
        ("vary_music", {"artwork": f"#{odd}", "count": 4},
         "a variation of #2 (its melody in whole 2-bar phrases) may last 10:05"),
        ("interpolate_music", {"artwork_a": f"#{odd}", "artwork_b": f"#{other}"},
         "each step from #2 into #3 (60 bars at 23.8 bpm) would last 10:05"),
    ]
    for name, args, expected in cases:
        message, cpu = refused(ctx, name, args)
        assert message.startswith(expected), (name, message)
        assert cpu < 1.0, (name, cpu)
    assert [v.number for v in store.versions(me, chat, long)] == [1]
    assert len(store.list_artworks(me, chat)) == 3


def test_a_turn_runs_the_calls_that_fit_its_budget_and_refuses_the_rest(
        store, me, chat, tiny_melody_model, monkeypatch):
    monkeypatch.setenv("MUSEFORGE_TURN_BUDGET_S", "12")
    settings = load_settings()
    assert settings.turn_budget_s == 12
    compose = ("compose_music", {"prompt": "a quick reel", "bars": 16, "tempo": 300,
                                 "seed": 1})
    planner = Scripted(compose, compose, compose, compose, ("list_artworks", {}))
    assistant = Assistant(store, planner, settings=settings,
                          services=Services(melody=tiny_melody_model))

    result = assistant.turn(me, chat, "four reels please")

    each = estimate("compose_music", ToolContext(store, me, chat),
                    get_tool("compose_music").args.model_validate(compose[1]))
    assert 4 < each < 6  # two fit in 12 s, a third does not
    assert [c.ok for c in result.calls] == [True, True, False, False, True]
    for call in result.calls[2:4]:
        assert re.fullmatch(r"that would take about [\d.]+ s of generation and this message "
                            r"has [\d.]+ s of its 12 s left; ask for it in another message "
                            r"\(MUSEFORGE_TURN_BUDGET_S sets the budget\)", call.error), \
            call.error
    assert [a.number for a in store.list_artworks(me, chat)] == [1, 2]
    assert result.reply.count("I couldn't compose music: that would take about") == 2


def test_the_default_budget_refuses_a_call_bigger_than_a_whole_turn(store, me, chat,
                                                                    tiny_melody_model):
    a = stored_piece(store, me, chat, bars=64, tempo=300)
    b = stored_piece(store, me, chat, bars=64, tempo=300)
    planner = Scripted(("interpolate_music", {"artwork_a": f"#{a}", "artwork_b": f"#{b}",
                                              "steps": 8}),
                       ("edit_music", {"artwork": f"#{a}", "transpose": 2}))
    assistant = Assistant(store, planner, settings=load_settings(),
                          services=Services(melody=tiny_melody_model))

    started = time.process_time()
    result = assistant.turn(me, chat, "morph them slowly")

    big, small = result.calls
    assert not big.ok
    assert "more than the 120 s one message may use: fewer steps, or shorter pieces" \
        in big.error
    assert small.ok, small.error  # a call that fits still runs
    assert time.process_time() - started < 10
    assert len(store.list_artworks(me, chat)) == 2


def test_the_budget_counts_estimates_and_lets_free_calls_through(store, me, chat):
    ctx = ToolContext(store, me, chat, budget=TurnBudget(limit_s=5))
    tool = get_tool("compose_music")
    args = tool.args.model_validate({"prompt": "a tune", "bars": 8, "tempo": 120})
    first = ctx.budget.charge(tool, ctx, args)
    assert ctx.budget.spent_s == first
    with pytest.raises(ToolError, match="ask for it in another message"):
        for _ in range(5):
            ctx.budget.charge(tool, ctx, args)
    listing = get_tool("list_artworks")
    assert ctx.budget.charge(listing, ctx, listing.args.model_validate({})) == 0


def test_every_tool_that_makes_or_changes_art_has_a_cost_estimate():
    for tool in TOOLS:
        if tool.makes != "nothing" and tool.family != "history":
            assert tool.name in ESTIMATES, tool.name


def test_music_estimates_grow_with_what_is_made(store, me, chat):
    ctx = ToolContext(store, me, chat)
    piece = stored_piece(store, me, chat, bars=32, tempo=120)
    vary = get_tool("vary_music").args

    one = estimate("vary_music", ctx, vary.model_validate({"artwork": f"#{piece}"}))
    four = estimate("vary_music", ctx, vary.model_validate({"artwork": f"#{piece}",
                                                            "count": 4}))
    assert four == pytest.approx(4 * one)
    compose = get_tool("compose_music").args
    short = estimate("compose_music", ctx, compose.model_validate({"prompt": "x", "bars": 8}))
    long = estimate("compose_music", ctx, compose.model_validate({"prompt": "x", "bars": 64}))
    assert long > 6 * short
