"""Time limits and malformed streams of the OpenAI-compatible client, against stand-in
servers (real processes) that accept and never answer, hang on chat only, send only
keep-alives, stall mid-answer, or send events of the wrong shape."""

from __future__ import annotations

import time

import pytest
from engine_helpers import API_KEY, make_image, run

from desktop_ocr.core.contract import EngineCrashed, EngineTimeout, EngineUnavailable, Request
from desktop_ocr.core.settings import Settings
from desktop_ocr.engines.openai_compat import OpenAIEngine, ProtocolError

LIMIT = 1.5
TICK = 0.3


def engine_for(server, **kw) -> OpenAIEngine:
    opts = {"timeout": LIMIT, "tick": TICK, "retry_backoff": 0.2}
    opts.update(kw)
    return OpenAIEngine(server.url, API_KEY, "internvl3", **opts)


def request(scenario: str = "normal") -> Request:
    return Request(image=make_image((64, 48)), prompt=f"[[scenario={scenario}]] read it", label="page 1")


async def drain(engine: OpenAIEngine, req: Request):
    """(text, waiting values, error, seconds) of one stream."""
    text, waits, error = [], [], None
    t0 = time.monotonic()
    await engine.start()
    try:
        async for chunk in engine.stream(req):
            text.append(chunk.text)
            if chunk.info and "waiting_s" in chunk.info:
                waits.append(chunk.info["waiting_s"])
    except Exception as exc:  # noqa: BLE001 - the test looks at what came out
        error = exc
    finally:
        await engine.stop()
    return "".join(text), waits, error, time.monotonic() - t0


def wait_closed(server, key: str = "hung_open", timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    stats = server.stats()
    while stats[key] and time.monotonic() < deadline:
        time.sleep(0.05)
        stats = server.stats()
    return stats


def test_a_server_that_accepts_and_never_answers_times_out(standin_factory):
    # GIVEN a server whose port is open but which never answers anything
    server = standin_factory("--hang", "all")
    # WHEN one image is sent with a 1.5 s limit
    text, waits, error, took = run(drain(engine_for(server), request()))
    # THEN it fails after about the limit, not 600 s, saying so and how to change it
    assert isinstance(error, EngineTimeout) and "did not start answering within 1.5 s" in str(error)
    assert "--timeout" in error.user_message
    assert LIMIT <= took < LIMIT + 1.5
    # AND it said it was waiting about once a tick, with growing numbers
    assert len(waits) >= 3 and waits == sorted(waits) and waits[-1] < LIMIT
    # AND it let go of the connection
    assert wait_closed(server)["hung_open"] == 0


def test_model_discovery_against_a_silent_server_times_out(standin_factory):
    server = standin_factory("--hang", "all")
    engine = OpenAIEngine(server.url, API_KEY, None, timeout=LIMIT, tick=TICK)

    async def go():
        t0 = time.monotonic()
        with pytest.raises(EngineTimeout):
            await engine.start()
        await engine.stop()
        return time.monotonic() - t0

    assert run(go()) < LIMIT + 2 * TICK + 1.0


def test_a_server_hanging_only_on_chat_fails_once_not_three_times(standin_factory):
    # GIVEN a server that is healthy and lists its model but never answers a chat request
    server = standin_factory("--hang", "chat")
    # WHEN one image is sent (retries allowed)
    text, waits, error, took = run(drain(engine_for(server, retries=2), request()))
    # THEN the retries share the one time budget: about 1 x the limit, not 3 x
    assert isinstance(error, EngineTimeout)
    assert took < LIMIT + 1.5
    assert wait_closed(server)["hung"] == 1


def test_keep_alives_are_not_progress(standin_factory, standin):
    # GIVEN a server that answers 200 and then only sends ": keep-alive" comments
    text, waits, error, took = run(drain(engine_for(standin), request("keepalive")))
    # THEN the limit still fires, with the waiting chunks on the way
    assert isinstance(error, EngineTimeout) and "did not start answering" in str(error)
    assert LIMIT <= took < LIMIT + 1.5 and waits


def test_empty_deltas_are_not_progress(standin):
    text, waits, error, took = run(drain(engine_for(standin), request("empty_deltas")))
    assert isinstance(error, EngineTimeout) and text == ""


def test_a_stall_mid_answer_times_out_between_tokens(standin):
    # GIVEN a server that sends "Invoice" and then only keep-alives
    text, waits, error, took = run(drain(engine_for(standin), request("stall")))
    # THEN the text so far came through, then a time-out naming the stall
    assert text == "Invoice"
    assert isinstance(error, EngineTimeout) and "stopped sending for 1.5 s mid-answer" in str(error)


def test_slow_but_steady_answers_are_not_cut(standin):
    # GIVEN tokens every 0.2 s for longer than the limit in total
    req = Request(image=make_image((64, 48)), prompt="[[scenario=slow]] x", max_tokens=12)
    text, waits, error, took = run(drain(engine_for(standin, timeout=1.0), req))
    # THEN the limit is between tokens, not for the whole answer
    assert error is None and took > 1.0 and text


def test_refused_connections_fail_fast():
    # GIVEN nothing listening WHEN a request is sent with retries
    from desktop_ocr.engines.lmdeploy_server import free_port

    engine = OpenAIEngine(f"http://127.0.0.1:{free_port()}", API_KEY, "internvl3",
                          timeout=60, retries=2, retry_backoff=0.2)
    text, waits, error, took = run(drain(engine, request()))
    # THEN it fails in about a second, whatever the (long) time limit
    assert isinstance(error, EngineUnavailable) and took < 3


def test_timeout_comes_from_the_setting(monkeypatch):
    monkeypatch.setenv("DESKTOP_OCR_TIMEOUT", "7.5")
    settings = Settings.load()
    assert settings.timeout == 7.5
    assert OpenAIEngine.from_settings(Settings(endpoint="http://x", timeout=3)).timeout == 3


@pytest.mark.parametrize("scenario, words", [
    ("shape_choices_string", '"choices" is str'),
    ("shape_choices_null", "a choice is NoneType"),
    ("shape_delta_string", '"delta" is str'),
    ("shape_content_number", '"content" is int'),
    ("shape_invalid_json", "not valid JSON"),
    ("shape_event_list", "an event is list"),
])
def test_events_of_the_wrong_shape_are_one_clear_error(standin, scenario, words, capfd):
    before = standin.stats()["requests"]
    # GIVEN a stream whose third event has the wrong shape
    text, waits, error, took = run(drain(engine_for(standin), request(scenario)))
    # THEN the request ends with one plain engine error naming the problem (no retry)
    assert isinstance(error, ProtocolError) and isinstance(error, EngineCrashed)
    assert words in str(error) and "\n" not in error.user_message and "page 1" in str(error)
    assert text == "Invoice"
    assert standin.stats()["requests"] == before + 1
    # AND nothing was printed raw on the terminal
    out, err = capfd.readouterr()
    assert err == ""
