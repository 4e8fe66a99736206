"""The registry's tools as a model sees them (OpenAI function schemas), the model's tool
calls read back from its answer, checked against the very pydantic models the assistant
validates with, and the offline fast path's rule for what needs no model at all."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from pydantic import ValidationError

from museforge.assistant.planning import Plan, PlanContext, PlannedCall, Planner
from museforge.tools.base import Tool


@dataclass
class ModelCall:
    """One tool call as the model wrote it."""

    id: str
    name: str
    args: dict[str, Any] | None  # None when the arguments were not a JSON object
    raw: str  # the arguments as the model wrote them
    error: str | None = None  # why it cannot run as it is

    def planned(self) -> PlannedCall:
        return PlannedCall(self.name, dict(self.args or {}))

    def same_as(self, other: ModelCall) -> bool:
        return (self.name, self.args) == (other.name, other.args)


def tool_schema(tool: Tool) -> dict[str, Any]:
    """``name``, the docstring as ``description``, the argument model as ``parameters``.
    The argument models hold no user, session or guild: who acts is never the model's."""
    params = tool.args.model_json_schema()
    params.pop("title", None)
    return {"type": "function",
            "function": {"name": tool.name, "description": tool.description,
                         "parameters": params}}


def tool_schemas(tools: Iterable[Tool]) -> list[dict[str, Any]]:
    return [tool_schema(t) for t in tools]


def calls_of(answer: BaseMessage) -> list[ModelCall]:
    """The tool calls in a model's answer, malformed ones included.

    A streamed answer is read from its raw argument strings: LangChain's chunk parser
    accepts truncated JSON ('{"artwork": "#1", "bright') as a partial object, and a
    call that lost its arguments must go back to the model, not run with defaults."""
    found: list[ModelCall] = []
    if isinstance(answer, AIMessageChunk):
        for chunk in answer.tool_call_chunks:
            raw = chunk.get("args") or ""
            found.append(_parsed(chunk.get("id"), chunk.get("name"), raw))
    elif isinstance(answer, AIMessage):
        for call in answer.tool_calls:
            args = call.get("args")
            found.append(ModelCall(call.get("id") or "", call.get("name") or "",
                                   args if isinstance(args, dict) else None,
                                   json.dumps(args)))
        for bad in answer.invalid_tool_calls:
            found.append(_parsed(bad.get("id"), bad.get("name"), bad.get("args") or ""))
    # Some local servers leave ids out or repeat them; each reply needs its own.
    seen: set[str] = set()
    for i, made in enumerate(found):
        if not made.id or made.id in seen:
            made.id = f"call_{i}"
        seen.add(made.id)
    return found


def _parsed(call_id: str | None, name: str | None, raw: str) -> ModelCall:
    text = raw.strip()
    if not text:  # a tool without required arguments, called with none
        return ModelCall(call_id or "", name or "", {}, raw)
    try:
        args = json.loads(text)
    except json.JSONDecodeError as exc:
        why = f"the arguments are not valid JSON ({exc.msg.lower()}, character {exc.pos})"
        return ModelCall(call_id or "", name or "", None, raw, why)
    return ModelCall(call_id or "", name or "", args if isinstance(args, dict) else None, raw)


def check(call: ModelCall, tools: dict[str, Tool]) -> ModelCall:
    """Set ``call.error`` when the call cannot run: an unknown tool, arguments that are
    not a JSON object, or arguments its pydantic model refuses (the same check the
    assistant makes before running, minus reference resolution)."""
    from museforge.assistant.turn import explain

    if call.error:
        return call
    tool = tools.get(call.name)
    if tool is None:
        call.error = f"there is no tool named '{call.name}'"
    elif call.args is None:
        call.error = "the arguments must be a JSON object of named arguments"
    else:
        try:
            tool.args.model_validate(call.args)
        except ValidationError as exc:
            call.error = explain(exc)
    return call


def ai_message(text: str, calls: Sequence[ModelCall]) -> AIMessage:
    """The model's answer as it goes back in the conversation: valid calls with their
    arguments, malformed ones with the text the model wrote."""
    return AIMessage(
        content=text,
        tool_calls=[{"id": c.id, "name": c.name, "args": c.args, "type": "tool_call"}
                    for c in calls if c.args is not None],
        invalid_tool_calls=[{"id": c.id, "name": c.name, "args": c.raw, "error": c.error,
                             "type": "invalid_tool_call"}
                            for c in calls if c.args is None],
    )


# -- the offline fast path ----------------------------------------------------------------

# Moving heads and reading the session, when the person named the operation ("undo",
# "revert #2 to v1", "list my artworks"); "what have we made?" is the model's to read.
FAST_TOOLS: dict[str, re.Pattern[str]] = {
    "undo": re.compile(r"\bundo\b", re.I),
    "redo": re.compile(r"\bredo\b", re.I),
    "revert": re.compile(r"\b(?:revert|v\d+|version)\b", re.I),
    "show_versions": re.compile(r"\bversions\b", re.I),
    "list_artworks": re.compile(r"\blist\b", re.I),
}
# Deterministic edits: fast only when every value the rules filled is one the person said
# ("brightness 1.3", "rotate 90", "grayscale"), never a rule's guess ("brighter" -> 1.25).
EXPLICIT_TOOLS = frozenset({"adjust_image", "reframe_image", "edit_music"})
FAST_MAX_WORDS = 8
_PLAIN_REF = re.compile(r"#\d+(?:\s+v\d+)?|it|latest(?:\s+(?:image|music))?", re.I)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def fast_plan(offline: Planner, message: str, context: PlanContext,
              tools: dict[str, Tool]) -> Plan | None:
    """The offline plan, when it needs no model: a short message that the rules
    understand whole, whose every call is a history tool the message names or an edit
    with values said outright, naming artworks plainly (#N, #N vM, it, latest)."""
    if len(message.split()) > FAST_MAX_WORDS:
        return None
    plan = offline.plan(message, context)
    if not plan.calls or plan.reply is not None:  # a part not understood, or a question
        return None
    if all(_unambiguous(call, message, tools) for call in plan.calls):
        return Plan(calls=plan.calls, planner="offline-fast")
    return None


def _unambiguous(call: PlannedCall, message: str, tools: dict[str, Tool]) -> bool:
    tool = tools.get(call.name)
    if tool is None:
        return False
    if call.name in FAST_TOOLS:
        if not FAST_TOOLS[call.name].search(message):
            return False
    elif call.name not in EXPLICIT_TOOLS:
        return False
    for name, value in call.args.items():
        if name in tool.ref_fields:
            if not (isinstance(value, str) and _PLAIN_REF.fullmatch(value.strip())):
                return False
        elif call.name not in FAST_TOOLS and not _said(value, message):
            return False
    return True


def _said(value: Any, message: str) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        # The sign may be a word ("transpose down 2"); the size must be in the message.
        return any(abs(float(n) - abs(value)) < 1e-9 for n in _NUMBER.findall(message))
    if isinstance(value, str):
        return value.lower() in message.lower()
    return False
