"""Hidden markers: HTML comments GitHub does not render, so later runs recognize their own words.

Every inline comment carries its finding's fingerprint, the summary carries the fingerprints it
lists, a review carries the key of the run that posted it, and a comment edited after its
finding went away says so. Payloads are hex only, so a marker cannot smuggle anything else.
Markers are trusted only in comments written by the bot itself (see identity.py).
"""

from __future__ import annotations

import re

_FINGERPRINT = r"[0-9a-f]{32}"
_FINDING = re.compile(rf"<!-- backend-reviewer:finding ({_FINGERPRINT}) -->")
_LISTED = re.compile(r"<!-- backend-reviewer:listed((?: [0-9a-f]{32})*) -->")
_REVIEW = re.compile(r"<!-- backend-reviewer:review ([0-9a-f]{16}) -->")
_FIXED = re.compile(r"<!-- backend-reviewer:fixed ([0-9a-f]{7,64}) -->")
SUMMARY = "<!-- backend-reviewer:summary -->"


def is_fingerprint(text: str) -> bool:
    return re.fullmatch(_FINGERPRINT, text) is not None


def finding_marker(fingerprint: str) -> str:
    if not is_fingerprint(fingerprint):
        raise ValueError(f"not a finding fingerprint: {fingerprint!r}")
    return f"<!-- backend-reviewer:finding {fingerprint} -->"


def finding_fingerprint(body: str) -> str | None:
    match = _FINDING.search(body or "")
    return match.group(1) if match else None


def listed_marker(fingerprints: list[str]) -> str:
    return f"<!-- backend-reviewer:listed{''.join(f' {fp}' for fp in fingerprints if is_fingerprint(fp))} -->"


def listed_fingerprints(body: str) -> set[str]:
    match = _LISTED.search(body or "")
    return set(match.group(1).split()) if match else set()


def review_marker(run_key: str) -> str:
    return f"<!-- backend-reviewer:review {run_key} -->"


def review_run_key(body: str) -> str | None:
    match = _REVIEW.search(body or "")
    return match.group(1) if match else None


def fixed_marker(commit: str) -> str:
    return f"<!-- backend-reviewer:fixed {commit} -->"


def is_marked_fixed(body: str) -> bool:
    return _FIXED.search(body or "") is not None


def is_summary(body: str) -> bool:
    return (body or "").startswith(SUMMARY)
