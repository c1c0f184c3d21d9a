"""The transformers engine's worker process: InternVL3 on Hugging Face transformers.

Run as `python -m desktop_ocr.engines.transformers_worker` by engines/transformers_engine.py;
torch and transformers are imported here only, never in the app's process.

Wire format (one JSON object per line; the app -> worker direction may follow a line with
raw bytes):
  app -> worker (stdin)
    {"op": "load", "model": FOLDER_OR_ID, "device": ..., "dtype": ..., "load_8bit": bool}
    {"op": "generate", "id": N, "width": W, "height": H, "nbytes": W*H*3, "max_tiles": 12,
     "prompt": ..., "history": [[role, text], ...], "max_tokens": ..., "temperature": ...,
     "top_k": ..., "repetition_penalty": ...}   followed by nbytes of RGB pixels
    {"op": "cancel", "id": N}        {"op": "quit"}
  worker -> app (the original stdout; stray prints of libraries go to stderr instead)
    {"ev": "hello", "pid": ...}  {"ev": "loading", "stage": ...}
    {"ev": "ready", "device": ..., "dtype": ..., "tokens_per_tile": ..., ...}
    {"ev": "error", "kind": ..., "message": ..., "hint": ...}        (loading failed; exits 1)
    {"ev": "start", "id": N, "tiles": ..., "image_tokens": ..., "prompt_tokens": ...}
    {"ev": "token", "id": N, "text": ..., "ids": [...], "n": tokens so far}
    {"ev": "done", "id": N, "finish": "stop"|"length"|"cancelled", "usage": {...}}
    {"ev": "error", "id": N, "kind": ..., "message": ..., "hint": ...}   (that request failed)

No orphan: a thread reads stdin from the start, before the slow imports; end of file (the
app closed its end, exited or was killed) ends this process at once with os._exit.
Cancel: sets the request's event, which a stopping criterion checks after every token
and a forward pre-hook on every layer checks during the prompt pass, so a long prefill
(many tiles on a CPU) stops within one layer's time too.

`--probe` prints what torch sees (CUDA GPUs, MPS, bitsandbytes) as one JSON line and exits.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
import traceback
from typing import IO, Any

from desktop_ocr.core.contract import EngineError
from desktop_ocr.core.messages import QT_TRANSLATE_NOOP, Text
from desktop_ocr.engines.transformers_plan import (
    AGAIN_HINT,
    INSTALL_HINT,
    OOM_HINT,
    BadModelConfig,
    Machine,
    NotInstalled,
    OutOfMemory,
    TransformersEngineError,
    error_to_wire,
    inspect_model_folder,
    plan_device,
    resolve_model,
    tokens_per_tile,
)

# InternVL3's own system message: the model card's chat() and LMDeploy's InternVL template
# send it, so answers compare with the LMDeploy engine's.
SYSTEM_MESSAGE = ("你是书生·万象，英文名是InternVL，是由上海人工智能实验室、清华大学及多家合作单位联合开发的"
                  "多模态大语言模型。")
# The chat template of transformers' InternVL "-hf" conversions, for a folder without one.
CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n'}}"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for content in message['content'] %}{% if content['type'] == 'image' %}{{ '<IMG_CONTEXT>\n' }}"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}{% endfor %}{% endif %}"
    "{{'<|im_end|>\n'}}{% endfor %}{% if add_generation_prompt %}{{'<|im_start|>assistant\n' }}{% endif %}"
)
_OOM_WORDS = ("out of memory", "can't allocate memory", "cannot allocate memory", "not enough memory")


class _Cancelled(Exception):
    """Raised by the layer hook: the request was cancelled during the prompt pass."""


# ---------------------------------------------------------------- the pipe


class Wire:
    """JSON lines to the app on a private copy of stdout; fd 1 then points at stderr, so
    a library's print() can never corrupt the protocol."""

    def __init__(self) -> None:
        self._out: IO[bytes] = os.fdopen(os.dup(1), "wb")
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        self._lock = threading.Lock()

    def send(self, **event: Any) -> None:
        data = json.dumps(event, ensure_ascii=False).encode("utf-8") + b"\n"
        with self._lock:
            try:
                self._out.write(data)
                self._out.flush()
            except (BrokenPipeError, OSError):
                os._exit(0)  # the app is gone: nobody to work for


class Inbox:
    """Reads stdin in a thread: generate/load requests queue up in order; cancel and quit
    act at once; end of file ends the process."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.jobs: queue.Queue[tuple[dict[str, Any], bytes]] = queue.Queue()
        self._lock = threading.Lock()
        self._current: tuple[int, threading.Event] | None = None
        self._cancelled: set[int] = set()
        threading.Thread(target=self._run, name="inbox", daemon=True).start()

    def _run(self) -> None:
        try:
            while True:
                line = self._stream.readline()
                if not line:
                    break
                try:
                    cmd = json.loads(line)
                except ValueError:
                    print(f"worker: ignoring a malformed command: {line[:200]!r}", file=sys.stderr)
                    continue
                op = cmd.get("op")
                data = b""
                nbytes = int(cmd.get("nbytes") or 0)
                if nbytes:
                    data = self._read_exact(nbytes)
                    if data is None:
                        break
                if op == "cancel":
                    self.cancel(int(cmd.get("id", -1)))
                elif op == "quit":
                    break
                else:
                    self.jobs.put((cmd, data))
        except (OSError, ValueError):
            pass
        os._exit(0)  # the app closed the pipe, quit, or died

    def _read_exact(self, n: int) -> bytes | None:
        chunks, left = [], n
        while left:
            chunk = self._stream.read(left)
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def cancel(self, request_id: int) -> None:
        with self._lock:
            if self._current is not None and self._current[0] == request_id:
                self._current[1].set()
            else:
                self._cancelled.add(request_id)

    def begin(self, request_id: int) -> threading.Event | None:
        """The cancel event of the request about to run; None when it was cancelled already."""
        with self._lock:
            if request_id in self._cancelled:
                self._cancelled.discard(request_id)
                return None
            event = threading.Event()
            self._current = (request_id, event)
            return event

    def end(self) -> None:
        with self._lock:
            self._current = None


# ---------------------------------------------------------------- loading


def probe_machine() -> Machine:
    import importlib.util

    import torch

    cuda: list[tuple[int, int]] = []
    names: list[str] = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            cuda.append(tuple(torch.cuda.get_device_capability(i)))  # type: ignore[arg-type]
            names.append(torch.cuda.get_device_name(i))
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    return Machine(tuple(cuda), mps, importlib.util.find_spec("bitsandbytes") is not None, tuple(names))


def is_oom(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    return isinstance(exc, RuntimeError) and any(w in str(exc).lower() for w in _OOM_WORDS)


def short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


class Model:
    """The loaded checkpoint and what a request needs from it."""

    def __init__(self, cmd: dict[str, Any], wire: Wire) -> None:
        began = time.perf_counter()
        folder = resolve_model(str(cmd.get("model") or ""))
        info = inspect_model_folder(folder)
        wire.send(ev="loading", stage="importing torch and transformers")
        try:
            import torch
            import transformers
        except ImportError as exc:
            raise NotInstalled(f"The transformers engine needs torch and transformers ({short(exc)}).",
                               hint=INSTALL_HINT) from None
        machine = probe_machine()
        plan = plan_device(machine, str(cmd.get("device") or "auto"), str(cmd.get("dtype") or "auto"),
                           bool(cmd.get("load_8bit")))
        self.torch = torch
        self.plan = plan
        wire.send(ev="loading", stage=f"loading {info.name} on {plan.describe()}")
        from transformers import AutoImageProcessor, AutoModelForImageTextToText, AutoTokenizer

        kwargs: dict[str, Any] = {"dtype": getattr(torch, plan.dtype), "local_files_only": True}
        if plan.load_8bit:
            from transformers import BitsAndBytesConfig

            kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True)
        if plan.device_map:
            kwargs["device_map"] = plan.device_map
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            self.image_processor = AutoImageProcessor.from_pretrained(folder, local_files_only=True)
            model = AutoModelForImageTextToText.from_pretrained(folder, **kwargs)
            if not plan.device_map:
                model = model.to(plan.device)
        except EngineError:
            raise
        except Exception as exc:
            if is_oom(exc):
                raise OutOfMemory(Text(QT_TRANSLATE_NOOP("Messages", "{device} memory ran out while loading {model}."),
                                       device=plan.device.upper(), model=info.name), hint=OOM_HINT) from None
            if isinstance(exc, ImportError):
                raise NotInstalled(Text(QT_TRANSLATE_NOOP(
                    "Messages", "Loading {model} needs a package that is missing ({why})."),
                    model=info.name, why=short(exc)), hint=INSTALL_HINT) from None
            traceback.print_exc()
            if "mismatched" in str(exc) or "size mismatch" in str(exc):
                raise BadModelConfig(Text(QT_TRANSLATE_NOOP(
                    "Messages", "The weights of {model} do not fit its config.json (their sizes differ): "
                                "the config or the weights are damaged or mixed up."), model=info.name),
                    hint=AGAIN_HINT) from None
            raise BadModelConfig(Text(QT_TRANSLATE_NOOP("Messages", "transformers cannot load {model}: {why}"),
                                      model=info.name, why=short(exc)),
                                 hint=QT_TRANSLATE_NOOP(
                                     "Messages", "Check that the folder holds a complete InternVL3 \"-hf\" "
                                                 "checkpoint; download it again if in doubt.")) from None
        self.model = model.eval()
        tok = self.tokenizer
        self.start_token = getattr(tok, "start_image_token", None) or "<img>"
        self.end_token = getattr(tok, "end_image_token", None) or "</img>"
        self.context_token = getattr(tok, "context_image_token", None) or "<IMG_CONTEXT>"
        self.image_token_id = int(self.model.config.image_token_id)
        if tok.convert_tokens_to_ids(self.context_token) != self.image_token_id:
            raise BadModelConfig(f"The tokenizer of {info.name} does not have the model's image token "
                                 f"({self.context_token} is not id {self.image_token_id}).",
                                 hint="Download the model again.")
        self.chat_template = tok.chat_template or CHAT_TEMPLATE
        self.tokens_per_tile = tokens_per_tile(info.config)
        eos = self.model.generation_config.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        self.device = self.model.get_input_embeddings().weight.device
        self.dtype = getattr(torch, plan.dtype)
        self._cancel: threading.Event | None = None
        self._hook_layers()
        self.ready = {"model": str(info.path), "device": plan.device, "dtype": plan.dtype,
                      "device_map": plan.device_map, "load_8bit": plan.load_8bit, "why": plan.why,
                      "describe": plan.describe(), "tokens_per_tile": self.tokens_per_tile,
                      "load_s": round(time.perf_counter() - began, 3), "torch": torch.__version__,
                      "transformers": transformers.__version__, "gpus": list(machine.cuda_names)}

    def _hook_layers(self) -> None:
        """A check before every layer (vision and language) so cancel also stops a long
        prompt pass, which no stopping criterion sees."""
        torch = self.torch

        def check(_module: Any, _args: Any) -> None:
            if self._cancel is not None and self._cancel.is_set():
                raise _Cancelled

        for module in self.model.modules():
            if isinstance(module, torch.nn.ModuleList):
                for layer in module:
                    layer.register_forward_pre_hook(check)

    # ------------------------------------------------------------ one request

    def inputs(self, cmd: dict[str, Any], pixels: bytes) -> tuple[dict[str, Any], int, int]:
        """Model inputs for one request, the number of tiles and of image tokens."""
        from PIL import Image

        image = Image.frombytes("RGB", (int(cmd["width"]), int(cmd["height"])), pixels)
        max_tiles = max(1, int(cmd.get("max_tiles") or 12))
        vision = self.image_processor(images=[image], crop_to_patches=True, min_patches=1,
                                      max_patches=max_tiles, return_tensors="pt")
        tiles = int(vision["num_patches"][0])
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_MESSAGE},
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": str(cmd.get("prompt") or "")}]},
        ]
        for role, text in cmd.get("history") or []:
            messages.append({"role": str(role), "content": str(text)})
        text = self.tokenizer.apply_chat_template(messages, chat_template=self.chat_template,
                                                  tokenize=False, add_generation_prompt=True)
        placeholder = self.start_token + self.context_token * (self.tokens_per_tile * tiles) + self.end_token
        text = text.replace(self.context_token, placeholder, 1)
        encoded = self.tokenizer(text, return_tensors="pt")
        ids = encoded["input_ids"].to(self.device)
        n_image = int((ids == self.image_token_id).sum())
        inputs = {"input_ids": ids, "attention_mask": encoded["attention_mask"].to(self.device),
                  "pixel_values": vision["pixel_values"].to(self.device, dtype=self.dtype)}
        return inputs, tiles, n_image

    def generate(self, cmd: dict[str, Any], pixels: bytes, cancel: threading.Event, wire: Wire) -> None:
        from transformers import StoppingCriteria, StoppingCriteriaList

        torch = self.torch
        rid = int(cmd["id"])
        began = time.perf_counter()
        inputs, tiles, n_image = self.inputs(cmd, pixels)
        prompt_tokens = int(inputs["input_ids"].shape[1])
        prep_s = time.perf_counter() - began
        wire.send(ev="start", id=rid, tiles=tiles, image_tokens=n_image, prompt_tokens=prompt_tokens,
                  prep_s=round(prep_s, 4))

        class Stop(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return torch.full((input_ids.shape[0],), cancel.is_set(), dtype=torch.bool,
                                  device=input_ids.device)

        streamer = Streamer(self.tokenizer, lambda text, ids, n: wire.send(ev="token", id=rid, text=text,
                                                                         ids=ids, n=n))
        max_new = max(1, int(cmd.get("max_tokens") or 4096))
        temperature = float(cmd.get("temperature") or 0.0)
        sampling: dict[str, Any] = {"do_sample": False}
        if temperature > 0:
            sampling = {"do_sample": True, "temperature": temperature,
                        "top_k": int(cmd.get("top_k") or 0) or None}
        self._cancel = cancel
        gen_began = time.perf_counter()
        cut_short = False
        try:
            with torch.inference_mode():
                self.model.generate(**inputs, **sampling, max_new_tokens=max_new,
                                    repetition_penalty=float(cmd.get("repetition_penalty") or 1.0),
                                    streamer=streamer, stopping_criteria=StoppingCriteriaList([Stop()]),
                                    pad_token_id=self.tokenizer.pad_token_id)
        except _Cancelled:
            cut_short = True
        finally:
            self._cancel = None
        generate_s = time.perf_counter() - gen_began
        streamer.end()
        if cancel.is_set() or cut_short:
            finish = "cancelled"
        elif streamer.n >= max_new and streamer.last_id not in self.eos_ids:
            finish = "length"
        else:
            finish = "stop"
        wire.send(ev="done", id=rid, finish=finish, usage={
            "prompt_tokens": prompt_tokens, "completion_tokens": streamer.n,
            "total_tokens": prompt_tokens + streamer.n, "image_tokens": n_image, "tiles": tiles,
            "prep_s": round(prep_s, 4), "generate_s": round(generate_s, 4)})


class Streamer:
    """A transformers streamer (put/end) that sends each new token's text at once.

    Decodes the tokens since the last newline together, so a character split over several
    byte-level tokens (CJK) goes out whole: text ending in U+FFFD waits for its next byte."""

    def __init__(self, tokenizer: Any, emit: Any) -> None:
        self.tokenizer = tokenizer
        self.emit = emit
        self.cache: list[int] = []
        self.pending: list[int] = []
        self.sent = 0
        self.n = 0
        self.last_id: int | None = None
        self._prompt_seen = False

    def _decode(self) -> str:
        return self.tokenizer.decode(self.cache, skip_special_tokens=True, clean_up_tokenization_spaces=False)

    def put(self, value: Any) -> None:
        if not self._prompt_seen:  # generate() first hands over the prompt
            self._prompt_seen = True
            return
        ids = [int(i) for i in value.reshape(-1).tolist()]
        self.cache += ids
        self.pending += ids
        self.n += len(ids)
        self.last_id = ids[-1] if ids else self.last_id
        text = self._decode()
        if text.endswith("\ufffd"):
            return
        self._flush(text)

    def _flush(self, text: str) -> None:
        new = text[self.sent:]
        self.sent = len(text)
        if text.endswith("\n"):
            self.cache, self.sent = [], 0
        if new or self.pending:
            self.emit(new, self.pending, self.n)
            self.pending = []

    def end(self) -> None:
        if self.cache or self.pending:
            self._flush(self._decode())


# ---------------------------------------------------------------- main


def _probe() -> int:
    from desktop_ocr.engines.transformers_plan import installed_versions

    out: dict[str, Any] = {"versions": installed_versions()}
    try:
        machine = probe_machine()
        out.update(cuda=[list(cc) for cc in machine.cuda], cuda_names=list(machine.cuda_names),
                   mps=machine.mps, bitsandbytes=machine.bitsandbytes)
    except ImportError as exc:
        out["error"] = f"torch cannot be imported ({short(exc)})"
    except Exception as exc:
        out["error"] = f"torch failed: {short(exc)}"
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--probe" in args:
        return _probe()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never download while the app waits
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    wire = Wire()
    inbox = Inbox(sys.stdin.buffer)  # first: end of file must end us even while we import
    wire.send(ev="hello", pid=os.getpid())
    cmd, _ = inbox.jobs.get()
    if cmd.get("op") != "load":
        wire.send(ev="error", kind="failed", hint="",
                  message=QT_TRANSLATE_NOOP("Messages", "The worker was not told what to load."))
        return 1
    try:
        model = Model(cmd, wire)
    except EngineError as err:
        wire.send(ev="error", **error_to_wire(err))
        return 1
    except Exception as exc:  # a bug or an OS surprise: still a clear answer
        traceback.print_exc()
        err = OutOfMemory(QT_TRANSLATE_NOOP("Messages", "Memory ran out while loading the model."),
                          hint=OOM_HINT) if is_oom(exc) \
            else TransformersEngineError(Text(QT_TRANSLATE_NOOP("Messages", "Loading the model failed: {why}"),
                                              why=short(exc)))
        wire.send(ev="error", **error_to_wire(err))
        return 1
    wire.send(ev="ready", **model.ready)
    while True:
        cmd, data = inbox.jobs.get()
        if cmd.get("op") != "generate":
            continue
        rid = int(cmd.get("id", -1))
        cancel = inbox.begin(rid)
        if cancel is None:
            wire.send(ev="done", id=rid, finish="cancelled", usage={})
            continue
        try:
            model.generate(cmd, data, cancel, wire)
        except Exception as exc:
            if is_oom(exc):
                err: EngineError = OutOfMemory(Text(QT_TRANSLATE_NOOP(
                    "Messages", "{device} memory ran out during this request."),
                    device=model.plan.device.upper()), hint=OOM_HINT)
                if model.plan.device == "cuda":
                    model.torch.cuda.empty_cache()
            else:
                traceback.print_exc()
                err = TransformersEngineError(Text(QT_TRANSLATE_NOOP(
                    "Messages", "The model failed on this request: {why}"), why=short(exc)))
            wire.send(ev="error", id=rid, **error_to_wire(err))
        finally:
            inbox.end()


if __name__ == "__main__":
    sys.exit(main())
