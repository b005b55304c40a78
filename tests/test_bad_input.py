"""Bad input never ends a run with a traceback.

Each case puts a bad file next to a real buggy layer and runs `python -m cfglint check` in a subprocess,
as users do: the bad file gets a clear message and a defined exit code, and the buggy layer's finding is
still reported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import MISSING_UNITS

from cfglint.cli import main

BUGGY = MISSING_UNITS
# not marked `[*]`: the fix cannot add a key to a `get_config` that returns `super().get_config()` as is
BUGGY_FINDING = "buggy.py:5:24: CFG101 `units` is an `__init__` argument missing from `get_config`"

LAYER_HEADER = "import keras\n\n\nclass Deep(keras.layers.Layer):\n    def __init__(self, units, **kwargs):\n"


def run_cfglint(*args: str, cwd: Path, env: dict[str, str] | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("FORCE_COLOR", "CFGLINT_OUTPUT_FORMAT", "CFGLINT_DEBUG")}
    environment.update(env or {})
    result = subprocess.run(
        [sys.executable, "-m", "cfglint", "check", *args], capture_output=True, cwd=cwd, env=environment,
        timeout=timeout, check=False,
    )
    return subprocess.CompletedProcess(
        result.args, result.returncode,
        result.stdout.decode("utf-8", "backslashreplace"), result.stderr.decode("utf-8", "backslashreplace"),
    )


def assert_survived(result: subprocess.CompletedProcess[str], exit_code: int) -> None:
    """No traceback, no internal error, the expected exit code, and the neighbour's finding reported."""
    assert "Traceback" not in result.stderr, result.stderr
    assert "internal error" not in result.stderr, result.stderr
    assert result.returncode == exit_code, (result.stdout, result.stderr)
    assert BUGGY_FINDING in result.stdout.splitlines(), result.stdout


def finding_lines(stdout: str, name: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith(f"{name}:")]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "buggy.py").write_text(BUGGY, encoding="utf-8")
    return tmp_path


# --- files that are not Python ------------------------------------------------------------------------


def test_syntax_error(project: Path) -> None:
    source = LAYER_HEADER.replace("**kwargs):", "**kwargs)") + "        super().__init__(**kwargs)\n"
    (project / "broken.py").write_text(source, encoding="utf-8")
    with pytest.raises(SyntaxError) as python:
        compile(source, "broken.py", "exec")
    for args in ([], ["broken.py", "buggy.py"]):
        result = run_cfglint(*args, cwd=project)
        assert_survived(result, 1)
        assert finding_lines(result.stdout, "broken.py") == [
            f"broken.py:{python.value.lineno}:{python.value.offset}: CFG001 syntax error: {python.value.msg}"
        ]
        assert python.value.lineno == 5


def test_syntax_error_in_a_project_base_class_file(project: Path) -> None:
    (project / "base.py").write_text("import keras\n\n\nclass Base(keras.layers.Layer)\n    pass\n")
    (project / "child.py").write_text(
        "from base import Base\n\n\nclass Child(Base):\n    def __init__(self, units, **kwargs):\n"
        "        super().__init__(**kwargs)\n\n    def get_config(self):\n        return {}\n")
    result = run_cfglint(cwd=project)
    assert_survived(result, 1)
    assert finding_lines(result.stdout, "base.py") == ["base.py:4:31: CFG001 syntax error: expected ':'"]


def test_non_utf8_bytes(project: Path) -> None:
    (project / "latin.py").write_bytes(b"import keras\n\n# caf\xe9\nclass A(keras.layers.Layer):\n    pass\n")
    result = run_cfglint(cwd=project)
    assert_survived(result, 1)
    [line] = finding_lines(result.stdout, "latin.py")
    # pointed at the bad byte (line 3, column 6), and the path is not repeated in the message
    assert line == "latin.py:3:6: CFG001 is not valid UTF-8 (byte 0xe9 at offset 19, line 3)"


def test_declared_latin1_encoding_is_honoured(project: Path) -> None:
    source = "# -*- coding: latin-1 -*-\n" + BUGGY.replace("Scale", "Caf\u00e9")
    (project / "declared.py").write_bytes(source.encode("latin-1"))
    result = run_cfglint(cwd=project)
    assert_survived(result, 1)
    assert finding_lines(result.stdout, "declared.py") == [
        "declared.py:6:24: CFG101 `units` is an `__init__` argument missing from `get_config`"
    ]


@pytest.mark.parametrize(("cookie", "reason"), [
    ("# -*- coding: rot13 -*-", "'rot13' is not a text encoding"),
    ("# coding: no-such-codec", "unknown encoding"),
])
def test_unusable_coding_declaration(project: Path, cookie: str, reason: str) -> None:
    (project / "cookie.py").write_text(f"{cookie}\nimport keras\n", encoding="ascii")
    result = run_cfglint(cwd=project)
    assert_survived(result, 1)
    [line] = finding_lines(result.stdout, "cookie.py")
    assert line.startswith("cookie.py:1:1: CFG001 ") and "coding declaration" in line and reason in line


@pytest.mark.parametrize("data", [
    b"import keras\x00\nclass A(keras.layers.Layer):\n    pass\n",
    "import keras\nclass A(keras.layers.Layer):\n    pass\n".encode("utf-16"),
    bytes(range(256)) * 64,
], ids=["nul", "utf-16", "binary"])
def test_nul_bytes(project: Path, data: bytes) -> None:
    (project / "nul.py").write_bytes(data)
    result = run_cfglint(cwd=project)
    assert_survived(result, 1)
    assert finding_lines(result.stdout, "nul.py") == [
        "nul.py:1:1: CFG001 contains NUL bytes; not a Python source file"
    ]


def test_utf8_bom_keeps_columns(project: Path) -> None:
    (project / "bom.py").write_bytes(b"\xef\xbb\xbf" + BUGGY.encode())
    result = run_cfglint(cwd=project)
    assert_survived(result, 1)
    assert finding_lines(result.stdout, "bom.py") == [BUGGY_FINDING.replace("buggy.py", "bom.py")]


def test_mixed_tabs_and_spaces(project: Path) -> None:
    (project / "tabs.py").write_text(
        "import keras\nclass A(keras.layers.Layer):\n\tdef __init__(self, u):\n        super().__init__()\n")
    result = run_cfglint(cwd=project)
    assert_survived(result, 1)
    assert finding_lines(result.stdout, "tabs.py") == [
        "tabs.py:4:1: CFG001 syntax error: inconsistent use of tabs and spaces in indentation"
    ]


def test_crlf_line_endings(project: Path) -> None:
    (project / "crlf.py").write_bytes(BUGGY.replace("buggy", "crlf").encode().replace(b"\n", b"\r\n"))
    result = run_cfglint(cwd=project)
    assert_survived(result, 1)
    assert finding_lines(result.stdout, "crlf.py") == [BUGGY_FINDING.replace("buggy.py", "crlf.py")]


def test_cr_only_line_endings_in_a_directory_walk(project: Path) -> None:
    (project / "cr.py").write_bytes(BUGGY.encode().replace(b"\n", b"\r"))
    result = run_cfglint(cwd=project)
    assert_survived(result, 1)
    assert finding_lines(result.stdout, "cr.py") == [BUGGY_FINDING.replace("buggy.py", "cr.py")]


def test_cr_only_line_endings_named_explicitly(project: Path) -> None:
    (project / "cr.py").write_bytes(BUGGY.encode().replace(b"\n", b"\r"))
    result = run_cfglint("cr.py", "buggy.py", cwd=project)
    assert_survived(result, 1)
    assert finding_lines(result.stdout, "cr.py") == [BUGGY_FINDING.replace("buggy.py", "cr.py")]


def test_empty_file(project: Path) -> None:
    (project / "empty.py").write_bytes(b"")
    result = run_cfglint(cwd=project)
    assert_survived(result, 1)
    assert finding_lines(result.stdout, "empty.py") == []
    alone = run_cfglint("empty.py", cwd=project)
    assert (alone.returncode, alone.stdout, alone.stderr) == (0, "All checks passed! (1 file checked)\n", "")


# --- size and depth -------------------------------------------------------------------------------------


def test_ten_megabyte_file(project: Path) -> None:
    """46,000 assignments (10 MB) and, at the end, a layer whose bug must still be found, in seconds."""
    line = 'value_{} = "' + "x" * 200 + '"\n'
    parts, size, index = ["import keras\n\n"], 0, 0
    while size < 10_000_000:
        parts.append(line.format(index))
        size += len(parts[-1])
        index += 1
    parts.append("\n\nclass Big(keras.layers.Layer):\n    def __init__(self, units):\n"
                 "        super().__init__()\n")
    text = "".join(parts)
    init_line = text.count("\n", 0, text.index("    def __init__")) + 1
    (project / "big.py").write_text(text, encoding="utf-8")
    assert (project / "big.py").stat().st_size > 10_000_000
    (project / "pyproject.toml").write_text('[tool.cfglint]\nmax-file-size = "16MB"\n', encoding="utf-8")
    start = time.monotonic()
    result = run_cfglint(cwd=project, timeout=120)
    elapsed = time.monotonic() - start
    assert_survived(result, 1)
    assert finding_lines(result.stdout, "big.py") == [
        (f"big.py:{init_line}:9: CFG302 [*] `__init__` has no `**kwargs`: Keras's automatic config "
         "(with `trainable` and `dtype`) cannot be passed back to it")
    ]
    assert elapsed < 30, f"checking a 10 MB file took {elapsed:.1f} s"


def test_file_over_the_size_limit_is_refused_quickly(project: Path) -> None:
    """One 10 MB line (a generated table): refused before it is parsed, with a finding that says so."""
    (project / "table.py").write_text("import keras\nx = [" + "1," * 5_000_000 + "]\n", encoding="utf-8")
    start = time.monotonic()
    result = run_cfglint("--no-cache", cwd=project, timeout=60)
    elapsed = time.monotonic() - start
    assert_survived(result, 1)
    assert finding_lines(result.stdout, "table.py") == [
        "table.py:1:1: CFG001 is larger than `max-file-size` (10,000,020 > 1,048,576 bytes); not checked"]
    assert elapsed < 5, f"refusing a 10 MB file took {elapsed:.1f} s"


@pytest.mark.parametrize("value, problem", [
    ("0", "must be at least 1 byte"), ('"lots"', 'must be a number of bytes or a size such as "8MB"'),
    ("true", "not a boolean")])
def test_bad_max_file_size(project: Path, value: str, problem: str) -> None:
    (project / "pyproject.toml").write_text(f"[tool.cfglint]\nmax-file-size = {value}\n", encoding="utf-8")
    result = run_cfglint(cwd=project)
    assert result.returncode == 2 and "`max-file-size` in [tool.cfglint]" in result.stderr
    assert problem in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_and_device_are_never_read(project: Path) -> None:
    """Named on the command line they are an error; met in a walk or through a `*.py` symlink, skipped or
    refused; never a read that blocks forever or never ends."""
    os.mkfifo(project / "pipe.py")
    (project / "zero.py").symlink_to("/dev/zero")
    result = run_cfglint("--no-cache", "pipe.py", "zero.py", "buggy.py", cwd=project, timeout=30)
    assert result.returncode == 2 and BUGGY_FINDING in result.stdout
    assert "pipe.py: not a regular file" in result.stderr and "zero.py: not a regular file" in result.stderr
    result = run_cfglint("--no-cache", ".", cwd=project, timeout=30)
    assert_survived(result, 1)
    assert "pipe.py" not in result.stdout and "zero.py" not in result.stdout


def test_symlinked_folders_out_of_the_tree_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "other.py").write_text(BUGGY, encoding="utf-8")
    project = tmp_path / "project"
    (project / "pkg").mkdir(parents=True)
    (project / "buggy.py").write_text(BUGGY, encoding="utf-8")
    (project / "pkg" / "up").symlink_to("..")  # a loop back into the tree: followed once, no further
    (project / "pkg" / "root").symlink_to("/")
    (project / "pkg" / "elsewhere").symlink_to(outside)
    (project / "pkg" / "inside").symlink_to(project / "pkg")  # inside the tree: fine (a loop, reported)
    start = time.monotonic()
    result = run_cfglint("--no-cache", ".", cwd=project, timeout=60)
    assert time.monotonic() - start < 10
    assert_survived(result, 1)
    assert "other.py" not in result.stdout
    assert len(finding_lines(result.stdout, "buggy.py")) == 1


def nested_ifs(depth: int, indent: int = 0) -> str:
    lines = [" " * 4 * (indent + level) + "if units:\n" for level in range(depth)]
    return "".join(lines) + " " * 4 * (indent + depth) + "pass\n"


DEEP = {
    # beyond the parser's limits: CFG001
    "lists_5000": ("x = " + "[" * 5000 + "]" * 5000 + "\n" + BUGGY.replace("buggy", "deep"), "CFG001"),
    "sum_100k": ("x = " + "+".join(["1"] * 100_000) + "\n" + BUGGY.replace("buggy", "deep"), "CFG001"),
    "ifs_1000": (LAYER_HEADER + nested_ifs(1000, indent=2), "CFG001"),
    # within the parser's limits, deep enough to break a recursive analysis: clean
    "lists_190": (LAYER_HEADER + "        super().__init__(**kwargs)\n        x = "
                  + "[" * 190 + "]" * 190 + "\n", None),
    "ifs_95": (LAYER_HEADER + "        super().__init__(**kwargs)\n" + nested_ifs(95, indent=2), None),
    "attribute_bases_2500": ("import keras\n\n\nclass A(keras" + ".layers" * 2500 + ".Layer):\n"
                             "    def __init__(self, **kwargs):\n        super().__init__(**kwargs)\n", None),
    "nested_classes_95": ("import keras\n" + "".join(
        " " * 4 * level + f"class C{level}(keras.layers.Layer):\n" for level in range(95)
    ) + " " * 4 * 95 + "pass\n", None),
}


@pytest.mark.parametrize("name", list(DEEP))
def test_deeply_nested_code(project: Path, name: str) -> None:
    source, expected = DEEP[name]
    (project / "deep.py").write_text(source, encoding="utf-8")
    result = run_cfglint(cwd=project)
    assert_survived(result, 1)
    lines = finding_lines(result.stdout, "deep.py")
    if expected is None:
        assert lines == []
    else:
        assert len(lines) == 1 and f": {expected} " in lines[0], lines
        message = lines[0].split(f": {expected} ", 1)[1]
        assert any(word in message for word in ("nested", "indentation", "too", "larger")), message


def test_long_expression_in_init_is_analysed_quickly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    long_sum = "+".join(["units"] * 1200)
    (tmp_path / "layers.py").write_text(
        LAYER_HEADER + f"        super().__init__(**kwargs)\n        self.total = {long_sum}\n\n\n"
        + BUGGY.split("\n\n\n", 1)[1], encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    start = time.perf_counter()
    # the pylint format plans no fixes: the budget is for the analysis, not for loading the rewriter
    code = main(["check", "layers.py", "--output-format", "pylint"])
    elapsed = time.perf_counter() - start
    out = capsys.readouterr().out
    assert "CFG001" not in out
    assert "layers.py:11: [CFG101] `units` is an `__init__` argument missing from `get_config`" in out
    assert code == 1
    assert elapsed < 1.0, f"{elapsed:.2f} s for one 1200-term expression"


# --- file system ----------------------------------------------------------------------------------------


def test_unreadable_file(project: Path) -> None:
    secret = project / "secret.py"
    secret.write_text(BUGGY, encoding="utf-8")
    secret.chmod(0)
    try:
        if os.access(secret, os.R_OK):
            pytest.skip("permissions are not enforced for this user (root)")
        result = run_cfglint(cwd=project)
        assert_survived(result, 1)
        assert finding_lines(result.stdout, "secret.py") == [
            "secret.py:1:1: CFG001 cannot be read: permission denied"
        ]
    finally:
        secret.chmod(0o644)


def test_read_failure_is_a_finding_even_as_root(project: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The same as `test_unreadable_file`, with the permission error simulated so that root runs it too."""
    import cfglint.engine

    (project / "secret.py").write_text(BUGGY, encoding="utf-8")

    real_os_open = os.open

    def deny(file, *args, **kwargs):
        if os.path.basename(os.fspath(file)) == "secret.py":
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_os_open(file, *args, **kwargs)

    monkeypatch.setattr(cfglint.engine.os, "open", deny)
    monkeypatch.chdir(project)
    code = main(["check", "."])
    out = capsys.readouterr().out
    assert code == 1
    assert "secret.py:1:1: CFG001 cannot be read: permission denied" in out.splitlines()
    assert BUGGY_FINDING in out.splitlines()


def test_unreadable_directory(project: Path) -> None:
    locked = project / "locked"
    locked.mkdir()
    (locked / "layer.py").write_text(BUGGY, encoding="utf-8")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("permissions are not enforced for this user (root)")
        result = run_cfglint(cwd=project)
        assert_survived(result, 1)
        assert "locked" in result.stderr and "permission denied" in result.stderr
    finally:
        locked.chmod(0o755)


def test_directory_symlink_loop(project: Path) -> None:
    sub = project / "pkg" / "sub"
    sub.mkdir(parents=True)
    (sub / "layer.py").write_text(BUGGY, encoding="utf-8")
    try:
        (sub / "up").symlink_to("..", target_is_directory=True)
        (project / "pkg" / "self").symlink_to("self")
    except (OSError, NotImplementedError):
        pytest.skip("symbolic links are not available")
    result = run_cfglint(cwd=project, timeout=30)
    assert_survived(result, 1)
    assert finding_lines(result.stdout, os.path.join("pkg", "sub", "layer.py")) == [
        BUGGY_FINDING.replace("buggy.py", os.path.join("pkg", "sub", "layer.py"))
    ]
    assert "loop" in result.stderr
    assert "pkg/self" in result.stderr.replace(os.sep, "/")


def test_missing_path(project: Path) -> None:
    result = run_cfglint("does/not/exist.py", "buggy.py", "gone", cwd=project)
    assert_survived(result, 2)
    assert "does/not/exist.py: no such file or directory" in result.stderr
    assert "gone: no such file or directory" in result.stderr


def test_broken_symlink_named_explicitly(project: Path) -> None:
    try:
        (project / "dangling.py").symlink_to("nowhere.py")
    except (OSError, NotImplementedError):
        pytest.skip("symbolic links are not available")
    result = run_cfglint("dangling.py", "buggy.py", cwd=project)
    assert_survived(result, 2)
    assert "dangling.py: broken symbolic link" in result.stderr
    walked = run_cfglint(cwd=project)  # met during a walk it is not a Python file
    assert_survived(walked, 1)


def test_directory_without_python_files(tmp_path: Path) -> None:
    empty = tmp_path / "docs"
    (empty / "nested").mkdir(parents=True)
    (empty / "README.md").write_text("# nothing here\n")
    (empty / "nested" / "data.json").write_text("{}\n")
    result = run_cfglint("docs", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "All checks passed! (0 files checked)\n", "")


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_file_name_that_is_not_utf8(project: Path, fmt: str) -> None:
    """A name with a byte that is not UTF-8 (possible on Linux) is reported, escaped, and never crashes,
    even when standard output is strict UTF-8 (as under a UTF-8 locale other than C.UTF-8)."""
    name = os.path.join(os.fsencode(project), b"caf\xe9.py")
    try:
        with open(name, "wb") as file:
            file.write(BUGGY.encode())
    except (OSError, UnicodeError):
        pytest.skip("the file system refuses names that are not UTF-8")
    result = run_cfglint("--output-format", fmt, cwd=project, env={"PYTHONIOENCODING": "utf-8"})
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    assert result.returncode == 1
    assert "buggy.py" in result.stdout
    assert "caf" in result.stdout


def test_permission_errors_on_lookups_are_never_internal_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """As root nothing is unreadable, so `stat`/`scandir` are made to refuse a folder: the configuration
    lookup (`pathlib`'s `is_file` raises on EACCES) and discovery must give a message, not a traceback."""
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "a.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "buggy.py").write_text(BUGGY, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.cfglint]\n", encoding="utf-8")
    real_stat, real_scandir = os.stat, os.scandir

    def stat(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        name = os.fspath(path)
        if "locked" in name and not name.endswith("locked"):
            raise PermissionError(13, "Permission denied", name)
        return real_stat(path, *args, **kwargs)

    def scandir(path="."):  # type: ignore[no-untyped-def]
        if "locked" in os.fspath(path):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.chdir(tmp_path)
    for args, expected in ((["locked/a.py", "buggy.py"], 2), (["locked"], 0), (["."], 1)):
        code = main(["check", "--no-cache", *args])
        captured = capsys.readouterr()
        assert "internal error" not in captured.err, captured.err
        assert code == expected, (args, captured)
        if args != ["."]:
            assert "permission denied" in captured.err, captured.err
