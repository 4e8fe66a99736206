"""The history tools' words: show_versions says what each version changed (the
operation and its key arguments, from the recipe), and counts read as English."""

from __future__ import annotations

import pytest

from museforge.models.image.procedural import ProceduralPainter
from museforge.storage.models import Actor, Scope
from museforge.tools.base import Services, ToolContext
from museforge.tools.registry import get_tool


@pytest.fixture
def run(sqlite_store, tiny_melody_model):
    me = Actor(sqlite_store.local_user())
    ctx = ToolContext(sqlite_store, me, sqlite_store.session(me, Scope.local("studio")),
                      services=Services(image=ProceduralPainter(), melody=tiny_melody_model))

    def call(name: str, **args: object) -> str:
        return get_tool(name).run(ctx, args).message

    return call


def test_show_versions_says_what_each_version_changed(run):
    run("generate_image", prompt="a fox in the snow", seed=5)
    run("adjust_image", artwork="#1", warmth=0.3)
    run("reframe_image", artwork="#1", rotate=90, flip="horizontal")
    run("add_text", artwork="#1", text="Winter", position="top")
    run("upscale_image", artwork="#1")
    run("undo", artwork="#1")
    run("adjust_image", artwork="#1", contrast=1.2, filter="sepia")

    assert run("show_versions", artwork="#1").splitlines() == [
        "#1 “a fox in the snow” has 6 versions:",
        "v1 generate_image “a fox in the snow” (original)",
        "v2 adjust_image warmth +0.3 (from v1)",
        "v3 reframe_image rotate +90°, flip horizontal (from v2)",
        "v4 add_text “Winter”, position top (from v3)",
        "v5 upscale_image ×2 (from v4)",
        "v6 adjust_image contrast ×1.2, filter sepia (from v4)  ← current",
    ]


def test_show_versions_of_music_names_the_edits_and_the_sources(run):
    run("compose_music", prompt="a calm tune", instrument="piano", bars=4, seed=1)
    run("edit_music", artwork="#1", tempo_scale=1.1)
    run("edit_music", artwork="#1", instrument="violin")
    run("edit_music", artwork="#1", key="D minor")
    run("vary_music", artwork="#1", seed=2)

    assert run("show_versions", artwork="#1").splitlines()[1:] == [
        "v1 compose_music “a calm tune”, instrument Acoustic Grand Piano, bars 4 (original)",
        "v2 edit_music tempo ×1.1 (from v1)",
        "v3 edit_music instrument Violin (from v2)",
        "v4 edit_music key D minor (from v3)  ← current",
    ]
    assert run("show_versions", artwork="#2").splitlines() == [
        "#2 “variation of #1: a calm tune” has 1 version:",
        "v1 vary_music of #1, amount 0.3 (original)  ← current",
    ]


def test_counts_of_one_are_singular(run):
    assert run("list_artworks") == "There are no artworks in this conversation yet."
    run("generate_image", prompt="a fox", seed=1)
    assert run("list_artworks").splitlines()[0] == "1 artwork:"
    assert run("list_artworks", kind="image").splitlines()[0] == "1 image:"
    run("compose_music", prompt="a tune", bars=4, seed=1)
    assert run("list_artworks").splitlines()[0] == "2 artworks:"
    assert run("list_artworks", kind="music").splitlines()[0] == "1 music piece:"
