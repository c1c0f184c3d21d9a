"""Streaming client for an OpenAI-compatible `/v1/chat/completions` (LMDeploy, vLLM, SGLang).

Wire format: ../shared/lmdeploy-contract.md. In short:
- the request sends the image as a data URL with `max_dynamic_patch`, greedy decoding,
  `max_tokens` always set, `stream_options.include_usage`;
- the SSE stream is parsed line by line (a proxy may add blank lines); every field is
  read with a default because chunks are serialised with exclude_none;
- the closing chunk carries `finish_reason`, a usage chunk with empty `choices` may
  follow, then `data: [DONE]`; an error after the stream started is a
  `data: {"error": ...}` event on an HTTP 200 stream;
- errors before the stream are JSON bodies `{"message", "type", "code", ...}` mapped to
  the typed engine errors, keeping the server's message.
Closing the iterator closes the connection, which cancels generation on the server.
A request is retried only while nothing has been received (connect refused, 503,
connection dropped before the first token): after that, text has reached the user.

Time limits (`timeout`, the `timeout` setting): the longest wait for the first token and
between two tokens. Only text (or the finish) counts as progress: SSE comments
(": keep-alive"), blank lines and empty deltas do not, so a server that only keeps the
connection alive still times out. Retries share the same budget (a server that hangs
on every chat request fails after `timeout`, not after retries x timeout), and a refused
connection fails in about a second. While it waits the stream yields
`Chunk("", info={"waiting_s": N})` about once a `tick`, for "waiting for the server… N s".

An event of the wrong shape (invalid JSON, `choices` not a list of objects, `delta` not
an object, `content` not a string) ends the request with one plain ProtocolError, never
a traceback.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx

from desktop_ocr.core import imaging
from desktop_ocr.core.contract import (
    DECODING,
    BadImage,
    BadRequest,
    Cancelled,
    Chunk,
    EngineCrashed,
    EngineError,
    EngineTimeout,
    EngineUnavailable,
    FinishReason,
    Health,
    Request,
)
from desktop_ocr.core.messages import QT_TRANSLATE_NOOP, Text
from desktop_ocr.engines.loop_guard import LoopGuard, retry_penalty

if TYPE_CHECKING:
    from desktop_ocr.core.settings import Settings

log = logging.getLogger(__name__)

_FINISH = {"stop": FinishReason.STOP, "length": FinishReason.LENGTH,
           "abort": FinishReason.ABORT, "error": FinishReason.ERROR}
# Messages of a 400 that mean "the image", not "the settings".
_IMAGE_MESSAGES = ("Invalid number of data characters", "Request preprocessing failed",
                   "Invalid base64", "image")


def http_error(status: int, body: bytes | str, *, label: str = "") -> EngineError:
    """Turn a pre-stream HTTP error into a typed engine error with the server's message.

    The returned error has `status` (int) and `server_message` (str) attributes.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    message = text.strip()[:500]
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            inner = data.get("error") if isinstance(data.get("error"), dict) else data
            message = str(inner.get("message") or inner.get("detail") or message)
    except ValueError:
        pass
    message = message or f"HTTP {status}"
    where = f" ({label})" if label else ""
    err: EngineError
    if status == 400:
        if any(m.lower() in message.lower() for m in _IMAGE_MESSAGES):
            err = BadImage(Text(QT_TRANSLATE_NOOP("Messages", "The server could not use the image{where}: {why}"),
                                where=where, why=message),
                           hint=QT_TRANSLATE_NOOP("Messages", "Check the image, or try another format."))
        elif "context length" in message or "Input length" in message:
            err = BadRequest(Text(QT_TRANSLATE_NOOP("Messages", "The request is too long for the server{where}: {why}"),
                                  where=where, why=message),
                             hint=QT_TRANSLATE_NOOP("Messages", "Lower the token limit or the detail level, or "
                                                                "select a smaller region."))
        else:
            err = BadRequest(Text(QT_TRANSLATE_NOOP("Messages", "The server refused the request{where}: {why}"),
                                  where=where, why=message))
    elif status == 401:
        err = BadRequest(Text(QT_TRANSLATE_NOOP("Messages", "The server refused the API key: {why}"), why=message),
                         hint=QT_TRANSLATE_NOOP("Messages", "Check the API key in the engine settings."))
    elif status == 403:
        err = BadRequest(Text(QT_TRANSLATE_NOOP("Messages", "The server forbids this request: {why}"), why=message),
                         hint=QT_TRANSLATE_NOOP("Messages", "Check the API key."))
    elif status == 404:
        err = BadRequest(Text(QT_TRANSLATE_NOOP("Messages", "Not found on the server: {why}"), why=message),
                         hint=QT_TRANSLATE_NOOP("Messages", "Check the model name (the server lists its models "
                                                            "at /v1/models) and the URL."))
    elif status == 500:
        err = EngineCrashed(Text(QT_TRANSLATE_NOOP("Messages", "The server failed on this request{where}: {why}"),
                                 where=where, why=message))
    elif status == 429 or status >= 502:
        err = EngineUnavailable(Text(QT_TRANSLATE_NOOP("Messages", "The server is not available right now: {why}"),
                                     why=message),
                                hint=QT_TRANSLATE_NOOP("Messages", "Wait until it has started, or check the server."))
    else:
        err = EngineCrashed(Text(QT_TRANSLATE_NOOP("Messages", "Unexpected answer from the server (HTTP {status}): {why}"),
                                 status=status, why=message))
    err.status = status  # type: ignore[attr-defined]
    err.server_message = message  # type: ignore[attr-defined]
    return err


class ProtocolError(EngineCrashed):
    """The server sent something that is not the OpenAI streaming format (not retried)."""


def conversation_messages(request: Request) -> list[dict[str, Any]]:
    """The turns after the first user message (lmdeploy-contract.md, follow-up questions):
    earlier answers as assistant messages, questions as user messages, plain strings. The
    image stays in the first message only: each copy would cost its tiles again."""
    out: list[dict[str, Any]] = []
    expected = "assistant"
    for turn in request.history:
        if turn.role not in ("assistant", "user"):
            raise BadRequest(f"A conversation turn cannot have the role {turn.role!r}.")
        if turn.role != expected:
            raise BadRequest("The turns of a conversation must alternate between an answer "
                             "and a question.")
        out.append({"role": turn.role, "content": turn.text})
        expected = "user" if expected == "assistant" else "assistant"
    if out and out[-1]["role"] != "user":
        raise BadRequest("A conversation must end with a question.")
    return out


def _retryable(err: EngineError) -> bool:
    if isinstance(err, ProtocolError):
        return False
    return isinstance(err, (EngineUnavailable, EngineTimeout)) or (
        isinstance(err, EngineCrashed) and getattr(err, "status", None) is None)


class _Pump:
    """Reads an async iterator of chunks into a deque from a task of its own, noting the
    time of each (progress), so the consumer can wait on it with a timeout cheaply."""

    def __init__(self, chunks: AsyncIterator[Chunk], progress: _Progress) -> None:
        self.chunks = chunks
        self.progress = progress
        self.items: collections.deque[Chunk] = collections.deque()
        self.done = False
        self.error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None

    async def run(self) -> None:
        try:
            async for chunk in self.chunks:
                self.progress.last = time.monotonic()
                if chunk.text:
                    self.progress.tokens += 1
                self.items.append(chunk)
                self._wake()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # handed to the consumer, raised in its task
            self.error = exc
        finally:
            self.done = True
            self._wake()
            with contextlib.suppress(Exception):
                await self.chunks.aclose()  # type: ignore[attr-defined]

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def wait(self, timeout: float) -> None:
        """Until a chunk or the end arrives, or `timeout` seconds pass."""
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        timer = loop.call_later(timeout, lambda: waiter.done() or waiter.set_result(None))
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None


class _Progress:
    """When the request last made progress (its start, then each token): shared by the
    attempts of one request, so retries do not restart the clock."""

    def __init__(self) -> None:
        self.began = self.last = time.monotonic()
        self.tokens = 0


class OpenAIEngine:
    """An OpenAI-compatible server reached over HTTP.

    `endpoint` is the server's base URL ("http://host:23333", a trailing "/v1" is
    accepted). With `model=None`, `start()` asks `/v1/models` and uses what it lists.
    `max_concurrency` is how many requests the job queue keeps in flight.
    `timeout`: the longest wait, in seconds, for the first token and between tokens
    (see the module docstring); `tick`: how often a waiting stream says so.
    """

    name = "openai"

    def __init__(self, endpoint: str, api_key: str = "", model: str | None = None, *,
                 max_concurrency: int = 4, timeout: float = 120.0, tick: float = 1.0,
                 connect_timeout: float | None = None, retries: int = 2,
                 retry_backoff: float = 0.5, loop_guard: bool = True,
                 guard_options: dict[str, Any] | None = None, family: str = "") -> None:
        endpoint = endpoint.strip().rstrip("/")
        if endpoint.endswith("/v1"):
            endpoint = endpoint[:-3]
        if "://" not in endpoint:
            endpoint = "http://" + endpoint
        self.endpoint = endpoint
        self.api_key = api_key
        self.model = model or None
        # The catalog family (core/catalog.py) decides the request's shape; "" = from the model name.
        self.family = family
        self.max_concurrency = max(1, int(max_concurrency))
        self.retries = max(0, retries)
        self.retry_backoff = retry_backoff
        self.loop_guard = loop_guard
        self.guard_options = dict(guard_options or {})
        self.timeout = float(timeout) if timeout and timeout > 0 else 120.0
        self.tick = max(0.05, float(tick))
        # A connection that is not accepted within a few seconds will not be: fail fast.
        connect = connect_timeout if connect_timeout is not None else min(10.0, self.timeout)
        # Streams are timed by _paced (progress, not bytes); httpx's read limit is only a
        # backstop there, and the limit of the small GET requests (/v1/models).
        self._timeout = httpx.Timeout(connect=connect, read=self.timeout + 2 * self.tick,
                                      write=max(60.0, self.timeout), pool=None)
        self._client: httpx.AsyncClient | None = None
        self._open: set[httpx.Response] = set()
        self._stopping = False

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> OpenAIEngine:
        kwargs.setdefault("timeout", settings.timeout)
        return cls(settings.endpoint, settings.api_key, None,
                   max_concurrency=settings.max_in_flight, **kwargs)

    # ------------------------------------------------------------ lifecycle

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def _ensure_client(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            limits = httpx.Limits(max_connections=self.max_concurrency + 4,
                                  max_keepalive_connections=self.max_concurrency)
            self._client = httpx.AsyncClient(base_url=self.endpoint, timeout=self._timeout,
                                             limits=limits, headers=self._headers(),
                                             trust_env=False)
        return self._client

    async def start(self) -> None:
        self._stopping = False
        self._ensure_client()
        if self.model is None:
            self.model = await self.discover_model()

    async def stop(self) -> None:
        """Cancel open streams (closing their connections) and release the client."""
        self._stopping = True
        for response in list(self._open):
            with contextlib.suppress(Exception):
                await response.aclose()
        self._open.clear()
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.aclose()
            self._client = None

    async def list_models(self) -> list[str]:
        """Model ids from /v1/models, duplicates removed (a proxy lists one per node)."""
        client = self._ensure_client()
        try:
            response = await client.get("/v1/models")
        except httpx.ConnectError as exc:
            raise self._unreachable(exc) from None
        except httpx.TimeoutException:
            raise EngineTimeout(Text(QT_TRANSLATE_NOOP("Messages", "The server at {url} did not answer in time."),
                                     url=self.endpoint)) from None
        except httpx.HTTPError as exc:
            raise EngineUnavailable(Text(QT_TRANSLATE_NOOP("Messages", "Cannot talk to the server at {url}: {why}"),
                                         url=self.endpoint, why=str(exc))) from None
        if response.status_code != 200:
            raise http_error(response.status_code, response.content)
        try:
            data = response.json().get("data") or []
        except (ValueError, AttributeError):
            raise EngineUnavailable(Text(QT_TRANSLATE_NOOP(
                "Messages", "{url} does not look like an OpenAI-compatible server (/v1/models is not JSON)."),
                url=self.endpoint)) from None
        ids: list[str] = []
        for card in data:
            mid = card.get("id") if isinstance(card, dict) else None
            if mid and mid not in ids:
                ids.append(str(mid))
        return ids

    async def discover_model(self) -> str:
        ids = await self.list_models()
        if not ids:
            raise EngineUnavailable(Text(QT_TRANSLATE_NOOP("Messages", "The server at {url} serves no model."),
                                         url=self.endpoint))
        # Prefer an InternVL model when a server serves several.
        return next((m for m in ids if "internvl" in m.lower()), ids[0])

    async def health(self) -> Health:
        if self._client is None:
            return Health(False, "stopped", "not connected")
        client = self._client
        try:
            response = await client.get("/health", timeout=5.0)
            if response.status_code == 200:
                return Health(True, "ready", "", {"model": self.model, "endpoint": self.endpoint})
            if response.status_code == 503:
                return Health(False, "starting", _message(response.content))
            if response.status_code == 404:  # not every server has /health
                await self.list_models()
                return Health(True, "ready", "", {"model": self.model, "endpoint": self.endpoint})
            return Health(False, "failed", f"HTTP {response.status_code}: {_message(response.content)}")
        except EngineError as exc:
            return Health(False, "failed", exc.user_message)
        except httpx.HTTPError as exc:
            return Health(False, "failed", f"{self.endpoint} unreachable: {exc or type(exc).__name__}")

    def _unreachable(self, exc: Exception) -> EngineUnavailable:
        return EngineUnavailable(Text(QT_TRANSLATE_NOOP("Messages", "Cannot connect to the server at {url}."),
                                      url=self.endpoint),
                                 hint=QT_TRANSLATE_NOOP("Messages", "Check that it is running and the URL is right."))

    # ------------------------------------------------------------ request

    def request_style(self) -> str:
        """ "internvl" (tiles: max_dynamic_patch) or "qwen2_5_vl" (min/max_pixels), by family."""
        from desktop_ocr.core import catalog

        cat = catalog.load()
        family = cat.families.get(self.family) if self.family else cat.guess_family(self.model or "")
        return family.request if family is not None else "internvl"  # the default family's shape

    def build_payload(self, request: Request, image_url: str) -> dict[str, Any]:
        """The JSON body of the contract for one image, shaped for the model's family.

        InternVL: the prompt, then the image with `max_dynamic_patch` (lmdeploy's InternVL
        preprocessor reads it). Qwen2.5-VL: the image first, as its chat template expects,
        with `min_pixels` / `max_pixels` (all lmdeploy's Qwen2-VL preprocessor reads) giving
        the same token budget as that many 448-px tiles (28-px patches, one token each).
        """
        image: dict[str, Any] = {"url": image_url}
        if self.request_style() == "qwen2_5_vl":
            image.update(qwen_pixel_limits(request.max_dynamic_patch))
            content = [{"type": "image_url", "image_url": image}, {"type": "text", "text": request.prompt}]
        else:
            image["max_dynamic_patch"] = int(request.max_dynamic_patch)
            content = [{"type": "text", "text": request.prompt}, {"type": "image_url", "image_url": image}]
        payload: dict[str, Any] = {
            "model": self.model or "internvl3",
            "stream": True,
            "messages": [{"role": "user", "content": content}, *conversation_messages(request)],
            "temperature": request.temperature,
            "top_k": request.top_k,
            "max_tokens": int(request.max_tokens) if request.max_tokens > 0 else DECODING.max_tokens,
            "repetition_penalty": request.repetition_penalty,
            "stream_options": {"include_usage": True},
        }
        if request.response_format:
            payload["response_format"] = request.response_format
        return payload

    async def stream(self, request: Request) -> AsyncIterator[Chunk]:
        """Stream one request. Last chunk: finish_reason (+ usage when the server sent it).

        A loop stopped by the guard ends with FinishReason.REPETITION, and that chunk's
        `usage` holds {"repetition": {"unit", "repeats", "retry_repetition_penalty"}}.
        """
        if self._stopping:
            raise Cancelled("The engine was stopped.")
        client = self._ensure_client()
        try:
            url = await asyncio.to_thread(imaging.to_data_url, request.image, request.max_dynamic_patch)
        except imaging.ImageError as exc:
            raise BadImage(str(exc)) from None
        payload = self.build_payload(request, url)
        guard = LoopGuard(**self.guard_options) if self.loop_guard else None
        progress = _Progress()
        attempt = 0
        while True:
            got_token = False
            try:
                # aclosing: when our consumer closes us, the inner generator (and with it
                # the HTTP response) must close now, not whenever it is garbage-collected.
                attempt_chunks = self._one_attempt(client, payload, request, guard)
                async with contextlib.aclosing(self._paced(attempt_chunks, progress, request)) as chunks:
                    async for chunk in chunks:
                        if chunk.text:
                            got_token = True
                        yield chunk
                return
            except EngineError as err:
                if self._stopping:
                    raise Cancelled("The engine was stopped.") from None
                if got_token or attempt >= self.retries or not _retryable(err):
                    raise
                pause = self.retry_backoff * (attempt + 1)
                if time.monotonic() + pause - progress.began >= self.timeout:
                    raise  # retries share the request's time budget
                attempt += 1
                log.info("retrying %s after %s (attempt %d)", request.label or "request", err, attempt + 1)
                await asyncio.sleep(pause)

    async def _paced(self, chunks: AsyncIterator[Chunk], progress: _Progress,
                     request: Request) -> AsyncIterator[Chunk]:
        """Pass `chunks` on; while none comes, yield a waiting chunk each tick, and give
        up `timeout` s after the last progress. Closing this closes `chunks`.

        One reader task per attempt pulls `chunks` into a deque; this side waits on a
        plain future with a timer only when the deque is empty (a task per chunk ran at
        0.4x a bare SSE loop, this at ~0.9x: bench/stream_client_overhead.py)."""
        pump = _Pump(chunks, progress)
        reader = asyncio.ensure_future(pump.run())
        try:
            while True:
                if not pump.items and not pump.done:
                    waited = time.monotonic() - progress.last
                    left = self.timeout - waited
                    if left <= 0:
                        raise self._timed_out(progress, request)
                    await pump.wait(min(self.tick, left))
                    if not pump.items and not pump.done:
                        waited = time.monotonic() - progress.last
                        if waited < self.timeout:
                            yield Chunk("", info={"waiting_s": round(waited, 1)})
                        continue
                if pump.items:
                    yield pump.items.popleft()
                    continue
                if pump.error is not None:
                    raise pump.error
                return
        finally:
            if not reader.done():
                reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader  # its `finally` closes `chunks`, and with it the response

    def _timed_out(self, progress: _Progress, request: Request) -> EngineTimeout:
        hint = Text(QT_TRANSLATE_NOOP("Messages", "It may be overloaded or stuck; raise the time limit "
                                                  "(--timeout, now {seconds:g} s) or check the server."),
                    seconds=self.timeout)
        if progress.tokens:
            return EngineTimeout(Text(QT_TRANSLATE_NOOP(
                "Messages", "The server stopped sending for {seconds:g} s mid-answer{where}."),
                seconds=self.timeout, where=_label(request)), hint=hint)
        return EngineTimeout(Text(QT_TRANSLATE_NOOP(
            "Messages", "The server did not start answering within {seconds:g} s{where}."),
            seconds=self.timeout, where=_label(request)), hint=hint)

    async def _one_attempt(self, client: httpx.AsyncClient, payload: dict[str, Any],
                           request: Request, guard: LoopGuard | None) -> AsyncIterator[Chunk]:
        finish: FinishReason | None = None
        usage: dict[str, Any] | None = None
        got_any = False
        try:
            async with client.stream("POST", "/v1/chat/completions", json=payload) as response:
                self._open.add(response)
                try:
                    if response.status_code != 200:
                        raise http_error(response.status_code, await response.aread(),
                                         label=request.label)
                    async for line in response.aiter_lines():
                        line = line.strip()
                        if not line or not line.startswith("data:"):
                            continue  # blank separators, ": keep-alive" comments, "event:" lines
                        data = line[5:].strip()
                        if data == "[DONE]":
                            break
                        event = _event(data, request)
                        if "error" in event and not event.get("choices"):
                            raise _stream_error(event["error"], got_any)
                        if isinstance(event.get("usage"), dict):
                            usage = event["usage"]
                        for text, reason in _choices(event, request):
                            if text:
                                got_any = True
                                yield Chunk(text)
                                if guard is not None and finish is None:
                                    found = guard.feed(text)
                                    if found is not None:
                                        log.info("loop guard: %s", found.describe())
                                        yield Chunk("", FinishReason.REPETITION, {"repetition": {
                                            "unit": found.unit, "repeats": found.repeats,
                                            "retry_repetition_penalty": retry_penalty(request.repetition_penalty)}})
                                        return  # leaving the `async with` closes the connection
                            if reason:
                                finish = _FINISH.get(str(reason), FinishReason.ERROR)
                finally:
                    self._open.discard(response)
        except httpx.ConnectError as exc:
            raise self._unreachable(exc) from None
        except httpx.ConnectTimeout:
            raise EngineUnavailable(Text(QT_TRANSLATE_NOOP(
                "Messages", "The server at {url} did not accept the connection in time."),
                url=self.endpoint)) from None
        except httpx.TimeoutException:
            raise EngineTimeout(Text(QT_TRANSLATE_NOOP("Messages", "The server stopped sending for too long{where}."),
                                     where=_label(request)),
                                hint=QT_TRANSLATE_NOOP("Messages", "The server may be overloaded; try again.")) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.StreamClosed) as exc:
            if finish is not None:
                # Everything arrived but the trailer ([DONE]/usage): keep the result.
                yield Chunk("", finish, usage)
                return
            broke = (QT_TRANSLATE_NOOP("Messages", "The connection to the server broke mid-answer{where}.")
                     if got_any else
                     QT_TRANSLATE_NOOP("Messages", "The connection to the server broke{where}."))
            raise EngineCrashed(Text(broke, where=_label(request)),
                                hint=QT_TRANSLATE_NOOP("Messages", "The server may have crashed; see its log.")) from exc
        if finish is None:
            raise EngineCrashed(Text(QT_TRANSLATE_NOOP(
                "Messages", "The server ended the answer without finishing it{where}."), where=_label(request)))
        yield Chunk("", finish, usage)


QWEN_PATCH = 28  # Qwen2.5-VL: 14-px patches merged 2 x 2, one token per 28 x 28 pixels
INTERNVL_TILE_TOKENS = 256  # one 448-px InternVL tile


def qwen_pixel_limits(max_dynamic_patch: int) -> dict[str, int]:
    """Qwen2.5-VL's pixel range for the token budget of `max_dynamic_patch` InternVL tiles
    (plus the thumbnail tile), so the detail setting means the same for both families."""
    tiles = max(1, int(max_dynamic_patch)) + (1 if max_dynamic_patch > 1 else 0)
    per_token = QWEN_PATCH * QWEN_PATCH
    # The floor upscales a tiny snip to at least 64 tokens, which small text needs.
    return {"min_pixels": 64 * per_token, "max_pixels": tiles * INTERNVL_TILE_TOKENS * per_token}


def _event(data: str, request: Request) -> dict[str, Any]:
    """One SSE event's JSON object, or a ProtocolError saying what is wrong with it."""
    try:
        event = json.loads(data)
    except ValueError:
        log.info("malformed SSE event: %.200s", data)
        raise ProtocolError(f"The server sent an answer that is not valid JSON{_label(request)}: "
                            f"{data[:80]!r}.", hint="It may not be an OpenAI-compatible server.") from None
    if not isinstance(event, dict):
        raise _shape(request, f"an event is {type(event).__name__}, not an object", data)
    return event


def _choices(event: dict[str, Any], request: Request) -> list[tuple[str, Any]]:
    """(content, finish_reason) of each choice, reading every field with a default
    (exclude_none drops null ones) and refusing the wrong types in one message."""
    choices = event.get("choices")
    if choices is None:
        return []
    if not isinstance(choices, list):
        raise _shape(request, f'"choices" is {type(choices).__name__}, not a list', choices)
    out = []
    for choice in choices:
        if not isinstance(choice, dict):
            raise _shape(request, f'a choice is {type(choice).__name__}, not an object', choice)
        delta = choice.get("delta")
        if delta is None:
            delta = {}
        if not isinstance(delta, dict):
            raise _shape(request, f'"delta" is {type(delta).__name__}, not an object', delta)
        text = delta.get("content")
        if text is None:
            text = ""
        if not isinstance(text, str):
            raise _shape(request, f'"content" is {type(text).__name__}, not text', text)
        out.append((text, choice.get("finish_reason")))
    return out


def _shape(request: Request, what: str, value: Any) -> ProtocolError:
    log.info("SSE event of the wrong shape: %s: %.200r", what, value)
    return ProtocolError(f"The server's answer has the wrong shape ({what}){_label(request)}.",
                         hint="It may not be an OpenAI-compatible server.")


def _stream_error(error: Any, after_text: bool) -> EngineError:
    if isinstance(error, dict):
        message = str(error.get("message") or error.get("type") or "unknown error")
        code = error.get("code")
    else:
        message, code = str(error), None
    err = EngineCrashed(f"The server reported an error{' mid-answer' if after_text else ''}: {message}")
    err.status = code if isinstance(code, int) else 500  # type: ignore[attr-defined]
    err.server_message = message  # type: ignore[attr-defined]
    return err


def _message(body: bytes) -> str:
    try:
        data = json.loads(body)
        return str(data.get("message") or data.get("status") or "")
    except (ValueError, AttributeError):
        return body.decode("utf-8", "replace")[:200]


def _label(request: Request) -> str:
    return f" ({request.label})" if request.label else ""
