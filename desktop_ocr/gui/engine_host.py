"""The window's engine: created on demand, started when a part needs it, its state shown.

`EngineHost` is the pipeline's `EngineHandle` for the GUI (prepare / ensure / restart) and
what the engine panel drives (start, stop, switch). A local server reports its own states;
for other engines the host reports them. Everything slow (probing a GPU, creating an
engine, starting it) is awaited, never run on the GUI thread.
"""

from __future__ import annotations

import asyncio
import time

from PySide6.QtCore import QObject, Signal

from desktop_ocr.core.contract import Engine, EngineError, EngineUnavailable
from desktop_ocr.core.notifications import NotificationManager, user_message
from desktop_ocr.core.notifications import manager as default_manager
from desktop_ocr.core.pipeline import LazyEngine
from desktop_ocr.core.settings import Settings
from desktop_ocr.core.tasks import PRESETS
from desktop_ocr.engines import choose_auto, create_engine
from desktop_ocr.engines.lmdeploy_server import ServerState, ServerStatus
from desktop_ocr.gui.i18n import engine_name, translate


class EngineHost(QObject):
    engineChanged = Signal(str)  # title
    engineState = Signal(object)  # ServerStatus of the current engine (any engine)
    engineLog = Signal(str)  # one line of the local server's log

    def __init__(self, settings: Settings, parent: QObject | None = None,
                 notifications: NotificationManager | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.notifications = notifications or default_manager
        self._engine: Engine | None = None
        self.engine_reason = ""
        self.engine_status = ServerStatus(ServerState.STOPPED, time.monotonic())
        self._start_task: asyncio.Task | None = None
        self._switch_lock: asyncio.Lock | None = None
        self.runs = None  # the RunController using this engine (it sets itself)
        self.on_stop = None  # awaited before the engine stops: cancel the runs using it
        # Engines a task names for itself (Task.engine: the codes task's barcode reader),
        # by engine id; created when a part of that task first needs one.
        self._task_engines: dict[str, LazyEngine] = {}

    @property
    def busy(self) -> bool:
        """A recognition is running on this engine."""
        return self.runs is not None and self.runs.busy

    @property
    def engine(self) -> Engine | None:
        return self._engine

    def engine_title(self) -> str:
        return engine_name(self._engine.name if self._engine else self.settings.engine)

    def use(self, engine: Engine) -> None:
        """Use this engine object from now on (benches and tests bring their own)."""
        self._engine = self._attach(engine)
        self.engineChanged.emit(self.engine_title())

    # ---------------------------------------------------------------- EngineHandle

    async def prepare(self) -> Engine:
        """Create (not start) the engine the settings ask for; probing a GPU can take a while."""
        if self._engine is None:
            name, why = self.settings.engine, ""
            try:
                if name == "auto":
                    name, why = await asyncio.to_thread(choose_auto, self.settings)
                if name == "openai" and not self.settings.endpoint:
                    # Said for the window (the engine's own words name the CLI's flag).
                    raise EngineUnavailable(
                        translate("EngineHost", "No server address is set for the remote engine."),
                        hint=translate("EngineHost", "Enter it in View > Engine panel, under Remote "
                                                     "server."))
                engine = await asyncio.to_thread(create_engine, self.settings, name)
            except Exception as exc:
                self._set_status(ServerStatus(ServerState.FAILED, time.monotonic(), user_message(exc),
                                              exc if isinstance(exc, EngineError) else None))
                raise
            self._engine = self._attach(engine)
            self.engine_reason = why
            self._set_status(ServerStatus(ServerState.STOPPED, time.monotonic(),
                                          translate("EngineHost", "not started")))
            self.engineChanged.emit(self.engine_title())
        return self._engine

    async def ensure(self) -> Engine:
        """The engine, created and started (models loaded, server up)."""
        engine = await self.prepare()
        # A local server reports its own states (on_state); other engines get them from here.
        own = getattr(engine, "server", None) is None
        fresh = self.engine_status.state is not ServerState.READY
        if own and fresh:
            self._set_status(ServerStatus(ServerState.STARTING, time.monotonic(),
                                          translate("EngineHost", "starting {engine}").format(
                                              engine=self.engine_title())))
        try:
            await engine.start()
        except asyncio.CancelledError:
            if own:
                self._set_status(ServerStatus(ServerState.STOPPED, time.monotonic(),
                                              translate("EngineHost", "start cancelled")))
            raise
        except Exception as exc:
            if own:
                self._set_status(ServerStatus(ServerState.FAILED, time.monotonic(), user_message(exc),
                                              exc if isinstance(exc, EngineError) else None))
            raise
        if own and fresh:
            self._set_status(ServerStatus(ServerState.READY, time.monotonic(),
                                          translate("EngineHost", "{engine} ready").format(
                                              engine=self.engine_title())))
        return engine

    async def restart(self) -> Engine:
        """After the engine's process died: stop what is left of it, start it again."""
        engine = await self.prepare()
        try:
            await engine.stop()
        except Exception:  # noqa: BLE001 - a dead engine's stop may complain; start matters
            pass
        self._set_status(ServerStatus(ServerState.STOPPED, time.monotonic(),
                                      translate("EngineHost", "restarting")))
        return await self.ensure()

    def engine_for(self, task: str) -> LazyEngine | None:
        """The pipeline's `engine_for`: the engine a task names for itself when it is not
        the window's (None: the window's engine). The codes task reads with the CPU
        engine's barcode reader whichever engine the user chose."""
        preset = PRESETS.get(task)
        wanted = preset.engine if preset is not None else None
        current = self._engine.name if self._engine is not None else self.settings.engine
        if not wanted or wanted == current:
            return None
        handle = self._task_engines.get(wanted)
        if handle is None:
            handle = self._task_engines[wanted] = LazyEngine(
                lambda: create_engine(self.settings, wanted))
        return handle

    # ---------------------------------------------------------------- engine panel

    def _attach(self, engine: Engine) -> Engine:
        server = getattr(engine, "server", None)
        if server is not None and hasattr(server, "on_state"):
            # Both are called on the event loop's thread (the GUI thread under qasync).
            server.on_state = self._set_status
            server.on_log = self.engineLog.emit
        return engine

    def _set_status(self, status: ServerStatus) -> None:
        self.engine_status = status
        self.engineState.emit(status)

    def start_engine(self) -> asyncio.Task:
        """Start the current engine (creating it first if needed); one start at a time."""
        if self._start_task is None or self._start_task.done():
            self._start_task = asyncio.ensure_future(self.ensure())
        return self._start_task

    async def stop_engine(self) -> None:
        """Cancel runs and a start in progress, then stop the engine (awaited). Never raises."""
        if self.on_stop is not None:
            await self.on_stop()
        task = self._start_task
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except BaseException:  # noqa: B036 - cancelled on purpose; failures were reported
                pass
        engine = self._engine
        if engine is not None:
            try:
                await engine.stop()
            except Exception as exc:  # the protocol says never, but a stop must not break the panel
                self.notifications.report(exc, translate("EngineHost", "Stopping the engine failed"))
            if getattr(engine, "server", None) is None:
                self._set_status(ServerStatus(ServerState.STOPPED, time.monotonic(),
                                              translate("EngineHost", "stopped")))

    async def switch_engine(self, name: str | None = None) -> Engine:
        """Stop the current engine (awaited, so two servers never hold the GPU at once), then
        create `name` (or settings.engine again, to pick up changed settings). Not started."""
        if self._switch_lock is None:
            self._switch_lock = asyncio.Lock()
        async with self._switch_lock:
            await self.stop_engine()
            self._engine = None
            if name:
                self.settings.engine = name
            return await self.prepare()

    async def shutdown(self) -> None:
        """The app quits: a server still loading must not delay it; nothing outlives it."""
        if self._start_task is not None and not self._start_task.done():
            self._start_task.cancel()
            try:
                await self._start_task
            except BaseException:  # noqa: B036 - shutting down, the error was reported already
                pass
        for handle in self._task_engines.values():
            await handle.stop()
        if self._engine is not None:
            await self._engine.stop()
