"""Sentences for users: English everywhere, with the template and values kept for the
window's language, across exceptions, pickling and a child process's JSON events."""

from __future__ import annotations

import json
import pickle

from desktop_ocr.core.contract import EngineUnavailable
from desktop_ocr.core.messages import Text, from_wire, sentences, to_wire
from desktop_ocr.core.notifications import user_message


def test_a_text_is_its_english_and_keeps_how_it_was_made():
    # GIVEN a sentence with a sentence inside it
    inner = Text("The image has no frame {n}.", n=2)
    outer = Text("Page {n}: {why}", n=3, why=inner)
    # THEN it reads as English anywhere a str goes, and its parts are kept
    assert outer == "Page 3: The image has no frame 2." and isinstance(outer, str)
    assert outer.template == "Page {n}: {why}" and outer.values["why"] is inner
    assert json.dumps({"e": outer}) == '{"e": "Page 3: The image has no frame 2."}'


def test_an_exception_raised_with_a_text_keeps_it():
    # GIVEN an engine error with a Text and a hint
    err = EngineUnavailable(Text("Cannot connect to the server at {url}.", url="http://x"),
                            hint="Check that it is running and the URL is right.")
    # THEN str() and the user's message keep the Text (the window translates them)
    assert isinstance(str(err), Text)
    said = user_message(err)
    assert said == "Cannot connect to the server at http://x. Check that it is running and the URL is right."
    assert isinstance(said, Text) and said.values["first"].values["url"] == "http://x"


def test_sentences_drop_an_empty_part():
    assert sentences("One.", "") == "One." and sentences("", "Two.") == "Two."
    assert sentences("One.", "Two.") == "One. Two."


def test_a_text_survives_pickling_and_the_wire():
    text = Text("The server did not start answering within {seconds:g} s{where}.", seconds=7.5,
                where=Text(" ({label})", label="scan.pdf"))
    again = pickle.loads(pickle.dumps(text))
    assert isinstance(again, Text) and again == text and again.values["seconds"] == 7.5
    # through JSON, as a child process sends its events
    back = from_wire(json.loads(json.dumps(to_wire(text))))
    assert isinstance(back, Text) and back == text and back.values["where"].values == {"label": "scan.pdf"}
    assert from_wire("plain") == "plain" and to_wire("plain") == "plain"


def test_a_template_from_another_version_that_does_not_fit_gives_its_english():
    # GIVEN an event whose template names a value it does not carry
    event = {"text": "Disk full on /data.", "template": "Disk full on {path} ({free}).",
             "values": {"path": "/data"}}
    # THEN the English text is used, not an exception
    assert from_wire(event) == "Disk full on /data."
