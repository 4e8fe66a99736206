"""A long conversation keeps a running summary: messages that leave the LLM planner's
window are folded into it, it is stored with the session, and the model sees it (as
quoted data) on later turns."""

from __future__ import annotations

import json

from openai_stub import OpenAIStub, say
from test_llm_planner import llm

from museforge.assistant.turn import HISTORY_WINDOW, SUMMARY_BATCH


def test_old_messages_are_folded_into_a_stored_summary_the_model_then_reads(store, me,
                                                                            chat):
    stub = OpenAIStub()
    try:
        assistant, _ = llm(store, stub, llm_fast_path=False)
        turns = (HISTORY_WINDOW + SUMMARY_BATCH) // 2  # the last one folds the first batch
        for i in range(turns):
            stub.script(say(f"answer {i}"))
        stub.script(say("SUMMARY: they asked about foxes and whales."))
        for i in range(turns):
            assistant.turn(me, chat, f"tell me about animal {i}")
        summary, upto = store.summary(me, chat)
        assert summary == "SUMMARY: they asked about foxes and whales."
        folded = [m for m in store.history(me, chat) if upto is not None and m.id <= upto]
        assert len(folded) >= SUMMARY_BATCH
        assert "animal 0" in json.dumps(stub.requests[-1])  # what the summarizer was given

        stub.script(say("still here"))
        assistant.turn(me, chat, "and now?")
        seen = json.dumps(stub.requests[-1]["messages"])
        assert "they asked about foxes and whales" in seen
        system = stub.requests[-1]["messages"][0]["content"]
        assert "foxes and whales" not in system  # data, never instructions
        assert "animal 0" not in seen  # the old messages themselves are gone
    finally:
        stub.close()
