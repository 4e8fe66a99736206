from museforge.storage.models import Actor, FileIn, Scope


def test_store_round_trip(store):
    actor = Actor(store.local_user())
    session = store.session(actor, Scope.local("default"))
    art, v1 = store.create_artwork(actor, session, "image", title="fox", prompt="a fox",
                                   operation="generate_image", recipe={"seed": 3},
                                   files={"png": FileIn(b"png-bytes", "image/png")})
    assert (art.number, v1.number) == (1, 1)
    assert v1.files["png"].read_bytes() == b"png-bytes"
