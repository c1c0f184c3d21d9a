"""The window's language: Qt's translation system, one Qt Linguist file per language.

Every text the window shows goes through `translate(context, text)` (Qt's
`QCoreApplication.translate`) with a stable context per part of the window, so
`pyside6-lupdate` finds it. The translations live in
`desktop_ocr/resources/i18n/desktop_ocr_<lang>.ts` (the source, in the repository) and are
compiled to `.qm` by `pyside6-lrelease`: by `installer/setup.sh` and `installer/build.sh`
into the package, or, when that was not run (a plain `pip install -e .`) or the `.ts` is
newer, once at first use into the user's cache folder.

    python -m desktop_ocr.gui.i18n update     # lupdate: new texts into the .ts files
    python -m desktop_ocr.gui.i18n compile    # lrelease: .ts -> .qm into the package

English is the source language: it needs no file. Counted texts ("1 file" / "3 files")
are written as two texts chosen in code, so English needs no plural rules either.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QLibraryInfo, QLocale, QTranslator

from desktop_ocr.core.language import pick_language, set_system_language
from desktop_ocr.core.messages import CONTEXT as MESSAGES
from desktop_ocr.core.messages import Text

log = logging.getLogger(__name__)

translate = QCoreApplication.translate
PACKAGE = Path(__file__).resolve().parent.parent
I18N_DIR = PACKAGE / "resources" / "i18n"
DOMAIN = "desktop_ocr"
# Languages the window speaks besides English, and what View > Language calls each (in
# its own language, as every program does: a user who cannot read the current one still
# finds theirs).
TRANSLATED = ("zh_CN",)
LANGUAGE_NAMES = (("", None), ("en", "English"), ("zh_CN", "简体中文"))

_installed: list[QTranslator] = []
_spoken = "en"


def current_language() -> str:
    """The language the window speaks now ("en" until `install` loaded another)."""
    return _spoken

# Names the core gives in English (core/contract.py ENGINES, core/export.py FORMAT_NAMES),
# as the window says them.
_ENGINE_NAMES = {
    "auto": QT_TRANSLATE_NOOP("Names", "Automatic"),
    "cpu": QT_TRANSLATE_NOOP("Names", "CPU (RapidOCR)"),
    "lmdeploy": QT_TRANSLATE_NOOP("Names", "InternVL3 (local LMDeploy)"),
    "transformers": QT_TRANSLATE_NOOP("Names", "InternVL3 (transformers)"),
    "openai": QT_TRANSLATE_NOOP("Names", "Remote server"),
}
_FORMAT_NAMES = {
    "xlsx": QT_TRANSLATE_NOOP("Names", "Excel workbook"),
    "csv": QT_TRANSLATE_NOOP("Names", "CSV"),
    "tsv": QT_TRANSLATE_NOOP("Names", "Tab-separated values"),
    "md": QT_TRANSLATE_NOOP("Names", "Markdown"),
    "html": QT_TRANSLATE_NOOP("Names", "HTML"),
    "txt": QT_TRANSLATE_NOOP("Names", "Text"),
    "json": QT_TRANSLATE_NOOP("Names", "JSON"),
    "docx": QT_TRANSLATE_NOOP("Names", "Word document"),
    "pdf": QT_TRANSLATE_NOOP("Names", "Searchable PDF"),
}


def engine_name(engine: str) -> str:
    """What the window calls an engine id ("cpu" -> "CPU (RapidOCR)")."""
    text = _ENGINE_NAMES.get(engine)
    return translate("Names", text) if text else engine


def format_name(fmt: str) -> str:
    text = _FORMAT_NAMES.get(fmt)
    return translate("Names", text) if text else fmt.upper()


def region_name(label: str) -> str:
    """A region's label as the window says it: core names unnamed regions "Region N"."""
    if label.startswith("Region ") and label[7:].isdigit():
        return translate("Names", "Region {n}").format(n=label[7:])
    return label


def part_label(name: str, page: int, page_count: int, region_label: str = "") -> str:
    """"scan.pdf, page 3, Region 2" (core's PartResult.label), in the window's language."""
    parts = [name]
    if page_count > 1:
        parts.append(translate("Names", "page {n}").format(n=page))
    if region_label:
        parts.append(region_name(region_label))
    return translate("Names", ", ").join(parts)


def result_label(result) -> str:
    return part_label(result.name, result.page, result.page_count, result.region_label)


def localize(message: Any) -> Any:
    """A sentence from the core or an engine (core/messages.py) in the window's language:
    a `Text` by its template, its values localised too; a fixed sentence by its English.
    Anything else (a file name, a sentence no one marked) is left as it is."""
    if isinstance(message, Text):
        values = {k: localize(v) for k, v in message.values.items()}
        try:
            return translate(MESSAGES, message.template).format(**values)
        except (KeyError, IndexError, ValueError):  # a translation that lost a placeholder
            log.warning("translation of %r does not fit its values", message.template)
            return str.__str__(message)
    if isinstance(message, str) and message:
        return translate(MESSAGES, message)
    return message


def sentences(*parts: str) -> str:
    """Sentences one after the other: a space between them in English, none after a
    Chinese full stop."""
    parts = tuple(p.strip() for p in parts if p and p.strip())
    gap = "" if _spoken == "zh_CN" else " "
    return gap.join(parts)


def count(n: int, one: str, many: str) -> str:
    """`one` for 1, else `many` with {n}: both already translated (English has two forms,
    Chinese one; a text per form keeps the .ts free of plural rules)."""
    return one if n == 1 else many.replace("{n}", f"{n:,}")


def ts_path(language: str) -> Path:
    return I18N_DIR / f"{DOMAIN}_{language}.ts"


def ui_language(setting: str) -> str:
    """The language the window speaks for the `language` setting: "en" or "zh_CN"."""
    return pick_language(setting)


# subprocess, shutil and hashlib are imported where they are used: this module is on the
# path of the window's first paint (bench/startup.py), compiling almost never is.


def _tool(name: str) -> str | None:
    """A Qt Linguist tool shipped in the PySide6 wheel (pyside6-lupdate's real binary)."""
    import shutil

    import PySide6

    exe = name + (".exe" if sys.platform == "win32" else "")
    found = Path(PySide6.__file__).resolve().parent / exe
    if found.is_file():
        return str(found)
    return shutil.which(f"pyside6-{name}") or shutil.which(name)


def compile_ts(ts: Path, qm: Path) -> None:
    """`lrelease` one .ts file; raises OSError or CalledProcessError when it cannot."""
    import subprocess

    tool = _tool("lrelease")
    if tool is None:
        raise FileNotFoundError("pyside6-lrelease is not installed")
    qm.parent.mkdir(parents=True, exist_ok=True)
    tmp = qm.with_name(qm.name + ".tmp")
    subprocess.run([tool, "-silent", str(ts), "-qm", str(tmp)], check=True,
                   capture_output=True, timeout=60)
    tmp.replace(qm)  # a half-written .qm is never loaded


def qm_path(language: str) -> Path | None:
    """The compiled translation for `language`: the package's when it is current, else
    one compiled once into the cache (named by the .ts content, so an edit recompiles)."""
    ts = ts_path(language)
    packaged = ts.with_suffix(".qm")
    if getattr(sys, "frozen", False):
        # The bundle's build compiled it (installer/build.sh); there is no lrelease inside.
        return packaged if packaged.is_file() else None
    try:
        ts_stat = ts.stat()
    except OSError:
        # A frozen bundle carries only the .qm files.
        return packaged if packaged.is_file() else None
    try:
        if packaged.stat().st_mtime >= ts_stat.st_mtime:
            return packaged
    except OSError:
        pass
    import hashlib
    import subprocess

    import platformdirs

    from desktop_ocr import APP_ID

    digest = hashlib.sha1(ts.read_bytes()).hexdigest()[:12]
    cached = Path(platformdirs.user_cache_dir(APP_ID, appauthor=False)) / "i18n" / \
        f"{DOMAIN}_{language}-{digest}.qm"
    if not cached.is_file():
        try:
            compile_ts(ts, cached)
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("cannot compile the %s translation: %s", language, exc)
            return None
    return cached


def install(setting: str, app: QCoreApplication | None = None) -> str:
    """Load the translations for the `language` setting into the application (ours and
    Qt's own, for standard buttons and dialogs); returns the language now spoken."""
    global _spoken
    app = app or QCoreApplication.instance()
    if not setting:
        # The desktop's answer (Windows and macOS set no LANG for a program they start).
        languages = QLocale.system().uiLanguages()
        set_system_language(languages[0].replace("-", "_") if languages else None)
    language = ui_language(setting)
    uninstall(app)
    if language not in TRANSLATED or app is None:
        return "en"
    qm = qm_path(language)
    ours = QTranslator(app)
    if qm is None or not ours.load(str(qm)):
        log.warning("no %s translation could be loaded; the window stays in English", language)
        return "en"
    qt = QTranslator(app)
    if qt.load(f"qtbase_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
        _installed.append(qt)
    app.installTranslator(ours)
    _installed.append(ours)
    QLocale.setDefault(QLocale(language))
    _spoken = language
    return language


def uninstall(app: QCoreApplication | None = None) -> None:
    global _spoken
    _spoken = "en"
    app = app or QCoreApplication.instance()
    while _installed:
        translator = _installed.pop()
        if app is not None:
            app.removeTranslator(translator)
    QLocale.setDefault(QLocale.system())


# ---------------------------------------------------------------- maintaining the files

def sources() -> list[Path]:
    """The Python files whose texts are translated: the window's, and the core's and the
    engines' sentences for users (core/messages.py marks them)."""
    return sorted(p for folder in ("gui", "core", "engines") for p in (PACKAGE / folder).rglob("*.py"))


def update(languages: tuple[str, ...] = TRANSLATED, target: Path | None = None) -> None:
    """`lupdate` the sources into the .ts files (new texts unfinished, gone ones dropped).
    No line numbers are kept in the files: they would change with every edit of the code."""
    import subprocess

    tool = _tool("lupdate")
    if tool is None:
        raise FileNotFoundError("pyside6-lupdate is not installed")
    for language in languages:
        ts = target or ts_path(language)
        subprocess.run([tool, *map(str, sources()), "-locations", "none", "-no-obsolete",
                        "-target-language", language, "-ts", str(ts)],
                       check=True, capture_output=True, timeout=120)


def compile_all(dest: Path = I18N_DIR) -> list[Path]:
    out = []
    for language in TRANSLATED:
        qm = dest / f"{DOMAIN}_{language}.qm"
        compile_ts(ts_path(language), qm)
        out.append(qm)
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["update"]:
        update()
        return 0
    if args[:1] == ["compile"]:
        for qm in compile_all(Path(args[1]) if len(args) > 1 else I18N_DIR):
            print(qm)
        return 0
    print("usage: python -m desktop_ocr.gui.i18n update | compile [FOLDER]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
