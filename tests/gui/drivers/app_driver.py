"""Runs the real main window on a real display and obeys one command per stdin line.

Events go to stdout as JSON lines {"event": ..., ...}. Commands:
  paste | snip-cancel | watch on|off | copy <json text> <task> | stall | quit
Used by tests/gui/test_clipboard.py under a private Xvfb display (QT_QPA_PLATFORM=xcb).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import threading
import time

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from desktop_ocr.core.notifications import NotificationManager
from desktop_ocr.core.settings import Settings
from desktop_ocr.gui.clipboard.formats import payload_for
from desktop_ocr.gui.main_window import MainWindow


def emit(event: str, **data) -> None:
    print(json.dumps({"event": event, **data}), flush=True)


def main() -> int:
    app = QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    notes = NotificationManager()
    notes.subscribe(lambda n: emit("note", message=n.message, severity=str(n.severity)))
    settings = Settings(engine="cpu")
    settings.watch_clipboard = "--watch" in sys.argv
    window = MainWindow(settings, notifications=notes)
    window.show()
    cap = window.capture
    runs = window.runs

    def on_image(label: str) -> None:
        img = window.session.image
        emit("image", label=label, width=img.width, height=img.height,
             md5=hashlib.md5(img.tobytes()).hexdigest())

    cap.imageReady.connect(on_image)
    cap.refused.connect(lambda m: emit("refused", message=m))
    cap.copied.connect(lambda n: emit("copied", count=n))
    cap.watcher.ignored.connect(lambda why: emit("ignored", why=why))
    runs.finished.connect(lambda info, s: emit("finished", label=info.label,
                                               text="".join(r.text for r in s.results)))
    runs.failed.connect(lambda info, m: emit("failed", message=m))

    # The longest the GUI thread went without running a 10 ms timer: a freeze shows here.
    beat = {"last": time.perf_counter(), "worst": 0.0}

    def tick() -> None:
        now = time.perf_counter()
        beat["worst"] = max(beat["worst"], now - beat["last"])
        beat["last"] = now

    heart = QTimer()
    heart.setInterval(10)
    heart.timeout.connect(tick)
    heart.start()
    done = asyncio.Event()

    def command(line: str) -> None:
        parts = line.split(" ", 1)
        name, rest = parts[0], parts[1] if len(parts) > 1 else ""
        if name == "paste":
            cap.paste()
        elif name == "watch":
            window.watch_action.setChecked(rest == "on")
            emit("watching", on=cap.watcher.enabled)
        elif name == "copy":
            text, task = rest.rsplit(" ", 1)
            settings.task = task

            async def copy() -> None:
                await cap.copy(payload_for(json.loads(text), task))

            asyncio.ensure_future(copy())
        elif name == "stall":
            emit("stall", worst=beat["worst"], busy=runs.busy)
            beat["worst"] = 0.0
        elif name == "quit" or not name:
            done.set()

    def read_stdin() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(command, line.strip())
        loop.call_soon_threadsafe(done.set)

    threading.Thread(target=read_stdin, daemon=True).start()
    QTimer.singleShot(0, lambda: emit("ready", owns=False))
    with loop:
        loop.run_until_complete(done.wait())
        loop.run_until_complete(runs.cancel_and_wait())
        loop.run_until_complete(window.engines.shutdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
