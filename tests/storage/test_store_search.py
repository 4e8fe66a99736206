"""Finding artworks by the words of their prompt or title."""

from __future__ import annotations

import pytest

from museforge.storage.models import FileIn

PROMPTS = [
    ("image", "A Red Fox in the snow"),  # 1
    ("image", "red panda eating bamboo"),  # 2
    ("music", "blue fox waltz"),  # 3
    ("image", "100% cotton_candy sky"),  # 4
    ("image", "100x cottonXcandy sky"),  # 5
    ("image", r"path c:\art\fox"),  # 6
    ("music", "Un ÉTÉ à Paris"),  # 7
]


@pytest.fixture
def gallery(store, me, chat, files):
    for kind, prompt in PROMPTS:
        f = files() if kind == "image" else {"mid": FileIn(prompt.encode(), "audio/midi")}
        store.create_artwork(me, chat, kind, title="", prompt=prompt,
                             operation=f"generate_{kind}", recipe={}, files=f)
    return store


def found(store, me, chat, words: str, kind: str | None = None) -> list[int]:
    return [a.number for a in store.search_artworks(me, chat, words, kind=kind)]


@pytest.mark.parametrize(
    ("words", "numbers"),
    [
        ("fox", [6, 3, 1]),  # newest first
        ("FOX", [6, 3, 1]),
        ("red fox", [1]),  # every word must match, in any order
        ("fox RED", [1]),
        ("red fox snow", [1]),
        ("fox panda", []),
        ("  red   ", [2, 1]),
        ("100%", [4]),  # % is a character, not a wildcard
        ("%", [4]),
        ("cotton_candy", [4]),  # _ too
        ("_", [4]),
        ("n_x", []),
        ("c:\\art", [6]),  # and a backslash
        ("\\", [6]),
        ("été", [7]),  # case folding beyond ASCII
        ("ÉTÉ PARIS", [7]),
        ("giraffe", []),
    ],
)
def test_search_by_prompt_words(gallery, me, chat, words, numbers):
    assert found(gallery, me, chat, words) == numbers


def test_search_by_kind(gallery, me, chat):
    assert found(gallery, me, chat, "fox", kind="music") == [3]
    assert found(gallery, me, chat, "fox", kind="image") == [6, 1]


def test_search_matches_titles_too(store, me, chat, files):
    store.create_artwork(me, chat, "image", title="Lighthouse at dusk", prompt="",
                         operation="generate_image", recipe={}, files=files())

    assert found(store, me, chat, "lighthouse dusk") == [1]


def test_search_with_no_words_lists_everything(gallery, me, chat):
    assert found(gallery, me, chat, "   ") == [7, 6, 5, 4, 3, 2, 1]
