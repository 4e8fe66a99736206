"""The conversation: every message comes back, in order, with what the planner did."""

from __future__ import annotations

from datetime import UTC

import pytest

from museforge.storage.models import Actor, Scope
from museforge.storage.store import Store

TOOL_CALLS = [
    {"name": "generate_image",
     "args": {"prompt": "un renard roux 🦊", "steps": 4, "seed": 12345678901, "count": 1,
              "negative_prompt": None, "aspect": "16:9"},
     "ok": True, "error": None,
     "result": {"artwork": "#1", "version": 1, "files": {"png": "assets/ab/cd/x.png"}}},
    {"name": "adjust_image", "args": {"artwork": "#1", "brightness": 1.25, "warmth": -0.5},
     "ok": False, "error": "brightness must be from 0.1 to 4", "result": None},
]
TIMINGS = {"plan_s": 0.125, "tools_s": 3.5, "per_tool": [1.5, 2.0], "total_s": 3.625}


def converse(store: Store, me: Actor, chat) -> list:
    return [
        store.add_message(me, chat, "user", "paint a fox, warmer please"),
        store.add_message(me, chat, "assistant", "Here is #1.", tool_calls=TOOL_CALLS,
                          planner="offline", timings=TIMINGS),
        store.add_message(me, chat, "tool", '{"ok": true}', tool_calls=[TOOL_CALLS[0]]),
        store.add_message(me, chat, "user", "now a waltz"),
        store.add_message(me, chat, "assistant", "", planner="llm:gpt-4o-mini",
                          timings={"plan_s": 0.5}),
    ]


def test_history_returns_every_message_in_order(store, me, chat):
    sent = converse(store, me, chat)

    history = store.history(me, chat)

    assert history == sent
    assert [m.role for m in history] == ["user", "assistant", "tool", "user", "assistant"]
    assert [m.id for m in history] == sorted(m.id for m in history)
    assistant = history[1]
    assert assistant.tool_calls == TOOL_CALLS
    assert assistant.planner == "offline"
    assert assistant.timings == TIMINGS
    assert history[0].tool_calls == [] and history[0].timings == {}
    assert history[0].planner is None
    assert history[0].user_id == me.user.id  # who said it
    assert assistant.user_id is None
    assert all(m.created_at.tzinfo is not None for m in history)
    assert all(m.created_at.utcoffset() == UTC.utcoffset(None) for m in history)


def test_history_survives_a_restart(db_url, museforge_home):
    with Store(db_url, museforge_home) as first:
        me = Actor(first.local_user())
        sent = converse(first, me, first.session(me, Scope.local("default")))

    with Store(db_url, museforge_home) as second:
        me = Actor(second.local_user())
        history = second.history(me, second.local_session(me, "default"))

    assert [(m.id, m.role, m.text, m.tool_calls, m.planner, m.timings) for m in history] == [
        (m.id, m.role, m.text, m.tool_calls, m.planner, m.timings) for m in sent]


def test_sessions_keep_their_own_messages(store, me):
    one = store.session(me, Scope.local("one"))
    two = store.session(me, Scope.local("two"))
    store.add_message(me, one, "user", "first")
    store.add_message(me, two, "user", "second")
    store.add_message(me, one, "user", "third")

    assert [m.text for m in store.history(me, one)] == ["first", "third"]
    assert [m.text for m in store.history(me, two)] == ["second"]


def test_a_long_message_comes_back_whole(store, me, chat):
    text = "a fox " * 20_000 + "\u00e9\U0001f98a\n\ttabs"

    store.add_message(me, chat, "user", text)

    assert store.history(me, chat)[0].text == text


def test_a_version_remembers_the_message_that_made_it(store, me, chat, files):
    msg = store.add_message(me, chat, "user", "paint a fox")
    recipe = {"prompt": "a fox", "seed": 7, "model": {"id": "stabilityai/sd-turbo",
                                                      "revision": "abc123"},
              "packages": {"diffusers": "0.32.0"}, "steps": 4, "guidance": 0.0}

    _, v1 = store.create_artwork(me, chat, "image", title="fox", prompt="a fox",
                                 operation="generate_image", recipe=recipe, files=files(),
                                 message_id=msg.id)

    got = store.resolve(me, chat, "#1 v1")[1]
    assert got.message_id == msg.id
    assert got.recipe == recipe
    assert got == v1


def test_an_unknown_role_is_refused(store, me, chat):
    with pytest.raises(ValueError, match="role"):
        store.add_message(me, chat, "system", "you are a bot")
    assert store.history(me, chat) == []


def test_recent_messages_are_the_last_ones_oldest_first(store, me, chat):
    sent = converse(store, me, chat)

    assert store.recent_messages(me, chat, 2) == sent[-2:]
    assert store.recent_messages(me, chat, 50) == sent


def test_recent_artworks_are_the_newest_first(store, me, chat, files):
    for kind in ("image", "music", "image", "image"):
        store.create_artwork(me, chat, kind, title=kind, operation=f"generate_{kind}",
                             recipe={}, files=files())

    assert [a.number for a in store.recent_artworks(me, chat, 2)] == [4, 3]
    assert [a.number for a in store.recent_artworks(me, chat, 5, kind="music")] == [2]


def test_export_holds_the_whole_session(store, me, chat, files):
    sent = converse(store, me, chat)
    store.create_artwork(me, chat, "image", title="fox", operation="generate_image",
                         recipe={"seed": 1}, files=files())
    store.add_version(me, chat, 1, operation="edit_image", recipe={}, files=files())

    export = store.export_data(me, chat)

    assert export.session.id == chat.id
    assert export.messages == sent
    [(art, versions)] = export.artworks
    assert (art.number, art.head_number) == (1, 2)
    assert [(v.number, v.parent_number) for v in versions] == [(1, None), (2, 1)]
