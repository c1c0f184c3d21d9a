"""GPU probe (NVML via nvidia-ml-py) and the InternVL3 size / dtype advice built on it.

`probe()` never raises: without the library, without a driver or without a GPU it
returns an empty list and a `reason` a person can act on. NVML is only imported here,
lazily, so the app starts on machines that have neither.

`MetricsSampler` is what the engine panel polls for its live meters (GPU util/VRAM per
GPU from NVML, CPU and RAM from psutil).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)
GIB = 1024**3


@dataclass(frozen=True)
class GpuInfo:
    index: int
    name: str
    total_gib: float
    free_gib: float
    compute_capability: tuple[int, int]
    driver: str = ""

    @property
    def bf16(self) -> bool:
        """bf16 needs Ampere (compute capability 8.0) or newer."""
        return self.compute_capability >= (8, 0)


@dataclass(frozen=True)
class Probe:
    gpus: list[GpuInfo] = field(default_factory=list)
    reason: str = ""  # why the list is empty (no library / no driver / no GPU)
    driver: str = ""
    cuda: str = ""


@dataclass(frozen=True)
class ModelSpec:
    name: str  # short name, e.g. "InternVL3-8B"
    bf16_gib: float  # weights + runtime in bf16/fp16 (lmdeploy-contract.md)
    awq_gib: float | None  # with AWQ 4-bit weights, when OpenGVLab publishes them
    note: str = ""

    @property
    def repo(self) -> str:
        return f"OpenGVLab/{self.name}"


# From lmdeploy-contract.md (AWQ: the contract gives only the 8B figure).
MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("InternVL3-1B", 3, None, "laptops, fast screenshot OCR"),
    ModelSpec("InternVL3-2B", 5, None, ""),
    ModelSpec("InternVL3-8B", 17, 8, "best default on a 24 GB card"),
    ModelSpec("InternVL3-9B", 19, None, ""),
    ModelSpec("InternVL3-14B", 30, None, "the seed blog's choice (--tp 2 on two cards)"),
    ModelSpec("InternVL3-38B", 80, None, "multi-GPU, or a remote server"),
    ModelSpec("InternVL3-78B", 160, None, "multi-GPU, or a remote server"),
)
# What auto-selection tries, best first: (size, AWQ). bf16 weights beat AWQ of the same
# size, and AWQ is only offered where it is the step between 8B and 2B (a 10-16 GB card).
# 9B is left out: 8B is the recommended default at nearly the same size.
PREFERENCE: tuple[tuple[str, bool], ...] = (
    ("InternVL3-78B", False), ("InternVL3-38B", False), ("InternVL3-14B", False),
    ("InternVL3-8B", False), ("InternVL3-8B", True), ("InternVL3-2B", False),
    ("InternVL3-1B", False),
)
# Keep this much VRAM free beyond the table's figure (display, other apps).
HEADROOM_GIB = 0.5


@dataclass(frozen=True)
class Advice:
    model: str  # hub id ("OpenGVLab/InternVL3-8B-AWQ") or "" when nothing fits
    model_format: str  # "awq" or ""
    dtype: str  # "bfloat16" | "float16"
    tp: int
    reason: str
    need_gib: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.model)


def _spec(name: str) -> ModelSpec:
    return next(m for m in MODELS if m.name == name)


def advise(probe: Probe, *, headroom_gib: float = HEADROOM_GIB, platform: str | None = None) -> Advice:
    """Which InternVL3 size fits the free VRAM, in which dtype, AWQ or not, on how many GPUs."""
    platform = platform or sys.platform
    if not probe.gpus:
        return Advice("", "", "float16", 1,
                      f"No CUDA GPU ({probe.reason or 'none found'}): use the CPU engine or a remote server.")
    usable = [g for g in probe.gpus if g.compute_capability >= (7, 0)]
    if not usable:
        g = probe.gpus[0]
        cc = ".".join(map(str, g.compute_capability))
        return Advice("", "", "float16", 1,
                      f"{g.name} (compute capability {cc}) is older than TurboMind supports (7.0): "
                      "use the CPU engine or a remote server.")
    usable.sort(key=lambda g: g.free_gib, reverse=True)
    # Turbomind on Windows runs on one GPU only.
    max_tp = 1 if platform.startswith("win") else len(usable)
    tps = [n for n in (1, 2, 4, 8) if n <= max_tp]
    best: tuple[ModelSpec, bool, int] | None = None
    for name, awq in PREFERENCE:
        spec = _spec(name)
        need = spec.awq_gib if awq else spec.bf16_gib
        if need is None:
            continue
        for tp in tps:
            group = usable[:tp]
            # Tensor parallel splits evenly, so the card with least free memory decides.
            if need <= (min(g.free_gib for g in group) - headroom_gib) * tp:
                best = (spec, awq, tp)
                break
        if best:
            break
    if best is None:
        top = usable[0]
        return Advice("", "", "bfloat16" if top.bf16 else "float16", 1,
                      f"{top.name} has {top.free_gib:.1f} GiB free; the smallest model "
                      f"(InternVL3-1B) needs about {_spec('InternVL3-1B').bf16_gib:.0f} GiB. "
                      "Close other GPU programs, or use the CPU engine or a remote server.")
    spec, awq, tp = best
    group = usable[:tp]
    dtype = "bfloat16" if all(g.bf16 for g in group) else "float16"
    need = spec.awq_gib if awq else spec.bf16_gib
    free = sum(g.free_gib for g in group)
    where = group[0].name if tp == 1 else f"{tp} x {group[0].name}"
    why = [f"{spec.name}{' AWQ' if awq else ''} needs about {need:.0f} GiB; {where} has {free:.1f} GiB free"]
    if awq:
        why.append(f"the bf16 weights (~{spec.bf16_gib:.0f} GiB) do not fit, AWQ 4-bit does")
    if dtype == "float16":
        why.append("compute capability below 8.0: float16 instead of bfloat16")
    if tp > 1:
        why.append(f"split over {tp} GPUs (--tp {tp})")
    return Advice(spec.repo + ("-AWQ" if awq else ""), "awq" if awq else "", dtype, tp,
                  "; ".join(why) + ".", need or 0.0)


# ---------------------------------------------------------------- NVML


def _nvml() -> Any:
    import pynvml  # nvidia-ml-py; imported lazily so machines without it still start

    return pynvml


def probe() -> Probe:
    """List CUDA GPUs with free memory and compute capability. Never raises."""
    try:
        nv = _nvml()
    except ImportError:
        return Probe(reason="nvidia-ml-py is not installed (pip install 'desktop-ocr[gpu]')")
    try:
        nv.nvmlInit()
    except Exception as exc:  # NVMLError_LibraryNotFound / DriverNotLoaded / ...
        return Probe(reason=f"no NVIDIA driver ({_nvml_text(exc)})")
    try:
        driver = _text(nv.nvmlSystemGetDriverVersion())
        try:
            cuda_v = nv.nvmlSystemGetCudaDriverVersion()
            cuda = f"{cuda_v // 1000}.{cuda_v % 1000 // 10}"
        except Exception:
            cuda = ""
        gpus = []
        for i in range(nv.nvmlDeviceGetCount()):
            h = nv.nvmlDeviceGetHandleByIndex(i)
            mem = nv.nvmlDeviceGetMemoryInfo(h)
            major, minor = nv.nvmlDeviceGetCudaComputeCapability(h)
            gpus.append(GpuInfo(i, _text(nv.nvmlDeviceGetName(h)), mem.total / GIB, mem.free / GIB,
                                (int(major), int(minor)), driver))
        return Probe(gpus, "" if gpus else "the NVIDIA driver reports no GPU", driver, cuda)
    except Exception as exc:
        log.warning("NVML probe failed", exc_info=True)
        return Probe(reason=f"NVML error ({_nvml_text(exc)})")
    finally:
        try:
            nv.nvmlShutdown()
        except Exception:
            pass


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _nvml_text(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


# ---------------------------------------------------------------- live meters


@dataclass(frozen=True)
class GpuMetrics:
    index: int
    name: str
    util_percent: float
    mem_used_gib: float
    mem_total_gib: float


@dataclass(frozen=True)
class Metrics:
    cpu_percent: float
    ram_used_gib: float
    ram_total_gib: float
    gpus: list[GpuMetrics]
    gpu_note: str = ""  # why `gpus` is empty


class MetricsSampler:
    """Poll with `sample()` (cheap: a few NVML calls, no sleeping); `close()` when done.

    Not thread-safe; call from one thread (the GUI timer, or a worker thread).
    """

    def __init__(self) -> None:
        self._nv: Any = None
        self._handles: list[tuple[int, str, Any]] = []
        self._note = ""
        try:
            nv = _nvml()
            nv.nvmlInit()
        except ImportError:
            self._note = "nvidia-ml-py is not installed"
        except Exception as exc:
            self._note = f"no NVIDIA driver ({_nvml_text(exc)})"
        else:
            self._nv = nv
            try:
                for i in range(nv.nvmlDeviceGetCount()):
                    h = nv.nvmlDeviceGetHandleByIndex(i)
                    self._handles.append((i, _text(nv.nvmlDeviceGetName(h)), h))
            except Exception as exc:
                self._note = f"NVML error ({_nvml_text(exc)})"
            if not self._handles and not self._note:
                self._note = "no GPU"
        import psutil

        self._psutil = psutil
        psutil.cpu_percent(interval=None)  # primes the counter: the first real value is the next call's

    def sample(self) -> Metrics:
        vm = self._psutil.virtual_memory()
        gpus = []
        for i, name, h in self._handles:
            try:
                util = self._nv.nvmlDeviceGetUtilizationRates(h).gpu
                mem = self._nv.nvmlDeviceGetMemoryInfo(h)
                gpus.append(GpuMetrics(i, name, float(util), mem.used / GIB, mem.total / GIB))
            except Exception:  # a GPU that fell off the bus must not break the panel
                continue
        return Metrics(self._psutil.cpu_percent(interval=None), (vm.total - vm.available) / GIB,
                       vm.total / GIB, gpus, self._note)

    def close(self) -> None:
        if self._nv is not None:
            try:
                self._nv.nvmlShutdown()
            except Exception:
                pass
            self._nv = None
            self._handles = []
