"""Settings: one typed object, defined once, saved atomically in the platform's config dir.

Each field is declared once here, with its default and help text; from that single
declaration come the JSON file, the `DESKTOP_OCR_<NAME>` environment variables and the
CLI flags (`--name`), so a new setting is one line.
Precedence: defaults < settings file < environment < command line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

from desktop_ocr import APP_ID
from desktop_ocr.core.atomic import atomic_write_text
from desktop_ocr.core.contract import DECODING, ENGINE_CHOICES

log = logging.getLogger(__name__)
ENV_PREFIX = "DESKTOP_OCR_"


def _setting(default: Any, help: str, cli: bool = True, choices: tuple[str, ...] = ()) -> Any:
    meta = {"help": help, "cli": cli, "choices": choices}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class Settings:
    engine: str = _setting("auto", "Engine: auto, cpu, lmdeploy (local InternVL3), transformers (InternVL3 "
                           "on CPU, Mac or older GPUs) or openai (remote server)",
                           choices=ENGINE_CHOICES)
    task: str = _setting("text", "What to extract (text, markdown, table, handwriting, formula, fields, custom, codes)")
    prompt: str = _setting("", "The prompt of the custom task (what to ask the model about the image)")
    language: str = _setting("", "UI and prompt language (en, zh_CN); empty = system language")
    theme: str = _setting("system", "Window theme: system (follow the desktop), light or dark",
                          choices=("system", "light", "dark"))
    # Local InternVL3 via LMDeploy
    model: str = _setting("", "Model: a catalog name, a hub id or a local folder; empty = chosen from free VRAM")
    lmdeploy_command: str = _setting("", "lmdeploy executable or Python interpreter that has lmdeploy")
    session_len: int = _setting(16384, "LMDeploy --session-len")
    cache_max_entry_count: float = _setting(0.5, "LMDeploy --cache-max-entry-count (share of free VRAM for the KV cache)")
    model_format: str = _setting("", "LMDeploy --model-format (awq for AWQ weights); empty = from the model name")
    dtype: str = _setting("auto", "Weights dtype: auto, bfloat16 or float16", choices=("auto", "bfloat16", "float16"))
    tp: int = _setting(1, "Tensor parallel GPUs (power of two)")
    quant_policy: int = _setting(0, "KV cache quantisation (0, 4 or 8)")
    start_timeout: float = _setting(600.0, "Seconds to wait for the local server to become healthy")
    # Models on disk (engines/model_store.py)
    models_dir: str = _setting("", "Folder the app downloads models into; empty = the user data folder")
    model_folders: list = _setting([], "More folders that hold model folders (or are one)", cli=False)
    model_source: str = _setting("hf", "Where downloads come from: hf, modelscope, or a Hugging Face mirror URL")
    # InternVL3 on Hugging Face transformers (a worker process; CPU, Apple MPS, any NVIDIA GPU)
    transformers_model: str = _setting("", "Folder of an InternVL3 -hf checkpoint for the transformers engine; empty = --model")
    transformers_device: str = _setting("auto", "transformers engine device: auto, cuda, mps or cpu", choices=("auto", "cuda", "mps", "cpu"))
    transformers_dtype: str = _setting("auto", "transformers engine dtype: auto (bf16 on CUDA 8.0+, else fp16; MPS fp16; CPU fp32), bfloat16, float16 or float32", choices=("auto", "bfloat16", "float16", "float32"))
    transformers_8bit: bool = _setting(False, "transformers engine: load the weights in 8 bits (bitsandbytes, NVIDIA GPUs)")
    # Remote OpenAI-compatible server
    endpoint: str = _setting("", "URL of an OpenAI-compatible server (LMDeploy, vLLM, SGLang)")
    api_key: str = _setting("", "API key for --endpoint")
    max_in_flight: int = _setting(4, "Requests in flight at once against a server")
    timeout: float = _setting(120.0, "Seconds to wait for a server's first token, and between two "
                                     "tokens, before giving up (keep-alives do not count)")
    restart_engine_on_crash: bool = _setting(True, "Restart the local engine once when it dies "
                                                   "during a batch (else stop the batch)")
    # Decoding
    max_tokens: int = _setting(DECODING.max_tokens, "Token limit of one answer")
    max_dynamic_patch: int = _setting(DECODING.max_dynamic_patch, "InternVL3 tiles per image (1-12): detail level, for LMDeploy and transformers alike")
    repetition_penalty: float = _setting(DECODING.repetition_penalty, "Repetition penalty")
    # Behaviour
    copy_snip_result: bool = _setting(True, "Copy the text of a snip to the clipboard automatically", cli=False)
    watch_clipboard: bool = _setting(False, "Recognise new clipboard images automatically", cli=False)
    close_to_tray: bool = _setting(False, "Closing the window keeps the app in the tray", cli=False)
    recent_files: list = _setting([], "Recently opened files", cli=False)
    prefer_text_layer: bool = _setting(True, "Recognise all pages: use a PDF page's own text where it has some", cli=False)
    page_cache_mb: int = _setting(128, "Memory for rendered pages of the open document, in MiB", cli=False)
    second_reading: bool = _setting(True, "The window: after a vision-language engine's answer the CPU engine reads the same image in the background (doubtful words, codes, where the text sits)", cli=False)
    # Results library (core/library/)
    history_keep_days: int = _setting(0, "Keep results in the library this many days (0 = forever)", cli=False)
    history_max_entries: int = _setting(100_000, "Most results the library keeps; the oldest go first (0 = no limit)", cli=False)

    # ---------------------------------------------------------------- persistence

    @classmethod
    def path(cls) -> Path:
        override = os.environ.get(ENV_PREFIX + "CONFIG")
        if override:
            return Path(override)
        return Path(platformdirs.user_config_dir(APP_ID, appauthor=False)) / "settings.json"

    @classmethod
    def load(cls, path: Path | None = None, *, env: dict[str, str] | None = None) -> Settings:
        """Defaults, then the settings file, then environment variables.

        Never raises for a bad file: a damaged one is moved aside (the next save would
        overwrite it) and the defaults are used; values that cannot be used are left at
        their defaults. Either way `problem` says what happened, for one notice."""
        settings = cls()
        path = path or cls.path()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("it does not hold a JSON object")
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            # A damaged settings file must not stop the app: start with defaults, keep the file.
            log.warning("ignoring unreadable settings file %s: %s", path, exc)
            settings.problem = SettingsProblem(path, _keep_aside(path), str(exc))
        else:
            bad = settings.update(data)
            if bad:
                settings.problem = SettingsProblem(path, None, "", tuple(bad))
        settings.update_from_env(os.environ if env is None else env)
        return settings

    def save(self, path: Path | None = None) -> None:
        """Write atomically: a crash or full disk leaves the previous file intact."""
        path = path or self.path()
        atomic_write_text(path, json.dumps(dataclasses.asdict(self), indent=2, ensure_ascii=False),
                          mode=0o600)

    # ---------------------------------------------------------------- updates

    def update(self, values: dict[str, Any]) -> list[str]:
        """Set the known keys of `values`; returns the keys whose values could not be used."""
        known = {f.name: f for f in fields(self)}
        bad: list[str] = []
        for key, value in values.items():
            f = known.get(key)
            if f is None or value is None:
                continue
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            try:
                value = _coerce(value, default)
                choices = f.metadata.get("choices")
                if choices and value not in choices:
                    raise ValueError(f"not one of {', '.join(choices)}")
                setattr(self, key, value)
            except (TypeError, ValueError, OverflowError) as exc:
                log.warning("ignoring setting %s=%r: %s", key, value, exc)
                bad.append(key)
        return bad

    def update_from_env(self, env: dict[str, str] | os._Environ) -> None:
        self.update({f.name: env[ENV_PREFIX + f.name.upper()]
                     for f in fields(self) if ENV_PREFIX + f.name.upper() in env})

    @classmethod
    def cli_fields(cls) -> list[dataclasses.Field]:
        return [f for f in fields(cls) if f.metadata.get("cli")]


@dataclass(frozen=True)
class SettingsProblem:
    """Why the settings file was not (all) used: unreadable (`reason`, and where the file
    was kept), or some values unusable (`keys`)."""

    path: Path
    kept: Path | None = None
    reason: str = ""
    keys: tuple[str, ...] = ()


# Set by Settings.load when the file could not be (fully) used; not a setting, not saved.
Settings.problem = None  # type: ignore[attr-defined]


def _keep_aside(path: Path) -> Path | None:
    """Move a damaged settings file out of the way (the next save would replace it)."""
    target = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        path.replace(target)
    except OSError as exc:
        log.warning("cannot keep the damaged settings file aside: %s", exc)
        return None
    return target


def _coerce(value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    if isinstance(default, list):
        if not isinstance(value, list):
            raise TypeError("expected a list")
        return value
    return str(value)


def add_cli_flags(parser: Any, *, skip: tuple[str, ...] = ()) -> None:
    """Add one `--name` flag per CLI setting to an argparse parser (default: unset)."""
    for f in Settings.cli_fields():
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        kwargs: dict[str, Any] = {"dest": f.name, "default": None, "help": f.metadata["help"]}
        if isinstance(f.default, bool):
            # --name / --no-name: a setting that defaults to on must be switchable off
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = type(f.default)
            if f.metadata["choices"]:
                kwargs["choices"] = f.metadata["choices"]
        parser.add_argument(flag, **kwargs)


def apply_cli(settings: Settings, namespace: Any) -> Settings:
    settings.update({f.name: getattr(namespace, f.name, None) for f in Settings.cli_fields()})
    return settings
