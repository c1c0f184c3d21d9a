"""What the transformers engine decides before any torch is imported: is this folder an
InternVL3 checkpoint transformers can load, which device and dtype to run it on, and the
errors (with their fixes) that both the app and the worker process raise.

Pure Python, no torch and no transformers: the app, `desktop-ocr doctor` and the worker
(before its slow imports) all use it, so a missing folder or a damaged config.json is
explained within a fraction of a second, and the same way everywhere.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_ocr.core.contract import EngineError, EngineUnavailable
from desktop_ocr.core.messages import QT_TRANSLATE_NOOP, Text, from_wire, to_wire

INSTALL_HINT = "Install it with: pip install 'desktop-ocr[transformers]'."
DOWNLOAD_HINT = QT_TRANSLATE_NOOP(
    "Messages", "Choose the folder of an InternVL3 \"-hf\" checkpoint, for example one downloaded "
                "with: huggingface-cli download OpenGVLab/InternVL3-1B-hf --local-dir FOLDER.")
OOM_HINT = QT_TRANSLATE_NOOP(
    "Messages", "Choose a smaller model (InternVL3-1B or 2B), load it in 8 bits "
                "(--transformers-8bit, NVIDIA GPUs only), or use fewer tiles (--max-dynamic-patch 6).")
AGAIN_HINT = QT_TRANSLATE_NOOP("Messages", "Download the model again.")
WEIGHT_SUFFIXES = (".safetensors", ".bin")


# ---------------------------------------------------------------- errors


class TransformersEngineError(EngineUnavailable):
    """The transformers engine cannot start; `kind` names why (the worker's wire word)."""

    kind = "failed"


class NotInstalled(TransformersEngineError):
    kind = "not_installed"


class ModelFolderMissing(TransformersEngineError):
    kind = "missing_folder"


class NotAnHfCheckpoint(TransformersEngineError):
    kind = "not_hf"


class BadModelConfig(TransformersEngineError):
    kind = "bad_config"


class OutOfMemory(TransformersEngineError):
    kind = "oom"


class UnsupportedDevice(TransformersEngineError):
    kind = "device"


ERROR_KINDS: dict[str, type[TransformersEngineError]] = {
    cls.kind: cls for cls in (TransformersEngineError, NotInstalled, ModelFolderMissing,
                              NotAnHfCheckpoint, BadModelConfig, OutOfMemory, UnsupportedDevice)}


def error_from_wire(event: dict[str, Any]) -> TransformersEngineError:
    cls = ERROR_KINDS.get(str(event.get("kind")), TransformersEngineError)
    message, hint = from_wire(event.get("message")), from_wire(event.get("hint"))
    return cls(message if isinstance(message, str) and message else
               QT_TRANSLATE_NOOP("Messages", "The transformers worker failed."),
               hint=hint if isinstance(hint, str) else "")


def error_to_wire(err: EngineError) -> dict[str, Any]:
    return {"kind": getattr(err, "kind", "failed"), "message": to_wire(str(err)), "hint": to_wire(err.hint)}


# ---------------------------------------------------------------- installation


def missing_packages() -> list[str]:
    """Which of torch / transformers this Python lacks (found by name, nothing imported)."""
    return [name for name in ("torch", "transformers") if importlib.util.find_spec(name) is None]


def installed_versions() -> dict[str, str]:
    from importlib import metadata

    out: dict[str, str] = {}
    for name in ("torch", "transformers", "accelerate", "bitsandbytes"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


# ---------------------------------------------------------------- the model folder


@dataclass(frozen=True)
class ModelFolder:
    path: Path
    config: dict[str, Any] = field(repr=False)
    weight_bytes: int = 0

    @property
    def name(self) -> str:
        return self.path.name


def looks_like_hub_id(model: str) -> bool:
    """"OpenGVLab/InternVL3-1B-hf": one slash, no path-like parts."""
    parts = model.split("/")
    return len(parts) == 2 and all(parts) and not model.startswith((".", "~")) and "\\" not in model


def resolve_model(model: str) -> str:
    """A folder as given, or a hub id found in the local Hugging Face cache (never downloaded)."""
    text = (model or "").strip()
    if text and not Path(text).expanduser().exists() and looks_like_hub_id(text):
        try:
            from huggingface_hub import snapshot_download

            return snapshot_download(repo_id=text, local_files_only=True)
        except Exception:
            raise ModelFolderMissing(
                Text(QT_TRANSLATE_NOOP("Messages", "{model} is neither a folder nor in the local Hugging "
                                                   "Face cache, and the transformers engine never "
                                                   "downloads while it starts."), model=text),
                hint=Text(QT_TRANSLATE_NOOP("Messages", "Download it first (huggingface-cli download "
                                                        "{model}), or give its folder."), model=text)) from None
    return str(Path(text).expanduser()) if text else ""


def inspect_model_folder(folder: str | Path) -> ModelFolder:
    """Check that `folder` holds an InternVL checkpoint in transformers' own format.

    Raises ModelFolderMissing, BadModelConfig or NotAnHfCheckpoint with a plain message.
    """
    text = str(folder).strip()
    if not text:
        raise ModelFolderMissing(QT_TRANSLATE_NOOP("Messages", "No model folder is set for the transformers engine."),
                                 hint=DOWNLOAD_HINT)
    path = Path(text).expanduser()
    if not path.exists():
        raise ModelFolderMissing(Text(QT_TRANSLATE_NOOP("Messages", "The model folder {path} does not exist."),
                                      path=str(path)), hint=DOWNLOAD_HINT)
    if not path.is_dir():
        raise ModelFolderMissing(Text(QT_TRANSLATE_NOOP("Messages", "{path} is a file, not a model folder."),
                                      path=str(path)), hint=DOWNLOAD_HINT)
    config_path = path / "config.json"
    if not config_path.is_file():
        raise ModelFolderMissing(Text(QT_TRANSLATE_NOOP(
            "Messages", "{path} has no config.json: it is not a model folder, or its download is "
                        "incomplete."), path=str(path)), hint=DOWNLOAD_HINT)
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BadModelConfig(Text(QT_TRANSLATE_NOOP("Messages", "The model's config.json is damaged ({why})."),
                                  why=_short(exc)), hint=AGAIN_HINT) from None
    if not isinstance(config, dict):
        raise BadModelConfig(QT_TRANSLATE_NOOP(
            "Messages", "The model's config.json is damaged (it is not a JSON object)."), hint=AGAIN_HINT)
    model_type = str(config.get("model_type") or "")
    architectures = [str(a) for a in config.get("architectures") or []]
    if model_type == "internvl_chat" or "InternVLChatModel" in architectures or "auto_map" in config:
        raise NotAnHfCheckpoint(
            f"{path.name} is the original InternVL checkpoint (it needs the model's own remote "
            "code); the transformers engine loads the \"-hf\" conversion.",
            hint=f"Use {path.name}-hf (e.g. OpenGVLab/InternVL3-1B-hf); the original serves "
                 "well on the LMDeploy engine.")
    if model_type != "internvl":
        raise NotAnHfCheckpoint(Text(QT_TRANSLATE_NOOP(
            "Messages", "{name} is not an InternVL model (its config.json says model_type {type})."),
            name=path.name, type=repr(model_type or "nothing")), hint=DOWNLOAD_HINT)
    if not isinstance(config.get("vision_config"), dict) or not isinstance(config.get("text_config"), dict):
        raise BadModelConfig(QT_TRANSLATE_NOOP("Messages", "The model's config.json lacks its vision or text part."),
                             hint=AGAIN_HINT)
    weights = [p for p in path.iterdir() if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES)]
    if not weights:
        raise ModelFolderMissing(Text(QT_TRANSLATE_NOOP(
            "Messages", "{path} has no weights (*.safetensors): the download is incomplete."),
            path=str(path)), hint=AGAIN_HINT)
    return ModelFolder(path, config, sum(p.stat().st_size for p in weights))


def tokens_per_tile(config: dict[str, Any]) -> int:
    """Image tokens one 448-px tile costs: (image / patch)^2 * downsample_ratio^2 (256 for InternVL3)."""
    vision = config.get("vision_config") or {}
    image = _first(vision.get("image_size", 448))
    patch = _first(vision.get("patch_size", 14))
    ratio = float(config.get("downsample_ratio", 0.5))
    return int((image // patch) ** 2 * ratio * ratio)


def _first(value: Any) -> int:
    return int(value[0] if isinstance(value, (list, tuple)) else value)


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


# ---------------------------------------------------------------- device and dtype


DEVICES = ("auto", "cuda", "mps", "cpu")
DTYPES = ("auto", "bfloat16", "float16", "float32")


@dataclass(frozen=True)
class Machine:
    """What torch reports (the worker's probe): CUDA GPUs' compute capabilities, MPS."""

    cuda: tuple[tuple[int, int], ...] = ()
    mps: bool = False
    bitsandbytes: bool = False
    cuda_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class DevicePlan:
    device: str  # "cuda", "mps" or "cpu"
    dtype: str  # "bfloat16", "float16" or "float32"
    device_map: str | None  # "auto" splits the layers over several GPUs (accelerate)
    load_8bit: bool = False
    why: str = ""

    def describe(self) -> str:
        where = {"cuda": "the NVIDIA GPU", "mps": "the Apple GPU (MPS)", "cpu": "the CPU"}[self.device]
        if self.device_map == "auto":
            where = "the NVIDIA GPUs (layers split between them)"
        return f"{where} in {self.dtype}{', weights in 8 bits' if self.load_8bit else ''}"


def plan_device(machine: Machine, device: str = "auto", dtype: str = "auto",
                load_8bit: bool = False) -> DevicePlan:
    """The model card's rules: CUDA bf16 at compute capability >= 8.0, else fp16; MPS fp16;
    CPU fp32. Raises UnsupportedDevice for a choice this machine cannot honour."""
    device = (device or "auto").lower()
    dtype = (dtype or "auto").lower()
    if device not in DEVICES:
        raise UnsupportedDevice(f"Unknown device {device!r} for the transformers engine.",
                                hint=f"Choose one of: {', '.join(DEVICES)}.")
    if dtype not in DTYPES:
        raise UnsupportedDevice(f"Unknown dtype {dtype!r} for the transformers engine.",
                                hint=f"Choose one of: {', '.join(DTYPES)}.")
    if device == "auto":
        device = "cuda" if machine.cuda else "mps" if machine.mps else "cpu"
    if device == "cuda" and not machine.cuda:
        raise UnsupportedDevice(QT_TRANSLATE_NOOP(
            "Messages", "The transformers engine was asked for an NVIDIA GPU, but torch sees none (no "
                        "GPU, no driver, or a CPU-only torch build)."),
            hint=QT_TRANSLATE_NOOP("Messages", "Choose the device auto or cpu, or install a CUDA build of torch."))
    if device == "mps" and not machine.mps:
        raise UnsupportedDevice(QT_TRANSLATE_NOOP(
            "Messages", "The transformers engine was asked for the Apple GPU (MPS), which this "
                        "computer or torch build does not have."),
            hint=QT_TRANSLATE_NOOP("Messages", "Choose the device auto or cpu."))
    if load_8bit:
        if device != "cuda":
            raise UnsupportedDevice(QT_TRANSLATE_NOOP("Messages", "8-bit weights (bitsandbytes) need an NVIDIA GPU."),
                                    hint=QT_TRANSLATE_NOOP("Messages", "Turn 8-bit off, or choose a smaller model."))
        if not machine.bitsandbytes:
            raise UnsupportedDevice(QT_TRANSLATE_NOOP(
                "Messages", "8-bit weights need the bitsandbytes package, which is not installed."),
                hint=QT_TRANSLATE_NOOP("Messages", "pip install bitsandbytes, or turn 8-bit off."))
    bf16_ok = device == "cuda" and all(cc >= (8, 0) for cc in machine.cuda)
    if dtype == "auto":
        dtype = {"cuda": "bfloat16" if bf16_ok else "float16", "mps": "float16", "cpu": "float32"}[device]
        why = {"cuda": ("compute capability 8.0 or newer: bfloat16" if bf16_ok
                        else "compute capability below 8.0: float16"),
               "mps": "Apple GPU: float16", "cpu": "CPU: float32"}[device]
    else:
        why = "dtype from the settings"
        if dtype == "bfloat16" and device == "cuda" and not bf16_ok:
            raise UnsupportedDevice(QT_TRANSLATE_NOOP(
                "Messages", "bfloat16 needs an NVIDIA GPU of compute capability 8.0 (Ampere) or newer."),
                hint=QT_TRANSLATE_NOOP("Messages", "Choose the dtype auto or float16."))
    device_map = "auto" if device == "cuda" and (len(machine.cuda) > 1 or load_8bit) else None
    return DevicePlan(device, dtype, device_map, load_8bit, why)
