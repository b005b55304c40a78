"""What several formats share: a finding's identity (how `fixable` names the findings `--fix` would fix)
and the counts per rule that `--statistics` shows.

A module of its own, below the formats, so that a format never imports the package that imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cfglint.finding import Finding

Identity = tuple[str, int, int, int, int, str, str]


def identity(finding: Finding) -> Identity:
    """A finding as two checks of the same text both report it: what `fixable` holds."""
    span = finding.span
    return (finding.path, span.line, span.column, span.end_line, span.end_column, finding.code, finding.message)


def count_by_rule(findings: Sequence[Finding]) -> list[tuple[Finding, int]]:
    """Each rule's first finding and how many it has, most frequent first (ties by code): the order
    `--statistics` shows, shared by the formats that have one."""
    first: dict[str, Finding] = {}
    counts: dict[str, int] = {}
    for finding in findings:
        first.setdefault(finding.code, finding)
        counts[finding.code] = counts.get(finding.code, 0) + 1
    order = sorted(counts, key=lambda code: (-counts[code], code))
    return [(first[code], counts[code]) for code in order]
