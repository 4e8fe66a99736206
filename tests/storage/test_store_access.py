"""Who sees what. Whatever lies outside a user's reach is "not found", never "forbidden"."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from museforge.storage.errors import NotFound
from museforge.storage.models import Actor, FileIn, Scope


def refusals(store, actor: Actor, session, files) -> dict[str, Callable[[], object]]:
    """Every store call a front-end makes on a session, as ``actor``."""
    return {
        "resolve": lambda: store.resolve(actor, session, "#1"),
        "resolve latest": lambda: store.resolve(actor, session, "latest"),
        "artwork": lambda: store.artwork(actor, session, 1),
        "versions": lambda: store.versions(actor, session, 1),
        "list_artworks": lambda: store.list_artworks(actor, session),
        "search": lambda: store.search_artworks(actor, session, "fox"),
        "history": lambda: store.history(actor, session),
        "recent_messages": lambda: store.recent_messages(actor, session, 5),
        "recent_artworks": lambda: store.recent_artworks(actor, session, 5),
        "add_message": lambda: store.add_message(actor, session, "user", "hi"),
        "add_version": lambda: store.add_version(actor, session, 1, operation="edit_image",
                                                 recipe={}, files=files()),
        "create_artwork": lambda: store.create_artwork(actor, session, "image", title="x",
                                                       operation="generate_image",
                                                       recipe={}, files=files()),
        "undo": lambda: store.undo(actor, session, 1),
        "redo": lambda: store.redo(actor, session, 1),
        "revert": lambda: store.revert(actor, session, 1, 1),
        "find_session": lambda: store.find_session(actor, session.key),
        "export": lambda: store.export_data(actor, session),
    }


def assert_all_refused(store, actor: Actor, session, files) -> None:
    for name, call in refusals(store, actor, session, files).items():
        with pytest.raises(NotFound) as exc:
            call()
        assert type(exc.value) is NotFound, name
        text = str(exc.value).lower()
        assert "forbidden" not in text and "permission" not in text, name


def fill(store, actor: Actor, session, files) -> None:
    """#1 with v1, v2 (head v2), one message."""
    store.add_message(actor, session, "user", "paint a fox")
    store.create_artwork(actor, session, "image", title="fox", prompt="a fox",
                         operation="generate_image", recipe={}, files=files())
    store.add_version(actor, session, 1, operation="edit_image", recipe={}, files=files())


def snapshot(store, actor: Actor, session) -> tuple:
    art = store.artwork(actor, session, 1)
    return (len(store.history(actor, session)), art.head_number, art.version_count,
            len(store.list_artworks(actor, session)))


def test_web_users_are_isolated(store, files):
    alice = Actor(store.user("web", "alice", "Alice"))
    bob = Actor(store.user("web", "bob", "Bob"))
    alices = store.session(alice, Scope.web("alice", "sketches"))
    fill(store, alice, alices, files)
    before = snapshot(store, alice, alices)

    assert_all_refused(store, bob, alices, files)
    with pytest.raises(NotFound):
        store.session(bob, Scope.web("alice", "sketches"))  # even naming its key

    bobs = store.session(bob, Scope.web("bob", "sketches"))
    assert bobs.id != alices.id
    assert store.list_artworks(bob, bobs) == []
    assert [s.id for s in store.list_sessions(bob)] == [bobs.id]
    assert [s.id for s in store.list_sessions(alice)] == [alices.id]
    assert snapshot(store, alice, alices) == before


def test_cli_users_other_than_the_local_one_are_isolated(store, files):
    local = Actor(store.local_user())
    other = Actor(store.user("cli", "someone-else"))
    mine = store.session(local, Scope.local("work"))
    fill(store, local, mine, files)

    assert_all_refused(store, other, mine, files)
    with pytest.raises(NotFound, match="'work'"):
        store.local_session(other, "work")


def test_the_same_user_on_two_platforms_is_two_users(store, files):
    web = Actor(store.user("web", "42"))
    discord = Actor(store.user("discord", "42"))
    session = store.session(web, Scope.web("42", "mine"))
    fill(store, web, session, files)

    assert web.user.id != discord.user.id
    assert_all_refused(store, discord, session, files)


def test_a_dm_is_private_to_its_owner(store, files):
    owner = Actor(store.user("discord", "111", "Ann"))
    dm = store.session(owner, Scope.discord_dm("111", "dm-chan", "dm"))
    fill(store, owner, dm, files)

    stranger = store.user("discord", "222", "Ben")
    for actor in (Actor(stranger), Actor(stranger, guild_id="G1")):
        assert_all_refused(store, actor, dm, files)
    with pytest.raises(NotFound):
        store.session(Actor(stranger), Scope.discord_dm("111", "dm-chan", "dm"))
    assert snapshot(store, owner, dm)[0] == 1


def test_a_guild_thread_is_shared_by_the_guild(store, files):
    ann = Actor(store.user("discord", "111", "Ann"), guild_id="G1")
    ben = Actor(store.user("discord", "222", "Ben"), guild_id="G1")
    scope = Scope.discord_thread("G1", "C1", "T1", "ideas")
    thread = store.session(ann, scope)
    fill(store, ann, thread, files)

    # Ben, in the same guild, finds the same session and works on Ann's artwork.
    assert store.session(ben, scope).id == thread.id
    assert store.find_session(ben, scope.key).id == thread.id
    assert store.resolve(ben, thread, "#1")[1].number == 2
    v3 = store.add_version(ben, thread, 1, operation="edit_image", recipe={}, files=files())
    assert v3.number == 3
    assert store.undo(ben, thread, 1).number == 2
    assert store.redo(ann, thread, 1).number == 3  # Ann redoes what Ben undid
    store.add_message(ben, thread, "user", "nice")
    assert [m.text for m in store.history(ann, thread)] == ["paint a fox", "nice"]
    assert [s.id for s in store.list_sessions(ben)] == [thread.id]


def test_a_guild_thread_is_invisible_from_another_guild(store, files):
    ann = Actor(store.user("discord", "111", "Ann"), guild_id="G1")
    thread = store.session(ann, Scope.discord_thread("G1", "C1", "T1", "ideas"))
    fill(store, ann, thread, files)
    before = snapshot(store, ann, thread)

    carl = Actor(store.user("discord", "333", "Carl"), guild_id="G2")
    assert_all_refused(store, carl, thread, files)
    with pytest.raises(NotFound, match="'ideas'"):
        store.session(carl, Scope.discord_thread("G1", "C1", "T1", "ideas"))
    # The same thread name (and ids) in Carl's guild is another, empty session.
    elsewhere = store.session(carl, Scope.discord_thread("G2", "C1", "T1", "ideas"))
    assert elsewhere.id != thread.id
    assert store.list_artworks(carl, elsewhere) == []
    with pytest.raises(NotFound):
        store.resolve(carl, elsewhere, "#1")
    assert [s.id for s in store.list_sessions(carl)] == [elsewhere.id]
    # Even Ann, acting from outside the guild (a DM), does not reach it.
    assert_all_refused(store, Actor(ann.user), thread, files)
    assert snapshot(store, ann, thread) == before


def test_a_guild_channel_without_a_thread_is_shared_too(store, files):
    ann = Actor(store.user("discord", "111"), guild_id="G1")
    ben = Actor(store.user("discord", "222"), guild_id="G1")
    scope = Scope.discord_thread("G1", "C9", None, "general")
    channel = store.session(ann, scope)

    assert store.session(ben, scope).id == channel.id
    assert scope.key != Scope.discord_thread("G1", "C9", "T9", "general").key


def test_the_cli_and_the_local_web_chat_are_one_user(store, files):
    from_cli = Actor(store.local_user())
    session = store.session(from_cli, Scope.local("x"))
    store.create_artwork(from_cli, session, "music", title="waltz", operation="compose_music",
                         recipe={}, files={"mid": FileIn(b"MThd", "audio/midi")})

    from_web = Actor(store.local_user())
    again = store.session(from_web, Scope.local("x", platform="web"))

    assert from_web.user == from_cli.user
    assert again.id == session.id
    assert store.local_session(from_web, "x").id == session.id
    assert store.resolve(from_web, again, "latest music")[0].title == "waltz"
