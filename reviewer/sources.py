"""Reading the code under review, safely: inside the repository only, size-capped, decoded once.

The head side of a change is either the working tree or a commit (read from git objects, so a
range is reviewed without checking it out). Nothing read here is ever executed or imported.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from reviewer import git
from reviewer.diagnostics import FILE_SKIPPED, diagnostic
from reviewer.finding import Finding

BINARY_SNIFF_BYTES = 8000
CODING_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=]", re.MULTILINE)


@dataclass(frozen=True)
class SourceFile:
    path: str
    text: str
    # The bytes as stored, so engines that read files themselves see exactly what we decoded.
    data: bytes


@dataclass
class ReadOutcome:
    files: dict[str, SourceFile]
    skipped: list[Finding]


def decode_source(path: str, data: bytes) -> str:
    """Decode as Python does for .py files (BOM, PEP 263 cookie), as UTF-8 otherwise.

    Raises ValueError with a reason a person understands.
    """
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        raise ValueError("binary file")
    if path.endswith((".py", ".pyi")):
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError as error:
            if not CODING_COOKIE.search(b"\n".join(data.split(b"\n", 2)[:2])):
                raise ValueError("not valid utf-8 text") from error
            raise ValueError(f"bad encoding declaration: {error.msg}") from error
    else:
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        raise ValueError(f"not valid {encoding.replace('-sig', '')} text") from error


def _human_size(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KiB"


class _Source:
    def read(self, paths: Iterable[str]) -> ReadOutcome:
        raise NotImplementedError

    def read_text(self, path: str) -> str | None:
        """One repository file for a rule that needs context (e.g. Django settings); None if unusable.

        Rules ask for the same few files (settings, earlier migrations) for every file they check,
        so answers are cached per source object (each worker process has its own copy).
        """
        cache = self.__dict__.setdefault("_text_cache", {})
        if path not in cache:
            source = self.read([path]).files.get(path)
            cache[path] = source.text if source else None
        return cache[path]


@dataclass(frozen=True)
class WorktreeSource(_Source):
    """Files as they are on disk under `root`. Paths that resolve outside `root` are refused."""

    root: Path
    max_bytes: int

    def read(self, paths: Iterable[str]) -> ReadOutcome:
        outcome = ReadOutcome({}, [])
        root = self.root.resolve()
        for path in paths:
            data_or_reason = self._read_bytes(root, path)
            _collect(outcome, path, data_or_reason, self.max_bytes)
        return outcome

    def _read_bytes(self, root: Path, path: str) -> bytes | str | int:
        candidate = root / path
        try:
            resolved = candidate.resolve()
        except (OSError, RuntimeError):
            return "path cannot be resolved"
        if not resolved.is_relative_to(root):
            return "resolves outside the repository"
        if candidate.is_symlink():
            return "symbolic link (its target is reviewed under its own path)"
        if not resolved.is_file():
            return "not a regular file"
        size = resolved.stat().st_size
        if size > self.max_bytes:
            return size
        try:
            return resolved.read_bytes()
        except OSError as error:
            return f"cannot be read: {error.strerror}"


@dataclass(frozen=True)
class CommitSource(_Source):
    """Files as they are in commit `commit`, read from git objects."""

    root: Path
    commit: str
    max_bytes: int

    def read(self, paths: Iterable[str]) -> ReadOutcome:
        outcome = ReadOutcome({}, [])
        paths = list(paths)
        blobs = git.read_blobs(self.root, self.commit, paths, self.max_bytes)
        for path in paths:
            blob = blobs.get(path)
            if blob is None or blob.kind == "missing":
                data_or_reason: bytes | str | int = f"not found in commit {self.commit[:12]}"
            elif blob.kind == "too_large":
                data_or_reason = blob.size
            elif blob.kind != "file":
                data_or_reason = f"{blob.kind} entry"
            else:
                data_or_reason = blob.data or b""
            _collect(outcome, path, data_or_reason, self.max_bytes)
        return outcome


def _collect(outcome: ReadOutcome, path: str, data_or_reason: bytes | str | int, max_bytes: int) -> None:
    if isinstance(data_or_reason, int):
        reason = f"{_human_size(data_or_reason)} is over the {_human_size(max_bytes)} cap (max-file-bytes)"
    elif isinstance(data_or_reason, str):
        reason = data_or_reason
    else:
        try:
            text = decode_source(path, data_or_reason)
        except ValueError as error:
            reason = str(error)
        else:
            outcome.files[path] = SourceFile(path, text, data_or_reason)
            return
    outcome.skipped.append(diagnostic(FILE_SKIPPED, path, f"not reviewed: {reason}"))
