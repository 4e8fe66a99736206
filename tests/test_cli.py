"""The scripting contract of DESIGN.md, through the real ``museforge`` command in a
subprocess: ``ask --json`` output, resolved references, ``--plan-only``, ``--attach``,
exit statuses, and the terminal chat driven through a pipe."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from cliutil import MUSEFORGE, SESSION, ask, check_contract, museforge

from museforge.storage.models import Actor, FileIn, Scope, SessionInfo


class Studio:
    """The session ``studio`` of the local user, filled through the real store: #1 "a red
    fox" (3 versions) and #2 "a blue whale" (2 versions)."""

    def __init__(self, store):
        self.store = store
        self.me = Actor(store.local_user())
        self.chat: SessionInfo = store.session(self.me, Scope.local(SESSION))
        self.serial = 0
        self.paint("a red fox", 3)
        self.paint("a blue whale", 2)

    def paint(self, title: str, versions: int) -> int:
        art, _ = self.store.create_artwork(
            self.me, self.chat, "image", title=title, prompt=title, operation="generate_image",
            recipe={"prompt": title, "seed": 1}, files=self._png())
        for _ in range(versions - 1):
            self.store.add_version(self.me, self.chat, art.number, operation="adjust_image",
                                   recipe={"contrast": 1.2}, files=self._png())
        return art.number

    def _png(self) -> dict[str, FileIn]:
        self.serial += 1
        return {"png": FileIn(f"png {self.serial}".encode(), "image/png")}

    def heads(self) -> dict[int, int]:
        return {a.number: a.head_number for a in self.store.list_artworks(self.me, self.chat)}

    def version_counts(self) -> dict[int, int]:
        return {a.number: a.version_count
                for a in self.store.list_artworks(self.me, self.chat)}

    def messages(self) -> int:
        return len(self.store.history(self.me, self.chat))


@pytest.fixture
def studio(sqlite_store) -> Studio:
    return Studio(sqlite_store)


def test_ask_json_follows_the_contract_on_both_databases(store):
    studio = Studio(store)
    url = None if store.url.startswith("sqlite") else store.url

    out = ask("undo #1", url=url)

    check_contract(out)
    assert out["tool_calls"] == [{"name": "undo", "args": {"artwork": "#1"}, "ok": True,
                                  "error": None}]
    [art] = out["artifacts"]
    _, current = store.resolve(studio.me, studio.chat, "#1")
    assert (art["artwork"], art["version"], art["kind"]) == ("#1", 2, "image")
    assert art["files"] == {"png": str(current.files["png"])}
    assert art["recipe"] == current.recipe
    assert studio.heads() == {1: 2, 2: 2}
    # The turn was kept: the user's message and the reply with its call.
    user, reply = store.history(studio.me, studio.chat)
    assert user.text == "undo #1" and reply.text == out["reply"]
    assert reply.tool_calls[0]["name"] == "undo"


def test_args_show_references_resolved(studio):
    by_words = ask("show the versions of the whale one")
    check_contract(by_words)
    assert by_words["tool_calls"][0]["args"] == {"artwork": "#2"}
    assert by_words["tool_calls"][0]["ok"] is True
    assert "v2" in by_words["reply"] and "current" in by_words["reply"]

    # The conversation goes on from one process to the next: "it" is still #2.
    it = ask("undo it")
    assert it["tool_calls"][0]["args"] == {"artwork": "#2"}
    assert studio.heads() == {1: 3, 2: 1}

    ordinal = ask("go back to version 2 of the first one")
    assert ordinal["tool_calls"][0]["args"] == {"artwork": "#1", "version": 2}
    assert studio.heads() == {1: 2, 2: 1}


def test_a_reference_that_does_not_resolve_stays_as_written_with_its_error(studio):
    out = ask("undo the one with the zebra and then undo #7")

    check_contract(out)
    zebra, seven = out["tool_calls"]
    assert zebra["args"] == {"artwork": "the one with the zebra"}
    assert zebra["ok"] is False and "zebra" in zebra["error"]
    assert seven["args"] == {"artwork": "#7"}
    assert seven["ok"] is False and "#7" in seven["error"]
    assert out["artifacts"] == []
    assert studio.heads() == {1: 3, 2: 2}


def test_a_failed_tool_still_exits_0_with_the_error_in_the_json(studio):
    done = museforge("ask", "redo #1", "--session", SESSION, "--json")  # nothing undone yet

    assert done.returncode == 0
    out = json.loads(done.stdout)
    check_contract(out)
    [call] = out["tool_calls"]
    assert call["ok"] is False and "nothing to redo" in call["error"]
    assert "nothing to redo" in out["reply"]


def test_plan_only_prints_the_planned_calls_and_runs_nothing(studio):
    before = (studio.heads(), studio.version_counts(), studio.messages())

    out = ask("undo #1 and then revert the whale one to v1", "--plan-only")

    check_contract(out)
    assert [(c["name"], c["args"], c["ok"]) for c in out["tool_calls"]] == [
        ("undo", {"artwork": "#1"}, True),
        ("revert", {"artwork": "#2", "version": 1}, True),
    ]
    assert out["artifacts"] == []
    assert "undo" in out["reply"] and "revert" in out["reply"]
    assert (studio.heads(), studio.version_counts(), studio.messages()) == before


def test_plan_only_still_reports_a_reference_that_does_not_resolve(studio):
    out = ask("undo #5", "--plan-only")

    [call] = out["tool_calls"]
    assert call["args"] == {"artwork": "#5"}
    assert call["ok"] is False and "#5" in call["error"]


def test_an_attachment_is_refused_cleanly_and_the_turn_goes_on(studio, tmp_path):
    picture = tmp_path / "sketch.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    missing = tmp_path / "nowhere.mid"

    out = ask("undo #1", "--attach", str(picture), "--attach", str(missing))

    check_contract(out)
    assert [e["file"] for e in out["errors"]] == [str(picture), str(missing)]
    assert all(set(e) == {"file", "error"} and e["error"] for e in out["errors"])
    assert "damaged" in out["errors"][0]["error"]  # the safe loader looked at the bytes
    assert "no such file" in out["errors"][1]["error"]
    assert "sketch.png" in out["reply"]
    # The turn went on: the request ran.
    assert out["tool_calls"] == [{"name": "undo", "args": {"artwork": "#1"}, "ok": True,
                                  "error": None}]
    assert studio.heads() == {1: 2, 2: 2}  # and no artwork was added for the refused files


@pytest.mark.parametrize("argv", [
    ["ask"],  # no message
    ["ask", "undo", "--bogus"],
    ["ask", "undo", "--session"],  # an option without its value
    ["ask", "undo", "--attach"],
])
def test_usage_errors_exit_2_with_one_line_on_stderr(argv):
    done = museforge(*argv)

    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("usage:")


def test_plain_ask_prints_the_reply_and_the_files(studio):
    done = museforge("ask", "undo #2", "--session", SESSION)

    assert done.returncode == 0
    assert "Undid the last change to #2" in done.stdout
    _, current = studio.store.resolve(studio.me, studio.chat, "#2")
    assert str(current.files["png"]) in done.stdout


def test_chat_through_a_pipe_shows_replies_help_and_history(studio):
    done = museforge("chat", "--session", SESSION,
                     stdin="list my artworks\n/help\n/history\n/quit\n")

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "a red fox" in out and "a blue whale" in out  # the reply to "list my artworks"
    assert "/history" in out and "/export" in out and "Ctrl-C" in out  # /help
    assert "you: list my artworks" in out  # /history
    assert "museforge: 2 artworks" in out
    assert out.rstrip().endswith("your work is saved.")
    assert [m.role for m in studio.store.history(studio.me, studio.chat)] == [
        "user", "assistant"]


def test_chat_ends_at_the_end_of_input_and_slash_undo_works(studio):
    done = museforge("chat", "--session", SESSION, stdin="/undo #1\n/nonsense\n")

    assert done.returncode == 0, done.stderr
    assert "Undid the last change to #1" in done.stdout
    assert "Unknown command /nonsense" in done.stdout
    assert studio.heads() == {1: 2, 2: 2}


def test_text_that_looks_like_markup_is_printed_as_written(studio):
    message = "tell me about [bold]pop[/] or [/x]"

    done = museforge("ask", message, "--session", SESSION)
    assert done.returncode == 0, done.stderr
    assert message in done.stdout

    shown = museforge("history", SESSION)
    assert shown.returncode == 0, shown.stderr
    assert f"user: {message}" in shown.stdout

    missing = museforge("history", "[/nope]")
    assert missing.returncode == 1
    assert "no session '[/nope]'" in missing.stderr


def test_plan_only_on_a_fresh_data_dir_creates_nothing(tmp_path):
    home = tmp_path / "fresh" / "museforge"  # neither folder exists yet
    env = dict(os.environ, MUSEFORGE_HOME=str(home), COLUMNS="200")

    done = subprocess.run(
        [MUSEFORGE, "ask", "paint a fox in the snow and make it warmer", "--plan-only",
         "--json"], capture_output=True, text=True, env=env, timeout=60)

    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    # Planned as in an empty session: "it" is the picture the first call would make.
    assert [(c["name"], c["args"], c["ok"]) for c in out["tool_calls"]] == [
        ("generate_image", {"prompt": "a fox in the snow"}, True),
        ("adjust_image", {"artwork": "#1", "warmth": 0.3}, True),
    ]
    assert out["artifacts"] == []
    assert not (tmp_path / "fresh").exists()


def test_plan_only_does_not_create_a_session_it_plans_in(studio):
    out = ask("make #1 warmer", "--plan-only")  # "studio" exists: its #1 resolves
    assert out["tool_calls"][0]["ok"] is True
    done = museforge("ask", "make #1 warmer", "--session", "scratch", "--plan-only",
                     "--json")

    assert done.returncode == 0, done.stderr
    [call] = json.loads(done.stdout)["tool_calls"]
    assert call["ok"] is False  # a new session is empty: there is no #1 in it
    assert [s.name for s in studio.store.list_sessions(studio.me)] == [SESSION]
    assert studio.messages() == 0


def test_show_and_export_print_long_paths_whole_when_piped(tmp_path):
    from museforge.storage.store import Store

    home = tmp_path / ("a-rather-long-folder-name-" * 5) / "home"
    with Store(f"sqlite:///{home / 'museforge.db'}", home) as store:
        made = Studio(store)
        _, current = store.resolve(made.me, made.chat, "#1")
    png = str(current.files["png"])
    assert len(png) > 200
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["MUSEFORGE_HOME"] = str(home)

    def run(*argv: str) -> str:  # stdout is a pipe, as in `museforge show ... | cat`
        done = subprocess.run([MUSEFORGE, *argv], capture_output=True, text=True, env=env,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    shown = run("show", "#1", "--session", SESSION)
    assert f"  png: {png}\n" in shown
    dest = home.parent / "gallery"
    exported = run("export", SESSION, str(dest))
    assert exported == f"Exported '{SESSION}' to {dest / 'index.html'}\n"
