"""Which findings are reported: one decision for `check` and `verify` alike.

A finding is dropped when a `# noqa` comment on its line names its code (or names none), when the
rule is not selected, or when a per-file-ignore of its file covers it. `check` asks before it builds
a finding; `verify` filters the findings its workers produced, with the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from cfglint.config import RuleSelection
from cfglint.finding import Finding
from cfglint.noqa import is_suppressed
from cfglint.settings_resolver import SettingsResolver

NoqaMap = Mapping[int, frozenset[str] | None]  # line -> codes suppressed there (None: all), as `parse_noqa`


def is_reported(code: str, path: str, line: int, *, selection: RuleSelection, noqa: NoqaMap) -> bool:
    """Whether a finding of `code` on 1-based `line` of `path` is shown."""
    return not is_suppressed(noqa, line, code) and selection.enabled_for(code, Path(path))


def reported(findings: Iterable[Finding], resolver: SettingsResolver,
             noqa_by_path: Mapping[str, NoqaMap]) -> list[Finding]:
    """The `findings` that are shown, each judged with the settings of its own file and the `noqa`
    directives of that file (`noqa_by_path`, keyed by `Finding.path`; a file missing has none)."""
    return [finding for finding in findings
            if is_reported(finding.code, finding.path, finding.line,
                           selection=resolver.for_path(finding.path).selection,
                           noqa=noqa_by_path.get(finding.path, {}))]
