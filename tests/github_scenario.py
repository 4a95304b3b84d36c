"""A pull request for `review github` tests: a real git repository holds the code, the fake
GitHub holds the pull request (its files API patches made by real git from that repository),
and the real command runs in-process against the fake over real HTTP."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import GitRepo
from fakegithub import FakeGitHub, PullFile
from reviewer.cli import main

REPO = "acme/shop"
NUMBER = 7
# The scenarios pin the rules they exercise, so new rules in the built-in packs do not change them.
NO_SEMGREP = "engines: {semgrep: {enabled: false}}\nselect: [SQL001, B]\n"
ACTIONS_VARIABLES = (
    "GITHUB_ACTIONS", "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY", "GITHUB_API_URL",
    "GITHUB_TOKEN", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT",
)


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


class PullScenario:
    """Base commit on `main`, head commits on `feature`; the fake's PR follows every push."""

    def __init__(self, repo: GitRepo, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch,
                 capfd: pytest.CaptureFixture[str], scratch: Path, number: int = NUMBER) -> None:
        self.repo, self.fake, self.monkeypatch, self.capfd = repo, fake, monkeypatch, capfd
        self.number = number
        self.step_summary = scratch / "step-summary.md"
        self.outputs = scratch / "outputs.txt"
        self.base_sha = ""
        self.head_sha = ""

    def base(self, files: dict[str, str], config: str | None = NO_SEMGREP) -> str:
        if config is not None:
            self.repo.write(".reviewer.yml", config)
        for path, text in files.items():
            self.repo.write(path, text)
        self.base_sha = self.repo.commit("base")
        self.repo.git("checkout", "-q", "-b", "feature")
        return self.base_sha

    def push(self, files: dict[str, str | None], listed: list[PullFile] | None = None,
             **pull_details: object) -> str:
        """Commit `files` (None deletes) on the feature branch and show the PR at that commit;
        `listed` replaces the files API's entries made from git."""
        for path, text in files.items():
            if text is None:
                self.repo.git("rm", "-q", path)
            else:
                self.repo.write(path, text)
        first = not self.head_sha
        self.head_sha = self.repo.commit("head")
        pull_files = listed if listed is not None else self.pull_files()
        if first:
            self.fake.add_pull(REPO, self.number, pull_files, head_sha=self.head_sha, base_sha=self.base_sha,
                               **pull_details)
        else:
            self.fake.push(REPO, self.number, self.head_sha, pull_files)
        return self.head_sha

    def pull_files(self) -> list[PullFile]:
        """The files API's view of base...head, made by git: hunks only, no trailing newline."""
        statuses = {"A": "added", "M": "modified", "D": "removed", "R": "renamed"}
        entries = []
        listing = self.repo.git("diff", "--name-status", "-M", f"{self.base_sha}...{self.head_sha}")
        for line in listing.splitlines():
            fields = line.split("\t")
            kind, paths = fields[0][0], fields[1:]
            diff = self.repo.git("diff", "-M", "-U3", f"{self.base_sha}...{self.head_sha}", "--", *paths)
            patch = diff[diff.index("@@"):].rstrip("\n") if "\n@@ " in diff else None
            previous = paths[0] if kind == "R" else None
            entries.append(PullFile(paths[-1], patch, statuses[kind], previous))
        return entries

    def run(self, *args: str, token: str = FakeGitHub.WRITE_TOKEN, pr: int | None = None,
            cwd: Path | None = None) -> Run:
        for name in ACTIONS_VARIABLES:
            self.monkeypatch.delenv(name, raising=False)
        self.monkeypatch.setenv("GITHUB_TOKEN", token)
        self.monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(self.step_summary))
        self.monkeypatch.setenv("GITHUB_OUTPUT", str(self.outputs))
        self.monkeypatch.chdir(cwd or self.repo.path)
        self.capfd.readouterr()
        number = str(pr if pr is not None else self.number)
        code = main(["github", "--repo", REPO, "--pr", number, "--api-url", self.fake.base_url, *args])
        out, err = self.capfd.readouterr()
        assert "Traceback" not in err, err
        return Run(code, out, err)

    @property
    def pull(self):  # type: ignore[no-untyped-def]
        return self.fake.pull(REPO, self.number)

    def comments(self) -> list[tuple[str, int | None, int | None]]:
        """(path, start_line, line) of every review comment, oldest first."""
        return [(c.path, c.start_line, c.line) for c in self.pull.review_comments]


def fingerprint_in(body: str) -> str:
    match = re.search(r"<!-- backend-reviewer:finding ([0-9a-f]{32}) -->", body)
    assert match, body
    return match.group(1)
