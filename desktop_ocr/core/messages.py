"""Sentences the core and the engines say to a user: English everywhere, and in the
window's language where the window shows them.

A `Text` is a `str`, the English sentence, so logs, the CLI, exceptions and the library
get plain English as before; it also keeps the template it was made from and the values
put into it. The window says it in its own language with `gui/i18n.localize`: Qt's
translation of the template (context "Messages"), then the values, each localised in turn
(a reason inside a sentence is a sentence too). A fixed sentence needs no `Text`: marked
with `QT_TRANSLATE_NOOP`, its English is its key.

`QT_TRANSLATE_NOOP` here is this module's own, Qt-free: `pyside6-lupdate` finds the marks
by name in core/ and engines/ as it finds the window's, so the translator sees every
template in the same .ts file.

    raise ImageError(Text(QT_TRANSLATE_NOOP("Messages", "The image has no frame {n}."), n=3))
"""

from __future__ import annotations

from typing import Any

CONTEXT = "Messages"


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802 - the name lupdate knows
    return text


class Text(str):
    """An English sentence made from `template` and `values`."""

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, /, **values: Any) -> Text:
        self = super().__new__(cls, template.format(**values) if values else template)
        self.template = template
        self.values = values
        return self

    def __str__(self) -> Text:  # str(exc) of an exception raised with a Text keeps it
        return self

    def __reduce__(self):  # pickled (to a worker process) as what it is, not as a str
        return (_make, (self.template, self.values))


def _make(template: str, values: dict[str, Any]) -> Text:
    return Text(template, **values)


def to_wire(message: Any) -> Any:
    """A message as JSON can carry it to another process (a child's events): a `Text` as
    its English, its template and its values; anything else as it is."""
    if isinstance(message, Text):
        return {"text": str.__str__(message), "template": message.template,
                "values": {k: to_wire(v) for k, v in message.values.items()}}
    return message


def from_wire(obj: Any) -> Any:
    """What `to_wire` made, back as a `Text`; a template that no longer fits its values
    (a child of another version) gives its English."""
    if isinstance(obj, dict) and isinstance(obj.get("template"), str):
        values = obj.get("values") if isinstance(obj.get("values"), dict) else {}
        try:
            return Text(obj["template"], **{str(k): from_wire(v) for k, v in values.items()})
        except (KeyError, IndexError, ValueError, TypeError):
            return str(obj.get("text") or obj["template"])
    return obj


def sentences(first: str, then: str) -> str:
    """Two sentences one after the other (a message and its hint); an empty one dropped."""
    if not (then and then.strip()):
        return first
    if not (first and first.strip()):
        return then
    return Text(QT_TRANSLATE_NOOP("Messages", "{first} {then}"), first=first, then=then)
