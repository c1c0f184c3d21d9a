"""The one way the app writes a file it owns or the user asked for: atomically.

Content goes to a temporary file in the target's folder, is flushed and fsynced, then
`os.replace` puts it in place, so a crash, a full disk or a killed process leaves either
the old file or the complete new one, never half of either. Exports, settings, saved
prompts and the library's side files all come through here.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO


class SaveError(OSError):
    """Saving failed; `str()` is a plain-language message for the user."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "Saving failed."


def atomic_write(path: str | os.PathLike[str], write: bytes | Callable[[BinaryIO], Any], *,
                 mode: int | None = None, make_parents: bool = False) -> Path:
    """Write `path` so that it is either the old file or the complete new one.

    `write` is the content, or a function writing it to a binary file object. `mode`
    forces the file's permissions (0o600 for private files); without it a replaced file
    keeps its mode and a new one gets the umask's. `make_parents` creates missing folders
    (for the app's own files; an export into a folder that is not there is refused).
    Raises SaveError (the cause chained) on any failure; the temporary file is removed.
    """
    target = Path(path)
    parent = target.parent
    if make_parents:
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SaveError(_message(target, exc)) from exc
    existed = target.exists()
    kept = " The existing file was left unchanged." if existed else ""
    if not parent.exists():
        raise SaveError(f"Cannot save {target}: the folder {parent} does not exist.")
    if not parent.is_dir():
        raise SaveError(f"Cannot save {target}: {parent} is not a folder.")
    if target.is_dir():
        raise SaveError(f"Cannot save {target}: a folder of that name is there.")
    tmp = parent / f".{target.name}.{os.urandom(4).hex()}.tmp"
    try:
        # 0o666 lets the umask decide a new file's mode, as for any new file
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o600 if mode is not None else 0o666)
    except OSError as exc:
        raise SaveError(_message(target, exc) + kept) from exc
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
        elif existed:
            try:
                os.chmod(tmp, target.stat().st_mode & 0o7777)
            except OSError:
                pass
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, SaveError):
            raise SaveError(_message(target, exc) + kept) from exc
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str, *, mode: int | None = None,
                      make_parents: bool = True) -> Path:
    return atomic_write(path, text.encode("utf-8"), mode=mode, make_parents=make_parents)


def _message(target: Path, exc: OSError) -> str:
    where = target.parent
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        why = f"the disk holding {where} is full"
    elif code in (errno.EACCES, errno.EPERM):
        why = f"no permission to write in {where}"
    elif code == errno.EROFS:
        why = f"{where} is on a read-only disk"
    elif code == errno.ENOENT:
        why = f"the folder {where} does not exist"
    elif code == errno.ENOTDIR:
        why = f"{where} is not a folder"
    elif code == errno.EISDIR:
        why = "a folder of that name is there"
    elif code == errno.ENAMETOOLONG:
        why = "the file name is too long"
    else:
        why = exc.strerror or str(exc)
    return f"Cannot save {target}: {why}."
