"""Starting the bot: the token only from MUSEFORGE_DISCORD_TOKEN, a clear line when it
is missing or rejected; every slash-command parameter described; the translations."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

discord = pytest.importorskip("discord")

from discordsim import new_bot  # noqa: E402

from museforge.bots.discord import BotSetupError, run, start, translate  # noqa: E402
from museforge.bots.discord.prefs import Prefs  # noqa: E402
from museforge.bots.discord.views import ACTION_TEMPLATE, action_id  # noqa: E402
from museforge.config import load_settings  # noqa: E402


def test_a_missing_token_is_one_clear_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        run(load_settings())
    assert exit_.value.code == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "MUSEFORGE_DISCORD_TOKEN is not set" in err


class Rejecting:
    """A stand-in for Discord's API on 127.0.0.1 that refuses every token, as Discord
    does (401 on GET /users/@me); discord.py is pointed at it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.monkeypatch = monkeypatch

    def __enter__(self) -> Rejecting:
        class Refuse(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                body = json.dumps({"message": "401: Unauthorized", "code": 0}).encode()
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        port = self.server.server_address[1]
        self.monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_rejected_token_is_one_clear_line(studio, monkeypatch, capsys):
    with Rejecting(monkeypatch):
        with pytest.raises(BotSetupError, match="Discord rejected MUSEFORGE_DISCORD_TOKEN"):
            asyncio.run(start(studio, token="not-a-real-token", sync_commands=False))

        monkeypatch.setenv("MUSEFORGE_DISCORD_TOKEN", "not-a-real-token")
        with pytest.raises(SystemExit) as exit_:
            run(load_settings())
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("museforge discord: Discord rejected MUSEFORGE_DISCORD_TOKEN")


def test_every_slash_command_and_parameter_is_described(studio):
    async def commands():
        bot = new_bot(studio)
        bot.sync_commands = False
        await bot.setup_hook()
        found = list(bot.tree.walk_commands())
        await bot.close()
        return found

    found = {c.qualified_name: c for c in asyncio.run(commands())}
    assert {"imagine", "compose", "edit", "history", "versions", "undo", "export",
            "settings me", "settings server"} <= set(found)
    for name, command in found.items():
        assert command.description and command.description != "…", name
        for param in getattr(command, "parameters", []):
            assert param.description and param.description != "…", f"/{name} {param.name}"


def test_slash_commands_read_as_sentences():
    assert translate.imagine("a fox", "watercolor", "16:9", 5, 4) == (
        "paint 4 pictures of a fox, watercolor, 16:9, seed 5")
    assert translate.imagine("  a  fox ") == "paint a fox"
    assert translate.compose("a lullaby", "D minor", 90, "piano") == (
        "compose a lullaby, in D minor, at 90 bpm, for piano")
    assert translate.edit("make it snowy", "3 v2") == "on #3 v2, make it snowy"
    assert translate.edit("make it snowy", "the fox one") == "on the fox one, make it snowy"
    assert translate.undo() == "undo" and translate.undo("#4") == "undo #4"
    assert translate.versions("2") == "show the versions of #2"
    assert translate.button("tu", 3, 2) == "transpose #3 v2 up one semitone"
    assert translate.button("un", 3, 2) == "undo #3"
    recipe = {"tool": "generate_image", "args": {"prompt": "a fox", "style": "oil",
                                                 "aspect": "1:1", "count": 2, "seed": 9}}
    assert translate.button("rr", 1, 1, recipe) == "paint 2 pictures of a fox, oil, 1:1"
    assert translate.button("rr", 1, 1, {"tool": "vary_image"}) == "reroll #1 v1"


def test_the_invite_link_asks_for_slash_commands_and_only_what_the_bot_uses():
    from museforge.bots.discord import invite_url

    url = invite_url(123)
    assert "client_id=123" in url and "scope=bot+applications.commands" in url
    assert "permissions=309237746688" in url  # view, send, threads, attach, history


def test_custom_ids_fit_in_discords_hundred_characters():
    import re

    big = 2**64 - 1  # the largest snowflake
    for key in (f"guild:{big}:thread:{big}", f"guild:{big}:channel:{big}", f"dm:{big}:{big}"):
        cid = action_id("vx", 9_999_999, 9_999_999, key)
        assert len(cid) <= 100 and re.fullmatch(ACTION_TEMPLATE, cid)


def test_preferences_survive_a_restart_and_the_server_decides_presets(tmp_path):
    prefs = Prefs(tmp_path / "discord.json")
    prefs.set_user(1, preset="sdxl", style="oil")
    prefs.set_guild(10, model="sd15")
    again = Prefs(tmp_path / "discord.json")
    assert again.user(1).style == "oil"
    assert again.preset_for(1, 10) == "sdxl" and again.preset_for(2, 10) == "sd15"
    again.set_guild(10, allow_presets=False)
    assert again.preset_for(1, 10) == "sd15"
    assert again.preset_for(1, None) == "sdxl"  # in a DM, their own choice
    (tmp_path / "broken.json").write_text("{not json")
    assert Prefs(tmp_path / "broken.json").user(1).private is False
