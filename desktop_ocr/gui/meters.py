"""Live meters for the engine panel: GPU utilisation and VRAM per GPU, CPU and RAM.

Sampling (NVML via engines/gpu.py, psutil) happens in a worker thread on a timer, and
only while someone is looking: `MetricsPoller.set_active()` follows the panel's
visibility. The widgets are touched on the GUI thread only, when a sample arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QWidget

from desktop_ocr.core.notifications import NotificationManager
from desktop_ocr.engines.gpu import Metrics, MetricsSampler
from desktop_ocr.gui.i18n import sentences, translate

log = logging.getLogger(__name__)
SAMPLE_MS = 1000


class MetricsPoller(QObject):
    """Emits `sampled(Metrics)` every `interval_ms` while active; sampling runs off the GUI thread."""

    sampled = Signal(object)  # Metrics

    def __init__(self, notifications: NotificationManager, parent: QObject | None = None, *,
                 interval_ms: int = SAMPLE_MS,
                 make_sampler: Callable[[], MetricsSampler] = MetricsSampler) -> None:
        super().__init__(parent)
        self.notifications = notifications
        self._make_sampler = make_sampler
        self._sampler: MetricsSampler | None = None
        self._task: asyncio.Task | None = None
        self._failed = False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.poll)

    @property
    def active(self) -> bool:
        return self.timer.isActive()

    def set_active(self, active: bool) -> None:
        if active and not self._failed:
            if not self.timer.isActive():
                self.timer.start()
                self.poll()  # a first value now, not a second from now
        else:
            self.timer.stop()

    def poll(self) -> None:
        if self._task is not None and not self._task.done():
            return  # a slow NVML call is still running: skip this tick rather than pile up
        self._task = asyncio.ensure_future(self._poll())

    def _sample(self) -> Metrics:
        # Runs in a worker thread; one at a time (see poll), so the sampler is never shared.
        if self._sampler is None:
            self._sampler = self._make_sampler()  # nvmlInit can take a while: not on the GUI thread
        return self._sampler.sample()

    async def _poll(self) -> None:
        try:
            metrics = await asyncio.to_thread(self._sample)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Once: a meter that fails every second would bury the user in messages.
            self._failed = True
            self.timer.stop()
            self.notifications.report(exc, translate("Meters", "The live meters stopped"))
            return
        self.sampled.emit(metrics)

    async def close(self) -> None:
        with contextlib.suppress(RuntimeError):  # the widget tree (and the timer) may be gone already
            self.timer.stop()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except BaseException:  # noqa: B036 - cancelled on purpose
                pass
        sampler, self._sampler = self._sampler, None
        if sampler is not None:
            await asyncio.to_thread(sampler.close)


def _bar(maximum: int = 100) -> QProgressBar:
    bar = QProgressBar()
    bar.setRange(0, maximum)
    bar.setTextVisible(True)
    bar.setMaximumHeight(18)
    return bar


class MetersView(QWidget):
    """CPU, RAM and one util + VRAM pair per GPU; says plainly when there is no GPU."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setColumnStretch(1, 1)
        self.cpu_bar = _bar()
        self.ram_bar = _bar(1000)
        self.cpu_bar.setAccessibleName(translate("Meters", "CPU use"))
        self.ram_bar.setAccessibleName(translate("Meters", "Memory use"))
        self._grid.addWidget(QLabel(translate("Meters", "CPU")), 0, 0)
        self._grid.addWidget(self.cpu_bar, 0, 1)
        self._grid.addWidget(QLabel(translate("Meters", "RAM")), 1, 0)
        self._grid.addWidget(self.ram_bar, 1, 1)
        self.gpu_note = QLabel(translate("Meters", "Measuring…"))
        self.gpu_note.setWordWrap(True)
        self._grid.addWidget(self.gpu_note, 2, 0, 1, 2)
        self._gpu_rows: list[tuple[QLabel, QLabel, QProgressBar, QLabel, QProgressBar]] = []
        self.no_gpu_suffix = ""  # what the panel adds: which engine is used instead
        self.last: Metrics | None = None

    def gpu_bars(self) -> list[tuple[QProgressBar, QProgressBar]]:
        return [(row[2], row[4]) for row in self._gpu_rows if row[2].isVisibleTo(self)]

    def show_metrics(self, m: Metrics) -> None:
        self.last = m
        self.cpu_bar.setValue(round(m.cpu_percent))
        self.cpu_bar.setFormat(f"{m.cpu_percent:.0f} %")
        share = m.ram_used_gib / m.ram_total_gib if m.ram_total_gib else 0.0
        self.ram_bar.setValue(round(share * 1000))
        self.ram_bar.setFormat(translate("Meters", "{used} of {total} GiB").format(
            used=f"{m.ram_used_gib:.1f}", total=f"{m.ram_total_gib:.1f}"))
        self._ensure_gpu_rows(len(m.gpus))
        for g, (name, _, util, _, vram) in zip(m.gpus, self._gpu_rows, strict=False):
            name.setText(f"GPU {g.index}: {g.name}")
            util.setValue(round(g.util_percent))
            util.setFormat(translate("Meters", "{n} % busy").format(n=f"{g.util_percent:.0f}"))
            used = g.mem_used_gib / g.mem_total_gib if g.mem_total_gib else 0.0
            vram.setValue(round(used * 1000))
            vram.setFormat(translate("Meters", "{used} of {total} GiB VRAM").format(
                used=f"{g.mem_used_gib:.1f}", total=f"{g.mem_total_gib:.1f}"))
        if m.gpus:
            self.gpu_note.hide()
        else:
            # Why there is none is the engine panel's GPU line, in words (`doctor` has the
            # driver's own message).
            self.gpu_note.setText(sentences(translate("Meters", "No NVIDIA GPU to measure."),
                                            self.no_gpu_suffix))
            self.gpu_note.show()

    def _ensure_gpu_rows(self, n: int) -> None:
        while len(self._gpu_rows) < n:
            row = 3 + 3 * len(self._gpu_rows)
            name = QLabel()
            util_label = QLabel(translate("Meters", "Busy"))
            vram_label = QLabel(translate("Meters", "VRAM"))
            util, vram = _bar(), _bar(1000)
            util.setAccessibleName(translate("Meters", "GPU use"))
            vram.setAccessibleName(translate("Meters", "GPU memory use"))
            self._grid.addWidget(name, row, 0, 1, 2)
            self._grid.addWidget(util_label, row + 1, 0)
            self._grid.addWidget(util, row + 1, 1)
            self._grid.addWidget(vram_label, row + 2, 0)
            self._grid.addWidget(vram, row + 2, 1)
            self._gpu_rows.append((name, util_label, util, vram_label, vram))
        for i, widgets in enumerate(self._gpu_rows):
            for w in widgets:
                w.setVisible(i < n)
