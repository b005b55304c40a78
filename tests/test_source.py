"""Reading source files: encodings as Python applies them, and one-line reasons for unreadable files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cfglint.source import SourceError, decode_source, read_source


def test_utf8_text_is_kept_exactly(tmp_path: Path) -> None:
    text = "x = 'é'\r\ny = 1\rz = 2\n"
    path = tmp_path / "a.py"
    path.write_bytes(text.encode("utf-8"))
    assert read_source(path) == text


def test_latin1_coding_cookie(tmp_path: Path) -> None:
    path = tmp_path / "legacy.py"
    path.write_bytes(b"#!/usr/bin/env python\n# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n")
    assert read_source(path).endswith("name = 'été'\n")


def test_cookie_must_be_in_first_two_lines() -> None:
    with pytest.raises(SourceError, match="is not valid UTF-8"):
        decode_source(b"\n\n# coding: latin-1\nx = '\xe9'\n", "late.py")


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.py"
    path.write_bytes(b"\xef\xbb\xbfx = '\xc3\xa9'\n")
    assert read_source(path) == "x = 'é'\n"


def test_bom_with_utf8_cookie() -> None:
    assert decode_source(b"\xef\xbb\xbf# coding: utf-8\nx = 1\n", "s.py") == "# coding: utf-8\nx = 1\n"


def test_invalid_utf8_names_byte_offset_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.py"
    path.write_bytes(b"x = 1\ny = '\xff'\n")
    with pytest.raises(SourceError) as error:
        read_source(path)
    assert str(error.value) == f"{path} is not valid UTF-8 (byte 0xff at offset 11, line 2)"
    assert error.value.reason == "is not valid UTF-8 (byte 0xff at offset 11, line 2)"


def test_invalid_utf8_after_bom_counts_the_bom() -> None:
    with pytest.raises(SourceError, match=r"byte 0xfe at offset 3, line 1"):
        decode_source(b"\xef\xbb\xbf\xfe", "x.py")


def test_invalid_for_declared_encoding() -> None:
    with pytest.raises(SourceError, match=r"is not valid ascii \(byte 0xe9 at offset 21, line 2\)"):
        decode_source(b"# coding: ascii\nx = '\xe9'\n", "x.py")


@pytest.mark.parametrize(
    "data", [b"# coding: no-such-codec\n", b"# coding: rot13\nk = 1\n", b"\xef\xbb\xbf# coding: latin-1\n"]
)
def test_unusable_coding_declaration(data: bytes) -> None:
    with pytest.raises(SourceError, match=r"^x.py has an unusable coding declaration: "):
        decode_source(data, "x.py")


@pytest.mark.parametrize("codec", ["undefined", "punycode"])
def test_codec_that_fails_while_decoding(codec: str) -> None:
    """Codecs that raise a bare UnicodeError (not UnicodeDecodeError) are a finding, not a crash."""
    with pytest.raises(SourceError, match=rf"^x.py cannot be decoded as declared \({codec}\): "):
        decode_source(f"# coding: {codec}\nx = 1\n".encode(), "x.py")


def test_codec_without_a_replace_handler_still_gives_a_position() -> None:
    """`idna` fails part-way and refuses the "replace" handler used to count the column (found by fuzzing)."""
    source = b"# -*- coding: idna -*-\nimport keras\n\nclass Gate(keras.layers.Layer):\n    def __init__(\xff"
    with pytest.raises(SourceError, match=r"^x.py is not valid idna \(byte 0x.. at offset \d+, line \d\)"):
        decode_source(source, "x.py")


def test_codec_failure_keeps_the_other_files(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from cfglint.cli import main

    (tmp_path / "bad.py").write_bytes(b"# coding: undefined\nimport keras\n")
    (tmp_path / "good.py").write_text(
        "import keras\n\n\nclass L(keras.layers.Layer):\n    def __init__(self, units):\n"
        "        super().__init__()\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code = main(["check", "--no-cache", "bad.py", "good.py"])
    out = capsys.readouterr().out
    assert code == 1
    assert "bad.py:1:1: CFG001 cannot be decoded as declared (undefined)" in out
    assert "good.py:5:9: CFG302" in out


def test_nul_bytes(tmp_path: Path) -> None:
    path = tmp_path / "blob.py"
    path.write_bytes(b"x = 1\n\x00\x01\x02")
    with pytest.raises(SourceError, match=r"contains NUL bytes; not a Python source file$"):
        read_source(path)


def test_utf16_is_refused_as_nul_bytes() -> None:
    with pytest.raises(SourceError, match="contains NUL bytes"):
        decode_source("x = 1\n".encode("utf-16"), "<stdin>")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.py"
    path.write_bytes(b"")
    assert read_source(path) == ""


def test_stdin_bytes() -> None:
    assert decode_source(b"x = 1\n", "<stdin>") == "x = 1\n"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"gone.py no longer exists"):
        read_source(tmp_path / "gone.py")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"is a directory$"):
        read_source(tmp_path)


def test_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "secret.py"
    path.write_text("x = 1\n")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("permissions are not enforced for this user (root)")
        with pytest.raises(SourceError, match=r"secret.py cannot be read: permission denied$"):
            read_source(path)
    finally:
        path.chmod(0o644)


def test_large_file(tmp_path: Path) -> None:
    line = "value = 'ünïcode'  # some padding to make a long line of source text\n"
    text = line * (10_000_000 // len(line.encode()) + 1)
    path = tmp_path / "big.py"
    path.write_text(text, encoding="utf-8")
    assert path.stat().st_size > 10_000_000
    assert read_source(path) == text
