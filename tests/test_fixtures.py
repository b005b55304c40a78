"""`cfglint check fixtures/` on the example project finds exactly the bugs planted in it.

`fixtures/` is a small package of custom Keras layers (`zoo`) with its own `[tool.cfglint]` table.
Each buggy class there holds one defect (two in `MultiHeadProjection`); every finding below was
checked by hand against the class it points at, and the intended bugs were confirmed in Keras 3 or
tf-keras by a round trip that fails or changes the layer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "fixtures"

# (path relative to fixtures/, line, code), in the order cfglint reports them.
EXPECTED = [
    ("zoo/attention.py", 13, "CFG308"),   # QueryProjection: super().__init__(units, use_bias=False, **kwargs)
    ("zoo/attention.py", 32, "CFG202"),   # AttentionPooling: raw `score_layer` in the config, no from_config
    ("zoo/attention.py", 48, "CFG402"),   # GatedAttention: self.projection.build(...) without a `.built` guard
    ("zoo/attention.py", 88, "CFG205"),   # RelativePositionBias: returns 2 * max_distance + 1 as max_distance
    ("zoo/attention.py", 108, "CFG201"),  # ScoreActivation: activation function returned raw
    ("zoo/attention.py", 116, "CFG101"),  # MultiHeadProjection: required `num_heads` not in the config
    ("zoo/attention.py", 133, "CFG103"),  # MultiHeadProjection: key `units` is no __init__ argument
    ("zoo/attention.py", 160, "CFG107"),  # AttentionHead: "name" fixed to "attention_head"
    ("zoo/attention.py", 170, "CFG304"),  # GatedLinearUnit: no get_config, defaults to a function
    ("zoo/blocks.py", 35, "CFG102"),      # GatedBlock: `gate_bias` missing from MyBase's get_config
    ("zoo/heads.py", 7, "CFG303"),        # ClassifierHead: keras.Model with arguments, no get_config
    ("zoo/heads.py", 56, "CFG401"),       # MultiTaskHead: from_config without @classmethod
    ("zoo/legacy_tf.py", 37, "CFG301"),   # ChannelScale: merges super().get_config(), no **kwargs
    ("zoo/legacy_tf.py", 66, "CFG106"),   # PolynomialFeatures: config.update(vars(self))
    ("zoo/legacy_tf.py", 83, "CFG203"),   # ClassWeighting: numpy array in the config
    ("zoo/legacy_tf.py", 99, "CFG105"),   # Sharpen: get_config without return
    ("zoo/legacy_tf.py", 115, "CFG206"),  # TimeReshape: (batch, steps) + self.target_shape
    ("zoo/legacy_tf.py", 128, "CFG306"),  # NoisyGate: super().__init__() drops **kwargs
    ("zoo/model_building.py", 16, "CFG207"),  # build_regressor: Dense(activation=lambda ...)
    ("zoo/tfk_layers.py", 34, "CFG302"),  # Bias: automatic config, no **kwargs (tf-keras: info)
    ("zoo/tfk_layers.py", 50, "CFG305"),  # MultiScale: *scales with the automatic config
    ("zoo/tfk_layers.py", 62, "CFG307"),  # Clip: **kw instead of **kwargs
    ("zoo/tfk_layers.py", 79, "CFG403"),  # L2Dense: tf-keras build() never sets `built`
    ("zoo/tfk_layers.py", 109, "CFG104"),  # Standardize: get_config without super().get_config()
]

# Files that must stay clean: correct layers only, and a non-Keras class named `Layer`.
CLEAN_FILES = ("zoo/good.py", "zoo/maps.py", "zoo/base.py", "zoo/__init__.py")

# The rules the fixtures are meant to demonstrate (CFG404 is not selected by default).
DEMONSTRATED = {
    "CFG101", "CFG102", "CFG103", "CFG104", "CFG105", "CFG106", "CFG107",
    "CFG201", "CFG202", "CFG203", "CFG205", "CFG206", "CFG207",
    "CFG301", "CFG302", "CFG303", "CFG304", "CFG305", "CFG306", "CFG307", "CFG308",
    "CFG401", "CFG402", "CFG403",
}


def run_cfglint(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    env.pop("CFGLINT_OUTPUT_FORMAT", None)
    return subprocess.run(
        [sys.executable, "-m", "cfglint", "check", "--no-cache", *args], check=False, cwd=REPO_ROOT, input=stdin,
        capture_output=True, text=True, env=env, timeout=120,
    )


def findings_of(result: subprocess.CompletedProcess[str]) -> list[tuple[str, int, str]]:
    assert result.returncode in (0, 1), result.stderr
    found = []
    for finding in json.loads(result.stdout):
        path = Path(finding["path"])
        path = (REPO_ROOT / path) if not path.is_absolute() else path
        found.append((path.relative_to(FIXTURES).as_posix(), finding["location"]["line"], finding["code"]))
    return found


@pytest.fixture(scope="module")
def fixtures_run() -> subprocess.CompletedProcess[str]:
    return run_cfglint("fixtures", "--output-format", "json")


def test_expected_list_covers_the_demonstrated_rules() -> None:
    assert {code for _, _, code in EXPECTED} == DEMONSTRATED
    assert sorted(EXPECTED) == EXPECTED


def test_fixtures_findings(fixtures_run: subprocess.CompletedProcess[str]) -> None:
    found = findings_of(fixtures_run)
    assert len(found) == len(set(found)), "a finding is reported twice"
    unexpected = sorted(set(found) - set(EXPECTED))
    missing = sorted(set(EXPECTED) - set(found))
    assert not unexpected and not missing, f"unexpected: {unexpected}\nmissing: {missing}"
    assert found == sorted(found), "findings are not sorted by path and line"


def test_fixtures_exit_code(fixtures_run: subprocess.CompletedProcess[str]) -> None:
    assert fixtures_run.returncode == 1, fixtures_run.stderr
    assert fixtures_run.stderr == ""


@pytest.mark.parametrize("path", CLEAN_FILES)
def test_clean_files_have_no_findings(fixtures_run: subprocess.CompletedProcess[str], path: str) -> None:
    assert (FIXTURES / path).is_file()
    assert [f for f in findings_of(fixtures_run) if f[0] == path] == []


def test_inherited_config_checked_from_a_single_file() -> None:
    """`GatedBlock(MyBase)` is judged by `MyBase.get_config`, which lives in another file."""
    result = run_cfglint("fixtures/zoo/blocks.py", "--output-format", "json")
    assert result.returncode == 1, result.stderr
    assert findings_of(result) == [("zoo/blocks.py", 35, "CFG102")]


def test_model_building_code_checked_alone() -> None:
    """A module that defines no class is still read for lambdas in model-building code."""
    result = run_cfglint("fixtures/zoo/model_building.py", "--output-format", "json")
    assert findings_of(result) == [("zoo/model_building.py", 16, "CFG207")]


def test_per_file_ignores_has_an_effect() -> None:
    """fixtures/pyproject.toml ignores CFG104 in zoo/legacy_tf.py: the same source elsewhere reports it."""
    source = (FIXTURES / "zoo" / "legacy_tf.py").read_text(encoding="utf-8")
    as_itself = run_cfglint("--stdin-filename", "fixtures/zoo/legacy_tf.py", "--output-format", "json",
                            stdin=source)
    elsewhere = run_cfglint("--stdin-filename", "fixtures/zoo/legacy_tf_copy.py", "--output-format", "json",
                            stdin=source)
    codes_as_itself = {code for _, _, code in findings_of(as_itself)}
    codes_elsewhere = {code for _, _, code in findings_of(elsewhere)}
    assert "CFG104" not in codes_as_itself
    assert codes_elsewhere - codes_as_itself == {"CFG104"}
