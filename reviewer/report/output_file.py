"""Writing a report to the file the user named, without harming what was there.

A regular file is replaced atomically (a crash mid-write leaves the old report whole) and keeps
its permissions; a symlink is followed, so the link stays a link; a device or pipe (`-o
/dev/null`, `-o /dev/stdout`, a FIFO) is written in place, never replaced by a regular file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from reviewer.errors import UsageError


def write_report(path: Path, text: str) -> None:
    target = path.resolve() if path.is_symlink() else path
    data = text.encode("utf-8", "backslashreplace")
    try:
        existing = target.stat()
    except FileNotFoundError:
        existing = None
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None
    try:
        if existing is not None and not stat.S_ISREG(existing.st_mode):
            with open(target, "wb") as handle:
                handle.write(data)
            return
        _replace(target, data, None if existing is None else stat.S_IMODE(existing.st_mode))
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None


def _replace(target: Path, data: bytes, mode: int | None) -> None:
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        temporary.write_bytes(data)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
