"""GitHub's rules for where a review comment may sit, beyond what the OpenAPI schema says.

`line` (and `start_line`) must be shown in one hunk of the file's patch on the given side
(RIGHT: new file, added and context lines; LEFT: old file, deleted and context lines), the
range must run forwards, and the path must be one of the PR's files. In a review, one bad
entry rejects the whole review and the error does not say which entry it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fakegithub.errors import ApiError
from fakegithub.patches import RIGHT, SIDES, number_on, side_of

if TYPE_CHECKING:
    from fakegithub.state import PullRequest, ReviewComment

# (field, complaint): GitHub words these as "Pull request review thread <field> <complaint>".
PATH_INVALID = ("path", "is invalid")
LINE_OUTSIDE_DIFF = ("line", "must be part of the diff")
HUNK_BLANK = ("diff_hunk", "can't be blank")
START_NOT_BEFORE_END = ("start_line", "must precede the end line.")
START_IN_OTHER_HUNK = ("start_line", "must be part of the same hunk as the line.")
SIDE_INVALID = ("diff_side", "must be LEFT or RIGHT")

Problem = tuple[str, str]


@dataclass(frozen=True)
class Placement:
    path: str
    line: int | None
    side: str | None
    start_line: int | None
    start_side: str | None
    position: int | None
    diff_hunk: str
    subject_type: str = "line"
    used_position: bool = False


def place_review_comments(pull: PullRequest, items: list[dict[str, Any]]) -> list[Placement]:
    """Place every comment of a review, or reject them all with GitHub's single sentence."""
    placements: list[Placement] = []
    problems: list[Problem] = []
    for item in items:
        placement, found = _place(pull, item)
        problems.extend(problem for problem in found if problem not in problems)
        if placement is not None:
            placements.append(placement)
    if problems:
        sentences = [f"Pull request review thread {field.replace('_', ' ')} {text}" for field, text in problems]
        raise ApiError(422, "Unprocessable Entity", [_to_sentence(sentences)])
    return placements


def place_single_comment(pull: PullRequest, item: dict[str, Any]) -> Placement:
    """Place a comment made with POST .../comments; refusals name the failing field."""
    placement, problems = _place(pull, item)
    if placement is None:
        errors = [
            {
                "resource": "PullRequestReviewComment",
                "code": "custom",
                "field": f"pull_request_review_thread.{field}",
                "message": f"pull_request_review_thread.{field} {text}",
            }
            for field, text in problems
        ]
        raise ApiError(422, "Validation Failed", errors)
    return placement


def reply_placement(parent: ReviewComment) -> Placement:
    """A reply sits where its parent sits (GitHub ignores every other field of a reply)."""
    return Placement(
        parent.path,
        parent.line,
        parent.side,
        parent.start_line,
        parent.start_side,
        parent.position,
        parent.diff_hunk,
        parent.subject_type,
    )


def _place(pull: PullRequest, item: dict[str, Any]) -> tuple[Placement | None, list[Problem]]:
    path = item["path"]
    used_position = "position" in item
    pull_file = pull.file(path)
    if pull_file is None:
        return None, [PATH_INVALID, HUNK_BLANK]
    if item.get("subject_type") == "file":
        return Placement(path, None, None, None, None, None, "", "file", used_position), []
    side = item.get("side", RIGHT)
    if side not in SIDES:
        return None, [SIDE_INVALID]
    if item.get("line") is not None:
        line = item["line"]
        found = pull_file.parsed.find(side, line)
    elif used_position:
        found = pull_file.parsed.at_position(item["position"])
        if found is not None:
            side = side_of(found[1])
            line = number_on(found[1], side)
    else:
        found = None
    if found is None:
        return None, [LINE_OUTSIDE_DIFF, HUNK_BLANK]
    hunk, end = found
    start_line = item.get("start_line")
    start_side = item.get("start_side")
    if start_line is None:
        start_side = None
    else:
        start_side = side if start_side in (None, "side") else start_side
        if start_side not in SIDES:
            return None, [SIDE_INVALID]
        start = hunk.line_on(start_side, start_line)
        if start_side == side and start_line >= line:
            return None, [START_NOT_BEFORE_END]
        if start is None:
            return None, [START_IN_OTHER_HUNK]
        if start.position > end.position:
            return None, [START_NOT_BEFORE_END]
    placement = Placement(
        path, line, side, start_line, start_side, end.position, hunk.excerpt_through(end), "line", used_position
    )
    return placement, []


def _to_sentence(parts: list[str]) -> str:
    """Join like GitHub's messages do: "a", "a and b", "a, b, and c"."""
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + ", and " + parts[-1]
