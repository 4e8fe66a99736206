"""Learnt styles in the store: owned by one person (anyone else: NotFound), a version per
training, weights as content-addressed assets, forgetting removes them; 0004 upgrades a
database that holds work."""

from __future__ import annotations

import hashlib

import pytest
from alembic import command
from sqlalchemy import inspect

from museforge.storage import db
from museforge.storage.errors import AlreadyExists, InvalidName, NotFound
from museforge.storage.models import Actor, FileIn, Scope
from museforge.storage.store import Store

MIME = "application/x-safetensors"


def weights(tag: str) -> FileIn:
    return FileIn(f"weights {tag}".encode(), MIME)


@pytest.fixture
def other(store) -> Actor:
    return Actor(store.user("discord", "424242", "someone else"))


def test_a_style_is_made_with_its_weights_and_recipe(store, me):
    made = store.create_style(me, "music", "My Reels", recipe={"steps": 300},
                              weights=weights("a"))

    assert (made.name, made.kind, made.version, made.version_count) == ("My Reels", "music",
                                                                        1, 1)
    assert made.weights.read_bytes() == b"weights a"
    assert made.weights.stem == hashlib.sha256(b"weights a").hexdigest()
    assert made.weights.suffix == ".safetensors"
    got = store.style(me, "my reels")  # names compare in any case and spacing
    assert (got.id, got.recipe, got.weights) == (made.id, {"steps": 300}, made.weights)
    assert store.style(me, "  MY   reels ", kind="music").id == made.id


def test_retraining_adds_a_version_and_the_newest_is_used(store, me):
    store.create_style(me, "music", "jigs", recipe={"round": 1}, weights=weights("1"))
    again = store.retrain_style(me, "Jigs", recipe={"round": 2}, weights=weights("2"))

    assert (again.version, again.version_count) == (2, 2)
    assert store.style(me, "jigs").recipe == {"round": 2}
    assert store.style(me, "jigs", version=1).weights.read_bytes() == b"weights 1"
    assert [v.version for v in store.style_versions(me, "jigs")] == [1, 2]
    with pytest.raises(NotFound, match="no version v3"):
        store.style(me, "jigs", version=3)


def test_a_name_is_taken_once_per_person_and_kind(store, me, other):
    store.create_style(me, "music", "pip", recipe={}, weights=weights("m"))
    with pytest.raises(AlreadyExists, match="already have a music style called 'Pip'"):
        store.create_style(me, "music", "Pip", recipe={}, weights=weights("m2"))

    store.create_style(me, "image", "pip", recipe={}, weights=weights("i"))
    store.create_style(other, "music", "pip", recipe={}, weights=weights("o"))
    assert [(s.name, s.kind) for s in store.list_styles(me)] == [("pip", "image"),
                                                                 ("pip", "music")]
    assert [s.kind for s in store.list_styles(me, kind="music")] == ["music"]
    with pytest.raises(NotFound, match="say which kind"):
        store.style(me, "pip")
    assert store.style(me, "pip", kind="image").weights.read_bytes() == b"weights i"


def test_another_persons_style_is_not_found(store, me, other):
    store.create_style(me, "music", "reels", recipe={}, weights=weights("r"))

    assert store.list_styles(other) == []
    for call in (lambda: store.style(other, "reels"),
                 lambda: store.style_versions(other, "reels"),
                 lambda: store.retrain_style(other, "reels", recipe={}, weights=weights("x")),
                 lambda: store.forget_style(other, "reels")):
        with pytest.raises(NotFound, match="no style called 'reels'"):
            call()
    assert store.style(me, "reels").version_count == 1  # untouched by the attempts


def test_a_style_follows_its_owner_across_sessions(store, me):
    store.session(me, Scope.local("one"))
    store.create_style(me, "music", "reels", recipe={}, weights=weights("r"))
    store.session(me, Scope.local("two"))

    assert [s.name for s in store.list_styles(me)] == ["reels"]


def test_forgetting_deletes_the_style_and_orphans_its_weights(store, me, chat, files):
    made = store.create_style(me, "music", "reels", recipe={}, weights=weights("r1"))
    store.retrain_style(me, "reels", recipe={}, weights=weights("r2"))
    art = store.create_artwork(me, chat, "image", title="x", operation="t", recipe={},
                               files=files())[1]

    gone = store.forget_style(me, "Reels")

    assert (gone.name, gone.version) == ("reels", 2)
    assert store.list_styles(me) == []
    with pytest.raises(NotFound):
        store.style(me, "reels")
    orphans = store.orphans()
    assert made.weights.relative_to(store.home).as_posix() in orphans
    assert all(not p.endswith(".png") for p in orphans)  # the artwork's file is kept
    assert art.files["png"].exists() and store.integrity_problems() == []
    again = store.create_style(me, "music", "reels", recipe={}, weights=weights("r1"))
    assert again.version == 1 and again.weights.read_bytes() == b"weights r1"


def test_weights_shared_by_two_styles_stay_while_one_names_them(store, me):
    store.create_style(me, "music", "a", recipe={}, weights=weights("same"))
    b = store.create_style(me, "music", "b", recipe={}, weights=weights("same"))

    store.forget_style(me, "a")

    assert store.style(me, "b").weights == b.weights
    assert store.orphans() == [] and store.integrity_problems() == []


@pytest.mark.parametrize("name", ["", " ", "-dash", "x" * 41, "semi;colon", "a/b"])
def test_a_bad_name_is_refused(store, me, name):
    with pytest.raises(InvalidName, match="cannot name a style"):
        store.create_style(me, "music", name, recipe={}, weights=weights("n"))


def test_a_style_kind_is_image_or_music(store, me):
    with pytest.raises(ValueError, match="kind is one of"):
        store.create_style(me, "audio", "x", recipe={}, weights=weights("k"))


def test_0004_upgrades_a_database_that_holds_work(db_url, museforge_home, files):
    engine = db.make_engine(db_url)
    command.upgrade(db._alembic_config(engine.execution_options(museforge_write=True)),
                    "0003_user_tokens")
    assert "styles" not in inspect(engine).get_table_names()
    engine.dispose()
    with Store(db_url, museforge_home, migrate=False) as old:
        me = Actor(old.local_user())
        chat = old.session(me, Scope.local("default"))
        old.create_artwork(me, chat, "image", title="fox", operation="generate_image",
                           recipe={}, files=files())

    with Store(db_url, museforge_home) as new:
        current, head = db.migration_status(new.engine)
        assert current == head and current is not None and current >= "0004_styles"
        me = Actor(new.local_user())
        assert [a.title for a in new.list_artworks(me, new.local_session(me, "default"))] == [
            "fox"]
        new.create_style(me, "music", "reels", recipe={}, weights=weights("u"))
        assert [s.name for s in new.list_styles(me)] == ["reels"]


def test_my_style_is_the_one_style_of_its_kind_or_a_question(store, me, other):
    from museforge.storage.styles import MY_STYLE

    with pytest.raises(NotFound, match="no picture style yet"):
        store.style(me, MY_STYLE, kind="image")
    rust = store.create_style(me, "image", "Rust", recipe={}, weights=weights("r"))
    store.create_style(me, "music", "Reels", recipe={}, weights=weights("m"))
    # "paint a harbour in my style": the one picture style this person has
    assert store.style(me, MY_STYLE, kind="image").id == rust.id
    with pytest.raises(NotFound):  # someone else's style is never "my style"
        store.style(other, MY_STYLE, kind="image")
    with pytest.raises(NotFound):  # looking up the name itself (learning one) finds none
        store.style(me, MY_STYLE, kind="image", exact=True)
    store.create_style(me, "image", "Ink", recipe={}, weights=weights("i"))
    with pytest.raises(NotFound, match=r"2 picture styles \('Ink', 'Rust'\); say which"):
        store.style(me, MY_STYLE, kind="image")
