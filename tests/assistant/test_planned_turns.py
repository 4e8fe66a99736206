"""A turn planned in one place and run in another (``assistant/planned.py``, what the
cluster's front-end and worker do): the LLM planner's plan, its conversation with the
model included, travels as JSON, and the run asks the model only to word the reply; a
conversation that changed since the plan is planned again. Against the scripted
OpenAI-compatible server on 127.0.0.1 (``openai_stub``), the real store and painter."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from openai_stub import OpenAIStub, calls, say

from museforge.assistant.llm import LLMPlanner
from museforge.assistant.planned import PlannedTurn
from museforge.assistant.turn import Assistant
from museforge.config import Settings
from museforge.models.image.procedural import ProceduralPainter
from museforge.tools.base import Services

FOX = {"prompt": "a red fox in the snow", "width": 64, "height": 64, "seed": 3}


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    server = OpenAIStub()
    yield server
    server.close()


def _llm(store, stub: OpenAIStub) -> Assistant:
    planner = LLMPlanner.from_settings(Settings(llm_base_url=stub.url, llm_timeout_s=10,
                                                llm_retries=0, llm_fast_path=False))
    return Assistant(store, planner, services=Services(image=ProceduralPainter()))


def _travelled(planned: PlannedTurn | None, assistant: Assistant) -> PlannedTurn:
    assert planned is not None
    back = PlannedTurn.from_json(json.loads(json.dumps(planned.to_json())),
                                 assistant.planner)
    assert back is not None
    return back


def test_an_llm_plan_travels_and_the_run_only_asks_for_the_reply(store, me, chat, stub):
    front, worker = _llm(store, stub), _llm(store, stub)
    stub.script(calls(("generate_image", FOX)), say("Here is #1, a red fox in the snow."))

    ahead = front.turn(me, chat, "paint a red fox in the snow", plan_only=True)
    assert len(stub.requests) == 1 and store.history(me, chat) == []
    result = worker.turn(me, chat, "paint a red fox in the snow",
                         planned=_travelled(ahead.planned, worker))

    assert result.ran_planned
    assert [(c.name, c.ok, c.args) for c in result.calls] == [("generate_image", True, FOX)]
    assert result.reply == "Here is #1, a red fox in the snow."
    # One request to plan (on the "front-end"), one to word the reply, which continued
    # the very conversation the plan began.
    assert len(stub.requests) == 2
    assert stub.messages(1)[:2] == stub.messages(0)[:2]


def test_a_plan_for_a_conversation_that_changed_is_made_again(store, me, chat, paint, stub):
    front, worker = _llm(store, stub), _llm(store, stub)
    stub.script(calls(("generate_image", FOX)),
                calls(("adjust_image", {"artwork": "#1", "brightness": 1.2})),
                say("Brighter."))
    ahead = front.turn(me, chat, "make it brighter", plan_only=True)
    paint("a red fox")  # another turn ran meanwhile

    result = worker.turn(me, chat, "make it brighter",
                         planned=_travelled(ahead.planned, worker))

    assert not result.ran_planned
    assert [c.name for c in result.calls] == ["adjust_image"]
    assert len(stub.requests) == 3  # planned twice, then the reply
