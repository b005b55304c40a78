"""ruff's command-line contract for `cfglint check`: each option behaves as its ruff namesake.

One or more tests per option, asserting what the user sees (output, exit code, files on disk), plus the
README's "Command line" section kept in step with `cfglint check --help`.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cfglint.cli import build_parser, main
from cfglint.gitignore import IgnoreFile, is_ignored, parse_line

ROOT = Path(__file__).resolve().parent.parent

# CFG101 at 5:24 (`units`), CFG102 at 5:31 (`rate`); both have a safe fix
BUGGY = """\
import keras


class Scale(keras.layers.Layer):
    def __init__(self, units, rate=0.5, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.rate = rate

    def get_config(self):
        config = super().get_config()
        return config
"""
# CFG103 at 9:24 (a config key no argument takes): no fix
UNFIXABLE = """\
import keras


class Extra(keras.layers.Layer):
    def get_config(self):
        config = super().get_config()
        config.update({"extra": 1})
        return config
"""
FINDING = re.compile(r"^(?P<path>\S+):(?P<line>\d+):(?P<col>\d+): (?P<code>CFG\d+)", re.MULTILINE)


@pytest.fixture(autouse=True)
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CFGLINT_NO_CACHE", "1")
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM", "CFGLINT_OUTPUT_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def write(path: str, text: str) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def found(out: str) -> list[tuple[str, int, str]]:
    return [(m["path"], int(m["line"]), m["code"]) for m in FINDING.finditer(out)]


# ------------------------------------------------------------------ parsing
def test_no_prefix_matching(capsys) -> None:
    write("layer.py", BUGGY)
    with pytest.raises(SystemExit) as exit_:
        main(["check", "--output", "json", "layer.py"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.startswith("usage: cfglint check")
    assert "unrecognized arguments: --output" in err


def test_unknown_option_prints_check_usage(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["check", "--bogus", "."])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "usage: cfglint check" in err and "--bogus" in err


def test_verbose_quiet_silent_exclude_each_other(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["check", "-q", "-s", "."])
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


# ------------------------------------------------------------------ output
def test_output_file(capsys) -> None:
    write("layer.py", BUGGY)
    code, out, _ = run(capsys, "check", "-o", "reports/out.txt", "layer.py")
    assert code == 1 and out == ""
    report = Path("reports/out.txt").read_text()
    assert found(report) == [("layer.py", 5, "CFG101"), ("layer.py", 5, "CFG102")]
    assert "Found 2 findings" in report
    code, _, _ = run(capsys, "check", "--output-file", "out.json", "--output-format", "json", "layer.py")
    assert code == 1 and '"CFG101"' in Path("out.json").read_text()


def test_quiet_prints_findings_only(capsys) -> None:
    write("layer.py", BUGGY)
    code, out, err = run(capsys, "check", "-q", "layer.py")
    assert code == 1 and err == ""
    assert found(out) == [("layer.py", 5, "CFG101"), ("layer.py", 5, "CFG102")]
    assert "Found" not in out and out.count("\n") == 2
    write("good.py", "x = 1\n")
    code, out, _ = run(capsys, "check", "--quiet", "good.py")
    assert code == 0 and out == ""


def test_silent_prints_nothing_but_keeps_exit_code(capsys) -> None:
    write("layer.py", BUGGY)
    assert run(capsys, "check", "-s", "layer.py") == (1, "", "")
    assert run(capsys, "check", "--silent", "--exit-zero", "layer.py") == (0, "", "")
    code, out, err = run(capsys, "check", "-s", "missing.py")
    assert code == 2 and out == "" and "missing.py" in err  # errors still say what went wrong


def test_color(capsys, monkeypatch) -> None:
    write("layer.py", BUGGY)
    _, out, _ = run(capsys, "check", "--color", "always", "layer.py")
    assert "\x1b[" in out
    monkeypatch.setenv("FORCE_COLOR", "1")
    _, out, _ = run(capsys, "check", "--color", "never", "layer.py")
    assert "\x1b[" not in out
    _, out, _ = run(capsys, "check", "layer.py")  # auto: FORCE_COLOR still decides
    assert "\x1b[" in out
    assert os.environ["FORCE_COLOR"] == "1"  # restored after the run
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = run(capsys, "check", "--color=always", "layer.py")
    assert "\x1b[" in out


def test_term_dumb_means_no_color(capsys, monkeypatch) -> None:
    write("layer.py", BUGGY)

    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    _, out, _ = run(capsys, "check", "layer.py")
    assert "\x1b[" not in out
    monkeypatch.setenv("TERM", "xterm")
    _, out, _ = run(capsys, "check", "layer.py")
    assert "\x1b[" in out


# ------------------------------------------------------------------ stdin
def test_dash_reads_stdin(capsys, monkeypatch) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BUGGY.encode())))
    code, out, _ = run(capsys, "check", "-")
    assert code == 1 and found(out) == [("-", 5, "CFG101"), ("-", 5, "CFG102")]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BUGGY.encode())))
    code, out, _ = run(capsys, "check", "-", "--stdin-filename", "pkg/layer.py")
    assert code == 1 and found(out)[0] == ("pkg/layer.py", 5, "CFG101")


def test_dash_with_other_paths_is_a_usage_error(capsys) -> None:
    code, _, err = run(capsys, "check", "-", "other.py")
    assert code == 2 and "standard input" in err


# ------------------------------------------------------------------ fixes
def test_fix_then_no_fix_does_not_fix(capsys) -> None:
    write("layer.py", BUGGY)
    code, out, _ = run(capsys, "check", "--fix", "--no-fix", "layer.py")
    assert code == 1 and Path("layer.py").read_text() == BUGGY
    assert "[*]" in out  # not fixing: the fixable findings are marked
    code, _, _ = run(capsys, "check", "--no-fix", "--fix", "layer.py")
    assert code == 0 and Path("layer.py").read_text() != BUGGY


def test_fix_only_reports_fixes_not_findings(capsys) -> None:
    write("layer.py", BUGGY)
    write("extra.py", UNFIXABLE)
    code, out, _ = run(capsys, "check", "--fix-only", "layer.py", "extra.py")
    assert code == 0
    assert found(out) == [] and "Fixed 2 findings." in out
    assert 'config["units"] = self.units' in Path("layer.py").read_text()
    code, out, _ = run(capsys, "check", "--fix-only", "layer.py", "extra.py")
    assert (code, out) == (0, "")  # as ruff: nothing fixed, nothing said


def test_exit_zero_and_exit_non_zero_on_fix_exclude_each_other(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["check", "--fix", "--exit-zero", "--exit-non-zero-on-fix", "."])
    assert exit_.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_exit_non_zero_on_fix(capsys) -> None:
    write("layer.py", BUGGY)
    code, out, _ = run(capsys, "check", "--fix", "--exit-non-zero-on-fix", "layer.py")
    assert code == 1 and "Fixed 2 findings (0 remaining)." in out
    code, _, _ = run(capsys, "check", "--fix", "--exit-non-zero-on-fix", "layer.py")
    assert code == 0  # nothing left to fix
    write("layer.py", BUGGY)
    assert run(capsys, "check", "--fix-only", "--exit-non-zero-on-fix", "layer.py")[0] == 1


def test_show_fixes(capsys) -> None:
    write("layer.py", BUGGY)
    code, out, _ = run(capsys, "check", "--fix", "--show-fixes", "layer.py")
    assert code == 0
    assert "Fixed 2 findings:\n- layer.py:\n    1 × CFG101 (missing-required-param)\n" \
           "    1 × CFG102 (missing-defaulted-param)\n" in out


# ------------------------------------------------------------------ add-noqa
def test_add_noqa_twice_changes_nothing_the_second_time(capsys) -> None:
    source = BUGGY.replace("    def get_config(self):", "    def get_config(self):  # noqa: E501")
    write("layer.py", source)
    write("extra.py", UNFIXABLE)
    code, _, err = run(capsys, "check", "--add-noqa", ".")
    assert code == 0 and "Added 2 noqa directives." in err
    first = Path("layer.py").read_text()
    assert first.splitlines()[4] == "    def __init__(self, units, rate=0.5, **kwargs):  # noqa: CFG101, CFG102"
    assert Path("extra.py").read_text().splitlines()[6] == '        config.update({"extra": 1})  # noqa: CFG103'
    assert run(capsys, "check", ".")[0] == 0  # every finding is suppressed now
    code, _, err = run(capsys, "check", "--add-noqa", ".")
    assert code == 0 and "Added" not in err
    assert Path("layer.py").read_text() == first


def test_add_noqa_merges_with_an_existing_directive(capsys) -> None:
    write("layer.py", BUGGY.replace("**kwargs):\n", "**kwargs):  # noqa: E501 long line\n", 1))
    run(capsys, "check", "--add-noqa", "layer.py")
    line = Path("layer.py").read_text().splitlines()[4]
    assert line.endswith("**kwargs):  # noqa: E501, CFG101, CFG102 long line")
    assert run(capsys, "check", "layer.py")[0] == 0


def test_add_noqa_never_writes_inside_a_string() -> None:
    from cfglint.add_noqa import with_noqa

    source = 'x = """\nabc\n"""\ny = 1 + \\\n    2\nz = 3\n'
    text, added, skipped = with_noqa(source, {2: {"CFG101"}, 4: {"CFG101"}, 6: {"CFG101"}})
    assert skipped == [2, 4] and added == 1
    assert text.splitlines()[5] == "z = 3  # noqa: CFG101"
    compile(text, "x.py", "exec")


def test_add_noqa_leaves_noqa_text_in_strings_alone() -> None:
    from cfglint.add_noqa import with_noqa

    text, _, _ = with_noqa('x = "# noqa: E501"\ny = 1  # keep # noqa: E1\n', {1: {"CFG101"}, 2: {"CFG101"}})
    assert text == 'x = "# noqa: E501"  # noqa: CFG101\ny = 1  # keep # noqa: E1, CFG101\n'


def test_add_noqa_keeps_crlf_line_endings() -> None:
    from cfglint.add_noqa import with_noqa

    text, added, _ = with_noqa("a = 1\r\nb = 2\r\n", {1: {"CFG102", "CFG101"}})
    assert text == "a = 1  # noqa: CFG101, CFG102\r\nb = 2\r\n" and added == 1


# ------------------------------------------------------------------ files
def test_show_files(capsys) -> None:
    write("pkg/a.py", "x = 1\n")
    write("pkg/b.pyi", "x: int\n")
    write("build/c.py", "x = 1\n")
    code, out, _ = run(capsys, "check", "--show-files")
    assert code == 0
    assert out.splitlines() == [str(Path("pkg/a.py").resolve()), str(Path("pkg/b.pyi").resolve())]


def test_gitignored_files_are_skipped_by_default(capsys) -> None:
    Path(".git/info").mkdir(parents=True)
    Path(".git/info/exclude").write_text("local_*.py\n")
    write(".gitignore", "ignored.py\n/generated/\n")
    write("sub/.gitignore", "*_pb2.py\n!keep_pb2.py\n")
    for name in ("layer.py", "ignored.py", "generated/g.py", "local_x.py", "sub/x_pb2.py", "sub/keep_pb2.py",
                 "sub/generated/h.py"):
        write(name, BUGGY)
    code, out, _ = run(capsys, "check", ".")
    paths = {path for path, _, _ in found(out)}
    assert code == 1 and paths == {"layer.py", "sub/keep_pb2.py", "sub/generated/h.py"}
    _, out, _ = run(capsys, "check", "--no-respect-gitignore", ".")
    assert {path for path, _, _ in found(out)} == {
        "layer.py", "ignored.py", "generated/g.py", "local_x.py", "sub/x_pb2.py", "sub/keep_pb2.py",
        "sub/generated/h.py"}
    _, out, _ = run(capsys, "check", "--respect-gitignore", "--show-files", "sub")
    assert [Path(line).name for line in out.splitlines()] == ["h.py", "keep_pb2.py"]
    _, out, _ = run(capsys, "check", "ignored.py")  # a file named on the command line is checked
    assert {path for path, _, _ in found(out)} == {"ignored.py"}


def test_gitignore_needs_a_git_work_tree(capsys) -> None:
    write(".gitignore", "ignored.py\n")
    write("ignored.py", BUGGY)
    _, out, _ = run(capsys, "check", ".")
    assert {path for path, _, _ in found(out)} == {"ignored.py"}  # as ruff: no repository, no .gitignore


@pytest.mark.parametrize("pattern, path, is_dir, ignored", [
    ("*.py", "a/b.py", False, True),
    ("/top.py", "top.py", False, True),
    ("/top.py", "a/top.py", False, False),
    ("a/*.py", "a/b.py", False, True),
    ("a/*.py", "a/c/b.py", False, False),
    ("a/**/b.py", "a/x/y/b.py", False, True),
    ("a/**/b.py", "a/b.py", False, True),
    ("**/gen", "x/gen", True, True),
    ("out/", "x/out", True, True),
    ("out/", "x/out", False, False),
    ("a/**", "a/b/c.py", False, True),
    ("b?.py", "b1.py", False, True),
    ("b[0-9].py", "b7.py", False, True),
    ("b[!0-9].py", "b7.py", False, False),
    ("\\#x.py", "#x.py", False, True),
    ("# comment", "# comment", False, False),
    ("name\\ ", "name ", False, True),
])
def test_gitignore_patterns(pattern: str, path: str, is_dir: bool, ignored: bool) -> None:
    rule = parse_line(pattern)
    rules = (rule,) if rule is not None else ()
    base = os.path.abspath("base")
    assert is_ignored((IgnoreFile(base, rules),), os.path.join(base, *path.split("/")), is_dir) is ignored


def test_exclude_and_extend_exclude_on_the_command_line(capsys) -> None:
    write("pyproject.toml", '[tool.cfglint]\nextend-exclude = ["legacy"]\n')
    for name in ("a.py", "legacy/b.py", "gen/c.py", "build/d.py"):
        write(name, BUGGY)
    _, out, _ = run(capsys, "check", "--extend-exclude", "gen", ".")
    assert {path for path, _, _ in found(out)} == {"a.py"}
    _, out, _ = run(capsys, "check", "--exclude", "gen,a.py", ".")  # replaces the default (build) too
    assert {path for path, _, _ in found(out)} == {"build/d.py"}


def test_per_file_ignores_on_the_command_line(capsys) -> None:
    write("pyproject.toml", '[tool.cfglint]\n[tool.cfglint.per-file-ignores]\n"a.py" = ["CFG101"]\n')
    write("a.py", BUGGY)
    write("tests/t.py", BUGGY)
    _, out, _ = run(capsys, "check", ".")
    assert sorted(found(out)) == [("a.py", 5, "CFG102"), ("tests/t.py", 5, "CFG101"), ("tests/t.py", 5, "CFG102")]
    _, out, _ = run(capsys, "check", "--per-file-ignores", "tests/*:CFG101,CFG102", ".")
    assert sorted(found(out)) == [("a.py", 5, "CFG101"), ("a.py", 5, "CFG102")]  # replaces the configured
    code, _, err = run(capsys, "check", "--per-file-ignores", "tests/*:CFG999", ".")
    assert code == 2 and "CFG999" in err


def test_per_file_ignores_needs_glob_and_codes(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["check", "--per-file-ignores", "tests/*", "."])
    assert exit_.value.code == 2 and "GLOB:CODES" in capsys.readouterr().err


# ------------------------------------------------------------------ watch
@pytest.mark.parametrize("watcher", ["watchfiles", "polling"])
def test_watch_checks_again_after_a_change(tmp_path: Path, watcher: str) -> None:
    """A short-lived `--watch` run sees an edit and prints a second report; with the `watch` extra
    (watchfiles) and without it (stat polling)."""
    if watcher == "watchfiles":
        pytest.importorskip("watchfiles")  # the `watch` extra (part of the `test` extra)
    layer = write("layer.py", BUGGY)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    hide = "sys.modules['watchfiles'] = None; " if watcher == "polling" else ""
    script = f"import sys; {hide}from cfglint.cli import main; sys.exit(main(sys.argv[1:]))"
    process = subprocess.Popen([sys.executable, "-c", script, "check", "--watch", "--no-cache", "layer.py"],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = _lines_of(process)
    try:
        first = _read_until(lines, "Watching for file changes.")
        assert "CFG102" in first
        layer.write_text(BUGGY.replace("rate=0.5, ", ""))  # CFG102 goes away
        second = _read_until(lines, "Watching for file changes.")
        assert "File change detected" in second and "CFG101" in second and "CFG102" not in second
    finally:
        process.terminate()
        process.wait(timeout=10)


def _lines_of(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """The process's output lines, read by a thread so that waiting for one can time out."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _read_until(lines: queue.Queue[str], marker: str, timeout: float = 60) -> str:
    """The output up to the line holding `marker`; fails after `timeout` seconds without it."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while not seen or marker not in seen[-1]:
        try:
            seen.append(lines.get(timeout=max(0.0, deadline - time.monotonic())))
        except queue.Empty:
            pytest.fail(f"no {marker!r} within {timeout} s; output so far: {''.join(seen)!r}")
    return "".join(seen)


def test_watch_polls_without_watchfiles(capsys) -> None:
    """The fallback when the `watch` extra is not installed: a stat poll notices an edit, a new file and
    a pyproject.toml change, and nothing else."""
    from cfglint.cli import _wait_by_polling, _watch_snapshot

    layer = write("pkg/layer.py", BUGGY)
    write("pkg/notes.txt", "")
    args = build_parser().parse_args(["check", "--watch", "pkg"])

    def waiter() -> threading.Thread:
        seen = _watch_snapshot(args, ["pkg"])
        thread = threading.Thread(target=_wait_by_polling, args=(args, ["pkg"], 0.05, seen), daemon=True)
        thread.start()
        return thread

    for change in (lambda: layer.write_text(BUGGY + "\n"), lambda: write("pkg/new.py", "x = 1\n"),
                   lambda: write("pkg/pyproject.toml", "[tool.cfglint]\n")):
        thread = waiter()
        change()
        thread.join(30)
        assert not thread.is_alive()
    thread = waiter()
    Path("pkg/notes.txt").write_text("x")
    thread.join(1.0)
    assert thread.is_alive()  # a change to another kind of file does not count
    layer.write_text(BUGGY)
    thread.join(30)
    assert not thread.is_alive()


# ------------------------------------------------------------------ README
def _options(parser) -> set[str]:  # type: ignore[no-untyped-def]
    return {option for action in parser._actions for option in action.option_strings} - {"-h", "--help"}


def _readme_block() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Command line"):]
    return section[section.index("```text"):section.index("```\n", section.index("```text") + 7)]


def test_readme_lists_every_check_option_and_nothing_else(capsys, monkeypatch) -> None:
    """The options `cfglint check --help` prints are exactly the ones the README's check block names."""
    monkeypatch.setenv("COLUMNS", "500")  # no option name wrapped at its hyphens
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    help_text = capsys.readouterr().out
    option = re.compile(r"(?<![\w-])(--?[a-z](?:[a-z-]*[a-z])?)")
    in_help = set(option.findall(help_text)) - {"-h", "--help"}
    block = _readme_block()
    documented = set(option.findall(block[block.index("cfglint check"):block.index("cfglint verify")]))
    assert documented == in_help
    assert in_help == _options(build_parser().commands["check"])  # type: ignore[attr-defined]


def test_readme_lists_the_options_of_the_other_commands() -> None:
    block = _readme_block()
    commands = build_parser().commands  # type: ignore[attr-defined]
    for name in ("verify", "rule", "clean", "server"):
        start = block.index(f"cfglint {name}")
        end = min((block.index(f"\ncfglint {other}", start + 1) for other in ("rule", "clean", "server", "--")
                   if f"\ncfglint {other}" in block[start + 1:]), default=len(block))
        part = block[start:end]
        for option in _options(commands[name]):
            assert option in part, f"{name} {option} missing from the README"


# ------------------------------------------------------------------ start-up cost
def test_new_options_import_nothing_heavy(tmp_path: Path) -> None:
    """--add-noqa, the .gitignore walk, --show-files, -q and --color stay on the light static path."""
    Path(".git").mkdir()
    write(".gitignore", "ignored.py\n")
    write("layer.py", BUGGY)
    write("ignored.py", BUGGY)
    script = (
        "import sys\n"
        "from cfglint.cli import main\n"
        # (a text report marks `[*]` by planning the fixes, which loads libcst; pylint output marks nothing)
        "for argv in (['check', '-q', '--color', 'always', '--output-format', 'pylint', '.'],\n"
        "             ['check', '--show-files'], ['check', '--add-noqa', '.'],\n"
        "             ['check', '-', '--stdin-filename', 'x.py']):\n"
        "    main(argv)\n"
        "heavy = ('tensorflow', 'keras', 'numpy', 'tf_keras', 'jax', 'torch', 'libcst')\n"
        "print('LOADED', sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, input="x = 1\n",
                            capture_output=True, text=True, timeout=120)
    assert "LOADED []" in result.stdout, result.stdout + result.stderr
    assert "# noqa: CFG101, CFG102" in Path("layer.py").read_text()
    assert "noqa" not in Path("ignored.py").read_text()
