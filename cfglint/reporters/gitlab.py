"""GitLab Code Quality: a JSON array of issues that a merge request shows beside the diff.

Each issue needs a `description`, a `check_name`, a `fingerprint` unique within the report and stable
across runs (GitLab compares reports of two pipelines by it: a finding that did not change must keep
it, so it leaves out line numbers), a `severity` (info, minor, major, critical or blocker) and a
`location` with a path relative to the repository and `lines.begin`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from typing import Any, TextIO

from cfglint.finding import Finding, Severity

SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def write(findings: Sequence[Finding], stream: TextIO) -> None:
    json.dump(code_quality(findings), stream, indent=2)
    stream.write("\n")


def code_quality(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """The report as plain data; two findings with the same identity get distinct fingerprints by
    their order within it."""
    seen: dict[str, int] = {}
    issues = []
    for finding in findings:
        base = fingerprint(finding)
        occurrence = seen.get(base, 0)
        seen[base] = occurrence + 1
        issues.append(issue(finding, base if occurrence == 0 else fingerprint(finding, occurrence)))
    return issues


def issue(finding: Finding, fingerprint_: str) -> dict[str, Any]:
    return {
        "type": "issue",
        "check_name": finding.code,
        "description": f"{finding.code}: {finding.message}",
        "categories": ["Bug Risk"],
        "severity": SEVERITY[finding.severity],
        "fingerprint": fingerprint_,
        "location": {
            "path": _relative(finding.path),
            "lines": {"begin": finding.span.line, "end": finding.span.end_line},
        },
    }


def fingerprint(finding: Finding, occurrence: int = 0) -> str:
    """A hash of the rule, the file, the class and the message (no line numbers)."""
    identity = "\0".join((finding.code, _relative(finding.path), finding.class_name or "", finding.message,
                          str(occurrence)))
    return hashlib.md5(identity.encode("utf-8", "surrogateescape"), usedforsecurity=False).hexdigest()


def _relative(path: str) -> str:
    """GitLab places an issue by its path from the repository root (the job's working directory)."""
    if not os.path.isabs(path):
        return os.path.normpath(path).replace(os.sep, "/")
    try:
        return os.path.relpath(path).replace(os.sep, "/")
    except ValueError:  # another drive on Windows
        return path
