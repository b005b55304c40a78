"""`cfglint verify` reports what the settings let through, as `check` does: a `# noqa` on the line a
finding is reported at (the class line), the rule selection and per-file-ignores all apply.

The first tests replace the worker pool by one that fails every class, so they need no Keras; the
last ones (marked `keras`) run the real round trip, through `cfglint verify` and through the pytest
plugin, on a small class whose config cannot be revived.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import write_project as write

from cfglint.cli import main
from cfglint.engine import Checker
from cfglint.settings_resolver import CliOverrides, resolve_settings
from cfglint.verify import runner
from cfglint.verify.pool import WorkerInfo
from cfglint.verify.protocol import Job, Problem, Result

LAYER = """
    import keras


    class Scale(keras.layers.Layer):{noqa}
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def get_config(self):
            return {{**super().get_config(), "size": self.factor}}
    """




def project(root: Path) -> Path:
    """Four copies of one broken layer: plain, with a `noqa` for CFG903, with a bare `noqa`, and in a
    file whose per-file-ignores cover CFG903."""
    return write(root, {
        "pyproject.toml": """
            [tool.cfglint]
            per-file-ignores = {"ignored.py" = ["CFG903"]}
            """,
        "plain.py": LAYER.format(noqa=""),
        "coded.py": LAYER.format(noqa="  # noqa: CFG903"),
        "bare.py": LAYER.format(noqa="  # noqa"),
        "ignored.py": LAYER.format(noqa=""),
    })


class FailingPool:
    """Stands in for the worker pool: every class fails `from_config` and drifts."""

    def __init__(self, *, target: str, device: str, jobs: int, timeout: float) -> None:
        self.info = WorkerInfo("fake", "cpu", "0")

    def run(self, jobs: list[Job], on_result: Callable[[Job, Result], None]) -> None:
        for job in jobs:
            on_result(job, Result(job.id, "failed", problems=[Problem("CFG903", "from_config", "raised"),
                                                               Problem("CFG904", "config", "drifted")]))


def verify(root: Path, cli: CliOverrides | None = None) -> list[tuple[str, str]]:
    resolver = resolve_settings(root, cli=cli or CliOverrides())
    report = runner.run_verify(Checker(resolver.base, resolver=resolver), ["."], device="cpu", timeout=10,
                               jobs=1, examples={})
    assert report.failed and not report.errors
    return [(Path(f.path).name, f.code) for f in report.findings]


@pytest.fixture
def failing_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "WorkerPool", FailingPool)


@pytest.mark.usefixtures("failing_pool")
def test_verify_findings_honour_noqa_and_per_file_ignores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path)
    monkeypatch.chdir(root)
    assert verify(root) == [("coded.py", "CFG904"), ("ignored.py", "CFG904"),
                            ("plain.py", "CFG903"), ("plain.py", "CFG904")]


@pytest.mark.usefixtures("failing_pool")
def test_verify_findings_honour_the_rule_selection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path)
    monkeypatch.chdir(root)
    assert verify(root, CliOverrides(ignore=["CFG904"])) == [("plain.py", "CFG903")]
    assert verify(root, CliOverrides(select=["CFG904"])) == [("coded.py", "CFG904"), ("ignored.py", "CFG904"),
                                                              ("plain.py", "CFG904")]


@pytest.mark.keras
@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("keras") is None,
                    reason="`cfglint verify` needs TensorFlow and Keras")
def test_a_noqa_on_the_class_line_silences_a_real_verify_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"plain.py": LAYER.format(noqa=""), "coded.py": LAYER.format(noqa="  # noqa: CFG903")})
    monkeypatch.chdir(tmp_path)
    assert main(["verify", ".", "--jobs", "1", "--device", "cpu", "--no-progress", "--output-format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)
    found = {(f["path"], f["code"]) for f in findings}
    assert ("plain.py", "CFG903") in found, findings
    assert ("coded.py", "CFG903") not in found, findings


@pytest.mark.keras
@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("keras") is None,
                    reason="`cfglint verify` needs TensorFlow and Keras")
def test_the_pytest_plugin_fails_only_what_verify_reports(tmp_path: Path) -> None:
    """The same two classes as a pytest run: the one whose problems are all silenced passes."""
    write(tmp_path, {"pytest.ini": "[pytest]\n", "plain.py": LAYER.format(noqa=""),
                     "coded.py": LAYER.format(noqa="  # noqa")})
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}  # no outer xdist/addopts
    env.update(KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-c", str(tmp_path / "pytest.ini"),
            "--rootdir", str(tmp_path), "--cfglint-verify", str(tmp_path), "-q", "-rA"]
    result = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert re.search(r"PASSED cfglint-verify::coded:Scale", result.stdout), output
    assert re.search(r"FAILED cfglint-verify::plain:Scale", result.stdout), output
    assert "CFG903" in result.stdout.split("FAILURES", 1)[-1], output
