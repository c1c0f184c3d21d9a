"""`desktop-ocr doctor`: what this machine has and which engine `auto` would pick, and why."""

from __future__ import annotations

import platform
import sys

from desktop_ocr import __version__
from desktop_ocr.core.settings import Settings


def doctor_report(settings: Settings | None = None) -> str:
    """The text `desktop-ocr doctor` prints. Never raises for a missing GPU, lmdeploy or torch."""
    from desktop_ocr.engines import choose_auto, gpu, lmdeploy_server

    settings = settings or Settings.load()
    lines = [f"Desktop OCR {__version__}",
             f"Python {platform.python_version()} on {platform.system()} {platform.release()} "
             f"({platform.machine()})", ""]

    probe = gpu.probe()
    lines.append("GPU")
    if probe.gpus:
        driver = f"  driver {probe.driver}" + (f", CUDA {probe.cuda}" if probe.cuda else "")
        lines.append(driver)
        for g in probe.gpus:
            cc = ".".join(map(str, g.compute_capability))
            lines.append(f"  [{g.index}] {g.name}: {g.free_gib:.1f} of {g.total_gib:.1f} GiB free, "
                         f"compute capability {cc} ({'bf16' if g.bf16 else 'fp16 only'})")
    else:
        lines.append(f"  none: {probe.reason or 'no CUDA GPU found'}")
    from desktop_ocr.engines.model_store import ModelStore

    store = ModelStore.from_settings(settings)
    on_disk = store.complete()
    advice = gpu.advise(probe, on_disk=on_disk, session_len=settings.session_len)
    if probe.gpus:
        lines.append("  advice: " + (f"{advice.name} ({advice.dtype}, {advice.backend}"
                                     + (f", --tp {advice.tp}" if advice.tp > 1 else "") + ")"
                                     if advice.ok else "no model fits"))
        lines.append(f"          {advice.reason}")
        if advice.ok:
            lines.append(f"          on disk: {advice.path}" if advice.path else
                         f"          not on disk yet: desktop-ocr models pull {advice.name}")
        if advice.better:
            lines.append(f"          {advice.better} fits too and reads better: desktop-ocr models pull {advice.better}")
    lines.append("")

    lines.append("Models")
    lines.append(f"  folder: {store.root}")
    lines.append("  on disk: " + (", ".join(f"{n} ({p})" for n, p in on_disk.items()) if on_disk else
                                  "none (desktop-ocr models list shows the catalog)"))
    lines.append("")

    command, how = lmdeploy_server.locate_lmdeploy(settings)
    lines.append("LMDeploy")
    lines.append(f"  {'found, ' if command else 'not available: '}{how}")
    if not command and probe.gpus:
        lines.append("  to run models on this GPU: pip install 'desktop-ocr[gpu]' (LMDeploy and PyTorch, about 5 GB)")
    if command:
        lines.append(f"  runs as: {' '.join(command)} serve api_server ...")
    lines.append("")

    from desktop_ocr.engines.transformers_engine import doctor_lines

    lines += doctor_lines(settings)
    lines.append("")

    lines.append("Remote server")
    lines.append(f"  {settings.endpoint} (max {settings.max_in_flight} requests in flight)"
                 if settings.endpoint else "  none configured (--endpoint URL --api-key KEY)")
    lines.append("")

    name, why = choose_auto(settings)
    lines.append("Engine")
    lines.append(f"  configured: {settings.engine}")
    lines.append(f"  auto picks: {name}, because {why}")
    if settings.engine not in ("auto", name):
        lines.append(f"  (the configured engine {settings.engine!r} is used instead of auto)")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m desktop_ocr.doctor
    sys.stdout.write(doctor_report())
