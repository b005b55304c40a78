"""`cfglint verify` in CI: progress in logs, exit codes, usage errors, and a clean machine-readable stdout.

Most tests stop before a worker starts (a missing path, a bad example) or drive the progress reporter
directly, so they need no Keras. One real run (marked `keras`) serves the rest: a project whose code
prints at import and in `call`, with a class `verify` cannot construct (an info CFG900).
"""

from __future__ import annotations

import importlib.util
import io
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import VERIFIED_SCALE
from helpers import write_project as write

from cfglint.cli import main
from cfglint.verify.runner import Progress, make_progress

HAS_KERAS = importlib.util.find_spec("tensorflow") is not None and importlib.util.find_spec("keras") is not None
needs_tensorflow = pytest.mark.skipif(not HAS_KERAS, reason="`cfglint verify` needs TensorFlow and Keras")




LAYER = VERIFIED_SCALE


# ------------------------------------------------------------------------------------------ progress
class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_lines_in_a_log_come_on_a_timer_not_only_per_class() -> None:
    """Not a terminal: a line at the start, then one per interval even while no class finishes."""
    stream = io.StringIO()
    progress = Progress(stream, terminal=False, interval=0.02)
    progress.start(3, 2)
    time.sleep(0.2)  # no class has finished: the timer still writes
    progress.update(2)
    time.sleep(0.1)
    progress.stop()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "cfglint: progress: checking 3 classes in 2 files"
    assert len(lines) >= 4, lines
    assert all(line.startswith("cfglint: progress: ") and "classes checked" in line and " s elapsed" in line
               for line in lines[1:]), lines
    assert "0/3 classes checked" in lines[1] and "2/3 classes checked" in lines[-1], lines
    count = len(lines)
    time.sleep(0.1)
    assert len(stream.getvalue().splitlines()) == count  # stopped: the timer thread is gone


def test_progress_on_a_terminal_is_one_line_in_place_after_a_few_seconds() -> None:
    stream, clock = Tty(), FakeClock()
    progress = Progress(stream, terminal=True, clock=clock)
    progress.start(4, 1)
    progress.update(1)
    assert stream.getvalue() == ""  # a short run shows nothing
    clock.now += 5
    progress.update(2)
    progress.stop()
    assert stream.getvalue() == ("\rcfglint: progress: 2/4 classes checked, 5 s elapsed"
                                 "\rcfglint: progress: 2/4 classes checked, 5 s elapsed\n")


def test_no_classes_no_progress() -> None:
    stream = io.StringIO()
    progress = Progress(stream, terminal=False, interval=0.01)
    progress.start(0, 0)
    time.sleep(0.05)
    progress.stop()
    assert stream.getvalue() == ""


def test_progress_choice() -> None:
    assert make_progress(False, Tty()) is None  # --no-progress
    forced = make_progress(True, Tty())  # --progress: log lines even on a terminal
    assert forced is not None and not forced.terminal
    on_terminal = make_progress(None, Tty())
    assert on_terminal is not None and on_terminal.terminal
    in_log = make_progress(None, io.StringIO())
    assert in_log is not None and not in_log.terminal and in_log.interval <= 10


# ------------------------------------------------------------------------------------------ usage errors
@needs_tensorflow
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_verify_on_a_missing_path_is_an_error_and_not_all_clear(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    monkeypatch.chdir(write(tmp_path, {"layers.py": LAYER}))
    assert main(["verify", "missing_dir", "--output-format", fmt]) == 2
    out, err = capsys.readouterr()
    assert "cfglint: error: missing_dir: no such file, directory or module" in err
    assert "All checks passed" not in out + err
    assert "[]" not in out  # no empty JSON report that a CI step would read as clean


BAD_EXAMPLES = [
    # (pyproject text, what the error says)
    ('[tool.cfglint.verify.examples."layers:Scal"]\nkwargs = {}\n',
     '[tool.cfglint.verify.examples."layers:Scal"]: `layers` defines no class `Scal`'),
    ('[tool.cfglint.verify.examples."layer:Scale"]\nkwargs = {}\n',
     '[tool.cfglint.verify.examples."layer:Scale"]: no module `layer` found (did you mean `layers:Scale`?)'),
    ('[tool.cfglint.verify]\nexample = {}\n', "unknown key `example` in [tool.cfglint.verify]"),
    ('[tool.cfglint.verify.examples."layers:Scale"]\ninput_shape = [8]\ninput_dtype = 3\n',
     '"layers:Scale".input_dtype must be one of'),
]


@needs_tensorflow
@pytest.mark.parametrize(("config", "message"), BAD_EXAMPLES)
def test_verify_rejects_a_bad_examples_table_naming_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        config: str, message: str) -> None:
    """Checked before any worker starts: an example for a class that does not exist would silently
    never be used."""
    monkeypatch.chdir(write(tmp_path, {"layers.py": LAYER, "pyproject.toml": config}))
    assert main(["verify", "."]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"cfglint: error: {(tmp_path / 'pyproject.toml').resolve()}: "), err
    assert message in err
    assert out == ""


@needs_tensorflow
def test_examples_for_classes_outside_this_run_are_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An example may be for a class in a directory this run does not check, as long as it exists; the
    run itself is for a missing file here, which is the only error."""
    write(tmp_path, {"pkg/__init__.py": "", "pkg/layers.py": LAYER, "other/__init__.py": "",
                     "pyproject.toml": '[tool.cfglint.verify.examples."pkg.layers:Scale"]\nkwargs = {}\n'})
    monkeypatch.chdir(tmp_path)
    from cfglint.config import load_settings
    from cfglint.engine import Checker
    from cfglint.rules import ALL_RULES
    from cfglint.verify.runner import check_example_keys, find_classes, search_roots

    checker = Checker(load_settings(tmp_path, known_codes=ALL_RULES))
    targets, _, _ = find_classes(checker, ["other"])
    assert targets == []
    check_example_keys({"pkg.layers:Scale": {}}, targets, search_roots(checker), None)  # no error
    with pytest.raises(Exception, match=r"`pkg\.layers` defines no class `Other`"):
        check_example_keys({"pkg.layers:Other": {}}, targets, search_roots(checker), None)
    targets, _, _ = find_classes(checker, ["pkg"])
    with pytest.raises(Exception, match=r"that file is imported as `pkg\.layers`: name the example "
                                        r"`pkg\.layers:Scale`"):
        check_example_keys({"layers:Scale": {}}, targets, [tmp_path / "pkg"], None)


def test_check_validates_the_verify_table_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    config = '[tool.cfglint.verify.examples."layers:Scale"]\nkwargs = { units = 4 }\ninput_shape = 8\n'
    monkeypatch.chdir(write(tmp_path, {"layers.py": LAYER, "pyproject.toml": config}))
    assert main(["check", "."]) == 2
    err = capsys.readouterr().err
    assert f"{(tmp_path / 'pyproject.toml').resolve()}: " in err
    assert '"layers:Scale".input_shape must be a list of positive integers' in err


def pytest_in(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-c", str(root / "pytest.ini"),
            "--rootdir", str(root), *args]
    return subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_pytest_plugin_usage_errors_exit_4(tmp_path: Path) -> None:
    """As pytest does for a bad command line: the message, and exit code 4 (no test runs)."""
    write(tmp_path, {"layers.py": LAYER, "pytest.ini": "[pytest]\n"})
    missing = pytest_in(tmp_path, "--cfglint-verify", "no_such_dir")
    assert missing.returncode == 4, missing.stdout + missing.stderr
    assert "--cfglint-verify: no_such_dir: no such file, directory or module" in missing.stderr
    write(tmp_path, {"pyproject.toml": '[tool.cfglint.verify.examples."layers:Nope"]\n'})
    unknown = pytest_in(tmp_path, "--cfglint-verify", ".", "--collect-only")
    assert unknown.returncode == 4, unknown.stdout + unknown.stderr
    assert "`layers` defines no class `Nope`" in unknown.stderr and "pyproject.toml" in unknown.stderr


# ------------------------------------------------------------------------------------------ one real run
NOISY = """
    import sys
    import keras

    print("NOISY-IMPORT")
    sys.stderr.write("NOISY-STDERR\\n")


    class Loud(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor
            print("NOISY-INIT")

        def call(self, x):
            print("NOISY-CALL")
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}


    class NeedsTable(keras.layers.Layer):
        def __init__(self, lookup_table, **kwargs):
            super().__init__(**kwargs)
            self.lookup_table = lookup_table
    """


@pytest.fixture(scope="module")
def ci_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """`cfglint verify --output-format json` as a CI job runs it: stdout and stderr are pipes. Each
    stderr line is timed as it arrives."""
    root = write(tmp_path_factory.mktemp("ci"), {"noisy.py": NOISY, "quiet.py": LAYER})
    env = {k: v for k, v in os.environ.items() if k != "CFGLINT_OUTPUT_FORMAT"}
    env.update(KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "cfglint", "verify", ".", "--jobs", "1", "--timeout", "600",
                             "--output-format", "json"], cwd=root, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    timed: list[tuple[float, str]] = []

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            timed.append((time.monotonic() - start, line.rstrip("\n")))

    reader = threading.Thread(target=read_stderr)
    reader.start()
    assert proc.stdout is not None
    stdout = proc.stdout.read()
    returncode = proc.wait(timeout=900)
    reader.join()
    return {"stdout": stdout, "stderr": timed, "returncode": returncode, "seconds": time.monotonic() - start}


@pytest.mark.keras
@needs_tensorflow
def test_ci_run_prints_progress_at_least_every_10_seconds(ci_run: dict[str, object]) -> None:
    timed: list[tuple[float, str]] = ci_run["stderr"]  # type: ignore[assignment]
    progress = [(t, line) for t, line in timed if line.startswith("cfglint: progress: ")]
    text = "\n".join(f"{t:6.1f} {line}" for t, line in timed)
    assert progress and progress[0][1] == "cfglint: progress: checking 3 classes in 2 files", text
    summary = [t for t, line in timed if line.startswith("cfglint verify: 3 classes")]
    assert summary, text  # the final summary, on stderr in JSON mode
    moments = [0.0] + [t for t, _ in progress] + summary[:1]
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    assert max(gaps) <= 10, (gaps, text)
    if ci_run["seconds"] > 12:  # a run long enough to need them shows the timer's lines
        assert any("classes checked" in line for _, line in progress), text


@pytest.mark.keras
@needs_tensorflow
def test_ci_run_stdout_is_pure_json_and_an_info_finding_alone_exits_0(ci_run: dict[str, object]) -> None:
    stdout: str = ci_run["stdout"]  # type: ignore[assignment]
    findings = json.loads(stdout)  # the user's prints never reach it (nor stderr: workers are silenced)
    assert "NOISY" not in stdout
    assert not any("NOISY" in line for _, line in ci_run["stderr"])  # type: ignore[attr-defined]
    assert [(f["code"], f["severity"], f["class_name"]) for f in findings] == [("CFG900", "info", "NeedsTable")]
    assert ci_run["returncode"] == 0  # nothing was found wrong: CFG900 says a class was not checked


@pytest.mark.parametrize(("source", "qualname", "expected"), [
    ("class A: pass", "A", True),
    ("class A: pass", "B", False),
    ("try:\n    import x\nexcept ImportError:\n    class A: pass", "A", True),
    ("if True:\n    class A:\n        class Inner: pass", "A.Inner", True),
    ("class A:\n    class Inner: pass", "A.Other", False),
    ("A = make_layer()", "A", None),  # bound some other way: cannot know
    ("from pkg import A", "A", None),
    ("from pkg import *", "A", None),
    ("def A(): pass", "A", None),
    ("class A(", "A", None),  # does not parse
])
def test_what_counts_as_a_module_defining_a_class(tmp_path: Path, source: str, qualname: str,
                                                  expected: bool | None) -> None:
    """An example's key is an error only when nothing in its module binds the name."""
    from cfglint.verify.runner import _defines_class

    path = tmp_path / "m.py"
    path.write_text(source + "\n", encoding="utf-8")
    assert _defines_class(path, qualname) is expected
