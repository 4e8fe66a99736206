"""People with a web token of their own, on SQLite and PostgreSQL: a token opens only its
person, only while it is not revoked; the database keeps a salted hash of it, never the
token; a name is one account whatever its case; two `users add` of one name at once make
one account; and 0003 upgrades a database that already holds work."""

from __future__ import annotations

import hashlib
import hmac
import threading

import pytest
from alembic import command
from sqlalchemy import inspect, text

from museforge.storage import db
from museforge.storage.errors import AlreadyExists, InvalidName, NotFound
from museforge.storage.models import WEB_PLATFORM, Actor, Scope
from museforge.storage.store import Store


def test_a_token_opens_its_person_until_it_is_revoked(store):
    alice, token = store.add_web_user("Alice")

    assert (alice.platform, alice.external_id, alice.display_name) == (WEB_PLATFORM, "alice",
                                                                        "Alice")
    assert token.startswith("mf_") and len(token) >= 60
    assert store.authenticate_web_token(token) == alice
    assert store.authenticate_web_token(f"  {token}\n") == alice
    assert store.web_accounts_exist()

    assert store.revoke_web_user("ALICE") == 1
    assert store.authenticate_web_token(token) is None
    assert not store.web_accounts_exist()
    assert store.revoke_web_user("alice") == 0  # nothing left to revoke


def test_wrong_malformed_and_foreign_tokens_open_no_one(store):
    _, alice = store.add_web_user("alice")
    _, bob = store.add_web_user("bob")
    lookup_a, secret_a = alice[3:19], alice[20:]
    lookup_b, secret_b = bob[3:19], bob[20:]

    for wrong in ("", "mf_", alice[:-1], alice + "x", alice.upper(),
                  f"mf_{lookup_a}_{secret_b}",  # Alice's row, Bob's secret
                  f"mf_{lookup_b}_{secret_a}", f"mf_0000000000000000_{secret_a}",
                  "a-long-enough-random-token", "x" * 10_000, "mf_" + "\0" * 80):
        assert store.authenticate_web_token(wrong) is None, wrong


def test_the_database_keeps_a_salted_hash_never_the_token(store):
    alice, token = store.add_web_user("alice")
    _, again = store.add_web_user("bob")
    secret = token.split("_", 2)[2]

    with store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM user_tokens"))]
        dumped = " ".join(str(v) for table in inspect(conn).get_table_names()
                          for row in conn.execute(text(f"SELECT * FROM {table}"))
                          for v in row)

    mine = next(r for r in rows if r["user_id"] == alice.id)
    assert token not in dumped and secret not in dumped
    assert mine["lookup"] == token.split("_")[1]  # the public half finds the row
    mac = hmac.new(bytes.fromhex(mine["salt"]), secret.encode(), hashlib.sha256).hexdigest()
    assert mine["digest"] == f"hmac-sha256:{mac}"
    assert len({r["salt"] for r in rows}) == 2  # a salt per token


def test_a_new_token_replaces_the_old_and_brings_a_removed_person_back(store, files):
    alice, first = store.add_web_user("alice")
    me = Actor(alice)
    hers = store.session(me, Scope.web("alice", "sketches"))
    store.create_artwork(me, hers, "image", title="fox", operation="generate_image",
                         recipe={}, files=files())

    _, second = store.issue_web_token("alice")
    assert store.authenticate_web_token(first) is None
    assert store.authenticate_web_token(second) == alice

    store.revoke_web_user("alice")
    [gone] = store.web_accounts()
    assert (gone.active, gone.tokens, gone.sessions) == (False, 2, 1)
    assert gone.revoked_at is not None

    back, third = store.issue_web_token("Alice")
    assert back == alice and store.authenticate_web_token(third) == alice
    assert [a.title for a in store.list_artworks(Actor(back), hers)] == ["fox"]
    [now] = store.web_accounts()
    assert (now.active, now.tokens, now.revoked_at) == (True, 3, None)


def test_names_are_checked_and_one_account_whatever_the_case(store):
    store.add_web_user("Alice")
    with pytest.raises(AlreadyExists, match="users token"):
        store.add_web_user("alice")
    for bad in ("", " ", "a b", "-alice", "alice:bob", "../x", "é", "a" * 65, "x\0"):
        with pytest.raises(InvalidName):
            store.add_web_user(bad)
    with pytest.raises(NotFound, match="no person called 'bob'"):
        store.issue_web_token("bob")
    with pytest.raises(NotFound):
        store.revoke_web_user("bob")
    # a web user who never had a token (made some other way) is not an account
    store.user(WEB_PLATFORM, "carol", "Carol")
    with pytest.raises(NotFound):
        store.revoke_web_user("carol")
    assert [a.name for a in store.web_accounts()] == ["Alice"]


def test_two_adds_of_one_name_at_once_make_one_account(db_url, museforge_home):
    stores = [Store(db_url, museforge_home) for _ in range(6)]
    results: list[object] = []
    start = threading.Barrier(len(stores))

    def add(st: Store) -> None:
        start.wait()
        try:
            results.append(st.add_web_user("dana")[1])
        except AlreadyExists as exc:
            results.append(exc)

    threads = [threading.Thread(target=add, args=(st,)) for st in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        tokens = [r for r in results if isinstance(r, str)]
        assert len(results) == 6 and len(tokens) == 1
        [account] = stores[0].web_accounts()
        assert account.tokens == 1 and stores[0].authenticate_web_token(tokens[0])
    finally:
        for st in stores:
            st.close()


def test_0003_upgrades_a_database_that_holds_work(db_url, museforge_home, files):
    engine = db.make_engine(db_url)
    command.upgrade(db._alembic_config(engine.execution_options(museforge_write=True)),
                    "0002_session_summary")
    assert "user_tokens" not in inspect(engine).get_table_names()
    engine.dispose()
    with Store(db_url, museforge_home, migrate=False) as old:
        me = Actor(old.local_user())
        chat = old.session(me, Scope.local("default"))
        old.create_artwork(me, chat, "image", title="fox", operation="generate_image",
                           recipe={}, files=files())

    with Store(db_url, museforge_home) as new:
        assert db.migration_status(new.engine)[0] == db.migration_status(new.engine)[1]  # head
        me = Actor(new.local_user())
        assert [a.title for a in new.list_artworks(me, new.local_session(me, "default"))] == [
            "fox"]
        _, token = new.add_web_user("alice")
        assert new.authenticate_web_token(token) is not None
