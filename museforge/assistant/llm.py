"""The LLM planner: LangChain's ``ChatOpenAI`` over any OpenAI-compatible endpoint
(OpenAI, Ollama, vLLM, llama.cpp server, LM Studio), with the tool registry bound.

One turn is at most two model round-trips in the usual case: the plan (the model's tool
calls), then, once the assistant has run them, the reply (the model words the results).
A malformed call costs one more: its validation errors go back to the model once, as
tool messages. ``create_agent`` is not used because it would run the tools itself; here
the assistant runs them (references, scope, progress, cancel, the store), so the planner
only plans and words the reply.

Bounds per turn: ``max_tool_calls`` calls (the rest dropped unread, said in the reply),
``max_round_trips`` model requests, and per request the client's timeout and its retries
with backoff after connection errors, timeouts, 429 and 5xx. Each answer is read within
``llm_tools``' bounds (argument size and depth, words), so whatever a model sends, what it
got wrong is one short sentence. A model that does not answer, or answers something that
is not a chat completion, gives one clear sentence, or the offline planner's plan with a
note when the planner is ``auto``. What a tool returns reaches the model quoted as data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import httpx2
import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    messages_from_dict,
    messages_to_dict,
)

from museforge.assistant import prompts
from museforge.assistant.llm_tools import (
    AnswerReader,
    ModelAnswer,
    ModelCall,
    ai_message,
    answer_of,
    check,
    fast_plan,
    quoted,
    tool_schemas,
)
from museforge.assistant.planning import CallOutcome, Plan, PlanContext, Planner
from museforge.tools.base import Tool
from museforge.urls import public_url

log = logging.getLogger(__name__)
DEFAULT_MODEL = "gpt-4o-mini"
OPENAI_URL = "https://api.openai.com/v1"
NO_KEY = "not-needed"  # local servers ignore the key, but the client insists on one

TextFn = Callable[[str], None]


class ModelUnavailable(Exception):
    """The endpoint did not answer usefully after the client's retries."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class TurnState:
    """What ``plan`` hands ``write_reply`` through ``Plan.state``."""

    messages: list[BaseMessage]  # the system prompt and the person's message
    round_trips: int = 0
    notes: list[str] = field(default_factory=list)  # said beside the reply


class LLMPlanner:
    name = "llm"

    def __init__(
        self,
        model: BaseChatModel,
        *,
        endpoint: str = "the model",
        tools: Sequence[Tool] | None = None,
        max_tool_calls: int = 8,
        max_round_trips: int = 4,
        fast_path: bool = True,
        fallback: bool = False,
        stream: bool = True,
        offline: Planner | None = None,
        timeout_s: float | None = None,
        retries: int = 0,
    ):
        from museforge.assistant.offline import OfflinePlanner
        from museforge.tools.registry import TOOLS

        self.model = model
        self.tools = {t.name: t for t in (TOOLS if tools is None else tools)}
        self.families = list(dict.fromkeys(t.family for t in self.tools.values()))
        self.bound = model.bind_tools(tool_schemas(self.tools.values()))
        self.endpoint = endpoint
        self.max_tool_calls = max_tool_calls
        self.max_round_trips = max_round_trips
        self.fast_path = fast_path
        self.fallback = fallback
        self.stream = stream
        self.offline: Planner = offline or OfflinePlanner()
        self.timeout_s = timeout_s
        self.retries = retries
        # A front-end that shows the reply as it comes sets this; it gets text deltas of
        # each model answer (the plan's words, then the reply). The turn's final reply
        # (with notes such as a cap) replaces what was streamed.
        self.stream_to: TextFn | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> LLMPlanner:
        from pydantic import SecretStr

        from museforge.assistant.llm_client import BoundedChatOpenAI, deadline_client

        key = settings.llm_api_key or SecretStr(NO_KEY)
        model = BoundedChatOpenAI(
            max_tool_calls=settings.llm_max_tool_calls,
            model=settings.llm_model or DEFAULT_MODEL,
            base_url=settings.llm_base_url,
            api_key=key,
            timeout=settings.llm_timeout_s,
            max_retries=settings.llm_retries,  # the openai client backs off between tries
            http_client=deadline_client(settings.llm_timeout_s),
        )
        return cls(
            model,
            endpoint=public_url(settings.llm_base_url or OPENAI_URL),
            max_tool_calls=settings.llm_max_tool_calls,
            max_round_trips=settings.llm_max_round_trips,
            fast_path=settings.llm_fast_path,
            fallback=settings.planner == "auto",
            stream=settings.llm_stream,
            timeout_s=settings.llm_timeout_s,
            retries=settings.llm_retries,
        )

    # -- the plan --------------------------------------------------------------------

    def plan(self, message: str, context: PlanContext) -> Plan:
        if self.fast_path:
            fast = fast_plan(self.offline, message, context, self.tools)
            if fast is not None:
                return fast
        state = TurnState([
            SystemMessage(prompts.llm_system(context, self.families, self.max_tool_calls)),
            HumanMessage(prompts.llm_user_message(message, context)),
        ])
        try:
            answer = self._ask(state, state.messages, stream=True)
        except ModelUnavailable as exc:
            return self._unavailable(message, context, exc)
        calls = answer.calls
        if not calls:
            return Plan(reply=answer.text or prompts.MODEL_SAID_NOTHING, planner=self.name)
        if answer.asked is None:
            state.notes.append(prompts.calls_cut_off(self.max_tool_calls))
        elif answer.asked > len(calls):
            state.notes.append(prompts.calls_capped(self.max_tool_calls, answer.asked))
        for call in calls:
            check(call, self.tools)
        good = self._corrected(state, answer, calls)
        if not good:
            reply = " ".join(state.notes) or prompts.MODEL_SAID_NOTHING
            return Plan(reply=reply, planner=self.name, state=state)
        return Plan(calls=[c.planned() for c in good], reply=" ".join(state.notes) or None,
                    planner=self.name, state=state)

    def _corrected(self, state: TurnState, answer: ModelAnswer,
                   calls: list[ModelCall]) -> list[ModelCall]:
        """The valid calls, after sending the invalid ones' errors back to the model once
        (when a round-trip is left). What stays invalid is dropped, with a note."""
        if not any(c.error for c in calls):
            return calls
        fixes: list[ModelCall] = []
        if state.round_trips < self.max_round_trips:
            replies = [ToolMessage(prompts.call_rejected(c.name, prompts.defuse(c.error))
                                   if c.error else prompts.CALL_ACCEPTED, tool_call_id=c.id)
                       for c in calls]
            exchange = [*state.messages, ai_message(answer.text, calls), *replies]
            room = self.max_tool_calls - sum(1 for c in calls if not c.error)
            try:
                again = self._ask(state, exchange, stream=False, max_calls=room)
            except ModelUnavailable as exc:
                log.warning("the model did not answer the correction: %s", exc.reason)
            else:
                fixes = [check(c, self.tools) for c in again.calls]
                if again.text and not fixes:  # it answered in words instead ("I can't...")
                    state.notes.append(again.text)
        accepted = [c for c in calls if not c.error]

        def take(fix: ModelCall) -> list[ModelCall]:
            if fix.error:
                state.notes.append(prompts.call_skipped(fix.name, fix.error))
                return []
            # A model that repeats an accepted call beside its fix must not run it twice.
            return [] if any(fix.same_as(a) for a in accepted) else [fix]

        good: list[ModelCall] = []
        for call in calls:  # a fix takes the place of the call it corrects
            if not call.error:
                good.append(call)
                continue
            fix = next((f for f in fixes if f.name == call.name), None)
            if fix is None:
                state.notes.append(prompts.call_skipped(call.name, call.error))
            else:
                fixes.remove(fix)
                good += take(fix)
        for extra in fixes:  # a call the model added, or a tool it switched to
            good += take(extra)
        return good

    def _unavailable(self, message: str, context: PlanContext, exc: ModelUnavailable) -> Plan:
        log.warning("the model at %s did not answer: %s", self.endpoint, exc.reason)
        if not self.fallback:
            return Plan(reply=prompts.model_unreachable(self.endpoint, exc.reason),
                        planner=self.name)
        plan = self.offline.plan(message, context)
        said = prompts.resolve_reply(plan.reply)
        note = prompts.model_fallback(self.endpoint)
        return Plan(calls=plan.calls, reply=f"{said}\n{note}" if said else note,
                    planner="offline-fallback")

    # -- a plan that travels (planned.py: the cluster's front-end plans, a worker runs) --

    def dump_state(self, state: Any) -> Any:
        """``Plan.state`` as JSON, so that another process can word the reply."""
        assert isinstance(state, TurnState)
        return {"messages": messages_to_dict(state.messages),
                "round_trips": state.round_trips, "notes": list(state.notes)}

    def load_state(self, data: Any) -> TurnState:
        return TurnState(messages_from_dict(data["messages"]), int(data["round_trips"]),
                         [str(n) for n in data["notes"]])

    # -- the reply -------------------------------------------------------------------

    def write_reply(self, message: str, context: PlanContext, plan: Plan,
                    outcomes: list[CallOutcome]) -> str | None:
        """The model's wording of what the calls did (the second round-trip), with the
        plan's notes after it; None to let the assistant compose the reply (an offline
        plan, no round-trip left, or no answer)."""
        state = plan.state
        if not isinstance(state, TurnState) or not outcomes:
            return None
        if state.round_trips >= self.max_round_trips:
            return None
        # The calls as they ran (references resolved, plurals expanded), not as planned.
        ids = [f"call_{i}" for i in range(len(outcomes))]
        ran = AIMessage(content="", tool_calls=[
            {"id": i, "name": o.name, "args": o.args, "type": "tool_call"}
            for i, o in zip(ids, outcomes, strict=True)])
        # A result quotes what people wrote (titles, file names): it is data, like them.
        results = [ToolMessage(prompts.tool_result(o.ok, _data(o.result), _data(o.error)),
                               tool_call_id=i)
                   for i, o in zip(ids, outcomes, strict=True)]
        try:
            answer = self._ask(state, [*state.messages, ran, *results], stream=True,
                               max_calls=0)
        except ModelUnavailable as exc:
            log.warning("the model did not word the reply: %s", exc.reason)
            return None
        if not answer.text:
            return None
        return "\n".join([answer.text, *state.notes])

    # -- a long session's memory -----------------------------------------------------

    def summarize(self, previous: str, messages: list[tuple[str, str]]) -> str | None:
        """``previous`` summary with ``messages`` (role, text) folded in, bounded to
        ``prompts.SUMMARY_CHARS``; None when the model does not answer. One round-trip,
        outside any turn's budget."""
        ask = [SystemMessage(prompts.SUMMARY_SYSTEM),
               HumanMessage(prompts.summary_request(previous, messages))]
        try:
            answer = self.model.invoke(ask)
        except openai.APIError as exc:
            log.warning("the model did not summarize: %s", self._reason(exc))
            return None
        except httpx2.HTTPError as exc:
            log.warning("the model did not summarize: %s", _short(str(exc)))
            return None
        text = str(answer.text).strip()
        return text[: prompts.SUMMARY_CHARS] or None

    # -- one round-trip --------------------------------------------------------------

    def _ask(self, state: TurnState, messages: list[BaseMessage], *, stream: bool,
             max_calls: int | None = None) -> ModelAnswer:
        """One model request, its answer read within the bounds (at most ``max_calls``
        calls, ``max_tool_calls`` by default)."""
        state.round_trips += 1
        cap = self.max_tool_calls if max_calls is None else max_calls
        listener = self.stream_to if stream and self.stream else None
        try:
            if listener is None:
                return answer_of(self.bound.invoke(messages), cap)
            reader = AnswerReader(cap)
            # A generator (LangChain's), closed below so that a stream cut short is hung up.
            chunks = cast(Generator[BaseMessage, None, None], self.bound.stream(messages))
            try:
                for chunk in chunks:
                    delta = reader.add(chunk)
                    if delta:
                        listener(delta)
                    if reader.done:
                        break  # what follows is not read (the connection is closed)
            finally:
                chunks.close()
            return reader.answer()
        except openai.APIError as exc:
            raise ModelUnavailable(self._reason(exc)) from exc
        except httpx2.TimeoutException as exc:
            # Read past the SDK's retry loop: a streamed answer, or a body LangChain reads
            # itself, that ran past its deadline or stalled.
            raise ModelUnavailable(self._waited()) from exc
        except httpx2.HTTPError as exc:
            why = _short(str(exc)) or type(exc).__name__
            raise ModelUnavailable(f"the connection broke ({why})") from exc
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            # Not a chat completion (pydantic's and LangChain's errors are ValueErrors):
            # the detail is for the log, the person gets one sentence.
            log.warning("the answer of the model at %s could not be read: %s", self.endpoint,
                        quoted(f"{type(exc).__name__}: {exc}", 2000))
            raise ModelUnavailable("its answer was not a chat completion that could be "
                                   "read") from exc

    def _waited(self) -> str:
        wait = f"{self.timeout_s:g} s" if self.timeout_s else "the timeout"
        return f"no answer within {wait}"

    def _reason(self, exc: openai.APIError) -> str:
        tries = f" ({self.retries + 1} tries)" if self.retries else ""
        if isinstance(exc, openai.APITimeoutError):
            return f"{self._waited()}{tries}"
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__
            detail = _short(str(cause)) if cause is not None and str(cause) else "no connection"
            return f"cannot connect ({detail}){tries}"
        if isinstance(exc, openai.APIStatusError):
            body = exc.body
            said = body.get("message") if isinstance(body, dict) else None
            return f"HTTP {exc.status_code}: {_short(str(said or exc.message))}"
        return _short(str(exc))


def _data(text: str | None) -> str | None:
    return prompts.quote_data("tool result", text) if text else None


def _short(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
