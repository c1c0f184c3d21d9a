"""One running app per user and settings file: a second start hands its action over.

`desktop-ocr --snip` bound to a key in the desktop's shortcut settings starts a process
that finds the running app on a local socket (a Unix socket / a Windows named pipe),
sends one line of JSON ({"action": "snip"} or "clipboard" or "show", plus files to
open), waits for "ok" and exits. If nobody answers, that process becomes the server.
"""

from __future__ import annotations

import getpass
import json
import logging
import time
import zlib
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from desktop_ocr import APP_ID
from desktop_ocr.core.settings import Settings

log = logging.getLogger(__name__)
ACTIONS = ("show", "snip", "clipboard")
CONNECT_MS = 500
REPLY_MS = 3000
MAX_MESSAGE = 64 * 1024


def server_name() -> str:
    """Unique per user and settings file: tests and portable installs do not collide."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = "user"
    # crc32, not a hashlib digest: loading OpenSSL's hashes would delay every start.
    ident = f"{user}\n{Settings.path()}".encode()
    key = f"{zlib.crc32(ident):08x}"
    return f"{APP_ID}-{key}"


@dataclass
class Message:
    action: str = "show"
    paths: list[str] = field(default_factory=list)

    def encode(self) -> bytes:
        return json.dumps({"action": self.action, "paths": self.paths}).encode() + b"\n"

    @classmethod
    def decode(cls, data: bytes) -> Message:
        obj = json.loads(data.decode("utf-8"))
        if not isinstance(obj, dict) or obj.get("action") not in ACTIONS:
            raise ValueError(f"unknown message {obj!r}")
        paths = obj.get("paths") or []
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise ValueError("paths must be a list of strings")
        return cls(obj["action"], paths)


def hand_over(message: Message, name: str | None = None) -> bool:
    """Give `message` to a running instance; True if it took it."""
    socket = QLocalSocket()
    socket.connectToServer(name or server_name())
    if not socket.waitForConnected(CONNECT_MS):
        return False
    socket.write(message.encode())
    socket.flush()
    socket.waitForBytesWritten(REPLY_MS)  # False when flush() already wrote it all
    ok = False
    deadline = time.monotonic() + REPLY_MS / 1000
    while not socket.canReadLine() and time.monotonic() < deadline:
        if not socket.waitForReadyRead(100) and socket.state() != QLocalSocket.LocalSocketState.ConnectedState:
            break
    if socket.canReadLine():
        ok = bytes(socket.readLine().data()).strip() == b"ok"
    socket.disconnectFromServer()
    return ok


class InstanceServer(QObject):
    """Listens for later starts; emits `received(Message)` on the GUI thread."""

    received = Signal(object)

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_connection)

    def listen(self, take_over: bool = False) -> bool:
        if take_over:
            # A socket file left by a crashed instance: nobody answers on it.
            QLocalServer.removeServer(self.name)
        ok = self._server.listen(self.name)
        if not ok:
            log.warning("single instance: cannot listen on %s: %s", self.name, self._server.errorString())
        return ok

    def close(self) -> None:
        self._server.close()

    def _on_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            buffer = bytearray()

            def read(socket=socket, buffer=buffer) -> None:
                buffer.extend(bytes(socket.readAll().data()))
                if len(buffer) > MAX_MESSAGE:
                    socket.abort()
                    return
                if b"\n" not in buffer:
                    return
                line = bytes(buffer).split(b"\n", 1)[0]
                try:
                    message = Message.decode(line)
                except (ValueError, UnicodeDecodeError) as exc:
                    log.warning("single instance: ignoring a bad message: %s", exc)
                    socket.write(b"error\n")
                    socket.disconnectFromServer()
                    return
                socket.write(b"ok\n")
                socket.flush()
                socket.disconnectFromServer()
                log.info("single instance: %s handed over by another start", message.action)
                self.received.emit(message)

            socket.readyRead.connect(read)
            socket.disconnected.connect(socket.deleteLater)


def claim(message: Message, name: str | None = None) -> InstanceServer | None:
    """Hand `message` to a running instance (returns None: this process should exit), or
    become the running instance (returns its listening server). Needs a Q*Application."""
    if hand_over(message, name):
        log.info("handed %r to the running instance", message.action)
        return None
    server = InstanceServer(name)
    if server.listen():
        return server
    # Either two starts at once and the other won the socket a moment ago, or a crashed
    # instance left its socket file behind.
    if hand_over(message, name):
        return None
    server.listen(take_over=True)
    return server
