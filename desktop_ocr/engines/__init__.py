"""Engines: implementations of the contract in core/contract.py. No Qt here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop_ocr.core.contract import ENGINE_IDS, Engine, EngineUnavailable
from desktop_ocr.core.messages import QT_TRANSLATE_NOOP

if TYPE_CHECKING:
    from desktop_ocr.core.settings import Settings

def choose_auto(settings: Settings) -> tuple[str, str]:
    """Which engine `auto` means on this machine, and why (shown to the user)."""
    if settings.endpoint:
        return "openai", f"a server is configured at {settings.endpoint}"
    from desktop_ocr.engines import gpu

    probe = gpu.probe()
    if not probe.gpus:
        # "No GPU found" only when the driver answered; else say why none could be used.
        if probe.status == "ok":
            why = "the NVIDIA driver reports no GPU"
        else:
            why = f"no NVIDIA GPU can be used ({probe.reason})"
        return _transformers_or_cpu(settings, why)
    from desktop_ocr.engines import lmdeploy_server

    found = lmdeploy_server.find_lmdeploy(settings)
    if found is None:
        return _transformers_or_cpu(
            settings, f"{probe.gpus[0].name} found, but the local engine (LMDeploy) is not installed")
    from desktop_ocr.engines.model_store import ModelStore

    store = ModelStore.from_settings(settings)
    if settings.model:
        if not store.resolve(settings.model)[0]:
            return _transformers_or_cpu(
                settings, f"{probe.gpus[0].name} found, but {settings.model} is not on disk yet "
                          "(Models… downloads it)")
    else:
        advice = gpu.advise(probe, on_disk=store.complete(), session_len=settings.session_len)
        if advice.ok and not advice.path:
            return _transformers_or_cpu(
                settings, f"{probe.gpus[0].name} found, but no model that fits is on disk yet "
                          f"(Models… downloads {advice.name})")
    return "lmdeploy", f"{probe.gpus[0].name} with {probe.gpus[0].free_gib:.0f} GiB free and lmdeploy found"


def _transformers_or_cpu(settings: Settings, why_not_lmdeploy: str) -> tuple[str, str]:
    """Without LMDeploy, InternVL3 on transformers when its model folder is configured and
    usable here; else the CPU engine. Only a configured folder counts: a CPU-only laptop is
    not handed a vision-language model it did not ask for."""
    if not settings.transformers_model:
        return "cpu", why_not_lmdeploy
    from desktop_ocr.core.contract import EngineError
    from desktop_ocr.engines import transformers_plan

    missing = transformers_plan.missing_packages()
    if missing:
        return "cpu", f"{why_not_lmdeploy}; the transformers engine lacks {' and '.join(missing)}"
    try:
        folder = transformers_plan.inspect_model_folder(
            transformers_plan.resolve_model(settings.transformers_model))
    except EngineError as exc:
        return "cpu", f"{why_not_lmdeploy}; the transformers model folder is unusable: {exc}"
    return "transformers", f"{why_not_lmdeploy}; InternVL3 runs on transformers from {folder.path}"


def create_engine(settings: Settings, name: str | None = None) -> Engine:
    """Build (not start) the engine that `name` (or settings.engine) asks for."""
    name = name or settings.engine
    if name == "auto":
        name, _ = choose_auto(settings)
    if name == "cpu":
        from desktop_ocr.engines.cpu import CpuEngine

        return CpuEngine()
    if name == "openai":
        from desktop_ocr.engines.openai_compat import OpenAIEngine

        if not settings.endpoint:
            raise EngineUnavailable(
                QT_TRANSLATE_NOOP("Messages", "No server address (URL) is set for the remote engine."),
                hint=QT_TRANSLATE_NOOP("Messages", "Give one with --endpoint URL, or in the engine panel."))
        return OpenAIEngine.from_settings(settings)
    if name == "lmdeploy":
        from desktop_ocr.engines.lmdeploy_server import LMDeployEngine

        return LMDeployEngine.from_settings(settings)
    if name == "transformers":
        from desktop_ocr.engines.transformers_engine import TransformersEngine

        return TransformersEngine.from_settings(settings)
    raise EngineUnavailable(f"Unknown engine {name!r}.", hint=f"Choose one of: auto, {', '.join(ENGINE_IDS)}.")
