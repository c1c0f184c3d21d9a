"""A conversation about one image: the first prompt and its answer (usually the recognised
text), then the follow-up questions and their answers.

The first question goes to the engine with the image; every later one goes with the whole
conversation so far as `Request.history` (lmdeploy-contract.md: multi-turn messages, the
image in the first turn only). A conversation is plain data: it is stored with its result
as `PartResult.extra["conversation"]` (`to_dict`/`from_dict`), so the library keeps the
exchange and a reopened result can be asked further.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from desktop_ocr.core.contract import DECODING, Request, Turn

if TYPE_CHECKING:
    from PIL import Image

    from desktop_ocr.core.results import PartResult

# The task id of a question (no preset: nothing to choose in the task list). An engine
# without a language model refuses it plainly.
ASK_TASK = "ask"
EXTRA_KEY = "conversation"


@dataclass(frozen=True)
class Exchange:
    question: str
    answer: str


@dataclass
class Conversation:
    """`exchanges[0]` is the first prompt (sent with the image) and its answer."""

    exchanges: list[Exchange] = field(default_factory=list)

    @classmethod
    def about(cls, result: PartResult) -> Conversation:
        """The conversation kept with `result`, or one that starts from its prompt and text."""
        stored = (result.extra or {}).get(EXTRA_KEY)
        if stored:
            return cls.from_dict(stored)
        if not result.text:
            return cls()
        prompt = result.prompt
        if not prompt:  # an engine without prompts (CPU) read it: ask as a VLM would have been
            from desktop_ocr.core.tasks import PRESETS

            preset = PRESETS.get(result.task) or PRESETS["text"]
            prompt = preset.prompt("en")
        return cls([Exchange(prompt, result.text)])

    @property
    def question(self) -> str:
        return self.exchanges[-1].question if self.exchanges else ""

    @property
    def answer(self) -> str:
        return self.exchanges[-1].answer if self.exchanges else ""

    @property
    def turns(self) -> tuple[Turn, ...]:
        """Every turn after the first prompt: answer, question, answer, ..."""
        out: list[Turn] = []
        for k, ex in enumerate(self.exchanges):
            if k:
                out.append(Turn("user", ex.question))
            out.append(Turn("assistant", ex.answer))
        return tuple(out)

    def request(self, image: Image.Image, question: str, *, label: str = "",
                **decoding: Any) -> Request:
        """The request that asks `question` next: the first prompt with the image, and the
        conversation so far as history (empty when this is the first question)."""
        question = question.strip()
        if not question:
            raise ValueError("a question needs some text")
        fields = {"max_tokens": DECODING.max_tokens, "temperature": DECODING.temperature,
                  "top_k": DECODING.top_k, "repetition_penalty": DECODING.repetition_penalty,
                  "max_dynamic_patch": DECODING.max_dynamic_patch}
        fields.update({k: v for k, v in decoding.items() if v is not None})
        if not self.exchanges:
            return Request(image=image, task=ASK_TASK, prompt=question, label=label, **fields)
        return Request(image=image, task=ASK_TASK, prompt=self.exchanges[0].question,
                       history=(*self.turns, Turn("user", question)), label=label, **fields)

    def add(self, question: str, answer: str) -> Conversation:
        self.exchanges.append(Exchange(question.strip(), answer))
        return self

    def store(self, result: PartResult) -> PartResult:
        """Keep the conversation with `result` (in its `extra`, which the library stores)."""
        result.extra = {**(result.extra or {}), EXTRA_KEY: self.to_dict()}
        return result

    def to_dict(self) -> dict[str, Any]:
        return {"exchanges": [{"question": e.question, "answer": e.answer}
                              for e in self.exchanges]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Conversation:
        return cls([Exchange(str(e.get("question", "")), str(e.get("answer", "")))
                    for e in d.get("exchanges") or [] if isinstance(e, dict)])
