"""The pure parts of `review github`: anchors, suggestions, markers, planning, rate-limit waits,
the Actions context."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewer.changeset import FileChange, FileStatus, Hunk
from reviewer.errors import UsageError
from reviewer.finding import Finding, Fix, Position, Severity, TextEdit
from reviewer.github import markers
from reviewer.github.anchors import Anchor, anchor_for, diff_lines
from reviewer.github.client import rate_limit_wait
from reviewer.github.context import pull_request_ref
from reviewer.github.plan import NOT_IN_DIFF, plan_review
from reviewer.github.state import PriorState
from reviewer.github.suggestions import fenced, suggestion_block

SHOWN = diff_lines([FileChange("app.py", FileStatus.MODIFIED, hunks=(Hunk(3, 4), Hunk(20, 3)))])


def _finding(first: int, last: int, *, fix: Fix | None = None, code: str = "TST001",
             severity: Severity = Severity.WARNING, fingerprint: str = "a" * 32) -> Finding:
    return Finding(code, "test-rule", severity, "message", "app.py", Position(first, 1), Position(last, 4),
                   "libcst", fix=fix, fingerprint=fingerprint)


@pytest.mark.parametrize(
    ("lines", "anchor"),
    [
        ((4, 4), Anchor("app.py", 4, 4)),
        ((3, 6), Anchor("app.py", 3, 6)),
        ((5, 9), Anchor("app.py", 5, 6)),  # cut to the hunk it starts in
        ((1, 3), Anchor("app.py", 3, 3)),
        ((7, 19), None),  # between the hunks
        ((8, 21), Anchor("app.py", 20, 21)),
    ],
)
def test_anchor_is_the_part_of_the_range_inside_one_hunk(lines: tuple[int, int], anchor: Anchor | None) -> None:
    assert anchor_for(_finding(*lines), SHOWN) == anchor


def test_anchor_comment_uses_line_and_start_line_never_position() -> None:
    assert Anchor("a.py", 4, 4).comment("b") == {"path": "a.py", "line": 4, "side": "RIGHT", "body": "b"}
    assert Anchor("a.py", 3, 4).comment("b") == {
        "path": "a.py", "line": 4, "side": "RIGHT", "body": "b", "start_line": 3, "start_side": "RIGHT"
    }


def test_suggestion_replaces_the_anchored_lines_with_their_fixed_text() -> None:
    source = "a = 1\nvalue = danger(\n    1,\n)\nb = 2\n"
    fix = Fix("Call safe()", (TextEdit(Position(2, 9), Position(2, 15), "safe"),))

    block = suggestion_block(_finding(2, 4, fix=fix), Anchor("app.py", 2, 4), source)

    assert block == "```suggestion\nvalue = safe(\n    1,\n)\n```"


def test_suggestion_fence_is_longer_than_any_backtick_run() -> None:
    source = 'doc = "```"\nx = eval(s)\n'
    fix = Fix("literal", (TextEdit(Position(2, 5), Position(2, 12), "ast.literal_eval(s)  # ````"),))

    block = suggestion_block(_finding(2, 2, fix=fix), Anchor("app.py", 2, 2), source)

    assert block == "`````suggestion\nx = ast.literal_eval(s)  # ````\n`````"
    assert fenced("suggestion", "") == "```suggestion\n```"  # a fix that deletes the lines


def test_no_suggestion_when_the_fix_reaches_beyond_the_anchored_lines() -> None:
    source = "import os\nx = 1\ny = 2\n"
    fix = Fix("two places", (TextEdit(Position(1, 1), Position(1, 10), "import sys"),
                             TextEdit(Position(3, 5), Position(3, 6), "3")))

    assert suggestion_block(_finding(3, 3, fix=fix), Anchor("app.py", 3, 3), source) is None
    assert suggestion_block(_finding(3, 3), Anchor("app.py", 3, 3), source) is None


def test_markers_round_trip_and_accept_only_hex() -> None:
    fingerprint = "0123456789abcdef" * 2
    body = f"text\n{markers.finding_marker(fingerprint)}"

    assert markers.finding_fingerprint(body) == fingerprint
    assert markers.finding_fingerprint("<!-- backend-reviewer:finding 0123-->") is None
    assert markers.listed_fingerprints(markers.listed_marker([fingerprint, "not-hex"])) == {fingerprint}
    assert markers.review_run_key(markers.review_marker("00ff" * 4)) == "00ff" * 4
    with pytest.raises(ValueError):
        markers.finding_marker("--><script>")


def test_plan_skips_listed_findings_and_caps_inline_comments_most_severe_first() -> None:
    warning, listed, note, error, outside = ("1" * 32, "2" * 32, "3" * 32, "4" * 32, "5" * 32)
    findings = [
        _finding(3, 3, fingerprint=warning),
        _finding(4, 4, fingerprint=listed),
        _finding(5, 5, fingerprint=note, severity=Severity.NOTE),
        _finding(6, 6, fingerprint=error, severity=Severity.ERROR),
        _finding(10, 10, fingerprint=outside),
    ]

    plan = plan_review(findings, SHOWN, PriorState(listed={listed}), max_comments=1)

    assert [f.fingerprint for f in plan.new] == [warning, note, error, outside]
    assert [(f.fingerprint, a.line) for f, a in plan.inline] == [(error, 6)]
    assert [(u.finding.fingerprint, u.reason) for u in plan.unplaced] == [
        (warning, "over the 1-comment limit"), (listed, "over the 1-comment limit"),
        (note, "over the 1-comment limit"), (outside, NOT_IN_DIFF),
    ]


@pytest.mark.parametrize(
    ("status", "headers", "wait"),
    [
        (403, {"Retry-After": "7"}, 7.0),
        (429, {"Retry-After": "0"}, 1.0),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1030"}, 31.0),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "990"}, 1.0),
        (429, {}, 60.0),
        (403, {"x-ratelimit-remaining": "12"}, None),  # a permission problem, not a rate limit
    ],
)
def test_rate_limit_wait_follows_githubs_headers(status: int, headers: dict[str, str], wait: float | None) -> None:
    assert rate_limit_wait(status, headers, now=1000.0) == wait


def test_actions_environment_names_the_pull_request(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 42, "head": {"sha": "a" * 40}}}))
    environ = {"GITHUB_EVENT_PATH": str(event), "GITHUB_REPOSITORY": "acme/shop", "GITHUB_TOKEN": "ghs_x",
               "GITHUB_API_URL": "https://ghe.example.com/api/v3/"}

    ref = pull_request_ref(None, None, "GITHUB_TOKEN", None, environ)

    assert (ref.repo, ref.number, ref.api_url) == ("acme/shop", 42, "https://ghe.example.com/api/v3")
    assert "ghs_x" not in repr(ref)
    assert pull_request_ref("o/r", 5, "GITHUB_TOKEN", "https://api.example", environ).number == 5


@pytest.mark.parametrize(
    ("repo", "number", "environ", "message"),
    [
        (None, 1, {"GITHUB_TOKEN": "t"}, "no repository: pass --repo owner/name (GITHUB_REPOSITORY is not set)"),
        ("acme", 1, {"GITHUB_TOKEN": "t"}, "--repo must be owner/name, not 'acme'"),
        ("a/b", None, {"GITHUB_TOKEN": "t", "GITHUB_EVENT_NAME": "push"},
         "no pull request to review: pass --pr N (the push event names none)"),
        ("a/b", 1, {"GITHUB_TOKEN": " "}, "no GitHub token: $GITHUB_TOKEN is empty or not set (see --token-env)"),
    ],
)
def test_missing_or_bad_context_is_a_one_line_usage_error(
    repo: str | None, number: int | None, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(UsageError) as raised:
        pull_request_ref(repo, number, "GITHUB_TOKEN", None, environ)
    assert str(raised.value) == message
