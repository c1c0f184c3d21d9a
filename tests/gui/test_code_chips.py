"""Code chips: a code's content shown, copied, and a web address opened only after Yes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop_ocr.core.codes import Code
from desktop_ocr.gui.code_chips import CodeChips

SQUARE = ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0))
URL = Code("QR Code", "https://example.com/order/42", SQUARE)
EAN = Code("EAN-13", "4006381333931", SQUARE)


@pytest.fixture
def chips(qtbot):
    answers: list[bool] = []
    asked: list[str] = []
    opened: list[QUrl] = []

    def confirm(_parent, url):
        asked.append(url)
        return answers.pop(0)

    widget = CodeChips(confirm=confirm, open_url=opened.append)
    qtbot.addWidget(widget)
    widget.answers, widget.asked, widget.opened_urls = answers, asked, opened
    return widget


def test_no_codes_no_chips(chips):
    chips.set_codes([])
    assert chips.isHidden() and chips.chips == []


def test_chips_show_format_and_content_and_copy_it(chips, qtbot):
    # GIVEN two codes; WHEN they are shown
    chips.set_codes([URL, EAN])
    chips.show()
    assert not chips.isHidden() and len(chips.chips) == 2
    assert [c.content.text() for c in chips.chips] == [URL.text, EAN.text]
    # only the web address can be opened
    assert chips.chips[0].open_button is not None and chips.chips[1].open_button is None
    # THEN Copy puts the content on the clipboard
    with qtbot.waitSignal(chips.copied) as sig:
        chips.chips[1].copy_button.click()
    assert sig.args == [EAN.text] and QGuiApplication.clipboard().text() == EAN.text


def test_a_url_opens_only_after_the_user_says_yes(chips, qtbot):
    chips.set_codes([URL])
    chip = chips.chips[0]
    # WHEN the user clicks Open… and answers No: the address was shown, nothing opens
    chips.answers.append(False)
    chip.open_button.click()
    assert chips.asked == [URL.text] and chips.opened_urls == []
    # WHEN they answer Yes: exactly that address opens
    chips.answers.append(True)
    with qtbot.waitSignal(chips.opened):
        chip.open_button.click()
    assert chips.opened_urls == [QUrl(URL.text)]


def test_default_confirmation_is_a_question_that_defaults_to_no(qtbot):
    opened: list[QUrl] = []
    widget = CodeChips(open_url=opened.append)
    qtbot.addWidget(widget)
    widget.set_codes([URL])
    seen: list[str] = []

    def answer_no():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer_no)
            return
        seen.append(box.text())
        assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)
        box.button(QMessageBox.StandardButton.No).click()

    QTimer.singleShot(0, answer_no)
    assert widget.chips[0].open() is False
    assert URL.text in seen[0] and opened == []
