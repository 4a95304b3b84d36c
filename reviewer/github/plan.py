"""Decide what this run says, from the findings and what earlier runs already said.

A finding already commented inline, or already listed in the summary, is not new — whatever
line it sits on now, since fingerprints ignore line numbers. New findings get inline comments,
most severe first, up to the per-review cap, when GitHub would accept their anchor; the rest
are listed in the summary. A comment whose finding is gone is to be resolved; one whose
finding is still (or again) there keeps its thread open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from reviewer.finding import Finding
from reviewer.github.anchors import Anchor, DiffLines, anchor_for
from reviewer.github.state import OwnComment, PriorState

NOT_IN_DIFF = "not on a line of the diff"


@dataclass(frozen=True)
class Unplaced:
    finding: Finding
    reason: str


@dataclass
class Plan:
    inline: list[tuple[Finding, Anchor]] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    new: list[Finding] = field(default_factory=list)
    gone: list[OwnComment] = field(default_factory=list)
    present: list[OwnComment] = field(default_factory=list)

    def move_inline_to_summary(self, reason: str) -> None:
        """GitHub refused the anchors after all: say everything in the summary instead."""
        self.unplaced = sorted(
            [*self.unplaced, *(Unplaced(finding, reason) for finding, _ in self.inline)],
            key=lambda item: item.finding.sort_key(),
        )
        self.inline = []


def plan_review(findings: Sequence[Finding], shown: DiffLines, prior: PriorState, max_comments: int) -> Plan:
    commented = prior.commented
    known = commented | prior.listed
    plan = Plan(new=[finding for finding in findings if finding.fingerprint not in known])
    over_limit = f"over the {max_comments}-comment limit"
    for finding in sorted(plan.new, key=lambda f: (-f.severity.rank, f.sort_key())):
        anchor = anchor_for(finding, shown)
        if anchor is not None and len(plan.inline) < max_comments:
            plan.inline.append((finding, anchor))
    placed = {finding.fingerprint for finding, _ in plan.inline} | commented
    plan.unplaced = [
        Unplaced(finding, NOT_IN_DIFF if anchor_for(finding, shown) is None else over_limit)
        for finding in findings
        if finding.fingerprint not in placed
    ]
    current = {finding.fingerprint for finding in findings}
    plan.gone = [comment for comment in prior.comments if comment.fingerprint not in current]
    plan.present = [c for c in prior.comments if c.fingerprint in current and not c.marked_fixed]
    return plan
