"""Which files `review check PATH...` looks at: tracked and untracked-but-not-ignored files under
the paths (so virtualenvs and node_modules listed in .gitignore stay out), or a plain walk
outside git. Paths outside the repository are refused.
"""

from __future__ import annotations

import os
from pathlib import Path

from reviewer import git
from reviewer.errors import UsageError

SKIPPED_FOLDERS = {".git", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".mypy_cache", ".pytest_cache"}


def files_under(root: Path, paths: list[Path]) -> list[str]:
    root = root.resolve()
    relative = []
    for path in paths:
        absolute = (Path.cwd() / path).resolve()
        if not absolute.exists():
            raise UsageError(f"no such file or folder: {path}")
        if not absolute.is_relative_to(root):
            raise UsageError(f"{path} is outside the repository {root}")
        relative.append(absolute.relative_to(root).as_posix() or ".")
    if (root / ".git").exists():
        # Literal pathspecs: `a[1].py` names that file, not a glob that also matches `a1.py`.
        output = git.run_git(
            root, "--literal-pathspecs", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *relative
        )
        names = {name for name in output.decode("utf-8", "surrogateescape").split("\0") if name}
        return sorted(name for name in names if (root / name).is_file() and not (root / name).is_symlink())
    return sorted(_walk(root, relative))


def _walk(root: Path, relative: list[str]) -> set[str]:
    found = set()
    for start in relative:
        base = root / start
        if base.is_file():
            found.add(start)
            continue
        for folder, subfolders, filenames in os.walk(base):
            subfolders[:] = [name for name in subfolders if name not in SKIPPED_FOLDERS and not name.startswith(".")]
            for filename in filenames:
                full = Path(folder) / filename
                if full.is_file() and not full.is_symlink():
                    found.add(full.relative_to(root).as_posix())
    return found
