"""Artwork references as a user types them: ``#3``, ``#3 v2``, ``latest music``..."""

from __future__ import annotations

import pytest

from museforge.storage.errors import InvalidReference, NotFound
from museforge.storage.models import FileIn
from museforge.storage.refs import parse_ref


@pytest.fixture
def gallery(store, me, chat, files):
    """#1 image (v1, v2), #2 music (v1), #3 image (v1, v2, v3; head v3)."""

    def new(kind: str, prompt: str) -> int:
        f = files() if kind == "image" else {"mid": FileIn(prompt.encode(), "audio/midi")}
        art, _ = store.create_artwork(me, chat, kind, title=prompt, prompt=prompt,
                                      operation=f"generate_{kind}", recipe={}, files=f)
        return art.number

    def edit(n: int) -> None:
        store.add_version(me, chat, n, operation="edit_image", recipe={}, files=files())

    new("image", "a red fox")
    edit(1)
    new("music", "a slow waltz")
    new("image", "a lighthouse")
    edit(3)
    edit(3)
    return store


@pytest.mark.parametrize(
    ("ref", "artwork", "version"),
    [
        ("#3", 3, 3),
        ("#1", 1, 2),
        ("#3 v2", 3, 2),
        ("#3v2", 3, 2),
        ("#1 v1", 1, 1),
        ("  #3   V1 ", 3, 1),
        ("latest", 3, 3),
        ("latest image", 3, 3),
        ("latest music", 2, 1),
        ("the last picture", 3, 3),
    ],
)
def test_references_resolve_to_the_artwork_and_version_meant(gallery, me, chat, ref,
                                                             artwork, version):
    art, v = gallery.resolve(me, chat, ref)

    assert (art.number, v.number) == (artwork, version)
    assert v.artwork_number == artwork
    assert art.ref == f"#{artwork}"


def test_latest_with_a_kind_argument(gallery, me, chat):
    assert gallery.resolve(me, chat, "latest", kind="music")[0].number == 2
    assert gallery.resolve(me, chat, "latest", kind="image")[0].number == 3


@pytest.mark.parametrize(
    "ref", ["#0", "#-1", "#99999999999999999999", "#1 v0", "#1 v-2", "foo", "#", "#1 v",
            "#two", "latest video", "1"],
)
def test_malformed_references_are_refused_naming_the_reference(gallery, me, chat, ref):
    with pytest.raises(InvalidReference) as exc:
        gallery.resolve(me, chat, ref)

    assert ref in str(exc.value)
    assert "\n" not in str(exc.value)


def test_an_empty_reference_is_refused(gallery, me, chat):
    with pytest.raises(InvalidReference, match="#N"):
        gallery.resolve(me, chat, "")


def test_an_unknown_artwork_is_not_found(gallery, me, chat):
    with pytest.raises(NotFound, match="#7"):
        gallery.resolve(me, chat, "#7")
    with pytest.raises(NotFound, match="#7"):
        gallery.undo(me, chat, 7)


def test_an_unknown_version_is_not_found_and_says_which_exist(gallery, me, chat):
    with pytest.raises(NotFound, match=r"#3 has no version v9 \(it has v1\.\.v3\)"):
        gallery.resolve(me, chat, "#3 v9")


def test_latest_in_an_empty_session_is_not_found(store, me, chat):
    with pytest.raises(NotFound, match="no artwork"):
        store.resolve(me, chat, "latest")


def test_latest_music_without_music_is_not_found(store, me, chat, files):
    store.create_artwork(me, chat, "image", title="x", operation="generate_image", recipe={},
                         files=files())

    with pytest.raises(NotFound, match="no music"):
        store.resolve(me, chat, "latest music")


def test_an_unknown_session_name_is_not_found(store, me):
    with pytest.raises(NotFound, match="'nope'"):
        store.local_session(me, "nope")


@pytest.mark.parametrize(("ref", "canonical"),
                         [("#3v2", "#3 v2"), ("# 3", "#3"), ("LATEST Music", "latest music"),
                          ("last song", "latest music"), ("latest", "latest")])
def test_references_print_in_canonical_form(ref, canonical):
    assert str(parse_ref(ref)) == canonical
