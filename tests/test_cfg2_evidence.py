"""Where CFG202, CFG207 and CFG208 must stay silent: the evidence they act on, and what is not evidence.

The rules' own examples show the patterns they report; these are the near misses (a value that is only
called may be a function, a reassignment that is not a layer, a class stored as its name).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_check, write_project

LAYER = """
import keras


def make_default():
    return keras.layers.Dense(3)


class Probe(keras.layers.Layer):
    def __init__(self, {params}, **kwargs):
        super().__init__(**kwargs)
{body}

    def call(self, x):
        return self.inner(x)

    def get_config(self):
        return {{**super().get_config(), "inner": self.inner}}
"""


def codes(tmp_path: Path, source: str, select: list[str]) -> list[tuple[int, str]]:
    write_project(tmp_path, {"m.py": source})
    return sorted((f.line, f.code) for f in run_check(tmp_path, select=select).findings)


@pytest.mark.parametrize("params, body", [
    ("inner", "        self.inner = inner"),
    ("inner=None", "        self.inner = inner or make_default()"),
    ("inner=3", "        inner = int(inner)\n        self.inner = inner"),
    ("inner", "        if not isinstance(inner, (keras.layers.Layer, str)):\n            raise TypeError(inner)\n"
              "        self.inner = inner"),
], ids=["only called: may be a function", "fallback from a function", "reassigned by a function",
        "isinstance with a non-layer type"])
def test_cfg202_needs_evidence_of_a_layer(tmp_path: Path, params: str, body: str) -> None:
    assert codes(tmp_path, LAYER.format(params=params, body=body), ["CFG202"]) == []


@pytest.mark.parametrize("params, body", [
    ("inner=None", "        if inner is None:\n            inner = keras.layers.Dense(3)\n        self.inner = inner"),
    ("inner=None", "        self.inner = keras.layers.Dense(3) if inner is None else inner"),
], ids=["reassigned under `is None`", "conditional expression"])
def test_cfg202_fallback_spellings(tmp_path: Path, params: str, body: str) -> None:
    source = LAYER.format(params=params, body=body)
    line = next(i for i, text in enumerate(source.lstrip("\n").splitlines(), 1) if '"inner":' in text)
    assert codes(tmp_path, source, ["CFG202"]) == [(line, "CFG202")]


CLASS_HOLDER = """
import keras

UNITS = 3


class Holder(keras.layers.Layer):
    def __init__(self, {param}, **kwargs):
        super().__init__(**kwargs)
        self.thing = thing

    def get_config(self):
        return {{**super().get_config(), "thing": {returned}}}
"""


@pytest.mark.parametrize("param, returned", [
    ("thing=UNITS", "self.thing"),
    ("thing=keras.activations.relu", "self.thing"),
    ("thing=None", "self.thing"),
    ("thing: type[keras.layers.Layer] = keras.layers.Dense", "self.thing.__name__"),
    ("thing: type[keras.layers.Layer] = keras.layers.Dense",
     "keras.saving.get_registered_name(self.thing)"),
], ids=["a constant", "a function", "None", "the class's name", "the registered name"])
def test_cfg208_silent_without_a_class_returned(tmp_path: Path, param: str, returned: str) -> None:
    assert codes(tmp_path, CLASS_HOLDER.format(param=param, returned=returned), ["CFG208"]) == []


def test_cfg208_project_class_default(tmp_path: Path) -> None:
    source = CLASS_HOLDER.format(param="thing=Plain", returned="self.thing").replace(
        "UNITS = 3", "class Plain:\n    pass")
    assert codes(tmp_path, source, ["CFG208", "CFG202"]) == [(13, "CFG208")]


def test_cfg207_lambda_in_a_helper_of_a_helper_of_build(tmp_path: Path) -> None:
    source = """
        import keras


        class Head(keras.layers.Layer):
            def build(self, input_shape):
                self.steps = self._steps()

            def _steps(self):
                return [self._scale()]

            def _scale(self):
                return keras.layers.Lambda(lambda t: t * 2)

            def make_model(self):
                inputs = keras.Input((4,))
                return keras.Model(inputs, keras.layers.Lambda(lambda t: t * 3)(inputs))
        """
    # the helpers rebuild their Lambda on every construction; `make_model` builds a model whose
    # config carries its Lambda, and stays reported
    assert codes(tmp_path, source, ["CFG207"]) == [(16, "CFG207")]
