"""What a person calls an artwork ("it", "#3 v2", "the first one", "the last two", "the one
with the fox") resolves against the session; with several candidates the assistant asks
instead of guessing, and nothing moves."""

from __future__ import annotations

import pytest

from museforge.assistant.references import Ambiguous, Resolver
from museforge.storage.errors import NotFound


def test_it_after_a_turn_that_touched_2_means_2(me, chat, assistant, paint, heads):
    paint("a red fox", versions=3)
    two = paint("a blue whale", versions=3)
    paint("a lighthouse at dusk", versions=3)

    assistant.turn(me, chat, f"undo #{two}")
    result = assistant.turn(me, chat, "redo it")

    assert result.calls[0].args == {"artwork": f"#{two}"}
    assert heads() == {1: 3, two: 3, 3: 3}
    # "it" follows the conversation, not the newest artwork.
    assistant.turn(me, chat, "undo that")
    assert heads() == {1: 3, two: 2, 3: 3}


def test_it_with_no_history_means_the_newest_artwork(me, chat, assistant, paint, heads):
    paint("a red fox", versions=2)
    newest = paint("a blue whale", versions=2)

    result = assistant.turn(me, chat, "undo it")

    assert result.calls[0].args == {"artwork": f"#{newest}"}
    assert heads() == {1: 2, newest: 1}


def test_a_named_version_resolves_to_that_version(store, me, chat, assistant, paint, heads):
    paint("a red fox")
    paint("a blue whale")
    three = paint("a lighthouse at dusk", versions=3)

    resolver = Resolver(store, me, chat)
    assert resolver.resolve("#3 v2") == ["#3 v2"]
    assert resolver.resolve("#3v2") == ["#3 v2"]
    with pytest.raises(NotFound, match="v1..v3"):
        resolver.resolve("#3 v9")

    result = assistant.turn(me, chat, "go back to #3 v2")
    assert result.calls[0].args == {"artwork": f"#{three}", "version": 2}
    assert heads()[three] == 2


def test_the_first_and_second_one_count_within_the_last_batch(me, chat, assistant, paint,
                                                              remember, heads):
    paint("a blue whale", versions=2)
    batch = [paint(f"a fox, take {i}", versions=2) for i in (1, 2, 3)]  # #2, #3, #4
    remember(batch)

    planned = assistant.turn(me, chat, "undo the first one", plan_only=True)
    assert planned.calls[0].args == {"artwork": f"#{batch[0]}"}

    result = assistant.turn(me, chat, "undo the second one")
    assert result.calls[0].args == {"artwork": f"#{batch[1]}"}
    assert heads() == {1: 2, batch[0]: 2, batch[1]: 1, batch[2]: 2}


def test_the_first_one_without_a_batch_is_the_sessions_first(me, chat, assistant, paint,
                                                             heads):
    first = paint("a red fox", versions=2)
    paint("a blue whale", versions=2)

    result = assistant.turn(me, chat, "undo the first one")

    assert result.calls[0].args == {"artwork": f"#{first}"}
    assert heads() == {first: 1, 2: 2}


def test_the_last_two_are_the_two_newest_and_each_gets_its_own_call(
        store, me, chat, assistant, paint, heads):
    for title in ("a red fox", "a blue whale", "a lighthouse", "a harbour at night"):
        paint(title, versions=2)

    assert Resolver(store, me, chat).resolve("the last two") == ["#3", "#4"]
    result = assistant.turn(me, chat, "undo the last two pictures")

    assert [(c.name, c.args, c.ok) for c in result.calls] == [
        ("undo", {"artwork": "#3"}, True), ("undo", {"artwork": "#4"}, True)]
    assert heads() == {1: 2, 2: 2, 3: 1, 4: 1}
    shown = assistant.turn(me, chat, "show the versions of the last two")
    assert [c.args for c in shown.calls] == [{"artwork": "#3"}, {"artwork": "#4"}]


def test_the_last_three_when_there_are_two_says_so(me, chat, assistant, paint, heads):
    paint("a red fox", versions=2)
    paint("a blue whale", versions=2)

    result = assistant.turn(me, chat, "show the versions of the last three")

    [call] = result.calls
    assert call.ok is False
    assert "2 artworks, not 3" in call.error
    assert heads() == {1: 2, 2: 2}


def test_the_one_with_the_fox_matches_title_or_prompt_words(me, chat, assistant, paint,
                                                            heads):
    paint("a blue whale", versions=2)
    fox = paint("a red fox in the snow", versions=2)
    sketch = paint("untitled sketch", versions=2, prompt="an old lighthouse on a cliff")

    result = assistant.turn(me, chat, "undo the one with the fox")
    assert result.calls[0].args == {"artwork": f"#{fox}"}

    by_prompt = assistant.turn(me, chat, "undo the lighthouse one")
    assert by_prompt.calls[0].args == {"artwork": f"#{sketch}"}
    assert heads() == {1: 2, fox: 1, sketch: 1}


def test_a_word_that_matches_two_artworks_asks_which_and_moves_nothing(
        store, me, chat, assistant, paint, heads):
    paint("a red fox", versions=2)
    paint("a blue whale", versions=2)
    paint("a fox in the snow", versions=2)
    before = heads()

    result = assistant.turn(me, chat, "undo the fox one")

    [call] = result.calls
    assert call.ok is False
    assert call.args == {"artwork": "the fox one"}  # unresolved: stays as written
    assert "#1" in result.reply and "#3" in result.reply
    assert "#2" not in result.reply
    assert result.reply.rstrip().endswith("?")
    assert heads() == before
    assert store.history(me, chat)[-1].tool_calls[0]["ok"] is False


def test_it_after_a_call_that_touched_several_asks_which(me, chat, assistant, paint,
                                                         remember, heads):
    paint("a red fox", versions=2)
    paint("a blue whale", versions=2)
    paint("a fox in the snow", versions=2)
    remember([2, 3])
    before = heads()

    result = assistant.turn(me, chat, "undo it")

    assert result.calls[0].ok is False
    assert "#2" in result.reply and "#3" in result.reply and "#1" not in result.reply
    assert "Which one?" in result.reply
    assert heads() == before


def test_the_resolver_explains_what_it_cannot_find(store, me, chat, paint):
    paint("a red fox")
    resolver = Resolver(store, me, chat)

    with pytest.raises(NotFound, match="zebra"):
        resolver.resolve("the one with the zebra")
    with pytest.raises(NotFound, match="#5"):
        resolver.resolve("#5")
    with pytest.raises(NotFound, match="no music"):
        resolver.resolve("it", "music")
    paint("a fox at dawn")
    with pytest.raises(Ambiguous) as exc:
        resolver.resolve_one("the fox one")
    assert sorted(n for n, _ in exc.value.candidates) == [1, 2]


def test_a_name_matches_whole_words_not_parts_of_words(me, chat, assistant, paint, heads):
    cat = paint("a cat on a mat", versions=2)
    paint("a catalog of sea shells", versions=2)
    foxes = paint("three foxes at play", versions=2)

    result = assistant.turn(me, chat, "undo the cat one")
    assert result.calls[0].args == {"artwork": f"#{cat}"}  # not ambiguous with "catalog"
    plural = assistant.turn(me, chat, "undo the one with the fox")
    assert plural.calls[0].args == {"artwork": f"#{foxes}"}
    assert heads() == {cat: 1, 2: 2, foxes: 1}
