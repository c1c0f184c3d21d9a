"""The engine contract: the one Engine protocol every recogniser implements, what it takes
(Request), what it yields (Chunk, FinishReason), the errors it raises, the list of engine
ids and the decoding defaults. It lives in core/ so that everything above the engines (the
pipeline, the library, the GUI, the CLI) depends on the contract, never on an engine.

Engines are Qt-free and async: the GUI awaits them through qasync, the CLI through
asyncio.run. An engine turns a `Request` (one image plus what to do with it) into an
async stream of `Chunk`s: pieces of text to append, the last one carrying a finish
reason. CPU-heavy work inside an engine runs in a worker thread or process, never on
the calling event loop.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from desktop_ocr.core.messages import sentences

if TYPE_CHECKING:
    from PIL import Image


# The engines there are, with the name a user reads; "auto" picks one of them.
ENGINES: dict[str, str] = {
    "cpu": "CPU (RapidOCR)",
    "lmdeploy": "InternVL3 (local LMDeploy)",
    "transformers": "InternVL3 (transformers)",
    "openai": "Remote server",
}
ENGINE_IDS: tuple[str, ...] = tuple(ENGINES)
ENGINE_CHOICES: tuple[str, ...] = ("auto", *ENGINE_IDS)


def engine_title(name: str) -> str:
    return ENGINES.get(name, name)


@dataclass(frozen=True)
class Decoding:
    """Decoding parameters of one request. Greedy decoding is what OCR benchmarks use;
    task presets (core/tasks.py) and settings start from these defaults."""

    max_tokens: int = 4096
    temperature: float = 0.0
    top_k: int = 1
    repetition_penalty: float = 1.05
    max_dynamic_patch: int = 12  # InternVL tiles: 1..12, plus a thumbnail when > 1


DECODING = Decoding()


class FinishReason(StrEnum):
    STOP = "stop"  # the engine finished normally
    LENGTH = "length"  # hit max_tokens: the output is cut
    ABORT = "abort"  # the server aborted the request
    ERROR = "error"  # the server reported an error in the stream
    REPETITION = "repetition"  # our own loop guard stopped a repeating tail
    CANCELLED = "cancelled"  # the user cancelled


@dataclass(frozen=True)
class Turn:
    """One turn of a conversation about an image, after the first prompt."""

    role: str  # "assistant" (an earlier answer) or "user" (a question)
    text: str


@dataclass(frozen=True)
class Request:
    """One image and what to do with it.

    `image` is an RGB Pillow image that `core.imaging` has already validated, oriented
    and flattened. VLM engines send `prompt`; the CPU engine looks at `task` only.
    """

    image: Image.Image
    task: str = "text"
    prompt: str = "Please extract all text from this image, in reading order."
    max_tokens: int = DECODING.max_tokens
    temperature: float = DECODING.temperature
    top_k: int = DECODING.top_k
    repetition_penalty: float = DECODING.repetition_penalty
    max_dynamic_patch: int = DECODING.max_dynamic_patch
    response_format: dict[str, Any] | None = None
    label: str = ""  # what the user calls it (file name, page, region): for messages
    # Follow-up questions (lmdeploy-contract.md, multi-turn): the turns after the first
    # user message (image + `prompt`), oldest first; the last one is the new question.
    history: tuple[Turn, ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A piece of recognised text to append; the final chunk carries `finish_reason`."""

    text: str
    finish_reason: FinishReason | None = None
    usage: dict[str, Any] | None = None
    # What the engine has to say that is not text, e.g. {"waiting_s": 12.0} while it waits
    # for the server's first token (shown as "waiting for the server… 12 s").
    info: dict[str, Any] | None = None


@dataclass
class Health:
    ok: bool
    state: str  # "stopped" | "starting" | "ready" | "failed"
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)


class EngineError(Exception):
    """Base of every engine error. `str()` is a plain-language message for the user."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        if hint:
            self.hint = hint

    @property
    def user_message(self) -> str:
        return sentences(str(self), self.hint)


class EngineUnavailable(EngineError):
    """The engine cannot be reached or started (not installed, no GPU, refused, 503)."""


class EngineCrashed(EngineError):
    """The engine died or broke a stream half-way."""


class EngineDied(EngineCrashed):
    """The engine's own process is gone (exit code, log tail in the message). Every later
    request fails the same way until `start()` is called again, which restarts it: a
    batch reports this once, then stops or restarts the engine (restart_engine_on_crash)."""

    returncode: int | None = None
    log_tail: tuple[str, ...] = ()


class BadImage(EngineError):
    """The image cannot be read, is damaged, or is too large to process."""


class BadRequest(EngineError):
    """The engine refused the request (400/401/404): a setting or a bug, not a retryable fault."""


class EngineTimeout(EngineError):
    """The engine did not answer in time."""


class Cancelled(EngineError):
    """The user cancelled the work."""


# DESIGN.md names the error "Timeout"; EngineTimeout avoids shadowing the builtin.
Timeout = EngineTimeout


@runtime_checkable
class Engine(Protocol):
    """What the GUI, the CLI and the job queue rely on."""

    name: str  # one of ENGINE_IDS
    # The model that answers, for the results library ("" when the engine has none;
    # None while a server has not said yet: known after start()).
    model: str | None
    # How many requests may usefully be in flight at once (servers batch them).
    max_concurrency: int

    async def start(self) -> None:
        """Get ready to serve (load models, spawn a server). Idempotent."""

    async def stop(self) -> None:
        """Release everything start() acquired. Idempotent; never raises."""

    async def health(self) -> Health:
        """Current state without side effects."""

    def stream(self, request: Request) -> AsyncIterator[Chunk]:
        """Recognise `request.image`. The last chunk has a finish_reason.

        Raises EngineError subclasses. Closing the iterator (aclose / task cancel)
        cancels the work.
        """
        ...


async def collect(engine: Engine, request: Request) -> tuple[str, FinishReason | None]:
    """Run a request straight against an engine to completion: the whole text and how it
    finished. For tests and benches of an engine itself; the app runs every recognition
    through core/pipeline.py."""
    parts: list[str] = []
    finish: FinishReason | None = None
    async with contextlib.aclosing(engine.stream(request)) as stream:
        async for chunk in stream:
            parts.append(chunk.text)
            if chunk.finish_reason is not None:
                finish = chunk.finish_reason
    return "".join(parts), finish
