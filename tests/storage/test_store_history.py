"""The version tree: undo, redo and revert move the head; edits branch; nothing is deleted."""

from __future__ import annotations

import pytest

from museforge.storage.errors import HistoryError, NotFound
from museforge.storage.models import Actor, Scope
from museforge.storage.store import Store


def make_artwork(store, me, chat, files, versions: int = 1) -> int:
    """``#N`` with ``versions`` versions made one after another (v1 -> v2 -> ...)."""
    art, _ = store.create_artwork(me, chat, "image", title="a fox", prompt="a fox",
                                  operation="generate_image", recipe={"seed": 1},
                                  files=files())
    for step in range(2, versions + 1):
        edit(store, me, chat, art.number, files, step=step)
    return art.number


def edit(store, me, chat, number, files, parent=None, **recipe):
    return store.add_version(me, chat, number, operation="edit_image", recipe=recipe,
                             files=files(), parent=parent)


def head(store, me, chat, number: int) -> int:
    return store.resolve(me, chat, f"#{number}")[1].number


def tree(store, me, chat, number: int) -> dict[int, int | None]:
    """version -> parent version, as ``show_versions`` would list it."""
    return {v.number: v.parent_number for v in store.versions(me, chat, number)}


def test_undo_past_the_first_version_is_refused(store, me, chat, files):
    n = make_artwork(store, me, chat, files)
    with pytest.raises(HistoryError, match="nothing to undo") as exc:
        store.undo(me, chat, n)
    assert f"#{n}" in str(exc.value)
    assert head(store, me, chat, n) == 1

    edit(store, me, chat, n, files)
    assert store.undo(me, chat, n).number == 1
    with pytest.raises(HistoryError, match="nothing to undo"):
        store.undo(me, chat, n)
    assert head(store, me, chat, n) == 1


def test_undo_then_redo_returns_to_the_same_version(store, me, chat, files):
    n = make_artwork(store, me, chat, files, versions=3)
    before = store.resolve(me, chat, f"#{n}")[1]

    assert store.undo(me, chat, n).number == 2
    assert head(store, me, chat, n) == 2
    redone = store.redo(me, chat, n)

    assert redone == before
    assert head(store, me, chat, n) == 3
    with pytest.raises(HistoryError, match="nothing to redo"):
        store.redo(me, chat, n)


def test_undo_twice_then_redo_twice(store, me, chat, files):
    n = make_artwork(store, me, chat, files, versions=3)

    assert [store.undo(me, chat, n).number for _ in range(2)] == [2, 1]
    art = store.artwork(me, chat, n)
    assert (art.head_number, art.can_undo, art.can_redo) == (1, False, True)

    assert [store.redo(me, chat, n).number for _ in range(2)] == [2, 3]
    art = store.artwork(me, chat, n)
    assert (art.head_number, art.can_undo, art.can_redo) == (3, True, False)


def test_redo_follows_the_branch_that_was_undone(store, me, chat, files):
    n = make_artwork(store, me, chat, files, versions=2)  # v1 -> v2
    branch = edit(store, me, chat, n, files, parent=1)  # v1 -> v3
    assert (branch.number, branch.parent_number) == (3, 1)

    assert store.undo(me, chat, n).number == 2  # back to the head before the branch
    assert store.redo(me, chat, n).number == 3  # the branch, not v2's line
    assert tree(store, me, chat, n) == {1: None, 2: 1, 3: 1}


def test_a_new_version_after_undo_branches_from_the_current_head(store, me, chat, files):
    n = make_artwork(store, me, chat, files, versions=3)
    store.undo(me, chat, n)  # head v2

    v4 = edit(store, me, chat, n, files)

    assert (v4.number, v4.parent_number) == (4, 2)
    assert head(store, me, chat, n) == 4
    with pytest.raises(HistoryError, match="nothing to redo"):
        store.redo(me, chat, n)
    assert tree(store, me, chat, n) == {1: None, 2: 1, 3: 2, 4: 2}
    assert store.undo(me, chat, n).number == 2


def test_revert_then_edit_branches_from_the_reverted_version(store, me, chat, files):
    n = make_artwork(store, me, chat, files, versions=3)

    reverted = store.revert(me, chat, n, 1)
    assert reverted.number == 1
    assert head(store, me, chat, n) == 1
    v4 = edit(store, me, chat, n, files)

    assert (v4.number, v4.parent_number) == (4, 1)
    assert tree(store, me, chat, n) == {1: None, 2: 1, 3: 2, 4: 1}


def test_undo_after_revert_brings_back_the_head_before_the_revert(store, me, chat, files):
    n = make_artwork(store, me, chat, files, versions=3)
    store.revert(me, chat, n, 1)

    assert store.undo(me, chat, n).number == 3
    assert store.redo(me, chat, n).number == 1
    assert store.undo(me, chat, n).number == 3
    assert store.undo(me, chat, n).number == 2


def test_revert_to_the_head_changes_nothing(store, me, chat, files):
    n = make_artwork(store, me, chat, files, versions=2)

    assert store.revert(me, chat, n, 2).number == 2
    assert store.undo(me, chat, n).number == 1  # one step back, not back to v2


def test_revert_to_an_unknown_version_says_which_exist(store, me, chat, files):
    n = make_artwork(store, me, chat, files, versions=3)

    with pytest.raises(NotFound, match=r"v9.*v1\.\.v3"):
        store.revert(me, chat, n, 9)
    assert head(store, me, chat, n) == 3


def test_add_version_with_an_explicit_parent(store, me, chat, files):
    n = make_artwork(store, me, chat, files, versions=3)

    v4 = store.add_version(me, chat, n, operation="vary_image", recipe={"strength": "subtle"},
                           files=files(), parent=2)

    assert (v4.number, v4.parent_number, v4.operation) == (4, 2, "vary_image")
    assert v4.recipe == {"strength": "subtle"}
    assert head(store, me, chat, n) == 4
    assert store.undo(me, chat, n).number == 3

    with pytest.raises(NotFound, match="v99"):
        edit(store, me, chat, n, files, parent=99)
    assert [v.number for v in store.versions(me, chat, n)] == [1, 2, 3, 4]
    assert store.artwork(me, chat, n).version_count == 4


def test_nothing_is_ever_deleted(store, me, chat, files):
    n = make_artwork(store, me, chat, files, versions=3)
    store.undo(me, chat, n)
    edit(store, me, chat, n, files)  # v4 from v2
    store.revert(me, chat, n, 1)
    edit(store, me, chat, n, files)  # v5 from v1
    store.undo(me, chat, n)
    store.undo(me, chat, n)
    store.redo(me, chat, n)

    versions = store.versions(me, chat, n)

    assert [v.number for v in versions] == [1, 2, 3, 4, 5]
    assert [v.parent_number for v in versions] == [None, 1, 2, 2, 1]
    for v in versions:
        assert v.files["png"].is_file()
        assert store.resolve(me, chat, f"#{n} v{v.number}")[1] == v


def test_history_survives_a_restart(db_url, museforge_home, files):
    with Store(db_url, museforge_home) as first:
        actor = Actor(first.local_user())
        chat = first.session(actor, Scope.local("default"))
        n = make_artwork(first, actor, chat, files, versions=3)
        first.undo(actor, chat, n)

    with Store(db_url, museforge_home) as second:
        actor = Actor(second.local_user())
        chat = second.local_session(actor, "default")
        assert head(second, actor, chat, n) == 2
        assert second.redo(actor, chat, n).number == 3
