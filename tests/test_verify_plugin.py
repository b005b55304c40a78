"""The pytest plugin: `pytest --cfglint-verify PATH` makes one test item per Keras class under PATH.

pytest runs in a subprocess, in a temporary project with four layer classes (one broken, one needing no
arguments at all), with an empty ini file and `--rootdir` set there, so this repository's own pytest
configuration and conftest files play no part. It runs under pytest-xdist (`-n 2`), without it, and with
`--collect-only`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.keras,
    pytest.mark.skipif(
        importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("keras") is None,
        reason="cfglint verify needs TensorFlow and Keras",
    ),
]

LAYERS = """
    import keras


    class Plain(keras.layers.Layer):
        def call(self, x):
            return x * 2.0


    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}


    class Projection(keras.layers.Layer):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")

        def call(self, x):
            return x @ self.kernel

        def get_config(self):
            return {**super().get_config(), "units": self.units}
    """
BROKEN = """
    import keras


    class Blend(keras.layers.Layer):
        def __init__(self, alpha=0.25, power=2, **kwargs):
            super().__init__(**kwargs)
            self.alpha = alpha
            self.power = power

        def call(self, x):
            return self.alpha * x + x ** self.power

        def get_config(self):
            return {**super().get_config(), "alpha": self.alpha}  # `power` is missing
    """
EXPECTED = {"layers:Plain": "PASSED", "layers:Scale": "PASSED", "layers:Projection": "PASSED",
            "broken:Blend": "FAILED"}
OUTCOME = re.compile(r"^(PASSED|FAILED|SKIPPED|ERROR|XFAIL|XPASS) (\S+)", re.MULTILINE)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plugin_project")
    (root / "layers.py").write_text(textwrap.dedent(LAYERS).lstrip(), encoding="utf-8")
    (root / "broken.py").write_text(textwrap.dedent(BROKEN).lstrip(), encoding="utf-8")
    (root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")  # ours must not be found
    return root


def pytest_in(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}  # no outer xdist/addopts
    env.update(KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-c", str(root / "pytest.ini"),
            "--rootdir", str(root), "--cfglint-verify", str(root), *args]
    return subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False)


def outcomes(result: subprocess.CompletedProcess[str]) -> dict[str, list[str]]:
    """`module:Class` -> the outcomes reported for it in the `-rA` short summary."""
    found: dict[str, list[str]] = {}
    for outcome, node_id in OUTCOME.findall(result.stdout):
        assert "cfglint-verify" in node_id, node_id
        found.setdefault(node_id.rsplit("::", 1)[-1], []).append(outcome)
    return found


def check_run(result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 1, output  # one class fails
    assert outcomes(result) == {name: [outcome] for name, outcome in EXPECTED.items()}, output
    assert re.search(r"\b3 passed\b", result.stdout) and re.search(r"\b1 failed\b", result.stdout), output
    failure = result.stdout.split("FAILURES", 1)[-1]
    assert "broken.py" in failure and "Blend" in failure, output
    assert re.search(r"CFG904 .*`power", failure), output


def test_plugin_under_xdist(project: Path) -> None:
    result = pytest_in(project, "-n", "2", "-q", "-rA")
    assert "bringing up nodes" in result.stdout or "created: 2/2 workers" in result.stdout, result.stdout
    check_run(result)


def test_plugin_without_xdist(project: Path) -> None:
    check_run(pytest_in(project, "-q", "-rA"))


@pytest.fixture(scope="module")
def collected(project: Path) -> subprocess.CompletedProcess[str]:
    return pytest_in(project, "--collect-only", "-q")


def test_collect_only_lists_one_item_per_class(collected: subprocess.CompletedProcess[str]) -> None:
    result = collected
    assert result.returncode == 0, result.stdout + result.stderr
    items = [line for line in result.stdout.splitlines() if "cfglint-verify" in line]
    assert sorted(item.rsplit("::", 1)[-1] for item in items) == sorted(EXPECTED), result.stdout


def test_collect_only_counts_the_items(collected: subprocess.CompletedProcess[str]) -> None:
    assert re.search(r"\b4 tests? collected\b", collected.stdout), collected.stdout
