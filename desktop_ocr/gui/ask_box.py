"""Under a result: ask a follow-up question about its image ("What is the total?",
"Translate to English"); the answer streams in below the questions asked before.

A question is a pipeline run like any other (`RunController.start`, kind "ask"): a
`Source` of the result's page with only the result's region, its rotation, the question
and the conversation so far (core/conversation.py), so the engine gets the same crop
rendered again from the open document, and cancel (Esc), time limits, retries and an
engine that dies behave as for a recognition. The answer is not a result of its own: the
exchange is kept with the result it is about (`PartResult.extra["conversation"]`, and in
the library with `update_extra`), so History shows it again with the result.

The CPU engine has no language model: with it chosen the box says so instead of sending.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop_ocr.core.conversation import Conversation
from desktop_ocr.core.notifications import NotificationManager, Severity
from desktop_ocr.core.pipeline import PageOptions, Part, Source
from desktop_ocr.core.regions import Region
from desktop_ocr.core.results import PartResult
from desktop_ocr.gui.i18n import localize, region_name, translate

log = logging.getLogger(__name__)

ASK_KIND = "ask"  # the RunController kind of a question
FLUSH_MS = 16
MAX_ANSWERS_HEIGHT = 170  # pixels; longer conversations scroll
CPU_NOTE = QT_TRANSLATE_NOOP("AskBox", "The CPU engine reads text; it cannot answer questions about an "
                             "image. Choose the local InternVL3 or a remote server in the engine "
                             "panel to ask.")


def question_source(session, result: PartResult, question: str) -> Source:
    """The pipeline input that asks `question` about `result`'s part of `session`'s page."""
    index = result.page - 1
    regions = []
    if result.region is not None:
        x, y, w, h = result.region
        regions = [Region(x, y, w, h, id=result.region_id or "asked",
                          label=result.region_label)]
    return Source(path=session.path if session.kind == "file" else None,
                  document=session.document, image=session.image, kind=session.kind,
                  label=session.label if session.kind != "file" else "", pages=[index],
                  page_options={index: PageOptions(regions, result.rotation)},
                  question=question, conversation=Conversation.about(result))


class AskBox(QWidget):
    """`set_results(session, results)` when the page shown changes; the rest is its own."""

    answered = Signal(object)  # the PartResult whose conversation grew

    def __init__(self, runs, engines, library=None,
                 notifications: NotificationManager | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs = runs
        self.engines = engines
        self.library = library
        self.notifications = notifications
        self.session = None
        self.results: list[PartResult] = []
        self._source: Source | None = None  # the question running now
        self._asked: PartResult | None = None  # the result it is about
        self._question = ""
        self._answer: list[str] = []
        self._pending: list[str] = []
        self._store_tasks: set[asyncio.Task] = set()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        self.answers = QTextEdit()
        self.answers.setReadOnly(True)
        self.answers.setAccessibleName(translate("AskBox", "Questions and answers"))
        self.answers.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.answers.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self.answers.hide()
        layout.addWidget(self.answers)
        self.note = QLabel(translate("AskBox", CPU_NOTE))
        self.note.setWordWrap(True)
        self.note.setObjectName("askNote")
        self.note.hide()
        layout.addWidget(self.note)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        self.target = QComboBox()
        self.target.setAccessibleName(translate("AskBox", "Ask about"))
        self.target.setToolTip(translate("AskBox", "Which result the question is about"))
        self.target.hide()
        row.addWidget(self.target)
        self.question = QLineEdit()
        self.question.setPlaceholderText(translate("AskBox", "Ask about this image, e.g. “What is the total?”"))
        self.question.setAccessibleName(translate("AskBox", "Question about the image"))
        self.question.setClearButtonEnabled(True)
        row.addWidget(self.question, 1)
        self.ask_button = QPushButton(translate("AskBox", "Ask"))
        self.ask_button.setToolTip(translate("AskBox", "Ask the vision-language engine about this image; "
                                   "the answer is kept with the result"))
        row.addWidget(self.ask_button)
        layout.addLayout(row)
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self._flush)

        self.question.returnPressed.connect(self.ask)
        self.question.textChanged.connect(lambda _t: self._update())
        self.ask_button.clicked.connect(self._on_button)
        self.target.currentIndexChanged.connect(lambda _i: self._show_conversation())
        runs.started.connect(lambda _info: self._update())
        runs.text.connect(self._on_text)
        runs.partFinished.connect(self._on_part_finished)
        runs.finished.connect(lambda info, _s: self._on_run_ended(info, ""))
        runs.cancelled.connect(lambda info: self._on_run_ended(info, "stopped"))
        runs.failed.connect(lambda info, message: self._on_run_ended(info, message))
        engines.engineChanged.connect(lambda _t: self._update())
        self.setVisible(False)

    # ---------------------------------------------------------------- state

    @property
    def asking(self) -> bool:
        return self._source is not None

    def engine_answers(self) -> bool:
        """The chosen engine can answer questions (not the CPU engine)."""
        engine = self.engines.engine
        name = engine.name if engine is not None else self.engines.settings.engine
        return name != "cpu"

    def current(self) -> PartResult | None:
        i = self.target.currentIndex()
        return self.results[i] if 0 <= i < len(self.results) else None

    def set_results(self, session, results: Sequence[PartResult]) -> None:
        """The results of the page shown (the box asks about one of them)."""
        ok = [r for r in results if r.ok]
        previous = self.current()
        self.session = session
        self.results = ok
        self.target.blockSignals(True)
        self.target.clear()
        for r in ok:
            self.target.addItem(region_name(r.region_label) if r.region_label else translate("AskBox", "Whole page"))
        keep = next((i for i, r in enumerate(ok) if r is previous), 0)
        self.target.setCurrentIndex(keep)
        self.target.blockSignals(False)
        self.target.setVisible(len(ok) > 1)
        self.setVisible(bool(ok))
        if not self.asking:
            self._show_conversation()
        self._update()

    def clear(self) -> None:
        self.set_results(None, [])

    def _update(self) -> None:
        answers = self.engine_answers()
        self.note.setVisible(not answers and bool(self.results))
        busy_elsewhere = self.runs.busy and not self.asking
        self.question.setEnabled(answers and not self.asking and not busy_elsewhere)
        if self.asking:
            self.ask_button.setText(translate("AskBox", "Stop"))
            self.ask_button.setToolTip(translate("AskBox", "Stop the answer (Esc)"))
            self.ask_button.setEnabled(True)
        else:
            self.ask_button.setText(translate("AskBox", "Ask"))
            self.ask_button.setToolTip(translate("AskBox", "Ask the vision-language engine about this image; "
                                       "the answer is kept with the result"))
            self.ask_button.setEnabled(answers and not busy_elsewhere
                                       and bool(self.question.text().strip())
                                       and self.current() is not None)
        if busy_elsewhere:
            self.question.setPlaceholderText(translate("AskBox", "Questions can be asked once the "
                                             "recognition has finished"))
        else:
            self.question.setPlaceholderText(translate("AskBox", "Ask about this image, e.g. “What is the total?”"))

    # ---------------------------------------------------------------- the conversation

    def _show_conversation(self) -> None:
        result = self.current()
        self.answers.clear()
        exchanges = Conversation.about(result).exchanges[1:] if result is not None else []
        for ex in exchanges:
            self._put_question(ex.question)
            self._put_answer(ex.answer)
        self.answers.setVisible(bool(exchanges))
        self._scroll_down()

    def _cursor_at_end(self) -> QTextCursor:
        cursor = QTextCursor(self.answers.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def _put_question(self, question: str) -> None:
        cursor = self._cursor_at_end()
        if not self.answers.document().isEmpty():
            cursor.insertBlock()
            cursor.insertBlock()
        bold = QTextCharFormat()
        bold.setFontWeight(QFont.Weight.Bold)
        cursor.insertText(question, bold)
        cursor.insertBlock()
        cursor.setCharFormat(QTextCharFormat())

    def _put_answer(self, text: str, *, note: bool = False) -> None:
        fmt = QTextCharFormat()
        if note:
            fmt.setFontItalic(True)
        self._cursor_at_end().insertText(text.rstrip("\n") if not note else text, fmt)

    def _fit_height(self, *_args) -> None:
        """As tall as its text, up to a few lines: the result above keeps the room."""
        doc_height = self.answers.document().size().height()
        frame = 2 * self.answers.frameWidth() + 4
        self.answers.setFixedHeight(int(min(MAX_ANSWERS_HEIGHT, max(40, doc_height + frame))))

    def _scroll_down(self) -> None:
        bar = self.answers.verticalScrollBar()
        bar.setValue(bar.maximum())

    def conversation_text(self) -> str:
        """What the box shows (tests read it)."""
        self._flush()
        return self.answers.toPlainText()

    # ---------------------------------------------------------------- asking

    def _on_button(self) -> None:
        if self.asking:
            self.runs.cancel()
        else:
            self.ask()

    def ask(self, question: str | None = None) -> bool:
        """Ask `question` (default: what is typed) about the chosen result. False when it
        could not be sent (nothing typed, no result, the CPU engine, a run going)."""
        text = (question if question is not None else self.question.text()).strip()
        result = self.current()
        if not text or result is None or self.session is None or self.asking:
            return False
        if not self.engine_answers():
            self.note.show()
            return False
        if self.runs.busy:
            return False
        self._source = question_source(self.session, result, text)
        self._asked, self._question, self._answer = result, text, []
        self.question.clear()
        self.answers.show()
        self._put_question(text)
        self._update()
        self.runs.start([self._source], ASK_KIND, result.label, store=False)
        return True

    def _mine(self, part: Part) -> bool:
        return self._source is not None and part.source is self._source

    def _on_text(self, part: Part, text: str) -> None:
        if self._mine(part) and text:
            self._answer.append(text)
            self._pending.append(text)
            if not self._flush_timer.isActive():
                self._flush_timer.start()

    def _flush(self) -> None:
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            self._cursor_at_end().insertText(text, QTextCharFormat())
            self._scroll_down()

    def _on_part_finished(self, part: Part, result: PartResult) -> None:
        if not self._mine(part):
            return
        self._flush()
        asked = self._asked
        if not result.ok:
            self._put_answer(f"[{localize(result.error)}]", note=True)
            self.question.setText(self._question)  # to ask again as it was
            return
        if asked is None:
            return
        conversation = Conversation.about(asked).add(self._question, result.text)
        conversation.store(asked)
        self._keep(asked)
        self.answered.emit(asked)

    def _keep(self, result: PartResult) -> None:
        if self.library is None or result.id is None:
            return

        async def store() -> None:
            try:
                await self.library.update_extra(result.id, result.extra)
            except Exception as exc:  # noqa: BLE001 - the answer stays on screen and in memory
                log.warning("the answer about %s was not kept", result.label, exc_info=True)
                if self.notifications is not None:
                    self.notifications.notify(translate("AskBox", "The answer was not kept in History: {error}").format(error=exc),
                                              Severity.WARNING)

        task = asyncio.ensure_future(store())
        self._store_tasks.add(task)
        task.add_done_callback(self._store_tasks.discard)

    def _on_run_ended(self, info, why: str) -> None:
        """`why`: "" (it finished), "stopped" (cancelled) or what went wrong."""
        if self._source is None or not info.sources or info.sources[0] is not self._source:
            self._update()
            return
        self._flush()
        if why == "stopped":
            self._put_answer((" " if self._answer else "") + "[" + translate("AskBox", "stopped") + "]", note=True)
        elif why:
            self._put_answer(f"[{why}]", note=True)
        if why:  # nothing was kept: the question is back, to ask again as it was
            self.question.setText(self._question)
        self._source = None
        self._asked = None
        self._update()
        self.question.setFocus(Qt.FocusReason.OtherFocusReason)
