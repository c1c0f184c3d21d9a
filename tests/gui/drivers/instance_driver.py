"""Claims the single-instance socket like the app does, and reports what it is handed.

Prints {"event": "server"} when it became the running instance (or {"event": "handed"}
and exits when another one took its message), then one {"event": "received", ...} per
message. Runs under the offscreen platform; the server name follows DESKTOP_OCR_CONFIG.
"""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QCoreApplication

from desktop_ocr.gui.single_instance import Message, claim


def emit(event: str, **data) -> None:
    print(json.dumps({"event": event, **data}), flush=True)


def main() -> int:
    action = sys.argv[1] if len(sys.argv) > 1 else "show"
    app = QCoreApplication(sys.argv[:1])
    server = claim(Message(action, sys.argv[2:]))
    if server is None:
        emit("handed")
        return 0
    server.received.connect(lambda m: emit("received", action=m.action, paths=m.paths))
    emit("server")
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
