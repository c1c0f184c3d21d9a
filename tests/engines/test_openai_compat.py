"""The streaming client against the stand-in server (a real process speaking the contract)."""

from __future__ import annotations

import asyncio
import base64
import io
import time

import httpx
import pytest
from engine_helpers import API_KEY, make_image, run, start_standin
from PIL import Image

from desktop_ocr.core.contract import (
    BadImage,
    BadRequest,
    Cancelled,
    EngineCrashed,
    EngineUnavailable,
    FinishReason,
    Request,
    collect,
)
from desktop_ocr.engines.openai_compat import OpenAIEngine, http_error

DEFAULT_TEXT = ("Invoice No. 2024-0042\n"
                "| Item | Qty | Price |\n| --- | --- | --- |\n| Paper A4 | 2 | 8.50 |\n| Toner | 1 | 42.00 |\n"
                "Total: 59.00 EUR\n")


def req(scenario: str = "", **kw) -> Request:
    prompt = "Please extract all text from this image."
    if scenario:
        prompt += f" [[scenario={scenario}]]"
    return Request(image=kw.pop("image", make_image()), prompt=prompt, **kw)


async def chunks_of(engine: OpenAIEngine, request: Request) -> list:
    await engine.start()
    try:
        return [c async for c in engine.stream(request)]
    finally:
        await engine.stop()


def test_payload_is_the_contracts_request():
    engine = OpenAIEngine("http://127.0.0.1:1/v1", API_KEY, "internvl3")
    r = Request(image=make_image(), prompt="Read it.", max_tokens=2048, max_dynamic_patch=6,
                repetition_penalty=1.1)
    body = engine.build_payload(r, "data:image/png;base64,AAAA")
    assert body == {
        "model": "internvl3", "stream": True,
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "Read it."},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "max_dynamic_patch": 6}}]}],
        "temperature": 0.0, "top_k": 1, "max_tokens": 2048, "repetition_penalty": 1.1,
        "stream_options": {"include_usage": True},
    }
    schema = {"type": "json_schema", "json_schema": {"name": "fields", "schema": {"type": "object"}}}
    with_schema = engine.build_payload(Request(image=r.image, response_format=schema), "data:x")
    assert with_schema["response_format"] == schema
    assert engine.endpoint == "http://127.0.0.1:1"


def test_normal_stream_text_finish_and_usage(standin):
    image = make_image((900, 700))
    chunks = run(chunks_of(OpenAIEngine(standin.url, API_KEY, "internvl3"), req(image=image)))
    text = "".join(c.text for c in chunks)
    # The stand-in echoes the size of the image it decoded from the data URL.
    assert text == "[image 900x700]\n" + DEFAULT_TEXT
    assert len(chunks) > 20  # it arrived in pieces, rows split across chunks
    assert all(c.finish_reason is None for c in chunks[:-1])
    last = chunks[-1]
    assert last.finish_reason is FinishReason.STOP and last.text == ""
    assert last.usage["completion_tokens"] == sum(1 for c in chunks if c.text)


def test_image_is_prescaled_to_the_tile_budget(standin):
    big = make_image((3000, 1500))
    engine = OpenAIEngine(standin.url, API_KEY, "internvl3")
    text, finish = run(_collect(engine, req(image=big, max_dynamic_patch=4)))
    assert text.startswith("[image 896x448]\n")  # 448 * sqrt(4) on the longest side
    assert finish is FinishReason.STOP


async def _collect(engine, request):
    await engine.start()
    try:
        return await collect(engine, request)
    finally:
        await engine.stop()


@pytest.mark.parametrize(("scenario", "finish"), [("length", FinishReason.LENGTH),
                                                  ("abort", FinishReason.ABORT)])
def test_finish_reasons(standin, scenario, finish):
    engine = OpenAIEngine(standin.url, API_KEY, "internvl3")
    text, got = run(_collect(engine, req(scenario, max_tokens=10)))
    assert got is finish
    assert 0 < len(text) < len(DEFAULT_TEXT)


def test_error_event_mid_stream_keeps_server_message(standin):
    received: list[str] = []

    async def go():
        engine = OpenAIEngine(standin.url, API_KEY, "internvl3")
        await engine.start()
        try:
            async for c in engine.stream(req("error_event")):
                received.append(c.text)
        finally:
            await engine.stop()

    with pytest.raises(EngineCrashed, match="TurboMind inference failed: internal error") as info:
        run(go())
    assert "".join(received)  # the text before the error reached the caller
    assert info.value.status == 500


def test_dropped_connection_mid_stream_is_crash_without_retry(standin):
    before = standin.stats()["requests"]
    received: list[str] = []

    async def go():
        engine = OpenAIEngine(standin.url, API_KEY, "internvl3", retries=3, retry_backoff=0.01)
        await engine.start()
        try:
            async for c in engine.stream(req("crash")):
                received.append(c.text)
        finally:
            await engine.stop()

    with pytest.raises(EngineCrashed, match="broke mid-answer"):
        run(go())
    full = "[image 640x480]\n" + DEFAULT_TEXT
    assert received and full.startswith("".join(received)) and "".join(received) != full
    assert standin.stats()["requests"] - before == 1  # text had arrived: no retry


@pytest.mark.parametrize(("kwargs", "error", "status", "message"), [
    ({"api_key": "wrong"}, BadRequest, 401, "Unauthorized."),
    ({"model": "gpt-4"}, BadRequest, 404, "The model 'gpt-4' does not exist."),
])
def test_auth_and_model_errors(standin, kwargs, error, status, message):
    engine = OpenAIEngine(standin.url, kwargs.get("api_key", API_KEY), kwargs.get("model", "internvl3"))
    with pytest.raises(error) as info:
        run(_collect(engine, req()))
    assert info.value.status == status and info.value.server_message == message


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_tokens": 16000}, "must be smaller than the model context length (16384)."),
    ({"temperature": 5.0}, "The temperature 5.0 must be in [0, 2]"),
])
def test_400_bodies_carry_the_servers_message(standin, kwargs, message):
    engine = OpenAIEngine(standin.url, API_KEY, "internvl3")
    with pytest.raises(BadRequest) as info:
        run(_collect(engine, req(**kwargs)))
    assert info.value.status == 400 and message in info.value.server_message


@pytest.mark.parametrize(("url", "message"), [
    ("data:image/png;base64,abc", "Invalid number of data characters"),
    ("data:image/png;base64," + base64.b64encode(b"not an image at all").decode(), "Request preprocessing failed."),
])
def test_bad_image_bodies_map_to_bad_image(standin, url, message):
    body = OpenAIEngine(standin.url, API_KEY, "internvl3").build_payload(req(), url)
    r = httpx.post(standin.url + "/v1/chat/completions", json=body,
                   headers={"Authorization": f"Bearer {API_KEY}"}, trust_env=False)
    assert r.status_code == 400 and r.json() == {"message": message, "type": "invalid_request_error",
                                                 "code": 400, "param": None, "object": "error"}
    err = http_error(r.status_code, r.content)
    assert isinstance(err, BadImage) and message in str(err)


def test_503_is_unavailable_after_retries(standin):
    before = standin.stats()["unavailable"]
    engine = OpenAIEngine(standin.url, API_KEY, "internvl3", retries=2, retry_backoff=0.01)
    with pytest.raises(EngineUnavailable, match="The inference engine is unavailable."):
        run(_collect(engine, req("unavailable")))
    assert standin.stats()["unavailable"] - before == 3  # nothing had arrived: retried twice


def test_500_is_not_retried(standin):
    before = standin.stats()["internal"]
    engine = OpenAIEngine(standin.url, API_KEY, "internvl3", retries=2, retry_backoff=0.01)
    with pytest.raises(EngineCrashed, match="Internal server error"):
        run(_collect(engine, req("internal")))
    assert standin.stats()["internal"] - before == 1


def test_connection_refused_is_unavailable():
    from desktop_ocr.engines.lmdeploy_server import free_port

    engine = OpenAIEngine(f"http://127.0.0.1:{free_port()}", API_KEY, "internvl3", retries=1,
                          retry_backoff=0.01)
    with pytest.raises(EngineUnavailable, match="Cannot connect"):
        run(_collect(engine, req()))


def test_retry_before_first_token_reaches_a_late_server(standin_factory):
    from desktop_ocr.engines.lmdeploy_server import free_port

    port = free_port()
    server = start_standin("--bind-delay", "0.6", port=port, wait=False)
    try:
        engine = OpenAIEngine(f"http://127.0.0.1:{port}", API_KEY, "internvl3", retries=8,
                              retry_backoff=0.1)
        text, finish = run(_collect(engine, req()))
        assert finish is FinishReason.STOP and text.endswith(DEFAULT_TEXT)
    finally:
        server.stop()


def test_cancel_closes_the_connection(standin):
    before = standin.stats().get("client_closed_slow", 0)

    async def go():
        engine = OpenAIEngine(standin.url, API_KEY, "internvl3")
        await engine.start()
        stream = engine.stream(req("slow"))
        got = [await anext(stream), await anext(stream)]
        t0 = time.monotonic()
        await stream.aclose()
        closed_in = time.monotonic() - t0
        await engine.stop()
        return got, closed_in

    got, closed_in = run(go())
    assert len(got) == 2 and closed_in < 0.5
    deadline = time.monotonic() + 3
    while standin.stats().get("client_closed_slow", 0) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert standin.stats()["client_closed_slow"] == before + 1  # the server saw the stream closed


def test_stop_cancels_open_streams(standin):
    async def go():
        engine = OpenAIEngine(standin.url, API_KEY, "internvl3")
        await engine.start()

        async def consume():
            async for _ in engine.stream(req("slow")):
                pass

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.5)
        await engine.stop()
        return await asyncio.wait_for(task, 3)

    with pytest.raises(Cancelled):
        run(go())


def test_repetition_loop_is_stopped_by_the_guard(standin):
    before = standin.stats().get("client_closed_repeat", 0)

    async def go():
        engine = OpenAIEngine(standin.url, API_KEY, "internvl3")
        await engine.start()
        try:
            return [c async for c in engine.stream(req("repeat", max_tokens=3000))]
        finally:
            await engine.stop()

    chunks = run(go())
    last = chunks[-1]
    assert last.finish_reason is FinishReason.REPETITION
    info = last.usage["repetition"]
    assert info["unit"] == "| Paper A4 | 2 |\n" and info["repeats"] >= 8
    assert info["retry_repetition_penalty"] == pytest.approx(1.15)
    text = "".join(c.text for c in chunks)
    assert len(text) < 1000  # stopped early, far below 3000 tokens of loop
    deadline = time.monotonic() + 15  # the stand-in notices the close on its next write
    while standin.stats().get("client_closed_repeat", 0) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert standin.stats().get("client_closed_repeat", 0) == before + 1


def test_remote_mode_discovers_model_through_a_proxy(standin_factory):
    proxy = standin_factory("--nodes", "3", "--blank-lines", "2", "--model-name", "OpenGVLab/InternVL3-8B")

    async def go():
        engine = OpenAIEngine(proxy.url + "/v1/", API_KEY)  # model=None: ask /v1/models
        await engine.start()
        try:
            ids = await engine.list_models()
            health = await engine.health()
            text, finish = await collect(engine, req())
            return engine.model, ids, health, text, finish
        finally:
            await engine.stop()

    model, ids, health, text, finish = run(go())
    assert model == "OpenGVLab/InternVL3-8B" and ids == [model]
    assert health.ok and health.state == "ready"
    assert finish is FinishReason.STOP and text.endswith(DEFAULT_TEXT)


def test_from_settings_uses_max_in_flight():
    from desktop_ocr.core.settings import Settings

    s = Settings(engine="openai", endpoint="http://gpu-box:23333", api_key="k", max_in_flight=6)
    engine = OpenAIEngine.from_settings(s)
    assert (engine.endpoint, engine.api_key, engine.model, engine.max_concurrency) == (
        "http://gpu-box:23333", "k", None, 6)
    assert OpenAIEngine.from_settings(Settings(endpoint="x:1")).max_concurrency == 4


def test_data_url_decodes_to_the_prescaled_image():
    from desktop_ocr.core.imaging import to_data_url

    url = to_data_url(make_image((2000, 1000)), 12)
    head, data = url.split(",", 1)
    img = Image.open(io.BytesIO(base64.b64decode(data)))
    assert head == "data:image/png;base64" and img.size == (1552, 776)
