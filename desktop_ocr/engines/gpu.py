"""GPU probe (NVML via nvidia-ml-py, a default dependency) and the model advice built on it.

The advice picks from the model catalog (core/catalog.py, resources/models.json) by free
VRAM, preferring a model that is already on disk.

`probe()` never raises: without the library, without a driver or without a GPU it
returns an empty list and a `reason` a person can act on. NVML is only imported here,
lazily, so the app starts on machines that have neither.

`MetricsSampler` is what the engine panel polls for its live meters (GPU util/VRAM per
GPU from NVML, CPU and RAM from psutil).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from desktop_ocr.core import catalog
from desktop_ocr.core.messages import QT_TRANSLATE_NOOP, Text

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
    # Whether the driver was asked at all: "no GPU" is only known when it answered.
    # "ok" (answered), "no-library" (nvidia-ml-py missing), "no-driver", "error".
    status: str = "ok"


# Keep this much VRAM free beyond the catalog's figure (display, other apps).
HEADROOM_GIB = 0.5
AWQ_MIN_CC = (7, 5)  # TurboMind's 4-bit kernels start at Turing
MIN_CC = (7, 0)  # TurboMind and the PyTorch engine start at Volta


@dataclass(frozen=True)
class Advice:
    model: str  # hub id ("OpenGVLab/InternVL3-8B-AWQ") or "" when nothing fits
    model_format: str  # "awq" or ""
    dtype: str  # "bfloat16" | "float16"
    tp: int
    reason: str
    need_gib: float = 0.0
    name: str = ""  # catalog name ("InternVL3-8B-AWQ")
    path: str = ""  # the complete local folder when the model is on disk
    backend: str = "turbomind"
    better: str = ""  # a model that would fit better but is not on disk (a download to offer)

    @property
    def ok(self) -> bool:
        return bool(self.model)

    @property
    def on_disk(self) -> bool:
        return bool(self.path)


def _fits(entry: catalog.ModelEntry, usable: list[GpuInfo], tps: list[int], session_len: int,
          headroom_gib: float) -> int:
    """The smallest tensor-parallel size that fits `entry`, or 0."""
    need = entry.need_gib(session_len)
    for tp in tps:
        group = usable[:tp]
        if entry.awq and any(g.compute_capability < AWQ_MIN_CC for g in group):
            return 0
        # Tensor parallel splits evenly, so the card with least free memory decides.
        if need <= (min(g.free_gib for g in group) - headroom_gib) * tp:
            return tp
    return 0


def advise(probe: Probe, *, on_disk: Mapping[str, str] | None = None, session_len: int = 16384,
           headroom_gib: float = HEADROOM_GIB, platform: str | None = None,
           cat: catalog.Catalog | None = None) -> Advice:
    """Which catalog model to run on these GPUs, in which dtype, on how many GPUs.

    `on_disk` maps catalog names to complete local folders: a model already there that
    fits wins over a download (the best one that fits, in the catalog's order), and
    `better` then names the download that would fit better, if any. With nothing on
    disk the default family (InternVL3) is chosen in the catalog's `advice_order`.
    """
    cat = cat or catalog.load()
    on_disk = dict(on_disk or {})
    platform = platform or sys.platform
    if not probe.gpus:
        return Advice("", "", "float16", 1, Text(QT_TRANSLATE_NOOP(
            "Messages", "No CUDA GPU ({why}): use the CPU engine or a remote server."),
            why=probe.reason or QT_TRANSLATE_NOOP("Messages", "none found")))
    usable = [g for g in probe.gpus if g.compute_capability >= MIN_CC]
    if not usable:
        g = probe.gpus[0]
        cc = ".".join(map(str, g.compute_capability))
        return Advice("", "", "float16", 1, Text(QT_TRANSLATE_NOOP(
            "Messages", "{gpu} (compute capability {cc}) is older than TurboMind supports (7.0): use "
                        "the CPU engine or a remote server."), gpu=g.name, cc=cc))
    usable.sort(key=lambda g: g.free_gib, reverse=True)
    # Turbomind on Windows runs on one GPU only.
    max_tp = 1 if platform.startswith("win") else len(usable)
    tps = [n for n in (1, 2, 4, 8) if n <= max_tp]
    order = [cat.require(n) for n in cat.advice_order]
    # On disk: the advice order first, then every other catalog model, biggest first.
    rest = sorted((m for m in cat.models if m not in order), key=lambda m: m.params_b, reverse=True)
    local = [m for m in order + rest if m.name in on_disk]
    fresh = next(((m, tp) for m in order if (tp := _fits(m, usable, tps, session_len, headroom_gib))), None)
    chosen = next(((m, tp) for m in local if (tp := _fits(m, usable, tps, session_len, headroom_gib))), None)
    if chosen is None and fresh is None:
        top = usable[0]
        smallest = min(order, key=lambda m: m.need_gib(session_len))
        return Advice("", "", "bfloat16" if top.bf16 else "float16", 1, Text(QT_TRANSLATE_NOOP(
            "Messages", "{gpu} has {free:.1f} GiB free; the smallest model ({model}) needs about "
                        "{need:.1f} GiB. Close other GPU programs, or use the CPU engine or a remote "
                        "server."), gpu=top.name, free=top.free_gib, model=smallest.name,
            need=smallest.need_gib(session_len)))
    better = ""
    if chosen is None:
        assert fresh is not None
        chosen = fresh
    elif fresh is not None and fresh[0] is not chosen[0] and fresh[0].family == cat.default_family \
            and chosen[0] in order and order.index(fresh[0]) < order.index(chosen[0]):
        better = fresh[0].name
    entry, tp = chosen
    group = usable[:tp]
    dtype = "bfloat16" if all(g.bf16 for g in group) else "float16"
    need = entry.need_gib(session_len)
    free = sum(g.free_gib for g in group)
    where = group[0].name if tp == 1 else f"{tp} x {group[0].name}"
    why: list[str] = [Text(QT_TRANSLATE_NOOP(
        "Messages", "{model} needs about {need:.1f} GiB ({weights:.1f} weights + {kv:.1f} KV cache "
                    "for {tokens} tokens + {runtime:g} runtime); {where} has {free:.1f} GiB free"),
        model=entry.name, need=need, weights=entry.weights_gib, kv=entry.kv_gib(session_len),
        tokens=session_len, runtime=entry.overhead_gib, where=where, free=free)]
    if entry.name in on_disk:
        why.append(QT_TRANSLATE_NOOP("Messages", "already on disk"))
    if entry.awq and entry.base:
        base = cat.get(entry.base)
        if base is not None and not _fits(base, usable, tps, session_len, headroom_gib):
            why.append(Text(QT_TRANSLATE_NOOP(
                "Messages", "the 16-bit weights (~{need:.0f} GiB) do not fit, AWQ 4-bit does"),
                need=base.need_gib(session_len)))
    if dtype == "float16":
        why.append(QT_TRANSLATE_NOOP("Messages", "compute capability below 8.0: float16 instead of bfloat16"))
    if tp > 1:
        why.append(Text(QT_TRANSLATE_NOOP("Messages", "split over {n} GPUs (--tp {n})"), n=tp))
    reasons = why[0]
    for more in why[1:]:
        reasons = Text(QT_TRANSLATE_NOOP("Messages", "{first}; {then}"), first=reasons, then=more)
    return Advice(entry.hub_id("hf") or entry.hub_id("modelscope"), "awq" if entry.awq else "", dtype, tp,
                  Text(QT_TRANSLATE_NOOP("Messages", "{reasons}."), reasons=reasons), need, entry.name,
                  on_disk.get(entry.name, ""), entry.backend, better)


# ---------------------------------------------------------------- NVML


def _nvml() -> Any:
    import pynvml  # nvidia-ml-py; imported lazily so machines without it still start

    return pynvml


def probe() -> Probe:
    """List CUDA GPUs with free memory and compute capability. Never raises."""
    try:
        nv = _nvml()
    except ImportError:
        return Probe(reason="nvidia-ml-py is not installed (pip install nvidia-ml-py)",
                     status="no-library")
    try:
        nv.nvmlInit()
    except Exception as exc:  # NVMLError_LibraryNotFound / DriverNotLoaded / ...
        return Probe(reason=f"no NVIDIA driver ({_nvml_text(exc)})", status="no-driver")
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
        return Probe(reason=f"NVML error ({_nvml_text(exc)})", status="error")
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
