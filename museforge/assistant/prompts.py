"""Every sentence the assistant says on its own (not a tool's result), and the prompts a
model reads, kept apart from the agent loop."""

from __future__ import annotations

# What to try, per tool family; a family appears once its tools are registered.
EXAMPLES: dict[str, list[str]] = {
    "image": ["paint a fox in the snow, watercolor", "make it warmer", "a variation of #1"],
    "music": ["compose a calm piano piece", "a bit faster", "transpose it up two semitones"],
    "history": ["undo", "go back to version 2 of #1", "show the versions of #1",
                "list my artworks"],
}


def _families() -> list[str]:
    from museforge.tools.registry import TOOLS

    seen: list[str] = []
    for t in TOOLS:
        if t.family not in seen:
            seen.append(t.family)
    return seen


def capabilities() -> str:
    lines = ["Here is what I can do — try:"]
    for family in _families():
        for example in EXAMPLES.get(family, []):
            lines.append(f"  • “{example}”")
    lines.append("Refer to artworks as #1, “#1 v2”, “it”, “the first one” or “the one with "
                 "the fox”.")
    return "\n".join(lines)


CAPABILITIES = "__capabilities__"  # resolved at reply time, when every tool is registered
GREETING = "Hello! Tell me what to make, or say “help” to see what I can do."


def not_understood(message: str) -> str:
    short = message if len(message) <= 80 else message[:77] + "..."
    return f"I didn't understand “{short}”.\n" + capabilities()


def partly_understood(requests: list[str]) -> str:
    listed = "; ".join(f"“{r}”" for r in requests)
    return f"I didn't understand {listed}, so I skipped that part."


def failed(tool: str, error: str) -> str:
    what = tool.replace("_", " ")
    return f"I couldn't {what}: {error}"


def resolve_reply(text: str | None) -> str | None:
    return capabilities() if text == CAPABILITIES else text
