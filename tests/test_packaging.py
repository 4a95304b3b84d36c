"""The wheel carries the package and the built-in rules, and `review` works from it alone.

The wheel is built with the already-installed backend and installed into a fresh virtual
environment that reuses this environment's packages (`--system-site-packages`), so nothing is
downloaded.
"""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

from conftest import REPO_ROOT


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed


def test_wheel_ships_rules_and_runs_in_a_fresh_environment(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(dist), str(REPO_ROOT)],
        tmp_path,
    )
    [wheel] = dist.glob("backend_reviewer-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "reviewer/rules/python/sql/sql001_string_built_sql.py" in names
    assert "reviewer/rules/semgrep/python/security/request-data-in-shell-command.yaml" in names
    assert "reviewer/config-schema.json" in names
    assert "reviewer/report/review-result.schema.json" in names
    assert not any(name.startswith(("tests/", "rules/")) for name in names)

    environment = tmp_path / "venv"
    venv.create(environment, system_site_packages=True, with_pip=False)
    python = environment / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)], tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    location = _run([str(python), "-c", "import reviewer; print(reviewer.__file__)"], elsewhere).stdout.strip()
    assert location.startswith(str(environment)), location
    rules = _run([str(environment / "bin" / "review"), "rules"], elsewhere).stdout
    codes = {line.split()[0] for line in rules.splitlines() if line.strip()}
    assert {"SQL001", "SEC001", "SQL101", "MIG001", "RVW001", "B608"} <= codes
