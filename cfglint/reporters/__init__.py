"""Output formats. Each is one small module, imported only when chosen, so the default text path stays
cheap to start (it never imports `json`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Collection, Mapping, Sequence, TextIO

if TYPE_CHECKING:
    from cfglint.finding import Finding
    from cfglint.rules.base import Rule

FORMATS = ("text", "json", "sarif", "github")

_STATISTICS_FORMATS = ("text", "json")


def write_report(fmt: str, findings: Sequence[Finding], stream: TextIO, *, rules: Mapping[str, Rule],
                 files_checked: int, version: str, statistics: bool = False,
                 fixable: Collection[str] = ()) -> None:
    """Write `findings` to `stream` in `fmt`, ordered by position as everywhere users see them.

    `fixable` holds the codes whose findings `--fix` would fix; the text format marks them `[*]`.

    `statistics` replaces the findings by counts per rule; like ruff, only text and json have a form
    for that, and asking for it with another format is a usage error rather than silently ignored.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    if statistics and fmt not in _STATISTICS_FORMATS:
        raise ValueError(f"statistics are available in the {' and '.join(_STATISTICS_FORMATS)} formats, "
                         f"not {fmt!r}")
    ordered = sorted(findings, key=lambda finding: finding.sort_key())
    if fmt == "text":
        from cfglint.reporters import text
        text.write(ordered, stream, files_checked=files_checked, statistics=statistics, fixable=fixable)
    elif fmt == "json":
        from cfglint.reporters import json_format
        json_format.write(ordered, stream, statistics=statistics)
    elif fmt == "sarif":
        from cfglint.reporters import sarif
        sarif.write(ordered, stream, rules=rules, version=version)
    else:
        from cfglint.reporters import github
        github.write(ordered, stream)


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
