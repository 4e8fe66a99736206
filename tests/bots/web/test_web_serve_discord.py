"""``museforge serve --discord`` beyond loopback: people's own tokens are enough, as for
``museforge serve`` alone; without them or the shared token it refuses before starting.

The real command runs with no Discord token, so it stops at the first check it fails: a
refusal naming MUSEFORGE_DISCORD_TOKEN means the web checks were passed."""

from __future__ import annotations

from cliutil import museforge


def test_beyond_loopback_without_any_token_is_refused_before_anything_starts():
    done = museforge("serve", "--discord", "--host", "0.0.0.0")
    assert done.returncode == 2
    assert "MUSEFORGE_WEB_TOKEN" in done.stderr and "users add" in done.stderr


def test_people_with_their_own_tokens_are_enough_beyond_loopback():
    added = museforge("users", "add", "alice")
    assert added.returncode == 0, added.stderr
    done = museforge("serve", "--discord", "--host", "0.0.0.0")
    assert done.returncode == 2
    assert "MUSEFORGE_DISCORD_TOKEN is not set" in done.stderr
    assert "MUSEFORGE_WEB_TOKEN" not in done.stderr


def test_a_short_shared_token_is_refused_even_with_accounts(monkeypatch):
    assert museforge("users", "add", "alice").returncode == 0
    monkeypatch.setenv("MUSEFORGE_WEB_TOKEN", "short")
    done = museforge("serve", "--discord", "--host", "0.0.0.0")
    assert done.returncode == 2 and "too short" in done.stderr
