"""LangChain's ``ChatOpenAI``, except that an answer's tool calls are left as the model
wrote them, at most ``max_tool_calls`` of them, for ``llm_tools`` to read within its
bounds. ``ChatOpenAI`` would parse every call's arguments (10,000 calls, a 10 MB string,
JSON nested 100,000 deep) before the planner could cap anything, and a call whose
arguments are a JSON list fails its own message model, which ended the turn with a
pydantic trace."""

from __future__ import annotations

import json
from typing import Any

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
