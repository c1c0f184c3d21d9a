"""The user's language, one rule for the window's texts and the prompts sent to a model.

The `language` setting is "" (follow the system), "en" or "zh_CN". The window knows the
system's UI language best (Qt reads it from the desktop, also on Windows and macOS where
no LANG is set) and tells this module once at start (`set_system_language`); the CLI and
anything else without Qt fall back to the environment and the C library's locale.
"""

from __future__ import annotations

import os

LANGUAGES = ("en", "zh_CN")
_system: str | None = None


def set_system_language(name: str | None) -> None:
    """What the desktop says the user's UI language is ("zh_CN", "en_GB", ...)."""
    global _system
    _system = name or None


def system_language() -> str:
    """The system's UI language as a locale name ("" when nothing says)."""
    if _system:
        return _system
    # LANGUAGE is a priority list (GNU gettext); LC_ALL overrides LC_MESSAGES overrides LANG.
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "").split(":")[0].strip()
        if value:
            return value
    import locale  # only here: the window's first paint imports this module

    try:
        return locale.getlocale()[0] or ""
    except ValueError:
        return ""


def pick_language(language: str | None) -> str:
    """"en" or "zh_CN" from a UI language ("zh", "zh_CN", "zh-Hans", "en_US", "" = system)."""
    lang = (language or "").strip() or system_language()
    lang = lang.lower().replace("-", "_")
    # Windows' C library names locales in words: "Chinese (Simplified)_China".
    return "zh_CN" if lang.startswith(("zh", "chinese")) else "en"
