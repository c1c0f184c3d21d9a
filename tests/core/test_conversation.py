"""A conversation about an image: the requests it makes and how it is kept with a result."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from desktop_ocr.core.contract import Turn
from desktop_ocr.core.conversation import ASK_TASK, Conversation
from desktop_ocr.core.results import PartResult

IMAGE = Image.new("RGB", (32, 32), "white")


def test_first_question_goes_with_the_image_alone():
    req = Conversation().request(IMAGE, "  What is the total? ", max_tokens=512)
    assert (req.task, req.prompt, req.history, req.max_tokens) == (ASK_TASK, "What is the total?", (), 512)


def test_follow_ups_carry_the_whole_conversation_oldest_first():
    # GIVEN a result (its prompt and text) and one question already answered about it
    result = PartResult(source="r.jpg", prompt="Extract all text.", text="TOTAL 59.00", task="text")
    conv = Conversation.about(result).add("What is the total?", "59.00 EUR")
    # WHEN the next question is asked
    req = conv.request(IMAGE, "In dollars?")
    # THEN the first prompt goes with the image, then answer, question, answer, question
    assert req.prompt == "Extract all text."
    assert req.history == (Turn("assistant", "TOTAL 59.00"), Turn("user", "What is the total?"),
                           Turn("assistant", "59.00 EUR"), Turn("user", "In dollars?"))
    assert (conv.question, conv.answer) == ("What is the total?", "59.00 EUR")


def test_it_is_kept_with_the_result_and_survives_json():
    result = PartResult(source="r.jpg", prompt="Extract all text.", text="TOTAL 59.00")
    Conversation.about(result).add("Total?", "59.00").store(result)
    again = PartResult.from_dict(json.loads(json.dumps(result.to_dict())))
    conv = Conversation.about(again)
    assert [(e.question, e.answer) for e in conv.exchanges] == [
        ("Extract all text.", "TOTAL 59.00"), ("Total?", "59.00")]


def test_a_cpu_result_without_prompt_starts_from_its_tasks_prompt():
    conv = Conversation.about(PartResult(source="r.jpg", text="TOTAL 59.00", task="table"))
    assert "table" in conv.exchanges[0].question.lower()


def test_an_empty_question_is_refused():
    with pytest.raises(ValueError):
        Conversation().request(IMAGE, "   ")
