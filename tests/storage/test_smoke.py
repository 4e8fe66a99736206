from museforge.storage.models import Actor, FileIn, Scope


def test_store_round_trip(store):
    actor = Actor(store.local_user())
    session = store.session(actor, Scope.local("default"))
    art, v1 = store.create_artwork(actor, session, "image", title="fox", prompt="a fox",
                                   operation="generate_image", recipe={"seed": 3},
                                   files={"png": FileIn(b"png-bytes", "image/png")})
    assert (art.number, v1.number) == (1, 1)
    assert v1.files["png"].read_bytes() == b"png-bytes"


def test_open_without_create_leaves_a_missing_database_unmade(tmp_path):
    from museforge.config import load_settings
    from museforge.storage.store import Store

    home = tmp_path / "not-yet"
    with Store.open(load_settings(home=home), create=False) as store:
        assert store.in_memory
        actor = Actor(store.local_user())
        session = store.session(actor, Scope.local("default"))
        assert store.list_artworks(actor, session) == []
    assert not home.exists()


def test_open_without_create_uses_a_database_that_exists(museforge_home):
    from museforge.config import load_settings
    from museforge.storage.store import Store

    settings = load_settings()
    with Store.open(settings) as made:
        made.session(Actor(made.local_user()), Scope.local("kept"))
    with Store.open(settings, create=False) as store:
        assert not store.in_memory
        assert [s.name for s in store.list_sessions(Actor(store.local_user()))] == ["kept"]
