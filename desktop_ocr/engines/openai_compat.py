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
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
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
            err = BadImage(f"The server could not use the image{where}: {message}",
                           hint="Check the image, or try another format.")
        elif "context length" in message or "Input length" in message:
            err = BadRequest(f"The request is too long for the server{where}: {message}",
                             hint="Lower the token limit or the detail level, or select a smaller region.")
        else:
            err = BadRequest(f"The server refused the request{where}: {message}")
    elif status == 401:
        err = BadRequest(f"The server refused the API key: {message}",
                         hint="Check the API key in the engine settings.")
    elif status == 403:
        err = BadRequest(f"The server forbids this request: {message}", hint="Check the API key.")
    elif status == 404:
        err = BadRequest(f"Not found on the server: {message}",
                         hint="Check the model name (the server lists its models at /v1/models) and the URL.")
    elif status == 500:
        err = EngineCrashed(f"The server failed on this request{where}: {message}")
    elif status == 429 or status >= 502:
        err = EngineUnavailable(f"The server is not available right now: {message}",
                                hint="Wait until it has started, or check the server.")
    else:
        err = EngineCrashed(f"Unexpected answer from the server (HTTP {status}): {message}")
    err.status = status  # type: ignore[attr-defined]
    err.server_message = message  # type: ignore[attr-defined]
    return err


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
    return isinstance(err, (EngineUnavailable, EngineTimeout)) or (
        isinstance(err, EngineCrashed) and getattr(err, "status", None) is None)


class OpenAIEngine:
    """An OpenAI-compatible server reached over HTTP.

    `endpoint` is the server's base URL ("http://host:23333", a trailing "/v1" is
    accepted). With `model=None`, `start()` asks `/v1/models` and uses what it lists.
    `max_concurrency` is how many requests the job queue keeps in flight.
    `on_repetition(request, repetition)` is told when the loop guard stopped a stream.
    """

    name = "openai"

    def __init__(self, endpoint: str, api_key: str = "", model: str | None = None, *,
                 max_concurrency: int = 4, connect_timeout: float = 10.0,
                 read_timeout: float = 600.0, retries: int = 2, retry_backoff: float = 0.5,
                 loop_guard: bool = True, guard_options: dict[str, Any] | None = None) -> None:
        endpoint = endpoint.strip().rstrip("/")
        if endpoint.endswith("/v1"):
            endpoint = endpoint[:-3]
        if "://" not in endpoint:
            endpoint = "http://" + endpoint
        self.endpoint = endpoint
        self.api_key = api_key
        self.model = model or None
        self.max_concurrency = max(1, int(max_concurrency))
        self.retries = max(0, retries)
        self.retry_backoff = retry_backoff
        self.loop_guard = loop_guard
        self.guard_options = dict(guard_options or {})
        # read: longest silence between two chunks (a busy server may queue the request).
        self._timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout,
                                      write=60.0, pool=None)
        self._client: httpx.AsyncClient | None = None
        self._open: set[httpx.Response] = set()
        self._stopping = False

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> OpenAIEngine:
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
            raise EngineTimeout(f"The server at {self.endpoint} did not answer in time.") from None
        except httpx.HTTPError as exc:
            raise EngineUnavailable(f"Cannot talk to the server at {self.endpoint}: {exc}") from None
        if response.status_code != 200:
            raise http_error(response.status_code, response.content)
        try:
            data = response.json().get("data") or []
        except (ValueError, AttributeError):
            raise EngineUnavailable(f"{self.endpoint} does not look like an OpenAI-compatible server "
                                    "(/v1/models is not JSON).") from None
        ids: list[str] = []
        for card in data:
            mid = card.get("id") if isinstance(card, dict) else None
            if mid and mid not in ids:
                ids.append(str(mid))
        return ids

    async def discover_model(self) -> str:
        ids = await self.list_models()
        if not ids:
            raise EngineUnavailable(f"The server at {self.endpoint} serves no model.")
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
        return EngineUnavailable(f"Cannot connect to the server at {self.endpoint}.",
                                 hint="Check that it is running and the URL is right.")

    # ------------------------------------------------------------ request

    def build_payload(self, request: Request, image_url: str) -> dict[str, Any]:
        """The JSON body of the contract for one image (and the conversation about it)."""
        payload: dict[str, Any] = {
            "model": self.model or "internvl3",
            "stream": True,
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": request.prompt},
                {"type": "image_url", "image_url": {"url": image_url,
                                                    "max_dynamic_patch": int(request.max_dynamic_patch)}},
            ]}, *conversation_messages(request)],
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
        attempt = 0
        while True:
            got_token = False
            try:
                # aclosing: when our consumer closes us, the inner generator (and with it
                # the HTTP response) must close now, not whenever it is garbage-collected.
                async with contextlib.aclosing(self._one_attempt(client, payload, request, guard)) as chunks:
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
                attempt += 1
                log.info("retrying %s after %s (attempt %d)", request.label or "request", err, attempt + 1)
                await asyncio.sleep(self.retry_backoff * attempt)

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
                        try:
                            event = json.loads(data)
                        except ValueError:
                            log.warning("ignoring a malformed SSE event: %.200s", data)
                            continue
                        if not isinstance(event, dict):
                            continue
                        if "error" in event and not event.get("choices"):
                            raise _stream_error(event["error"], got_any)
                        if event.get("usage"):
                            usage = event["usage"]
                        for choice in event.get("choices") or []:
                            delta = choice.get("delta") or {}
                            text = delta.get("content") or ""
                            reason = choice.get("finish_reason")
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
            raise EngineUnavailable(f"The server at {self.endpoint} did not accept the connection in time.") from None
        except httpx.TimeoutException:
            raise EngineTimeout(f"The server stopped sending for too long{_label(request)}.",
                                hint="The server may be overloaded; try again.") from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.StreamClosed) as exc:
            if finish is not None:
                # Everything arrived but the trailer ([DONE]/usage): keep the result.
                yield Chunk("", finish, usage)
                return
            raise EngineCrashed(f"The connection to the server broke{' mid-answer' if got_any else ''}"
                                f"{_label(request)}.", hint="The server may have crashed; see its log.") from exc
        if finish is None:
            raise EngineCrashed(f"The server ended the answer without finishing it{_label(request)}.")
        yield Chunk("", finish, usage)


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
