"""Every example request in the README does what the README says, offline: the first
call of each example is the tool the README names beside it, and its references
resolve. The session: for picture examples #1 and #2 are pictures and #3 a piece, "it"
is #2; for music examples #1 is a picture and #2 and #3 pieces, "it" is #3 - as in a
conversation where the person just made one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from museforge.storage.models import Actor

README = Path(__file__).resolve().parents[2] / "README.md"


def examples() -> list[tuple[str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### What you can ask for"):text.index("### The web chat")]
    found = []
    for m in re.finditer(r"`(\w+)`\s*\(([^)]*)\)", section):
        for example in re.findall(r"“([^”]+)”", m.group(2)):
            found.append((m.group(1), " ".join(example.split())))
    return found


def test_the_readme_has_examples_for_every_tool_family():
    tools = {tool for tool, _ in examples()}
    assert {"generate_image", "adjust_image", "compose_music", "edit_music", "revert"} <= tools
    assert len(examples()) >= 25


@pytest.mark.parametrize(("tool", "example"), examples())
def test_each_readme_example_does_what_the_readme_says(store, me: Actor, chat, assistant,
                                                       paint, remember, tool, example):
    kind = "music" if tool.endswith("_music") else "image"
    if kind == "image":  # "blend #1 and #2": two pictures first
        paint("a red fox", versions=2)
        paint("a lighthouse at dusk", versions=2)
        paint("a calm piano melody", versions=2, kind="music")
        remember([2], "image")
    else:  # "morph #2 into #3": two pieces after a picture
        paint("a red fox", versions=2)
        paint("a calm piano melody", versions=2, kind="music")
        paint("a lively jig", versions=2, kind="music")
        remember([3], "music")

    result = assistant.turn(me, chat, example, plan_only=True)

    assert result.calls, f"{example!r}: {result.reply}"
    assert result.calls[0].name == tool, f"{example!r}: {[c.name for c in result.calls]}"
    assert all(c.ok for c in result.calls), [c.error for c in result.calls]
