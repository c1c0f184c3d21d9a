"""SIGTERM, SIGHUP (and Ctrl+C's SIGINT) quit the app the way File > Quit does.

Python runs a signal handler only between bytecodes, and the Qt event loop is C++: a
handler alone would wait for the next Python callback, maybe forever. So the handler only
notes the signal, and `signal.set_wakeup_fd` writes its number into a socket that a
QSocketNotifier watches: the loop wakes up and calls `quit` on the GUI thread, which
closes the window and so runs the same clean shutdown (engine stopped, no server left).
The watchdog (engines/watchdog.py) covers what no handler can: SIGKILL.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
from collections.abc import Callable

from PySide6.QtCore import QObject, QSocketNotifier

log = logging.getLogger(__name__)

QUIT_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None),
                                 signal.SIGINT) if s is not None)


class SignalQuit(QObject):
    """Installed for as long as it lives (until `restore()`); `received` holds the signals."""

    def __init__(self, quit: Callable[[], None], signals: tuple[int, ...] = QUIT_SIGNALS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._quit = quit
        self.received: list[int] = []
        self._reader, self._writer = socket.socketpair()
        for sock in (self._reader, self._writer):
            sock.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous: dict[int, object] = {}
        for sig in signals:
            with contextlib.suppress(OSError, ValueError):
                self._previous[sig] = signal.signal(sig, self._noted)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._wake)

    def _noted(self, signum: int, frame) -> None:
        pass  # the wakeup fd carries the signal to the Qt loop; nothing to do in here

    def _wake(self, *_args) -> None:
        try:
            data = self._reader.recv(64)
        except (BlockingIOError, InterruptedError):
            return
        new = [s for s in data if s in self._previous]
        if not new:
            return
        first = not self.received
        self.received.extend(new)
        if first:  # a second signal while shutting down must not start another shutdown
            log.info("quitting on %s", signal.Signals(new[0]).name)
            self._quit()

    def restore(self) -> None:
        """Put back the previous handlers and wakeup fd; idempotent."""
        if self._notifier is None:
            return
        self._notifier.setEnabled(False)
        self._notifier = None
        for sig, handler in self._previous.items():
            with contextlib.suppress(OSError, ValueError, TypeError):
                signal.signal(sig, handler)  # type: ignore[arg-type]
        with contextlib.suppress(ValueError):
            signal.set_wakeup_fd(self._previous_fd)
        self._reader.close()
        self._writer.close()
