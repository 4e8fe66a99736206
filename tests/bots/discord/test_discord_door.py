"""One door for a turn: a Discord turn and a CLI turn both reach ``Studio.submit`` as a
plain ``TurnRequest`` (the JSON a distributed queue would carry), and a Discord server's
own limit on requests in progress is held by the door."""

from __future__ import annotations

import json
import threading

import pytest

discord = pytest.importorskip("discord")

from discordsim import World  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from museforge.assistant.jobs import TurnRequest  # noqa: E402
from museforge.bots.service import Studio, turn_request  # noqa: E402
from museforge.storage.models import Actor, Scope  # noqa: E402


def test_a_discord_turn_and_a_cli_turn_go_through_the_same_door(simulate, studio,
                                                               monkeypatch):
    seen: list[TurnRequest] = []
    door = Studio.submit

    def spy(self, request, **kwargs):
        seen.append(request)
        return door(self, request, **kwargs)

    monkeypatch.setattr(Studio, "submit", spy)

    async def scenario(env):
        w = World(env)
        result = await w.alice.slash(w.general, "imagine", prompt="a fox", seed=3)
        assert result.response.content.startswith("Painted a picture: #1")

    simulate(scenario)
    assert studio.served == {"discord": 1}

    from museforge.cli import app

    done = CliRunner().invoke(app, ["ask", "paint a whale", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["tool_calls"][0]["ok"] is True

    discord_turn, cli_turn = seen
    assert (discord_turn.front_end, discord_turn.platform) == ("discord", "discord")
    assert discord_turn.guild_id is not None and discord_turn.message.startswith("paint")
    assert (cli_turn.front_end, cli_turn.platform, cli_turn.session_key) == (
        "cli", "cli", "local:default")
    for request in seen:  # plain data: what a queue on another machine would be handed
        assert TurnRequest.from_json(json.loads(json.dumps(request.to_json()))) == request


def test_a_discord_servers_own_limit_is_held_by_the_door(simulate, studio):
    gate = threading.Event()
    waiting: list[object] = []

    async def scenario(env):
        w = World(env)
        env.bot.prefs.set_guild(w.guild.id, max_jobs=1)
        studio.queue.jobs.submit("someone-else", lambda job: gate.wait(10))  # GPU busy
        me = studio.store.user("discord", str(w.alice.id), "alice")
        actor = Actor(me, str(w.guild.id))
        here = studio.store.session(actor, Scope.discord_thread(
            str(w.guild.id), str(w.general.id), None, "general"))
        # Alice's first request waits in line (asked a moment ago, from this server).
        waiting.append(studio.submit(turn_request(actor, here, "paint a fox",
                                                  front_end="discord"), limit=1))

        refused = await w.alice.slash(w.general, "imagine", prompt="a lighthouse")
        assert refused.response.content == (
            "⏳ Not now: you already have 1 request(s) in progress here; wait for one to "
            "finish (or cancel it).")
        # Bob, on the same server, is not held up by Alice's limit.
        gate.set()
        painted = await w.bob.slash(w.general, "imagine", prompt="a tram")
        assert painted.response.content.startswith("Painted a picture:")

    try:
        simulate(scenario)
    finally:
        gate.set()
    [first] = waiting
    assert first.future.result(30).calls[0].ok  # type: ignore[attr-defined]
    assert studio.served == {"discord": 2}


def test_a_turn_request_is_plain_data_and_refuses_what_it_does_not_know():
    request = TurnRequest(7, "web", "ana", "web:7:sketches", "paint a fox",
                          ("/tmp/a.png",), "Ana", None, True, "sdxl-turbo", "web")
    data = request.to_json()
    assert json.loads(json.dumps(data)) == data
    assert TurnRequest.from_json(data) == request and request.queue_key == "web:ana"
    with pytest.raises(ValueError, match="unknown turn request fields: priority"):
        TurnRequest.from_json({**data, "priority": 1})
