"""CFG201's severity follows what Keras does with the raw object.

Keras's own saving serializes a Keras object nested in a config and hands `__init__` the serialized form,
so when `__init__` decodes the argument with `<family>.get(...)` every Keras reload works and only a
user's plain `json.dumps(get_config())` (and legacy `.h5`) breaks: info. When `__init__` keeps what it is
given, the reload hands it a dict: a warning.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from cfglint.config import load_settings
from cfglint.engine import Checker
from cfglint.finding import Severity
from cfglint.rules import ALL_RULES

DECODED = """\
import keras


class AttentionPool(keras.layers.Layer):
    def __init__(self, channels, kernel_initializer="glorot_uniform", activation=None, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.activation = keras.activations.get(activation)

    def call(self, x):
        return self.activation(x)

    def get_config(self):
        config = {
            "channels": self.channels,
            "kernel_initializer": self.kernel_initializer,
            "activation": self.activation,
        }
        return {**super().get_config(), **config}
"""

def findings(tmp_path: Path, source: str) -> list[tuple[str, int, Severity]]:
    (tmp_path / "layer.py").write_text(source, encoding="utf-8")
    settings = load_settings(tmp_path, known_codes=ALL_RULES)
    report = Checker(settings).check_paths([str(tmp_path / "layer.py")])
    return [(f.code, f.line, f.severity) for f in report.findings if f.code == "CFG201"]


def test_decoded_argument_is_info(tmp_path: Path) -> None:
    assert findings(tmp_path, DECODED) == [("CFG201", 17, Severity.INFO), ("CFG201", 18, Severity.INFO)]


def test_rule_examples_with_get_are_info(tmp_path: Path) -> None:
    for example in ALL_RULES["CFG201"].invalid:
        assert {severity for _, _, severity in findings(tmp_path, example.code)} == {Severity.INFO}


@pytest.mark.keras
@pytest.mark.skipif(importlib.util.find_spec("keras") is None, reason="needs Keras")
def test_keras_reloads_the_decoded_objects(tmp_path: Path) -> None:
    """The info case really round-trips through Keras's serializer, and only plain JSON fails."""
    import keras

    (tmp_path / "pool_module.py").write_text(DECODED, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module("pool_module")
    finally:
        sys.path.remove(str(tmp_path))
    layer = module.AttentionPool(4, kernel_initializer="he_normal", activation="tanh")
    with pytest.raises(TypeError, match="not JSON serializable"):
        json.dumps(layer.get_config())
    text = json.dumps(keras.saving.serialize_keras_object(layer))
    revived = keras.saving.deserialize_keras_object(
        json.loads(text), custom_objects={"AttentionPool": module.AttentionPool})
    assert type(revived.kernel_initializer).__name__ == "HeNormal"
    assert revived.activation is keras.activations.tanh
