"""Turns through the real store: what is stored, how history requests move heads, what a
turn hands back, and that a turn never raises (a failed call or a cancel is an answer)."""

from __future__ import annotations

import threading

from museforge.storage.models import Scope
from museforge.storage.store import Store


def test_a_turn_stores_the_users_message_and_the_reply_with_its_tool_calls(
        store, me, chat, assistant, paint):
    n = paint("a red fox", versions=3)

    result = assistant.turn(me, chat, "undo #1")

    user, reply = store.history(me, chat)
    assert (user.role, user.text, user.user_id) == ("user", "undo #1", me.user.id)
    assert reply.role == "assistant"
    assert reply.text == result.reply
    assert reply.planner == "offline" == result.planner
    assert set(reply.timings) >= {"plan_ms", "total_ms", "tools_ms"}
    assert reply.timings["total_ms"] >= reply.timings["tools_ms"] >= 0
    [call] = reply.tool_calls
    assert call["name"] == "undo"
    assert call["args"] == {"artwork": f"#{n}"}
    assert call["ok"] is True and call["error"] is None
    assert "now at v2" in call["result"]
    assert call["ms"] >= 0
    assert call["artifacts"] == [f"#{n} v2"]


def test_a_failed_call_is_stored_with_its_error(store, me, chat, assistant, paint):
    paint("a red fox")  # one version: nothing to undo

    result = assistant.turn(me, chat, "undo #1")

    [call] = store.history(me, chat)[-1].tool_calls
    assert call["ok"] is False
    assert "nothing to undo" in call["error"]
    assert call["result"] is None
    assert "nothing to undo" in result.reply


def test_undo_redo_and_revert_through_turns_move_the_head(store, me, chat, assistant, paint,
                                                          heads):
    n = paint("a red fox", versions=3)
    other = paint("a blue whale", versions=2)

    assistant.turn(me, chat, "undo #1")
    assert heads() == {n: 2, other: 2}
    assistant.turn(me, chat, "undo it")
    assert heads() == {n: 1, other: 2}
    assistant.turn(me, chat, "redo")
    assert heads() == {n: 2, other: 2}
    assistant.turn(me, chat, "go back to the original version of #1")
    assert heads() == {n: 1, other: 2}
    assistant.turn(me, chat, "revert #1 to v3")
    assert heads() == {n: 3, other: 2}
    # Undo after a revert returns to the version the revert replaced.
    assistant.turn(me, chat, "undo")
    assert heads() == {n: 1, other: 2}
    # Nothing was deleted along the way.
    assert [v.number for v in store.versions(me, chat, n)] == [1, 2, 3]


def test_a_turns_artifacts_are_the_now_current_versions_files(store, me, chat, assistant,
                                                              paint):
    n = paint("a red fox", versions=3)

    result = assistant.turn(me, chat, "go back to version two of #1")

    [artifact] = result.artifacts
    _, current = store.resolve(me, chat, f"#{n}")
    assert (artifact.artwork, artifact.version, artifact.kind) == (n, 2, "image")
    assert artifact.files == current.files
    assert artifact.files["png"].is_file()
    assert artifact.recipe == current.recipe
    as_json = result.to_json()["artifacts"]
    assert as_json == [{"artwork": f"#{n}", "version": 2, "kind": "image",
                        "files": {"png": str(current.files["png"])},
                        "recipe": current.recipe}]


def test_list_artworks_answers_with_every_artwork_and_makes_no_artifacts(
        me, chat, assistant, paint):
    paint("a red fox", versions=2)
    paint("a calm piano melody", kind="music")

    result = assistant.turn(me, chat, "list my artworks")

    assert "#1" in result.reply and "a red fox" in result.reply
    assert "#2" in result.reply and "a calm piano melody" in result.reply
    assert result.artifacts == []


def test_the_conversation_goes_on_after_a_restart(store, me, chat, assistant, paint, heads):
    from museforge.assistant.offline import OfflinePlanner
    from museforge.assistant.turn import Assistant

    paint("a red fox", versions=3)
    n = paint("a blue whale", versions=3)
    assistant.turn(me, chat, f"undo #{n}")

    with Store(store.url, store.home) as again:
        me2 = type(me)(again.local_user())
        chat2 = again.session(me2, Scope.local(chat.name))
        result = Assistant(again, OfflinePlanner()).turn(me2, chat2, "undo it")

    assert result.calls[0].args == {"artwork": f"#{n}"}
    assert heads()[n] == 1
    assert len(store.history(me, chat)) == 4


def test_a_failing_call_in_the_middle_does_not_stop_the_others(store, me, chat, assistant,
                                                               paint, heads):
    one = paint("a red fox", versions=2)
    two = paint("a blue whale", versions=2)

    result = assistant.turn(me, chat, "undo #1 and then undo #9 and then undo #2")

    first, missing, third = result.calls
    assert (first.ok, first.args) == (True, {"artwork": f"#{one}"})
    assert (third.ok, third.args) == (True, {"artwork": f"#{two}"})
    assert missing.ok is False
    assert missing.args == {"artwork": "#9"}  # as written: it did not resolve
    assert "#9" in missing.error and "no artwork" in missing.error
    assert heads() == {one: 1, two: 1}
    lines = result.reply.splitlines()
    assert len(lines) == 3
    assert "#1" in lines[0] and "#2" in lines[2]
    assert "couldn't undo" in lines[1] and "#9" in lines[1]
    stored = store.history(me, chat)[-1].tool_calls
    assert [c["ok"] for c in stored] == [True, False, True]


def test_a_bad_argument_is_an_error_the_user_can_act_on(me, chat, assistant, paint, heads):
    paint("a red fox", versions=2)

    result = assistant.turn(me, chat, "revert #1 to version 7")

    [call] = result.calls
    assert call.ok is False
    assert "v7" in call.error and "v1..v2" in call.error
    assert heads() == {1: 2}
    zero = assistant.turn(me, chat, "revert #1 to v0").calls[0]
    assert zero.ok is False and "version" in zero.error and "(got 0)" in zero.error
    assert heads() == {1: 2}


def test_a_message_it_cannot_plan_runs_nothing_and_says_what_it_can_do(
        store, me, chat, assistant, paint, heads):
    paint("a red fox", versions=2)

    result = assistant.turn(me, chat, "book me a flight to Lisbon")

    assert result.calls == []
    assert "not something I can do here" in result.reply  # another app's job, said so
    assert "undo" in result.reply and "#1" in result.reply
    assert heads() == {1: 2}
    assert [m.role for m in store.history(me, chat)] == ["user", "assistant"]


def test_a_cancelled_turn_runs_nothing_and_keeps_the_session(store, me, chat, assistant,
                                                             paint, heads):
    one = paint("a red fox", versions=3)
    two = paint("a blue whale", versions=2)
    cancel = threading.Event()
    cancel.set()  # Ctrl-C arrived before the tools ran

    result = assistant.turn(me, chat, "undo #1 and then undo #2", cancel=cancel)

    assert [(c.name, c.ok, c.error) for c in result.calls] == [
        ("undo", False, "cancelled"), ("undo", False, "cancelled")]
    assert heads() == {one: 3, two: 2}
    user, reply = store.history(me, chat)
    assert user.text == "undo #1 and then undo #2"
    assert [c["error"] for c in reply.tool_calls] == ["cancelled", "cancelled"]
    assert result.reply == reply.text == "Cancelled; nothing was made."
    # The session is intact: the next turn works as usual.
    again = assistant.turn(me, chat, "undo #1")
    assert again.calls[0].ok
    assert heads() == {one: 2, two: 2}


def test_a_request_it_does_not_understand_is_skipped_and_said(me, chat, assistant, paint,
                                                              heads):
    paint("a red fox", versions=2)

    result = assistant.turn(me, chat, "undo #1. Then book me a flight to Lisbon")

    assert [(c.name, c.ok) for c in result.calls] == [("undo", True)]
    assert heads() == {1: 1}
    assert "book me a flight to Lisbon" in result.reply and "skipped" in result.reply
