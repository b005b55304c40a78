"""pylint's parseable shape, `path:line: [CODE] message`, which many editors and CI tools read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from cfglint.display import printable
from cfglint.finding import Finding


def write(findings: Sequence[Finding], stream: TextIO) -> None:
    """One line per finding; nothing when there are none (as ruff's `pylint` format)."""
    for finding in findings:
        stream.write(f"{printable(finding.path)}:{finding.span.line}: [{finding.code}] "
                     f"{printable(finding.message)}\n")
