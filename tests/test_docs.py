"""Docs that must stay true: what the model reads about each tool, the help of every
command, and the README's list of settings."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from museforge.tools.registry import TOOLS

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)
def test_every_tool_has_a_one_paragraph_description(tool):
    text = tool.description
    assert text, f"{tool.name} has no docstring: the model would not know what it does"
    assert "\n\n" not in text, f"{tool.name}: the description is one paragraph"
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    assert first.endswith((".", "!", "?")), f"{tool.name}: '{text}' is not a sentence"
    assert len(first.split()) >= 4, f"{tool.name}: '{first}' says too little"


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)
def test_every_argument_is_described_to_the_model(tool):
    schema = tool.args.model_json_schema()
    undescribed = [
        name for name, prop in schema.get("properties", {}).items()
        # A list of choices or a named type explains itself; anything else needs words.
        if not prop.get("description") and "enum" not in prop and "$ref" not in prop
    ]
    assert not undescribed, f"{tool.name}: describe {undescribed}"


def test_tool_names_are_unique_identifiers():
    names = [t.name for t in TOOLS]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", n) for n in names)


def test_every_offline_rule_names_a_registered_tool_and_every_family_has_examples():
    from museforge.assistant.prompts import EXAMPLES
    from museforge.assistant.rules import all_rules

    names = {t.name for t in TOOLS}
    assert {r.tool for r in all_rules()} <= names
    assert {t.family for t in TOOLS} <= set(EXAMPLES)


def test_every_cli_command_has_help():
    from museforge.cli import app, models_app

    for typer_app in (app, models_app):
        for command in typer_app.registered_commands:
            doc = command.help or (command.callback.__doc__ or "")
            assert doc.strip(), f"`museforge {command.name or command.callback.__name__}`"


def test_every_slash_command_in_the_chat_help_is_one_the_chat_knows(sqlite_store, tmp_path):
    from rich.console import Console

    from museforge.assistant.offline import OfflinePlanner
    from museforge.assistant.turn import Assistant
    from museforge.bots.terminal import HELP, TerminalChat
    from museforge.storage.models import Actor, Scope

    me = Actor(sqlite_store.local_user())
    screen = io.StringIO()
    chat = TerminalChat(Assistant(sqlite_store, OfflinePlanner()), me,
                        sqlite_store.session(me, Scope.local("docs")),
                        Console(file=screen, width=200))
    listed = re.findall(r"^\s+/(\w+)", HELP, re.M)
    assert {"help", "history", "undo", "export", "session", "quit"} <= set(listed)
    for name in listed:
        argument = f" {tmp_path / 'export'}" if name == "export" else ""
        keep_going = chat.command(f"/{name}{argument}")
        assert keep_going is (name != "quit")
    assert "Unknown command" not in screen.getvalue()


def test_the_readme_names_every_setting():
    if not README.is_file():
        pytest.skip("no README.md yet")
    from museforge.config import Settings

    text = README.read_text(encoding="utf-8")
    missing = []
    for name, field in Settings.model_fields.items():
        env = [f"MUSEFORGE_{name.upper()}"]
        choices = getattr(field.validation_alias, "choices", None) or []
        env += [c for c in choices if isinstance(c, str) and c.isupper()]
        missing += [e for e in env if e not in text]
    assert not missing, f"README.md does not mention {missing}"
