"""Wall time of `review diff` against semgrep and bandit run alone on the same files.

Builds a throw-away git repository from real Python sources installed on this machine (a
package's own modules), makes a change touching N files, and times, median of R runs:
  review   `review diff BASE...HEAD --format json` (all three engines, filters, fingerprints)
  semgrep  `semgrep scan --json` with the same semgrep rules on the same files
  bandit   `python -m bandit -f json` on the same files
then prints the times and the ratios review/semgrep and review/bandit.

    python benchmarks/bench_review.py --files 10 --runs 3 --package werkzeug
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reviewer.catalog import load_catalog
from reviewer.engines.semgrep_engine import QUIET_ENV
from reviewer.engines.subprocess_engine import find_executable


def package_sources(package: str, count: int) -> list[Path]:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package {package!r} is not installed")
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(p for p in folder.rglob("*.py") if p.stat().st_size > 2000)
    if len(files) < count:
        raise SystemExit(f"{package} has only {len(files)} suitable files")
    return files[:count]


CHANGES = {
    # Every changed file gains a query built from a value: every rule engine has work to do.
    "sql": (
        "\n\ndef changed_handler_{index}(cursor, user_id):\n"
        "    cursor.execute(f\"SELECT * FROM accounts WHERE id = {{user_id}}\")\n"
        "    return cursor.fetchall()\n"
    ),
    # A change with no database code, like most files of most pull requests.
    "plain": "\n\ndef changed_helper_{index}(values):\n    return sorted(set(values))\n",
}


def build_repo(workdir: Path, sources: list[Path], change: str = "sql") -> tuple[Path, list[str]]:
    repo = workdir / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "bench@example.com")
    git("config", "user.name", "bench")
    relative = []
    for index, source in enumerate(sources):
        name = f"app/module_{index:02d}.py"
        (repo / "app").mkdir(exist_ok=True)
        (repo / name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        relative.append(name)
    git("add", "-A")
    git("commit", "-qm", "base")
    git("checkout", "-qb", "feature")
    for index, name in enumerate(relative):
        path = repo / name
        text = path.read_text(encoding="utf-8")
        path.write_text(text + CHANGES[change].format(index=index), encoding="utf-8")
    git("commit", "-qam", "feature")
    return repo, relative


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, capture_output=True, env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - started
    if completed.returncode not in (0, 1):
        raise SystemExit(f"{command[0]} failed ({completed.returncode}): {completed.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--package", default="werkzeug", help="installed package whose modules form the corpus")
    parser.add_argument("--change", choices=sorted(CHANGES), default="sql", help="what the change adds to each file")
    args = parser.parse_args()

    semgrep = find_executable("semgrep")
    review = find_executable("review")
    if semgrep is None or review is None:
        raise SystemExit("install the project first: pip install .")
    rule_args = [arg for rule in load_catalog().semgrep_rules for arg in ("--config", str(rule.path))]
    with tempfile.TemporaryDirectory() as workdir:
        repo, files = build_repo(Path(workdir), package_sources(args.package, args.files), args.change)
        commands = {
            "review": ([review, "diff", "main...feature", "--format", "json"], {}),
            "semgrep": (
                [semgrep, "scan", "--json", "--quiet", "--metrics=off", "--disable-version-check", *rule_args, "--", *files],
                QUIET_ENV,
            ),
            "bandit": ([sys.executable, "-m", "bandit", "-f", "json", "-q", "--", *files], {}),
        }
        times = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, (command, env) in commands.items():
                times[name].append(timed(command, repo, env))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"{args.files} changed files from {args.package} ({args.change} change), "
        f"median of {args.runs} runs, {os.cpu_count()} CPUs"
    )
    for name, value in medians.items():
        print(f"  {name:<8} {value:6.2f} s   (runs: {', '.join(f'{v:.2f}' for v in times[name])})")
    print(f"  review / semgrep alone: {medians['review'] / medians['semgrep']:.2f}x")
    print(f"  review / bandit alone:  {medians['review'] / medians['bandit']:.2f}x")


if __name__ == "__main__":
    main()
