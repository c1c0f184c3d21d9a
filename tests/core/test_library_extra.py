"""What is learnt about a result after it was stored (the CPU engine's second reading, a
conversation about its image) is kept with it: `update_extra`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from desktop_ocr.core.conversation import Conversation
from desktop_ocr.core.library import AsyncLibrary, Library
from desktop_ocr.core.results import PartResult


def test_update_extra_replaces_the_extra_and_leaves_the_rest(tmp_path: Path):
    lib = Library.open(tmp_path / "library.sqlite3")
    try:
        # GIVEN a stored result whose engine said something about it
        rid = lib.add(PartResult(source="/scans/bill.png", text="Total 59.00 合计",
                                 extra={"repetition": {"stopped": False}}))
        # WHEN a second reading and a question about the image are added to it
        result = lib.get(rid)
        Conversation.about(result).add("What is the total?", "59.00").store(result)
        result.extra["doubts"] = [{"start": 6, "end": 11, "vlm": "59.00", "cpu": "58.00"}]
        assert lib.update_extra(rid, result.extra)
        # THEN it comes back with every entry, the text and search as before
        back = lib.get(rid)
        assert back.extra["repetition"] == {"stopped": False}
        assert back.extra["doubts"][0]["cpu"] == "58.00"
        assert Conversation.about(back).exchanges[-1].answer == "59.00"
        assert back.text == "Total 59.00 合计"
        assert [h.result.id for h in lib.search("合计")] == [rid]
        # and an id that is not there says so
        assert not lib.update_extra(rid + 99, {})
    finally:
        lib.close()


def test_update_extra_through_the_async_facade(tmp_path: Path):
    async def go() -> dict:
        lib = AsyncLibrary(tmp_path / "library.sqlite3")
        try:
            rid = await lib.add(PartResult(source="Snip 1", source_kind="snip", text="x"))
            assert await lib.update_extra(rid, {"codes": [{"format": "QRCode", "text": "hi"}]})
            return (await lib.get(rid)).extra
        finally:
            await lib.close()

    # GIVEN / WHEN a snip's codes are kept through the library thread
    extra = asyncio.run(go())
    # THEN they are stored
    assert extra == {"codes": [{"format": "QRCode", "text": "hi"}]}
