"""The registry's tools as a model sees them (OpenAI function schemas), the model's tool
calls read back from its answer, checked against the very pydantic models the assistant
validates with, and the offline fast path's rule for what needs no model at all.

An answer is read within bounds, whatever the model sends: at most ``max_tool_calls``
calls (the rest is not read), arguments of at most ``MAX_ARGUMENT_CHARS`` characters
nested at most ``MAX_ARGUMENT_DEPTH`` deep (anything else is not parsed), words of at most
``MAX_TEXT_CHARS``; what it got wrong is one sentence that quotes at most
``QUOTE_CHARS`` of what it wrote."""

from __future__ import annotations

import itertools
import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict, cast

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from pydantic import ValidationError

from museforge.assistant.planning import Plan, PlanContext, PlannedCall, Planner
from museforge.assistant.prompts import quoted
from museforge.tools.base import Tool

log = logging.getLogger(__name__)
# The longest real arguments (a 1,000-character prompt with every other field) are under
# 2,000 characters and 3 levels deep.
MAX_ARGUMENT_CHARS = 8_000
MAX_ARGUMENT_DEPTH = 16
MAX_TEXT_CHARS = 4_000  # of the model's words in one answer
NAME_CHARS = 64  # of a tool name or call id
MAX_ERRORS = 3  # validation problems named per call
# Where ``BoundedChatOpenAI`` leaves an answer's calls unparsed, and how many were asked.
RAW_CALLS = "museforge_raw_tool_calls"
ASKED = "museforge_tool_calls_asked"


class RawCall(TypedDict):
    id: str
    name: str
    args: str  # as written, cut just past MAX_ARGUMENT_CHARS
    length: int  # of the arguments as written


@dataclass
class ModelCall:
    """One tool call as the model wrote it."""

    id: str
    name: str
    args: dict[str, Any] | None  # None when the arguments were not a JSON object
    raw: str  # the arguments as the model wrote them (cut short when they are refused)
    error: str | None = None  # why it cannot run as it is

    def planned(self) -> PlannedCall:
        return PlannedCall(self.name, dict(self.args or {}))

    def same_as(self, other: ModelCall) -> bool:
        return (self.name, self.args) == (other.name, other.args)


@dataclass
class ModelAnswer:
    """One answer of the model, read within the bounds."""

    text: str = ""
    calls: list[ModelCall] = field(default_factory=list)
    # How many calls the model asked for: more than ``calls`` when it passed the cap;
    # None when the rest went unread (streaming stops at the cap).
    asked: int | None = 0


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


def answer_of(message: BaseMessage, max_calls: int) -> ModelAnswer:
    """A whole (not streamed) answer: its words and at most ``max_calls`` of its calls."""
    extra = message.additional_kwargs
    if RAW_CALLS in extra:  # from BoundedChatOpenAI: as written, none parsed yet
        raws = cast(list[RawCall], extra[RAW_CALLS])
        asked = int(extra.get(ASKED, len(raws)))
        calls = [_parsed(r["id"], r["name"], r["args"], r["length"]) for r in raws[:max_calls]]
    elif isinstance(message, AIMessage):  # another chat model, which parsed them itself
        calls = [_parsed(c.get("id"), c.get("name"), _dumped(c.get("args")))
                 for c in message.tool_calls]
        calls += [_parsed(c.get("id"), c.get("name"), c.get("args") or "")
                  for c in message.invalid_tool_calls]
        asked, calls = len(calls), calls[:max_calls]
    else:
        asked, calls = 0, []
    return ModelAnswer(_words(str(message.text)), _unique_ids(calls), asked)


class AnswerReader:
    """A streamed answer, read chunk by chunk within the bounds: ``add`` gives the new
    words to show; once ``done``, the caller stops reading (past the call cap, or past an
    argument's or the words' limit), so what the model sends beyond is never parsed."""

    def __init__(self, max_calls: int):
        self.max_calls = max_calls
        self.words: list[str] = []
        self.chars = 0
        self.calls: dict[Any, dict[str, Any]] = {}  # index -> id, name, args pieces, length
        self.more_calls = False  # the model went past the cap
        self.done = False

    def add(self, chunk: BaseMessage) -> str:
        delta = str(chunk.text)
        room = MAX_TEXT_CHARS + 1 - self.chars  # one past the limit: the words are cut
        if len(delta) >= room:
            delta, self.done = delta[:room], True
        self.chars += len(delta)
        if delta:
            self.words.append(delta)
        pieces = chunk.tool_call_chunks if isinstance(chunk, AIMessageChunk) else []
        for piece in pieces:
            index = piece.get("index")
            call = self.calls.get(index)
            if call is None:
                if len(self.calls) >= self.max_calls:
                    self.more_calls = self.done = True
                    break
                call = self.calls[index] = {"id": "", "name": "", "args": [], "length": 0}
            call["id"] = call["id"] or str(piece.get("id") or "")[:NAME_CHARS + 1]
            call["name"] = (call["name"] + str(piece.get("name") or ""))[:NAME_CHARS + 1]
            args = str(piece.get("args") or "")
            call["length"] += len(args)
            call["args"].append(args)
            if call["length"] > MAX_ARGUMENT_CHARS:
                self.done = True  # the call is refused; nothing after it is read
        return delta

    def answer(self) -> ModelAnswer:
        calls = [_parsed(c["id"], c["name"], "".join(c["args"]), c["length"],
                         cut=self.done and c["length"] > MAX_ARGUMENT_CHARS)
                 for c in self.calls.values()]
        return ModelAnswer(_words("".join(self.words)), _unique_ids(calls),
                           None if self.more_calls else len(calls))


def _unique_ids(calls: list[ModelCall]) -> list[ModelCall]:
    # Some local servers leave ids out or repeat them; each reply needs its own.
    seen: set[str] = set()
    for i, made in enumerate(calls):
        if not made.id or made.id in seen or len(made.id) > NAME_CHARS:
            made.id = f"call_{i}"
        seen.add(made.id)
    return calls


def _words(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"


def _dumped(args: Any) -> str:
    try:
        return json.dumps(args)
    except (TypeError, ValueError, RecursionError):
        return f"<{type(args).__name__}>"


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def depth(text: str) -> int:
    """How deep the JSON ``text`` nests (strings skipped), without parsing it."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    steps = (1 if b in "[{" else -1 for b in brackets)
    return max(itertools.accumulate(steps), default=0)


def _parsed(call_id: str | None, name: str | None, raw: str, length: int | None = None,
            cut: bool = False) -> ModelCall:
    """One call's arguments, parsed only when they are within the bounds."""
    ident, tool = str(call_id or ""), quoted(str(name or ""), NAME_CHARS)
    text = raw.strip()
    length = len(raw) if length is None else length
    if length > MAX_ARGUMENT_CHARS:
        why = f"more than {MAX_ARGUMENT_CHARS:,} characters long" if cut else \
            f"{length:,} characters long (the limit is {MAX_ARGUMENT_CHARS:,})"
        return ModelCall(ident, tool, None, quoted(text), f"the arguments are {why}")
    if not text:  # a tool without required arguments, called with none
        return ModelCall(ident, tool, {}, raw)
    nested = depth(text)
    if nested > MAX_ARGUMENT_DEPTH:
        return ModelCall(ident, tool, None, quoted(text),
                         f"the arguments are nested {nested:,} deep (the limit is "
                         f"{MAX_ARGUMENT_DEPTH})")
    try:
        args = json.loads(text)
    except (ValueError, RecursionError) as exc:
        where = f", character {exc.pos}" if isinstance(exc, json.JSONDecodeError) else ""
        msg = exc.msg.lower() if isinstance(exc, json.JSONDecodeError) else "unreadable"
        return ModelCall(ident, tool, None, quoted(text),
                         f"the arguments are not valid JSON ({msg}{where})")
    if not isinstance(args, dict):
        return ModelCall(ident, tool, None, quoted(text),
                         f"the arguments are not a JSON object of named arguments "
                         f"(got {quoted(text)})")
    return ModelCall(ident, tool, args, raw)


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
        call.error = "the arguments are not a JSON object of named arguments"
    else:
        try:
            tool.args.model_validate(call.args)
        except ValidationError as exc:
            log.info("the model's arguments for %s: %s", call.name, quoted(str(exc), 2000))
            clipped = _Clipped(exc)
            call.error = explain(cast(ValidationError, clipped)) + (
                f"; and {clipped.more:,} more problems" if clipped.more else "")
    return call


class _Clipped:
    """A validation error as ``explain`` reads it: its first ``MAX_ERRORS`` problems, each
    value it quotes cut to ``QUOTE_CHARS`` (a model's 900-character prompt need not come
    back whole, nor a line per unknown argument of a thousand)."""

    def __init__(self, exc: ValidationError):
        problems = exc.errors()
        self.more = max(len(problems) - MAX_ERRORS, 0)
        self._errors = [{**e, "input": _Repr(e.get("input"))} for e in problems[:MAX_ERRORS]]

    def errors(self) -> list[dict[str, Any]]:
        return self._errors


class _Repr:
    def __init__(self, value: Any):
        self.value = value

    def __repr__(self) -> str:
        try:
            return quoted(repr(self.value))
        except RecursionError:
            return "…"


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
