"""What the semgrep and bandit engines share: a tool started in the background and awaited later.

Both run as one child process for all files, started before the libcst workers so the three
engines overlap; output goes to a temp file, not a pipe, so nobody has to drain it meanwhile.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from reviewer.result import EngineFailure


def find_executable(name: str) -> str | None:
    """Prefer the tool installed beside this Python (the same venv), else the PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


# What an engine process may see of our environment: enough to run, never a token or secret.
_PASSED_VARIABLES = (
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT",
    "VIRTUAL_ENV", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "SSL_CERT_FILE", "SSL_CERT_DIR",
)


def engine_environment(extra: dict[str, str]) -> dict[str, str]:
    """A minimal environment for an engine: the review may hold a GitHub token, the engine needs
    none. Relative PYTHONPATH entries are dropped, since they would resolve inside a folder of
    reviewed code."""
    environment = {name: value for name, value in os.environ.items() if name in _PASSED_VARIABLES or name.startswith("LC_")}
    python_path = [entry for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if os.path.isabs(entry)]
    if python_path:
        environment["PYTHONPATH"] = os.pathsep.join(python_path)
    return {**environment, **extra}


@dataclass
class BackgroundTool:
    engine: str
    command: list[str]
    cwd: Path
    timeout: float
    env: dict[str, str] = field(default_factory=dict)
    _process: subprocess.Popen | None = None
    _stdout: object = None
    _stderr: object = None
    _started: float = 0.0
    _finished: float | None = None

    def start(self) -> EngineFailure | None:
        self._stdout = tempfile.TemporaryFile()
        self._stderr = tempfile.TemporaryFile()
        self._started = time.monotonic()
        try:
            self._process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=self._stdout,
                stderr=self._stderr,
                env=engine_environment(self.env),
            )
        except OSError as error:
            self._close()
            return EngineFailure(self.engine, f"could not start {self.command[0]}: {error.strerror}")
        return None

    def poll(self) -> None:
        """Note the moment the tool exits (called while other work goes on), for `seconds()`."""
        if self._finished is None and self._process is not None and self._process.poll() is not None:
            self._finished = time.monotonic()

    def wait(self) -> tuple[int, bytes, bytes] | EngineFailure:
        """(exit code, stdout, stderr), or a failure when the tool ran past its timeout."""
        assert self._process is not None
        remaining = self.timeout - (time.monotonic() - self._started)
        try:
            code = self._process.wait(timeout=max(remaining, 0.1))
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
            self._close()
            return EngineFailure(self.engine, f"timed out after {self.timeout:g}s (engines.{self.engine}.timeout)")
        self.poll()
        self._stdout.seek(0)
        self._stderr.seek(0)
        out, err = self._stdout.read(), self._stderr.read()
        self._close()
        return code, out, err

    def stop(self) -> None:
        """Kill the tool if it still runs (the review ended early) and release its files."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._close()

    def seconds(self) -> float:
        """Wall time from start to exit (to when it was collected, if nothing polled it sooner)."""
        return (self._finished or time.monotonic()) - self._started

    def _close(self) -> None:
        for handle in (self._stdout, self._stderr):
            if handle is not None:
                handle.close()


def last_line(data: bytes) -> str:
    """The last non-empty line of a tool's stderr: usually the actual error."""
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no error output"


def byte_column_to_code_points(line_text: str, byte_column: int) -> int:
    """Convert a 1-based UTF-8 byte column (semgrep, Python's ast) to a 1-based code-point column."""
    prefix = line_text.encode("utf-8")[: max(byte_column - 1, 0)]
    return len(prefix.decode("utf-8", "ignore")) + 1
