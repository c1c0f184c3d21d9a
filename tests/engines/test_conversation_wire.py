"""Follow-up questions on the wire (lmdeploy-contract.md, multi-turn): the image in the
first message only, earlier answers as assistant turns, questions as user turns; the
stand-in checks the shape and answers from the conversation. The CPU engine refuses."""

from __future__ import annotations

import pytest
from engine_helpers import API_KEY, run
from PIL import Image

from desktop_ocr.core.contract import BadRequest, EngineError, Request, Turn, collect
from desktop_ocr.core.conversation import Conversation
from desktop_ocr.engines.cpu import CpuEngine
from desktop_ocr.engines.openai_compat import OpenAIEngine

IMAGE = Image.new("RGB", (640, 480), "white")


def test_payload_of_a_follow_up_is_the_contracts_multi_turn_shape():
    engine = OpenAIEngine("http://127.0.0.1:9", API_KEY, "internvl3")
    req = Request(image=IMAGE, prompt="Extract all text.",
                  history=(Turn("assistant", "TOTAL 59.00"), Turn("user", "What is the total?")))
    body = engine.build_payload(req, "data:image/png;base64,AAAA")
    first, answer, question = body["messages"]
    assert first["role"] == "user" and [p["type"] for p in first["content"]] == ["text", "image_url"]
    assert answer == {"role": "assistant", "content": "TOTAL 59.00"}
    assert question == {"role": "user", "content": "What is the total?"}


@pytest.mark.parametrize("history", [
    (Turn("user", "two questions"), Turn("user", "in a row")),
    (Turn("assistant", "an answer with no question after it"),),
    (Turn("system", "be nice"), Turn("user", "q")),
])
def test_a_malformed_conversation_is_refused_before_sending(history):
    engine = OpenAIEngine("http://127.0.0.1:9", API_KEY, "internvl3")
    with pytest.raises(BadRequest):
        engine.build_payload(Request(image=IMAGE, history=history), "data:x")


def test_follow_up_through_the_server_streams_an_answer_from_the_conversation(standin):
    # GIVEN a first answer about an image and a follow-up question
    conv = Conversation().add("Extract all text.", "Invoice 2024-0042\nTOTAL 59.00")
    req = conv.request(IMAGE, "What is the total?")

    async def go():
        engine = OpenAIEngine(standin.url, API_KEY, "internvl3")
        try:
            return await collect(engine, req)
        finally:
            await engine.stop()

    # WHEN it goes to the server
    text, finish = run(go())
    # THEN the server got the image once, in the first turn, and the whole conversation...
    assert standin.stats()["turns"] == [["user", 1, "parts"], ["assistant", 0, "str"],
                                        ["user", 0, "str"]]
    # ...and its answer came from it: the question, and the earlier answer it saw
    assert text == "Answer 1 to: What is the total?\nEarlier answer: Invoice 2024-0042\n"
    assert finish.value == "stop"


def test_the_server_refuses_a_message_without_role_as_lmdeploy_does(standin):
    import httpx

    body = {"model": "internvl3", "messages": [{"content": "hi"}], "max_tokens": 5}
    r = httpx.post(standin.url + "/v1/chat/completions", json=body, trust_env=False,
                   headers={"Authorization": f"Bearer {API_KEY}"})
    assert r.status_code == 400 and "role" in r.json()["message"]


def test_cpu_engine_says_plainly_it_cannot_answer_questions():
    async def go():
        engine = CpuEngine()
        try:
            return await collect(engine, Conversation().request(IMAGE, "What is the total?"))
        finally:
            await engine.stop()

    with pytest.raises(EngineError, match="cannot answer questions"):
        run(go())
