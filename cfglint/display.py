"""Text from the outside world (file names, mostly) made safe to print on a terminal.

A file may be called `x.py\\nfake.py:1:1: CFG101 ...` or carry ANSI escape sequences in its name: printed
raw, the first fakes a finding line for tools that parse the output, the second drives the terminal.
Control characters (C0, DEL, C1) and the Unicode bidirectional overrides that can reorder what a reader
sees are shown as Python-style escapes instead.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control or direction-changing character escaped (the common case untouched)."""
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text
