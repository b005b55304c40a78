"""Output formats. Each is one small module, imported only when chosen, so the default text path stays
cheap to start (it never imports `json`).

`FORMATS` is the one list of format names: `cfglint check` and `cfglint verify` accept exactly these;
`TEXT_FORMATS` are those meant for people (with a summary line), `STATISTICS_FORMATS` those with a form
for `--statistics`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

from cfglint.reporters.common import Identity, count_by_rule, identity

if TYPE_CHECKING:
    from cfglint.finding import Finding
    from cfglint.rules.base import Rule

# text and concise are the same (one line per finding), as ruff's concise; full adds the source line
TEXT_FORMATS = ("text", "concise", "full")
FORMATS = (*TEXT_FORMATS, "json", "json-lines", "junit", "gitlab", "pylint", "sarif", "github")
STATISTICS_FORMATS = (*TEXT_FORMATS, "json")

def write_report(fmt: str, findings: Sequence[Finding], stream: TextIO, *, rules: Mapping[str, Rule],
                 files_checked: int, version: str, statistics: bool = False,
                 fixable: Collection[Identity] = (), sources: Mapping[str, str] | None = None) -> None:
    """Write `findings` to `stream` in `fmt`, ordered by position as everywhere users see them.

    `fixable` holds the findings (by `identity`) that `--fix` would fix; the text formats mark them
    `[*]`. `sources` gives the text of files not to be read from disk (standard input), for `full`.

    `statistics` replaces the findings by counts per rule; like ruff, only the text formats and json
    have a form for that, and asking for it with another format is a usage error rather than silently
    ignored.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    if statistics and fmt not in STATISTICS_FORMATS:
        raise ValueError(f"statistics are available in the {', '.join(STATISTICS_FORMATS)} formats, "
                         f"not {fmt!r}")
    ordered = sorted(findings, key=lambda finding: finding.sort_key())
    if fmt in TEXT_FORMATS:
        from cfglint.reporters import text
        text.write(ordered, stream, files_checked=files_checked, statistics=statistics, fixable=fixable,
                   full=fmt == "full", sources=sources)
    elif fmt in ("json", "json-lines"):
        from cfglint.reporters import json_format
        json_format.write(ordered, stream, statistics=statistics, lines=fmt == "json-lines")
    elif fmt == "junit":
        from cfglint.reporters import junit
        junit.write(ordered, stream)
    elif fmt == "gitlab":
        from cfglint.reporters import gitlab
        gitlab.write(ordered, stream)
    elif fmt == "pylint":
        from cfglint.reporters import pylint
        pylint.write(ordered, stream)
    elif fmt == "sarif":
        from cfglint.reporters import sarif
        sarif.write(ordered, stream, rules=rules, version=version)
    else:
        from cfglint.reporters import github
        github.write(ordered, stream)


__all__ = ["FORMATS", "STATISTICS_FORMATS", "TEXT_FORMATS", "Identity", "count_by_rule", "identity", "write_report"]
