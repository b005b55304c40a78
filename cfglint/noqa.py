"""Inline suppression with `# noqa` comments, read as flake8 and ruff read them.

`# noqa` (any case, `#noqa` too) suppresses every finding on its line; `# noqa: CFG101,CFG201` or
`# noqa:CFG101 CFG201` only those exact codes, and text after the codes is an explanation. As in ruff,
`# noqa:` followed by no code suppresses nothing rather than everything. Lines are scanned with a regular
expression (compiled only when needed), not tokenized, so a file without any `noqa` costs one substring
search.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_CODE = r"[A-Za-z]+[0-9]+\b"
_NOQA = (
    rf"#[ \t]*noqa(?![A-Za-z0-9_])"
    rf"(?:[ \t]*(?P<colon>:)[ \t]*(?P<codes>{_CODE}(?:(?:[ \t]*,[ \t]*|[ \t]+){_CODE})*)?)?"
)
_SEPARATOR = r"[\s,]+"


def parse_noqa(source: str) -> dict[int, frozenset[str] | None]:
    """Map 1-based line numbers to the codes suppressed there; None means all codes (bare `# noqa`)."""
    if "noqa" not in source.lower():
        return {}
    if "\r" in source:  # line numbers count "\r\n" and a lone "\r" as one break, as the parser does
        source = source.replace("\r\n", "\n").replace("\r", "\n")
    result: dict[int, frozenset[str] | None] = {}
    line, position = 1, 0
    for match in re.finditer(_NOQA, source, re.IGNORECASE):  # compiled on first use, then cached by `re`
        line += source.count("\n", position, match.start())
        position = match.start()
        _merge(result, line, _codes(match))
    return result


def _codes(match: re.Match[str]) -> frozenset[str] | None:
    """The codes of one directive: None for a bare `# noqa`, empty for `# noqa:` without codes."""
    if match.group("colon") is None:
        return None
    codes = match.group("codes")
    return frozenset(code.upper() for code in re.split(_SEPARATOR, codes)) if codes else frozenset()


def _merge(result: dict[int, frozenset[str] | None], line: int, codes: frozenset[str] | None) -> None:
    """Several directives on one line add up; a bare one wins."""
    if line in result:
        previous = result[line]
        codes = None if previous is None or codes is None else previous | codes
    if codes is None or codes:
        result[line] = codes


def is_suppressed(noqa_map: Mapping[int, frozenset[str] | None], line: int, code: str) -> bool:
    """Whether a finding with `code` on 1-based `line` is suppressed (exact codes only, like ruff)."""
    if line not in noqa_map:
        return False
    codes = noqa_map[line]
    return codes is None or code in codes
