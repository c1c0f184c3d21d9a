"""The one way the app writes a file it owns or the user asked for: atomically.

Content goes to a temporary file in the target's folder, is flushed and fsynced, then
`os.replace` puts it in place, so a crash, a full disk or a killed process leaves either
the old file or the complete new one, never half of either. Exports, settings, saved
prompts and the library's side files all come through here.

Only regular files are replaced. A symlink is followed to its final target, and that
target is replaced in its own folder (the link stays a link; `os.replace` onto the link
itself would turn it into a file and leave the target stale). A device, named pipe or
socket is refused: replacing `/dev/null` with a file (as root) breaks the system, and
"saving" into a pipe is not atomic anyway.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from desktop_ocr.core.messages import QT_TRANSLATE_NOOP, Text, sentences


class SaveError(OSError):
    """Saving failed; `str()` is a plain-language message for the user."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "Saving failed."


def _resolve(path: str | os.PathLike[str], make_parents: bool
             ) -> tuple[Path, Path, os.stat_result | None]:
    """(the name asked for, the file to replace, its stat or None); raises SaveError."""
    asked = Path(path)
    try:
        # The final target of a chain of links; the name itself when it is not a link.
        target = Path(os.path.realpath(asked, strict=False)) if asked.is_symlink() else asked
    except OSError as exc:  # a link loop (ELOOP) or an unreadable folder on the way
        raise SaveError(_message(asked, exc)) from exc
    parent = target.parent
    if make_parents:
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SaveError(_message(asked, exc)) from exc
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SaveError(_cannot(asked, QT_TRANSLATE_NOOP(
                "Messages", "its symbolic links go round in a loop"))) from exc
        if exc.errno == errno.ENOTDIR:
            raise SaveError(_cannot(asked, _not_a_folder(parent))) from exc
        st = None
    if not parent.exists():
        raise SaveError(_cannot(asked, _no_folder(parent)))
    if not parent.is_dir():
        raise SaveError(_cannot(asked, _not_a_folder(parent)))
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise SaveError(_cannot(asked, FOLDER_THERE))
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise SaveError(_cannot(asked, Text(QT_TRANSLATE_NOOP(
            "Messages", "it is not a regular file ({kind}); choose a file name"),
            kind=_kind(st.st_mode))))
    return asked, target, st


def check_target(path: str | os.PathLike[str]) -> None:
    """Raise SaveError unless a save to `path` could go ahead (folder there, not a folder,
    device, pipe or socket): lets a command refuse a bad --out before any work."""
    _resolve(path, make_parents=False)


def atomic_write(path: str | os.PathLike[str], write: bytes | Callable[[BinaryIO], Any], *,
                 mode: int | None = None, make_parents: bool = False) -> Path:
    """Write `path` so that it is either the old file or the complete new one.

    `write` is the content, or a function writing it to a binary file object. `mode`
    forces the file's permissions (0o600 for private files); without it a replaced file
    keeps its mode and a new one gets the umask's. `make_parents` creates missing folders
    (for the app's own files; an export into a folder that is not there is refused).
    Raises SaveError (the cause chained) on any failure; the temporary file is removed.
    """
    asked, target, st = _resolve(path, make_parents)
    parent = target.parent
    kept = (QT_TRANSLATE_NOOP("Messages", "The existing file was left unchanged.")
            if st is not None else "")
    tmp = parent / f".{target.name}.{os.urandom(4).hex()}.tmp"
    try:
        # 0o666 lets the umask decide a new file's mode, as for any new file
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o600 if mode is not None else 0o666)
    except OSError as exc:
        raise SaveError(sentences(_message(asked, exc, parent), kept)) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            if callable(write):
                write(fh)
            else:
                fh.write(write)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        elif st is not None:
            with contextlib.suppress(OSError):
                os.chmod(tmp, stat.S_IMODE(st.st_mode))
        if st is not None and hasattr(os, "chown") and os.geteuid() == 0:
            # root saving a user's file must not hand it to root
            with contextlib.suppress(OSError):
                os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, SaveError):
            raise SaveError(sentences(_message(asked, exc, parent), kept)) from exc
        raise
    return asked


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return QT_TRANSLATE_NOOP("Messages", "a device")
    if stat.S_ISFIFO(mode):
        return QT_TRANSLATE_NOOP("Messages", "a named pipe")
    if stat.S_ISSOCK(mode):
        return QT_TRANSLATE_NOOP("Messages", "a socket")
    return QT_TRANSLATE_NOOP("Messages", "a special file")


def atomic_write_text(path: str | os.PathLike[str], text: str, *, mode: int | None = None,
                      make_parents: bool = True) -> Path:
    return atomic_write(path, text.encode("utf-8"), mode=mode, make_parents=make_parents)


FOLDER_THERE = QT_TRANSLATE_NOOP("Messages", "a folder of that name is there")


def _cannot(target: Path, why: str) -> Text:
    return Text(QT_TRANSLATE_NOOP("Messages", "Cannot save {path}: {why}."), path=str(target), why=why)


def _not_a_folder(where: Path) -> Text:
    return Text(QT_TRANSLATE_NOOP("Messages", "{path} is not a folder"), path=str(where))


def _no_folder(where: Path) -> Text:
    return Text(QT_TRANSLATE_NOOP("Messages", "the folder {path} does not exist"), path=str(where))


def _message(target: Path, exc: OSError, where: Path | None = None) -> Text:
    where = where or target.parent
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        why = Text(QT_TRANSLATE_NOOP("Messages", "the disk holding {path} is full"), path=str(where))
    elif code in (errno.EACCES, errno.EPERM):
        why = Text(QT_TRANSLATE_NOOP("Messages", "no permission to write in {path}"), path=str(where))
    elif code == errno.EROFS:
        why = Text(QT_TRANSLATE_NOOP("Messages", "{path} is on a read-only disk"), path=str(where))
    elif code == errno.ENOENT:
        why = _no_folder(where)
    elif code == errno.ENOTDIR:
        why = _not_a_folder(where)
    elif code == errno.EISDIR:
        why = FOLDER_THERE
    elif code == errno.ENAMETOOLONG:
        why = QT_TRANSLATE_NOOP("Messages", "the file name is too long")
    else:
        why = exc.strerror or str(exc)
    return _cannot(target, why)
