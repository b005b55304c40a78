"""CFG3xx and CFG403 report with the evidence they have, and stay quiet on Keras's own layers.

The Keras round trips behind each pattern are in tests/test_keras_confirms.py (its evidence block);
these tests pin what the static side says about them: the severity that matches the evidence, the
message that names it, and no error or warning on the built-in layers of Keras and tf-keras.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from helpers import run_check, write_project

from cfglint.finding import Severity
from cfglint.rules import ALL_RULES


def _findings(tmp_path: Path, code: str, example) -> list:
    write_project(tmp_path, {"example.py": example.code})
    report = run_check(tmp_path, [str(tmp_path / "example.py")], select=[code], target=example.target.value)
    return [f for f in report.findings if f.code == code]


def test_cfg304_warns_on_certain_evidence_and_informs_on_possible(tmp_path: Path) -> None:
    rule = ALL_RULES["CFG304"]
    (default,) = _findings(tmp_path / "a", "CFG304", rule.invalid[0])
    assert default.severity is Severity.WARNING
    assert "defaults to the function `keras.activations.sigmoid`" in default.message
    (name,) = _findings(tmp_path / "b", "CFG304", rule.invalid[2])
    assert name.severity is Severity.INFO
    assert "is passed to `activations.get`, which also takes names" in name.message
    assert "if a caller passes an object" in name.message


@pytest.mark.parametrize(("annotation", "severity"), [
    ("Callable", Severity.WARNING),
    ("Optional[Callable]", Severity.WARNING),
    ("keras.layers.Layer | None", Severity.WARNING),
    ("float | Tensor", Severity.INFO),
    ("Union[str, Callable]", Severity.INFO),
    ("TensorShape", None),
    ("int", None),
])
def test_cfg304_annotation_evidence(tmp_path: Path, annotation: str, severity: Severity | None) -> None:
    write_project(tmp_path, {"m.py": f"""
        from typing import Callable, Optional, Union
        import keras
        from tensorflow import Tensor, TensorShape

        class Scale(keras.layers.Layer):
            def __init__(self, value: {annotation} = None, **kwargs):
                super().__init__(**kwargs)
                self.value = value
        """})
    found = [f for f in run_check(tmp_path, select=["CFG304"]).findings if f.code == "CFG304"]
    assert [f.severity for f in found] == ([severity] if severity else [])


def test_cfg306_names_what_is_swallowed(tmp_path: Path) -> None:
    (finding,) = _findings(tmp_path, "CFG306", ALL_RULES["CFG306"].invalid[0])
    assert finding.message.endswith("`name`, `trainable` and `dtype` can only land in it")


def test_cfg301_names_only_the_keys_init_refuses(tmp_path: Path) -> None:
    write_project(tmp_path, {"m.py": """
        import keras

        class Base(keras.layers.Layer):
            def __init__(self, units=2, name=None, dtype=None):
                super().__init__(name=name, dtype=dtype)
                self.units = units

            def get_config(self):
                return {"units": self.units, "name": self.name, "dtype": self.dtype}

        class Child(Base):
            def __init__(self, units=2, name=None):
                super().__init__(units, name=name)
        """})
    found = [f for f in run_check(tmp_path, select=["CFG301"]).findings if f.code == "CFG301"]
    assert [(f.line, f.message) for f in found] == [
        (12, "`get_config` returns `dtype`, but `__init__` has no `**kwargs` to accept it")]


def _installed(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


# The one finding left, a real tf-keras bug shown by test_multi_rnn_cell_is_a_real_tf_keras_bug.
KNOWN_KERAS_BUGS = {("tf_keras/src/layers/rnn/legacy_cells.py", "CFG301", "MultiRNNCell")}


def test_keras_own_layers_are_clean_for_cfg3_and_cfg403() -> None:
    roots = [root for root in map(_installed, ("keras", "tf_keras")) if root is not None]
    if not roots:
        pytest.skip("neither keras nor tf_keras is installed")
    paths = [str(root / "src" / "layers") for root in roots if (root / "src" / "layers").is_dir()]
    report = run_check(roots[0].parent, paths, select=["CFG3", "CFG403"])
    found = {
        (Path(f.path).resolve().relative_to(roots[0].parent.resolve()).as_posix(), f.code, f.class_name)
        for f in report.findings
        # Keras's own classes are shown as info (trusted as built-in); the rule's own verdict still counts
        if (f.severity is not Severity.INFO or f.message.endswith("(in Keras's own source: trusted as built-in)"))
        and not f.path.endswith("_test.py")
    }
    assert found <= KNOWN_KERAS_BUGS
    if _installed("tf_keras") is not None:
        assert found == KNOWN_KERAS_BUGS  # the check did read tf-keras's layers
