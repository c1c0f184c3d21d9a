"""A stand-in for `lmdeploy serve api_server` that speaks its exact wire format.

Run as a real process on 127.0.0.1 (stdlib only, Pillow optional for image checks):

    python tests/standin/server.py --port 0 --api-keys KEY [--scenario normal] ...

It prints `LISTENING <port>` on stdout once the port is bound. Everything it sends follows
../shared/lmdeploy-contract.md: SSE chunks serialised with exclude_none (no
finish_reason until the closing chunk, `usage: null` only when include_usage was asked),
the usage chunk with empty choices, `data: [DONE]`, mid-stream error events, and the
pre-stream error bodies with their exact messages.

Scenarios (--scenario, or per request with `[[scenario=NAME]]` in the prompt text so one
process can serve many tests): normal, crash (connection dropped mid-stream), error_event,
length, abort, repeat (a table row forever), slow, unavailable (503), internal (500 before
the stream), batch (the --capacity / --tokens-per-s model of continuous batching).

Faults of a server that is up but does not answer (for the time limits):
  --hang all    accept every connection (the port is open) and never answer anything;
  --hang chat   answer /health and /v1/models, never answer a chat request;
  scenario keepalive   HTTP 200, then only ": keep-alive" SSE comments, forever;
  scenario stall       a few tokens, then only keep-alives, forever;
  scenario empty_deltas  events with empty content, forever (no progress either).
Events of the wrong shape (two good tokens first): shape_choices_string,
shape_choices_null, shape_delta_string, shape_content_number, shape_invalid_json,
shape_event_list.

Follow-up questions (multi-turn `messages`, lmdeploy-contract.md): every message must be
{"role": system|user|assistant, "content": a string or a list of parts}, or the request is
refused with 400 like LMDeploy's request validation. A conversation is answered from the
conversation: "Answer N to: <the last question>" and a quote of the previous answer, so a
test sees that the whole history reached the server. The shape of the last request's
messages (role, number of images, content type per message) is in the stats as `turns`.

Test-only endpoints (not part of LMDeploy): GET /_standin/stats → counters, including
requests the client closed before the end (proves that cancel closes the connection).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import io
import json
import math
import re
import select
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_TEXT = ("Invoice No. 2024-0042\n"
                "| Item | Qty | Price |\n| --- | --- | --- |\n| Paper A4 | 2 | 8.50 |\n| Toner | 1 | 42.00 |\n"
                "Total: 59.00 EUR\n")
SCENARIO_RE = re.compile(r"\[\[scenario=(\w+)\]\]")


class Config:
    def __init__(self, ns: argparse.Namespace) -> None:
        self.api_keys: list[str] = ns.api_keys or []
        self.model_name: str = ns.model_name
        self.family: str = ns.family
        self.scenario: str = ns.scenario
        self.session_len: int = ns.session_len
        self.init_delay: float = ns.init_delay
        self.chunk_delay: float = ns.chunk_delay
        self.capacity: int = ns.capacity
        self.tokens_per_s: float = ns.tokens_per_s
        self.tokens: int = ns.tokens
        self.nodes: int = ns.nodes
        self.blank_lines: int = ns.blank_lines
        self.hang: str = ns.hang
        self.keepalive_interval: float = ns.keepalive_interval
        self.die_after: int = ns.die_after
        self.chats = 0
        self.text: str = ns.text if ns.text is not None else DEFAULT_TEXT
        self.started = time.monotonic()
        self.slots = threading.Semaphore(max(1, ns.capacity))
        self.lock = threading.Lock()
        self.stats: dict[str, int] = {"requests": 0, "completed": 0, "client_closed": 0,
                                      "max_active": 0, "active": 0,
                                      "unavailable": 0, "internal": 0,
                                      "hung": 0, "hung_open": 0}


class StandinHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "uvicorn"
    cfg: Config

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        sys.stderr.write("INFO:     127.0.0.1 - \"%s\"\n" % (format % args))

    # ------------------------------------------------------------ plumbing

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, etype: str) -> None:
        self._json(status, {"message": message, "type": etype, "code": status,
                            "param": None, "object": "error"})

    def _authorised(self) -> bool:
        if not self.cfg.api_keys:
            return True
        auth = self.headers.get("authorization", "")
        if auth.startswith("Bearer ") and auth[7:] in self.cfg.api_keys:
            return True
        self._error(401, "Unauthorized.", "authentication_error")
        return False

    def _chunk(self, payload: str) -> None:
        data = payload.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _event(self, obj: dict[str, Any] | str) -> None:
        text = obj if isinstance(obj, str) else json.dumps(obj)
        self._chunk(f"data: {text}\n\n" + "\n" * self.cfg.blank_lines)

    def _hang(self, read_body: bool) -> None:
        """Keep the connection open and say nothing until the client gives up."""
        if read_body:
            self.rfile.read(int(self.headers.get("content-length") or 0))
        with self.cfg.lock:
            self.cfg.stats["hung"] += 1
            self.cfg.stats["hung_open"] += 1
        try:
            while True:
                ready, _, _ = select.select([self.connection], [], [], 0.1)
                if ready:
                    try:
                        data = self.connection.recv(65536)
                    except OSError:
                        break
                    if not data:  # the client closed the connection
                        break
        finally:
            with self.cfg.lock:
                self.cfg.stats["hung_open"] -= 1
            self.close_connection = True

    def _keepalives(self, first: list[dict[str, Any]] | None = None) -> None:
        """200 and SSE headers, optional first events, then comments until the client goes."""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        try:
            for event in first or []:
                self._event(event)
            while True:
                self._chunk(": keep-alive\n\n")
                time.sleep(self.cfg.keepalive_interval)
        except (BrokenPipeError, ConnectionResetError):
            with self.cfg.lock:
                self.cfg.stats["client_closed"] += 1
            self.close_connection = True

    # ------------------------------------------------------------ GET

    def do_GET(self) -> None:
        if self.cfg.hang == "all" and not self.path.startswith("/_standin"):
            self._hang(read_body=False)
            return
        if self.path == "/health":
            if time.monotonic() - self.cfg.started < self.cfg.init_delay:
                self._json(503, {"status": "initializing",
                                 "message": "TurboMind engine has not been created."})
            else:
                self._json(200, {"status": "healthy", "message": "TurboMind engine is healthy."})
        elif self.path == "/v1/models":
            if not self._authorised():
                return
            card = {"id": self.cfg.model_name, "object": "model", "created": 1732270000,
                    "owned_by": "lmdeploy", "root": self.cfg.model_name, "parent": None,
                    "permission": [{"id": "modelperm-x", "object": "model_permission"}]}
            self._json(200, {"object": "list", "data": [card] * self.cfg.nodes})
        elif self.path == "/_standin/stats":
            with self.cfg.lock:
                self._json(200, dict(self.cfg.stats))
        else:
            self._json(404, {"detail": "Not Found"})

    # ------------------------------------------------------------ POST

    def do_POST(self) -> None:
        if self.cfg.hang == "all" or (self.cfg.hang == "chat" and self.path == "/v1/chat/completions"):
            self._hang(read_body=self.cfg.hang == "chat")
            return
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        if self.path != "/v1/chat/completions":
            self._json(404, {"detail": "Not Found"})
            return
        if not self._authorised():
            return
        if "application/json" not in (self.headers.get("content-type") or ""):
            self._error(400, "Unsupported Media Type: Only 'application/json' is allowed",
                        "invalid_request_error")
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._error(400, "JSON decode error", "invalid_request_error")
            return
        problem = self._validate(body)
        if problem:
            status, message, etype = problem
            self._error(status, message, etype)
            return
        scenario = self.cfg.scenario
        match = SCENARIO_RE.search(_prompt_text(body))
        if match:
            scenario = match.group(1)
        if scenario in ("unavailable", "internal"):
            with self.cfg.lock:
                self.cfg.stats[scenario] += 1
        if scenario == "unavailable":
            self._error(503, "The inference engine is unavailable.", "server_error")
            return
        if scenario == "internal":
            self._error(500, "Internal server error", "server_error")
            return
        with self.cfg.lock:
            self.cfg.stats["requests"] += 1
            self.cfg.stats["last_repetition_penalty"] = body.get("repetition_penalty")
            self.cfg.stats["last_prompt"] = _prompt_text(body)
            self.cfg.stats["turns"] = _turns(body)  # type: ignore[assignment]
            self.cfg.chats += 1
            die = bool(self.cfg.die_after) and self.cfg.chats % self.cfg.die_after == 0
        self._stream(body, "die" if die else scenario)

    def _validate(self, body: Any) -> tuple[int, str, str] | None:
        bad = "invalid_request_error"
        if not isinstance(body, dict) or "model" not in body:
            return 400, "model: Field required", bad
        messages = body.get("messages")
        if not isinstance(messages, list):
            return 400, "messages: Input should be a valid list", bad
        if not messages:
            return 400, "messages must not be empty unless input_ids is set.", bad
        for k, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in (
                    "system", "user", "assistant", "tool"):
                return 400, f"messages.{k}.role: Input should be 'system', 'user', 'assistant' or 'tool'", bad
            content = message.get("content")
            if not isinstance(content, (str, list)):
                return 400, f"messages.{k}.content: Input should be a valid string or list", bad
        if body["model"] != self.cfg.model_name:
            return 404, f"The model '{body['model']}' does not exist.", "not_found_error"
        temperature = body.get("temperature", 0.7)
        if not 0 <= float(temperature) <= 2:
            return 400, f"The temperature {temperature} must be in [0, 2]", bad
        max_tokens = body.get("max_tokens")
        if max_tokens is not None and max_tokens <= 0:
            return 400, f"The max_tokens {max_tokens} must be a positive integer.", bad
        image_tokens = 0
        for part in _parts(body):
            if part.get("type") != "image_url":
                continue
            info = part.get("image_url") or {}
            url = info.get("url", "")
            if not url.startswith("data:"):
                return 400, "URL is blocked for security reasons: Blocked non-global IP detected", bad
            try:
                data = base64.b64decode(url.split(",", 1)[1], validate=True)
            except (binascii.Error, IndexError):
                return 400, "Invalid number of data characters", bad
            size = _image_size(data)
            if size is None:
                return 400, "Request preprocessing failed.", bad
            # What lmdeploy's preprocessor of the served family reads (vl/model/internvl.py,
            # vl/model/qwen2.py); the other keys are ignored there, so they are here.
            params = {k: v for k, v in info.items() if k != "url"}
            with self.cfg.lock:
                self.cfg.stats["last_image_params"] = params  # type: ignore[assignment]
                self.cfg.stats["last_content_types"] = [p.get("type") for p in _parts(body)]  # type: ignore[assignment]
            if self.cfg.family == "qwen2_5_vl":
                tokens = _qwen_tokens(size, int(params.get("min_pixels", 56 * 56)),
                                      int(params.get("max_pixels", 28 * 28 * 16384)))
                if tokens is None:
                    return 400, "Request preprocessing failed.", bad
                image_tokens += tokens
            else:
                image_tokens += 256 * _tiles(size, int(info.get("max_dynamic_patch", 12)))
            with self.cfg.lock:
                self.cfg.stats["last_image_tokens"] = image_tokens
        prompt_tokens = image_tokens + len(_prompt_text(body)) // 4 + 20
        if prompt_tokens + (max_tokens or 0) > self.cfg.session_len:
            return 400, (f"Input length ({prompt_tokens + (max_tokens or 0)}) must be smaller than "
                         f"the model context length ({self.cfg.session_len})."), bad
        return None

    def _stream(self, body: dict[str, Any], scenario: str) -> None:
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        max_tokens = body.get("max_tokens") or 16
        base = {"id": "chatcmpl-standin", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": self.cfg.model_name}

        def chunk(content: str, finish: str | None = None) -> dict[str, Any]:
            choice: dict[str, Any] = {"index": 0, "delta": {"role": "assistant", "content": content}}
            if finish is not None:
                choice["finish_reason"] = finish
            out = dict(base, choices=[choice])
            if include_usage:
                out["usage"] = None
            return out

        if scenario in ("keepalive", "stall", "empty_deltas"):
            with self.cfg.lock:
                self.cfg.stats["requests_" + scenario] = self.cfg.stats.get("requests_" + scenario, 0) + 1
            if scenario == "empty_deltas":
                self._keepalives([chunk("")] * 3)  # comments after them: still no progress
            else:
                self._keepalives([chunk(p) for p in ("Inv", "oice")] if scenario == "stall" else None)
            return
        if scenario.startswith("shape_"):
            self._bad_shape(scenario, chunk)
            return
        if scenario == "batch":
            self.cfg.slots.acquire()
        with self.cfg.lock:
            self.cfg.stats["active"] += 1
            self.cfg.stats["max_active"] = max(self.cfg.stats["max_active"], self.cfg.stats["active"])
        completion = 0
        try:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream; charset=utf-8")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            pieces = _pieces(self._text_for(body, scenario, max_tokens))
            delay = self.cfg.chunk_delay
            if scenario == "slow":
                delay = max(delay, 0.2)
            if scenario == "batch":
                pieces = [f"t{i} " for i in range(self.cfg.tokens)]
                delay = 1.0 / self.cfg.tokens_per_s
            finish = "stop"
            if scenario == "length":
                pieces = pieces[: max(1, min(len(pieces), max_tokens) - 1)]
                finish = "length"
            if scenario == "abort":
                pieces, finish = pieces[:3], "abort"
            if scenario == "repeat":
                finish = "length"
            next_at = time.monotonic()
            for i, piece in enumerate(pieces):
                if completion >= max_tokens:
                    finish = "length"
                    break
                if scenario == "die" and i == 3:
                    # The whole server process dies mid-answer, as on a CUDA fault.
                    sys.stderr.write("RuntimeError: CUDA error: an illegal memory access was encountered\n")
                    sys.stderr.flush()
                    import os

                    os._exit(1)
                if scenario == "crash" and i == 3:
                    # A dying server: the chunked body is never terminated.
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if scenario == "error_event" and i == 3:
                    self._event({"error": {"message": "TurboMind inference failed: internal error",
                                           "type": "internal_error", "code": 500, "param": None,
                                           "object": "error"}})
                    self._event("[DONE]")
                    self._chunk("")
                    return
                if delay:
                    next_at += delay
                    pause = next_at - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                self._event(chunk(piece))
                completion += 1
            self._event(chunk("", finish))
            if include_usage:
                prompt = 1794
                self._event(dict(base, choices=[], usage={
                    "prompt_tokens": prompt, "total_tokens": prompt + completion,
                    "completion_tokens": completion, "prompt_tokens_details": {"cached_tokens": 0}}))
            self._event("[DONE]")
            self._chunk("")
            with self.cfg.lock:
                self.cfg.stats["completed"] += 1
        except (BrokenPipeError, ConnectionResetError):
            with self.cfg.lock:
                self.cfg.stats["client_closed"] += 1
                key = f"client_closed_{scenario}"
                self.cfg.stats[key] = self.cfg.stats.get(key, 0) + 1
            self.close_connection = True
        finally:
            with self.cfg.lock:
                self.cfg.stats["active"] -= 1
            if scenario == "batch":
                self.cfg.slots.release()

    def _bad_shape(self, scenario: str, chunk) -> None:
        bad: dict[str, str] = {
            "shape_choices_string": '{"id": "x", "choices": "oops"}',
            "shape_choices_null": '{"id": "x", "choices": [null]}',
            "shape_delta_string": '{"id": "x", "choices": [{"index": 0, "delta": "text"}]}',
            "shape_content_number": '{"id": "x", "choices": [{"index": 0, "delta": {"content": 42}}]}',
            "shape_invalid_json": '{"id": "x", "choices": [{"index": 0, "delta": {"content": "a"',
            "shape_event_list": "[1, 2, 3]",
        }
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        try:
            self._event(chunk("Inv"))
            self._event(chunk("oice"))
            self._event(bad[scenario])
            self._event(chunk("", "stop"))
            self._event("[DONE]")
            self._chunk("")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _text_for(self, body: dict[str, Any], scenario: str, max_tokens: int) -> str:
        if scenario == "repeat":
            return "| Item | Qty |\n| --- | --- |\n" + "| Paper A4 | 2 |\n" * (max_tokens + 10)
        sizes = [_image_size(base64.b64decode(p["image_url"]["url"].split(",", 1)[1]))
                 for p in _parts(body) if p.get("type") == "image_url"]
        echo = "".join(f"[image {s[0]}x{s[1]}]\n" for s in sizes if s)
        messages = [m for m in body["messages"] if m.get("role") in ("user", "assistant")]
        if len(messages) > 1:
            return _answer_from(messages)
        return echo + self.cfg.text


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")


def _answer_from(messages: list[dict[str, Any]]) -> str:
    """A follow-up question's answer, made from the conversation it came with."""
    questions = [_text_of(m["content"]) for m in messages if m["role"] == "user"]
    answers = [_text_of(m["content"]) for m in messages if m["role"] == "assistant"]
    lines = [ln for ln in (answers[-1] if answers else "").splitlines()
             if ln.strip() and not re.fullmatch(r"\[image \d+x\d+\]", ln.strip())]
    previous = lines[0].strip() if lines else ""
    return f"Answer {len(questions) - 1} to: {questions[-1]}\nEarlier answer: {previous}\n"


def _turns(body: dict[str, Any]) -> list[list[Any]]:
    """[role, images, "str" | "parts"] for each message of a request."""
    out = []
    for m in body.get("messages") or []:
        content = m.get("content")
        images = sum(1 for p in content if isinstance(p, dict) and p.get("type") == "image_url") \
            if isinstance(content, list) else 0
        out.append([m.get("role"), images, "str" if isinstance(content, str) else "parts"])
    return out


def _parts(body: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            out.extend(p for p in content if isinstance(p, dict))
    return out


def _prompt_text(body: dict[str, Any]) -> str:
    texts = []
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            texts.append(content)
    texts.extend(p.get("text", "") for p in _parts(body) if p.get("type") == "text")
    return "\n".join(texts)


def _pieces(text: str) -> list[str]:
    """Split like a tokenizer would: 1-4 characters, lines and table rows cut anywhere."""
    out, i, step = [], 0, 0
    while i < len(text):
        n = 1 + (step * 7) % 4
        out.append(text[i:i + n])
        i += n
        step += 1
    return out


def _image_size(data: bytes) -> tuple[int, int] | None:
    try:
        from PIL import Image
    except ImportError:  # without Pillow: accept anything non-empty
        return (0, 0) if data else None
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except Exception:
        return None


def _qwen_tokens(size: tuple[int, int], min_pixels: int, max_pixels: int) -> int | None:
    """Qwen2-VL's smart_resize: both sides multiples of 28, the area within the limits."""
    w, h = size
    if not w or not h or min_pixels > max_pixels:
        return None
    f = 28
    hb, wb = max(f, round(h / f) * f), max(f, round(w / f) * f)
    if hb * wb > max_pixels:
        beta = math.sqrt(h * w / max_pixels)
        hb, wb = max(f, math.floor(h / beta / f) * f), max(f, math.floor(w / beta / f) * f)
    elif hb * wb < min_pixels:
        beta = math.sqrt(min_pixels / (h * w))
        hb, wb = math.ceil(h * beta / f) * f, math.ceil(w * beta / f) * f
    return (hb // f) * (wb // f)


def _tiles(size: tuple[int, int], max_patch: int) -> int:
    w, h = size
    if not w or not h:
        return 1
    n = min(max_patch, max(1, math.ceil(w / 448) * math.ceil(h / 448)))
    return n + 1 if n > 1 else n


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--api-keys", nargs="*", default=None)
    p.add_argument("--model-name", default="internvl3")
    p.add_argument("--family", default="internvl", choices=("internvl", "qwen2_5_vl"),
                   help="whose image parameters the server reads (lmdeploy's preprocessor for it)")
    p.add_argument("--scenario", default="normal")
    p.add_argument("--session-len", type=int, default=16384)
    p.add_argument("--bind-delay", type=float, default=0.0, help="refuse connections this long")
    p.add_argument("--init-delay", type=float, default=0.0, help="/health says 503 this long")
    p.add_argument("--chunk-delay", type=float, default=0.0)
    p.add_argument("--capacity", type=int, default=8)
    p.add_argument("--tokens-per-s", type=float, default=100.0)
    p.add_argument("--tokens", type=int, default=100)
    p.add_argument("--nodes", type=int, default=1, help="/v1/models entries (a proxy lists one per node)")
    p.add_argument("--blank-lines", type=int, default=0, help="extra blank lines between events (proxy)")
    p.add_argument("--text", default=None)
    p.add_argument("--hang", choices=("none", "all", "chat"), default="none",
                   help="accept connections and never answer: every request, or chat only")
    p.add_argument("--keepalive-interval", type=float, default=0.2)
    p.add_argument("--die-after", type=int, default=0,
                   help="the process dies mid-answer on every Nth chat request (0: never)")
    return p.parse_args(argv)


def make_server(ns: argparse.Namespace) -> ThreadingHTTPServer:
    cfg = Config(ns)
    handler = type("Handler", (StandinHandler,), {"cfg": cfg})
    server = ThreadingHTTPServer(("127.0.0.1", ns.port), handler)
    server.daemon_threads = True
    cfg.started = time.monotonic()
    return server


def serve(ns: argparse.Namespace) -> None:
    if ns.bind_delay:
        time.sleep(ns.bind_delay)  # like lmdeploy: nothing listens while the model loads
    server = make_server(ns)
    print(f"LISTENING {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    finally:
        server.server_close()


if __name__ == "__main__":
    serve(parse_args())
