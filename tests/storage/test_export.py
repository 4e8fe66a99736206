"""The exported gallery's page."""

from __future__ import annotations

from museforge.storage.export import export_session
from museforge.storage.models import Actor, FileIn, Scope


def test_the_gallery_counts_in_english(store, tmp_path):
    me = Actor(store.local_user())
    chat = store.session(me, Scope.local("studio"))
    store.add_message(me, chat, "user", "paint a fox")
    store.create_artwork(me, chat, "image", title="a fox", prompt="a fox",
                         operation="generate_image", recipe={"seed": 1},
                         files={"png": FileIn(b"png 1", "image/png")})

    page = export_session(store.export_data(me, chat), tmp_path / "out").read_text()
    assert "1 artwork · 1 message</p>" in page

    store.add_message(me, chat, "assistant", "Painted #1.")
    store.create_artwork(me, chat, "image", title="a cat", prompt="a cat",
                         operation="generate_image", recipe={"seed": 2},
                         files={"png": FileIn(b"png 2", "image/png")})
    page = export_session(store.export_data(me, chat), tmp_path / "again").read_text()
    assert "2 artworks · 2 messages</p>" in page
