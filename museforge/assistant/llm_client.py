"""LangChain's ``ChatOpenAI``, except that an answer's tool calls are left as the model
wrote them, at most ``max_tool_calls`` of them, for ``llm_tools`` to read within its
bounds. ``ChatOpenAI`` would parse every call's arguments (10,000 calls, a 10 MB string,
JSON nested 100,000 deep) before the planner could cap anything, and a call whose
arguments are a JSON list fails its own message model, which ended the turn with a
pydantic trace.

``deadline_client`` bounds each request in wall-clock time as a whole: the client's own
timeout is per read, so a server that sends a byte, an SSE comment (``: ping``) or an
empty delta every few seconds kept one turn, and the queue worker that ran it, forever.
It also bounds the answer's bytes: the SDK reads a whole body into memory before parsing
it (a 200 MB answer took the process to 950 MB)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import openai
from langchain_core.outputs import ChatResult
from langchain_openai import ChatOpenAI

from museforge.assistant.llm_tools import ASKED, MAX_ARGUMENT_CHARS, RAW_CALLS, RawCall


class BoundedChatOpenAI(ChatOpenAI):
    max_tool_calls: int = 8

    def _create_chat_result(self, response: dict[str, Any] | openai.BaseModel,
                            generation_info: dict[str, Any] | None = None) -> ChatResult:
        if isinstance(response, openai.BaseModel):
            data = response.model_dump(exclude={"choices": {"__all__": {"message": {"parsed"}}}},
                                       warnings=False)
        else:
            data = dict(response)
        choices = data.get("choices")
        asked: list[list[Any]] = []
        if isinstance(choices, list):
            data["choices"] = [dict(c) for c in choices if isinstance(c, dict)]
            for choice in data["choices"]:
                message = dict(choice.get("message") or {})
                raw = message.pop("tool_calls", None)
                asked.append(raw if isinstance(raw, list) else [])
                choice["message"] = message
        result = super()._create_chat_result(data, generation_info)
        for generation, raw in zip(result.generations, asked, strict=False):
            extra = generation.message.additional_kwargs
            extra[RAW_CALLS] = [_raw_call(c) for c in raw[: self.max_tool_calls]]
            extra[ASKED] = len(raw)
        return result


def _raw_call(call: Any) -> RawCall:
    """One call as written, its arguments cut just past the limit (their length kept)."""
    call = call if isinstance(call, dict) else {}
    function = call.get("function") if isinstance(call.get("function"), dict) else {}
    args = function.get("arguments")
    if args is None:
        text = ""
    elif isinstance(args, str):
        text = args
    else:  # a server that sends the arguments as an object, not a string
        try:
            text = json.dumps(args)
        except (TypeError, ValueError, RecursionError):
            text = str(type(args).__name__)
    return {"id": str(call.get("id") or "")[:100], "name": str(function.get("name") or "")[:100],
            "args": text[: MAX_ARGUMENT_CHARS + 1], "length": len(text)}


_DEADLINE = "museforge_deadline"
# A real answer is a few KB: 4,000 characters of words and at most 64 calls of at most
# 8,000 characters each fit in well under 1 MB, however they are streamed. Room is left
# for a model that writes one absurd call (refused by its own length, which says more).
MAX_ANSWER_BYTES = 16 * 2**20


class AnswerTooLarge(openai.APIError):
    """The body went past ``MAX_ANSWER_BYTES``; not retried (the SDK passes its own errors
    through as they are)."""

    def __init__(self, request: httpx2.Request) -> None:
        super().__init__(f"its answer was over {MAX_ANSWER_BYTES // 2**20} MB long", request,
                         body=None)


def deadline_client(seconds: float) -> httpx2.Client:
    """The openai SDK's default HTTP client, with each request (its headers and its whole
    body, streamed or not) ended by ``httpx2.ReadTimeout`` once it has taken ``seconds``,
    and by ``AnswerTooLarge`` past ``MAX_ANSWER_BYTES``. Each retry of the SDK's is a
    request of its own, with a deadline of its own."""

    def start(request: httpx2.Request) -> None:
        request.extensions[_DEADLINE] = time.monotonic() + seconds

    def bound(response: httpx2.Response) -> None:
        deadline = response.request.extensions.get(_DEADLINE)
        if isinstance(deadline, float):
            response.stream = _DeadlineStream(response.stream, deadline, seconds,
                                              response.request)
            if time.monotonic() > deadline:  # the headers alone came too slowly
                raise _timeout(seconds, response.request)

    return openai.DefaultHttpxClient(event_hooks={"request": [start], "response": [bound]})


def _timeout(seconds: float, request: httpx2.Request) -> httpx2.ReadTimeout:
    return httpx2.ReadTimeout(f"no whole answer within {seconds:g} s", request=request)


class _DeadlineStream(httpx2.SyncByteStream):
    def __init__(self, inner: Any, deadline: float, seconds: float,
                 request: httpx2.Request) -> None:
        self._inner = inner
        self._deadline = deadline
        self._seconds = seconds
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        read = 0
        for chunk in self._inner:
            if time.monotonic() > self._deadline:
                raise _timeout(self._seconds, self._request)
            read += len(chunk)
            if read > MAX_ANSWER_BYTES:
                raise AnswerTooLarge(self._request)
            yield chunk

    def close(self) -> None:
        self._inner.close()
