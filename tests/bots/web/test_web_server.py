"""``museforge serve``'s rules: loopback without a token, a long token for anything else."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from museforge.bots.web.server import ServeError, address, check_bind, is_loopback, web_token

TOKEN = "a-long-enough-random-token"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_loopback_needs_no_token(host):
    assert is_loopback(host)
    check_bind(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.org"])
def test_any_other_address_needs_a_token(host):
    with pytest.raises(ServeError, match="MUSEFORGE_WEB_TOKEN"):
        check_bind(host, None)
    check_bind(host, TOKEN)
    with pytest.raises(ServeError, match="too short"):
        check_bind(host, "short")


def test_the_token_comes_from_settings_or_the_environment(monkeypatch):
    from museforge.config import load_settings

    assert web_token(load_settings(web_token=SecretStr(TOKEN))) == TOKEN
    monkeypatch.delenv("MUSEFORGE_WEB_TOKEN", raising=False)
    assert web_token(load_settings()) is None
    monkeypatch.setenv("MUSEFORGE_WEB_TOKEN", "  from-the-environment-1234  ")
    assert web_token(load_settings()) == "from-the-environment-1234"


def test_the_printed_address_opens_the_page():
    assert address("127.0.0.1", 8000, None) == "http://127.0.0.1:8000/"
    assert address("0.0.0.0", 80, TOKEN) == f"http://<this machine's address>:80/?token={TOKEN}"
    assert address("::1", 8000, None) == "http://[::1]:8000/"
