"""Writing a report to the file the user named, without harming what was there.

A regular file is replaced atomically (a crash mid-write leaves the old report whole) and keeps
its permissions; a symlink is followed, so the link stays a link. Written in place instead:
devices, pipes and the shell's stand-ins for them (`-o /dev/null`, `-o /dev/stdout`, `-o
>(gzip > r.gz)`), never replaced by a regular file — `/dev/stdout` and `/dev/fd/N` appended to,
as the shell opened them — and a file that cannot be replaced without losing something (in a
folder we may not write, with other hard links, or owned by someone else).
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from reviewer.errors import UsageError

# Paths that name an already open file (the shell's redirections), not a place to create one.
_STREAM_FOLDERS = ("/dev/", "/proc/")
_CANNOT_REPLACE = (errno.EACCES, errno.EPERM, errno.ENAMETOOLONG, errno.EROFS)


def write_report(path: Path, text: str) -> None:
    data = text.encode("utf-8", "backslashreplace")
    try:
        existing = _stat(path)
        if str(path).startswith(_STREAM_FOLDERS) and existing is not None:
            _write_in_place(path, data, append=True)
        elif existing is not None and not stat.S_ISREG(existing.st_mode):
            _write_in_place(path, data, append=False)
        elif existing is not None and (existing.st_nlink > 1 or existing.st_uid != os.geteuid()):
            _write_in_place(path, data, append=False)
        else:
            _replace(Path(os.path.realpath(path)), data, existing)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)  # through symlinks, the /proc ones included
    except FileNotFoundError:
        return None


def _write_in_place(path: Path, data: bytes, *, append: bool) -> None:
    with open(path, "ab" if append else "wb") as handle:
        handle.write(data)


def _replace(target: Path, data: bytes, existing: os.stat_result | None) -> None:
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".review-")
    except OSError as error:
        if existing is not None and error.errno in _CANNOT_REPLACE:
            _write_in_place(target, data, append=False)  # a writable file in a folder we may not write
            return
        raise
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, stat.S_IMODE(existing.st_mode) if existing is not None else 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
