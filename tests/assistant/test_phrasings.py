"""The offline planner against the way people talk: a table of phrasings and the calls a
person would expect, checked through a real ``--plan-only`` turn (planned, references
resolved, nothing run). The test prints its accuracy and lists every miss.

The session: #1 "a red fox", #2 "a blue whale", #3 "a lighthouse at dusk" (images) and
#4 "a calm piano melody" (music), three versions each; the last thing the conversation
touched was #3, so "it" is #3.
"""

from __future__ import annotations

import pytest
from phrasing import Call, check_table_shape, run_table


def undo(n: int, times: int = 1) -> list[Call]:
    return [("undo", {"artwork": f"#{n}"})] * times


def redo(n: int, times: int = 1) -> list[Call]:
    return [("redo", {"artwork": f"#{n}"})] * times


def revert(n: int, version: int) -> list[Call]:
    return [("revert", {"artwork": f"#{n}", "version": version})]


def listing(kind: str = "all") -> list[Call]:
    return [("list_artworks", {"kind": kind})]


def versions(n: int) -> list[Call]:
    return [("show_versions", {"artwork": f"#{n}"})]


NOTHING: list[Call] = []

PHRASINGS: list[tuple[str, list[Call]]] = [
    # -- undo: synonyms, politeness, pronouns ------------------------------------------
    ("undo", undo(3)),
    ("Undo!", undo(3)),
    ("undo that", undo(3)),
    ("could you please undo that", undo(3)),
    ("please undo the last change", undo(3)),
    ("hmm, undo that please", undo(3)),
    ("that's worse, undo it", undo(3)),
    ("take that back", undo(3)),
    ("scratch that", undo(3)),
    ("cancel that", undo(3)),
    ("oops, go back", undo(3)),
    ("go back one step", undo(3)),
    ("step back", undo(3)),
    ("I liked it better before", undo(3)),
    ("make it like it was before", undo(3)),
    ("revert that", undo(3)),
    ("revert the last change", undo(3)),
    ("undo what you just did", undo(3)),
    ("go back to the previous version", undo(3)),
    ("ugh, undo", undo(3)),
    ("nope, take it back", undo(3)),
    ("can you go back a version?", undo(3)),
    ("pls undo", undo(3)),
    # -- undo: which artwork, word order -----------------------------------------------
    ("undo #2", undo(2)),
    ("#2: undo", undo(2)),
    ("undo the change to #2", undo(2)),
    ("could you undo the last edit to #2?", undo(2)),
    ("undo the whale one", undo(2)),
    ("undo the one with the whale", undo(2)),
    ("undo the fox picture", undo(1)),
    ("undo the last change to the fox one", undo(1)),
    ("undo the first one", undo(1)),
    ("undo the last one", undo(4)),
    ("undo #2 and #3", undo(2) + undo(3)),
    ("revert the whale to how it was", undo(2)),
    # -- undo: how many times, in digits and in words ----------------------------------
    ("undo twice", undo(3, 2)),
    ("undo three times", undo(3, 3)),
    ("undo 2 times", undo(3, 2)),
    ("undo that 2x", undo(3, 2)),
    ("undo a couple of times", undo(3, 2)),
    ("undo the last two changes", undo(3, 2)),
    ("go back two steps", undo(3, 2)),
    ("undo the last 3 edits on #1", undo(1, 3)),
    ("undo the last three changes on the whale one", undo(2, 3)),
    ("undo, undo", undo(3, 2)),
    ("undo x3", undo(3, 3)),
    # -- redo ----------------------------------------------------------------------------
    ("redo", redo(3)),
    ("redo it", redo(3)),
    ("redo #2", redo(2)),
    ("on #2, redo", redo(2)),
    ("bring it back", redo(3)),
    ("actually, put it back", redo(3)),
    ("put back the change you undid", redo(3)),
    ("undo the undo", redo(3)),
    ("I changed my mind, redo that", redo(3)),
    ("go forward again", redo(3)),
    ("redo twice", redo(3, 2)),
    ("redo the last change on #1", redo(1)),
    ("ok now redo it", redo(3)),
    ("redo #1 twice", redo(1, 2)),
    # -- revert to a named version -------------------------------------------------------
    ("go back to version two of #3", revert(3, 2)),
    ("revert #2 to v3", revert(2, 3)),
    ("roll back #1 to the original", revert(1, 1)),
    ("revert to v2", revert(3, 2)),
    ("go back to the first version", revert(3, 1)),
    ("back to v2 please", revert(3, 2)),
    ("let's go back to v1", revert(3, 1)),
    ("can we go back to the original?", revert(3, 1)),
    ("restore version 2 of the fox one", revert(1, 2)),
    ("switch #2 back to version 1", revert(2, 1)),
    ("switch to version 1", revert(3, 1)),
    ("roll #2 back to version 1", revert(2, 1)),
    ("take #1 back to v2", revert(1, 2)),
    ("Please revert #1 to its first version", revert(1, 1)),
    ("can you restore the original of #2", revert(2, 1)),
    ("go back to v1 of #3", revert(3, 1)),
    ("use #2 v1 again", revert(2, 1)),
    ("make #1 v2 the current one", revert(1, 2)),
    ("revert to version three", revert(3, 3)),
    ("I want the second version of #2 back", revert(2, 2)),
    ("I'd like version 2 back", revert(3, 2)),
    ("give me v1 of #2 back", revert(2, 1)),
    ("reset #3 to the original", revert(3, 1)),
    ("for #1, go back to v2", revert(1, 2)),
    ("return #2 to version 1", revert(2, 1)),
    ("go back to the very first version of #1", revert(1, 1)),
    ("restore the original", revert(3, 1)),
    ("roll it back to v2", revert(3, 2)),
    # -- list ----------------------------------------------------------------------------
    ("list my artworks", listing()),
    ("list my pictures", listing("image")),
    ("show me my images", listing("image")),
    ("what have we made so far?", listing()),
    ("what did I make?", listing()),
    ("show me everything", listing()),
    ("what pictures do I have", listing("image")),
    ("how many pictures have I made", listing("image")),
    ("list the music", listing("music")),
    ("show all my songs", listing("music")),
    ("what music have we made", listing("music")),
    ("what's in my gallery", listing()),
    ("list everything we've made", listing()),
    ("show me what we've got", listing()),
    ("could you show me all my pictures?", listing("image")),
    ("what have you made for me", listing()),
    ("list all the songs", listing("music")),
    # -- versions ------------------------------------------------------------------------
    ("show the versions of #2", versions(2)),
    ("show me the history of #1", versions(1)),
    ("how many versions does #3 have", versions(3)),
    ("version history for the fox one", versions(1)),
    ("what versions are there of the whale one", versions(2)),
    ("show me what versions #2 has", versions(2)),
    ("what's the history of the fox one?", versions(1)),
    ("show versions", versions(3)),
    ("show me the version history", versions(3)),
    ("which versions does the whale one have", versions(2)),
    ("show me the edit history of #2", versions(2)),
    # -- several requests in one message -------------------------------------------------
    ("undo #1 and then redo #1", undo(1) + redo(1)),
    ("list my pictures, then show the versions of #2", listing("image") + versions(2)),
    ("undo #1 and undo #2", undo(1) + undo(2)),
    ("undo #2, then revert #1 to v2", undo(2) + revert(1, 2)),
    ("undo #1; redo #1", undo(1) + redo(1)),
    ("show the versions of #1 and list my artworks", versions(1) + listing()),
    ("undo it twice and then show me the versions", undo(3, 2) + versions(3)),
    ("what did we make so far, and show me the versions of #1", listing() + versions(1)),
    ("undo #3 then undo #3 again", undo(3, 2)),
    ("first undo #1, then redo it", undo(1) + redo(1)),
    # -- what it must not understand -----------------------------------------------------
    ("what's the weather like today", NOTHING),
    ("tell me a joke", NOTHING),
    ("delete #2", NOTHING),
    ("book me a flight to Paris", NOTHING),
    ("asdfgh", NOTHING),
    ("order a pizza", NOTHING),
    ("who won the game last night?", NOTHING),
    ("translate this into French", NOTHING),
    ("how are you", NOTHING),
    ("what time is it", NOTHING),
]


@pytest.fixture
def store(sqlite_store):
    # The table tests the planner's English, not the database: SQLite is enough.
    return sqlite_store


@pytest.fixture
def session_with_four(store, me, chat, paint, remember):
    for title in ("a red fox", "a blue whale", "a lighthouse at dusk"):
        paint(title, versions=3)
    paint("a calm piano melody", versions=3, kind="music")
    for number in range(1, 5):  # at v2, v3 undone: "undo" and "redo" both have a step
        store.undo(me, chat, number)
    remember([3])




def test_the_phrasing_table_is_big_and_has_no_duplicates():
    check_table_shape(PHRASINGS, 60)


def test_the_offline_planner_understands_how_people_ask(me, chat, assistant, session_with_four,
        heads, capsys):
    run_table("phrasings", PHRASINGS, assistant, me, chat, heads, capsys)
