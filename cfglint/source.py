"""Reading Python source as Python would decode it, with one-line reasons when that is impossible.

The text is returned exactly as decoded (newlines untouched) so that reported columns match the file;
only a UTF-8 byte order mark is dropped, as Python drops it. Files without a coding cookie, nearly all of
them, take the fast path: a single `bytes.decode("utf-8")`.
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path

_UTF8 = ("utf-8", "utf-8-sig")  # names `tokenize.detect_encoding` gives UTF-8 without and with a BOM


class SourceError(Exception):
    """A file that cannot be read or decoded; `str()` is one line: the name, then the reason."""

    def __init__(self, name: str, reason: str, line: int = 1, column: int = 1) -> None:
        super().__init__(f"{name} {reason}")
        self.name = name
        self.reason = reason
        self.line, self.column = line, column  # where an editor should underline it


def read_source(path: Path) -> str:
    """The decoded text of `path`, or a SourceError saying why there is none."""
    name = str(path)
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as exc:
        raise SourceError(name, read_error(exc)) from None
    return decode_source(data, name)


def read_error(exc: OSError) -> str:
    """One-line reason a file could not be read."""
    if isinstance(exc, FileNotFoundError):
        return "no longer exists (removed or renamed during the run)"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    if isinstance(exc, PermissionError):
        return "cannot be read: permission denied"
    return f"cannot be read: {exc.strerror or exc}"


def decode_source(data: bytes, name: str) -> str:
    """Decode source bytes (a file's or stdin's) honouring a UTF-8 BOM and a PEP 263 coding cookie."""
    if b"\0" in data:
        raise SourceError(name, "contains NUL bytes; not a Python source file")
    if b"coding" in _first_two_lines(data):
        return _decode(data, _declared_encoding(data, name), name)
    return _decode(data, "utf-8", name)


def _first_two_lines(data: bytes) -> bytes:
    """Where a PEP 263 coding cookie may stand."""
    end = data.find(b"\n")
    if end != -1:
        end = data.find(b"\n", end + 1)
    return data if end == -1 else data[:end]


def _declared_encoding(data: bytes, name: str) -> str:
    """The encoding Python would use, as `tokenize` reads it (imported here: few files need it)."""
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError(name, f"has an unusable coding declaration: {exc.msg}") from None
    return encoding


def _decode(data: bytes, encoding: str, name: str) -> str:
    """Decode, dropping a UTF-8 BOM and reporting the first bad byte by file offset and line."""
    start = 0
    if encoding in _UTF8 and data.startswith(codecs.BOM_UTF8):
        start = len(codecs.BOM_UTF8)
    try:
        return str(data[start:] if start else data, "utf-8" if encoding in _UTF8 else encoding)
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line = data.count(b"\n", 0, offset) + 1
        line_start = data.rfind(b"\n", 0, offset) + 1
        try:
            column = len(data[line_start:offset].decode(encoding if encoding not in _UTF8 else "utf-8", "replace")) + 1
        except (UnicodeError, LookupError):  # codecs such as `idna` support no "replace" error handler
            column = offset - line_start + 1
        shown = "UTF-8" if encoding in _UTF8 else encoding
        raise SourceError(
            name, f"is not valid {shown} (byte 0x{data[offset]:02x} at offset {offset}, line {line})", line, column
        ) from None
    except LookupError:  # a codec that is not a text encoding, such as `rot13`
        reason = f"has an unusable coding declaration: {encoding!r} is not a text encoding"
        raise SourceError(name, reason) from None
    except (UnicodeError, ValueError, TypeError) as exc:  # codecs such as `undefined` or `punycode`
        reason = f"cannot be decoded as declared ({encoding}): {exc}"
        raise SourceError(name, reason.splitlines()[0][:200]) from None
