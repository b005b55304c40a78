"""CFG9: found by `cfglint verify`, which imports each class and round-trips it through Keras.

These rules have no static check. Their examples are run by `cfglint verify` in the test suite (tests
marked `keras`); each finding points at the class name on its `class` line.
"""

from __future__ import annotations

from cfglint.finding import Severity, Target
from cfglint.rules.base import Rule, bad, good

BOTH_ERROR = {Target.KERAS3: Severity.ERROR, Target.TF_KERAS: Severity.ERROR}

GOOD_LAYER = good("""
    import keras

    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}
    """)
GOOD_DENSE = good("""
    from tensorflow import keras

    class Projection(keras.layers.Layer):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")

        def call(self, x):
            return x @ self.kernel

        def get_config(self):
            config = super().get_config()
            config["units"] = self.units
            return config
    """)


class DynamicRule(Rule):
    """A rule `cfglint verify` reports; `check` never does."""

    dynamic = True
    severity = BOTH_ERROR
    valid = (GOOD_LAYER, GOOD_DENSE)


class VerifyNotInstantiable(DynamicRule):
    code = "CFG900"
    name = "verify-not-instantiable"
    summary = "The class could not be constructed or built with the arguments and inputs cfglint knows."
    what = ("Reports a class `cfglint verify` could not check: a required argument it cannot guess, a "
            "constructor that raised, or no input shape it could call the layer on.")
    why = "Nothing was verified for this class, so none of its round-trip bugs can be found."
    instead = ("Add an example in `pyproject.toml`: `[tool.cfglint.verify.examples.\"pkg.module:Class\"]` with "
               "`kwargs = {...}` and, if needed, `input_shape = [2, 8]` (batch dimension included) and "
               "`input_dtype = \"int32\"`.")
    severity = {Target.KERAS3: Severity.INFO, Target.TF_KERAS: Severity.INFO}
    invalid = (
        bad("""
            import keras

            class NeedsTable(keras.layers.Layer):
                def __init__(self, lookup_table, **kwargs):
                    super().__init__(**kwargs)
                    self.lookup_table = lookup_table
            """, (3, 7)),
        bad("""
            import keras

            class Picky(keras.layers.Layer):
                def call(self, x):
                    if x.shape[-1] != 7:
                        raise ValueError("needs 7 features")
                    return x
            """, (3, 7)),
    )


class GetConfigFailed(DynamicRule):
    code = "CFG901"
    name = "get-config-failed"
    summary = "`get_config()` raised."
    what = "Reports a layer whose `get_config()` raises once it is constructed."
    why = ("`model.save`, `to_json` and `clone_model` call `get_config()` first: the model cannot be saved at all "
           "(Keras 3 raises `NotImplementedError: Object X was created by passing non-serializable argument "
           "values` for a layer without `get_config` given a function).")
    instead = "Override `get_config` and return plain values for every constructor argument."
    invalid = (
        bad("""
            import keras

            class Broken(keras.layers.Layer):
                def get_config(self):
                    return {**super().get_config(), "units": self.units}
            """, (3, 7)),
        bad("""
            import keras

            class Auto(keras.layers.Layer):
                def __init__(self, fn=keras.activations.relu, **kwargs):
                    super().__init__(**kwargs)
                    self.fn = fn

                def call(self, x):
                    return self.fn(x)
            """, (3, 7)),
    )


class ConfigNotJson(DynamicRule):
    code = "CFG902"
    name = "config-not-json"
    summary = "The serialized layer is not plain JSON."
    what = "Reports a layer whose `serialize_keras_object(layer)` cannot be written with `json.dumps`."
    why = "`.keras` saving and `model.to_json()` write JSON: they fail with `TypeError: ... is not JSON serializable`."
    instead = "Return plain values from `get_config` (`.tolist()`, `X.serialize(...)`, names instead of objects)."
    invalid = (
        bad("""
            import keras

            class Holder(keras.layers.Layer):
                def __init__(self, **kwargs):
                    super().__init__(**kwargs)
                    self.marker = object()

                def get_config(self):
                    return {**super().get_config(), "marker": self.marker}
            """, (3, 7)),
        bad("""
            import keras

            class SetConfig(keras.layers.Layer):
                def get_config(self):
                    return {**super().get_config(), "tags": {1, 2}}
            """, (3, 7)),
    )


class FromConfigFailed(DynamicRule):
    code = "CFG903"
    name = "from-config-failed"
    summary = "`from_config` or `deserialize_keras_object` raised."
    what = ("Reports a layer whose config cannot be turned back into a layer: `deserialize_keras_object` of the "
            "JSON text, or `cls.from_config(layer.get_config())`, raised (or the revived layer failed on its "
            "first call).")
    why = "Every reload (`load_model`, `model_from_json`, `clone_model`) goes through these calls."
    instead = ("Return every constructor argument under its own name, accept `**kwargs`, and decode nested "
               "objects in `from_config`.")
    invalid = (
        bad("""
            import keras

            class Forgot(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def call(self, x):
                    return x

                def get_config(self):
                    return super().get_config()
            """, (3, 7)),
        bad("""
            import keras

            class NoKwargs(keras.layers.Layer):
                def __init__(self, rate=0.5):
                    super().__init__()
                    self.rate = rate

                def call(self, x):
                    return x * self.rate
            """, (3, 7)),
    )


class ConfigDrift(DynamicRule):
    code = "CFG904"
    name = "config-drift"
    summary = "The revived layer's config differs, or a passed argument is not in the config."
    what = ("Reports a config that changes through `from_config`, a name/trainable/dtype lost on the way, and "
            "constructor arguments (passed at non-default values) that the config does not carry.")
    why = "No error is raised: the reloaded model silently uses defaults or transformed values."
    instead = "Return each argument as it was passed, under its own name, and merge `super().get_config()`."
    invalid = (
        bad("""
            import keras

            class Lossy(keras.layers.Layer):
                def __init__(self, factor=2.0, **kwargs):
                    super().__init__(**kwargs)
                    self.factor = factor

                def call(self, x):
                    return x * self.factor

                def get_config(self):
                    return super().get_config()
            """, (3, 7)),
        bad("""
            import keras

            class Doubling(keras.layers.Layer):
                def __init__(self, width=2, **kwargs):
                    super().__init__(**kwargs)
                    self.width = width * 2

                def call(self, x):
                    return x * self.width

                def get_config(self):
                    return {**super().get_config(), "width": self.width}
            """, (3, 7)),
    )


class OutputsDiffer(DynamicRule):
    code = "CFG905"
    name = "outputs-differ"
    summary = "After copying the weights, the revived layer computes something else."
    what = ("Builds the original and the revived layer on the same input, copies the weights, and compares "
            "weight shapes, outputs (`training=False`) and `losses`.")
    why = "A model that reloads without error but predicts differently is the most expensive config bug."
    instead = "Make every argument that changes the computation part of the config."
    invalid = (
        bad("""
            import keras

            class Shift(keras.layers.Layer):
                def __init__(self, shift=1.0, **kwargs):
                    super().__init__(**kwargs)
                    self.shift = shift

                def call(self, x):
                    return x + self.shift

                def get_config(self):
                    config = super().get_config()
                    config["shift"] = 0.0
                    return config
            """, (3, 7)),
        bad("""
            import keras

            class Wide(keras.layers.Layer):
                def __init__(self, units=3, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def build(self, input_shape):
                    self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")

                def call(self, x):
                    return x @ self.kernel

                def get_config(self):
                    return {**super().get_config(), "units": 1}
            """, (3, 7)),
    )


class SharedState(DynamicRule):
    code = "CFG906"
    name = "shared-state"
    summary = "The revived layer shares variables with the original."
    what = "Reports variables that are the same objects in the original and in `cls.from_config(get_config())`."
    why = ("`clone_model` and in-process `from_config` then train one set of weights for two layers: a raw "
           "sub-layer in the config is passed straight through.")
    instead = "Serialize nested layers in `get_config` and deserialize them in a `from_config` classmethod."
    invalid = (
        bad("""
            import keras

            class Wrap(keras.layers.Layer):
                def __init__(self, inner=None, **kwargs):
                    super().__init__(**kwargs)
                    self.inner = inner or keras.layers.Dense(2)

                def call(self, x):
                    return self.inner(x)

                def get_config(self):
                    return {**super().get_config(), "inner": self.inner}
            """, (3, 7)),
        bad("""
            import keras

            class Gate(keras.layers.Layer):
                def __init__(self, gate=None, **kwargs):
                    super().__init__(**kwargs)
                    self.gate = gate or keras.layers.Dense(1, activation="sigmoid")

                def call(self, x):
                    return x * self.gate(x)

                def get_config(self):
                    config = super().get_config()
                    config.update(gate=self.gate)
                    return config
            """, (3, 7)),
    )


class SaveLoadFailed(DynamicRule):
    code = "CFG907"
    name = "save-load-failed"
    summary = "A `.keras` save and load of a model holding the layer fails or differs."
    what = "Saves a functional model around the layer (or the Model itself) as `.keras`, loads it, compares outputs."
    why = "This is what users do after training; it must work."
    instead = "Fix the findings of the other stages; a tuple used as a tuple after JSON is a common cause here."
    invalid = (
        bad("""
            import keras

            class Tile(keras.layers.Layer):
                def __init__(self, reps=(1, 2), **kwargs):
                    super().__init__(**kwargs)
                    self.reps = reps

                def call(self, x):
                    return keras.ops.tile(x, (1,) + self.reps)

                def get_config(self):
                    return {**super().get_config(), "reps": self.reps}
            """, (3, 7)),
        bad("""
            import keras

            class Pad(keras.layers.Layer):
                def __init__(self, pad=(1, 1), **kwargs):
                    super().__init__(**kwargs)
                    self.pad = pad

                def call(self, x):
                    return keras.ops.pad(x, ((0, 0), self.pad + ()))

                def get_config(self):
                    return {**super().get_config(), "pad": self.pad}
            """, (3, 7)),
    )


class VerifyCrashed(DynamicRule):
    code = "CFG908"
    name = "verify-crashed"
    summary = "The worker crashed, hung past `--timeout`, or called `sys.exit` while importing or checking."
    what = ("Reports a class whose module import or check killed or stalled its worker process, or raised "
            "`SystemExit`. The other classes are still checked in a fresh worker.")
    why = "Code that cannot be imported cannot be loaded by `load_model` either."
    instead = "Keep module import free of side effects (training, `sys.exit`, reading missing files)."
    invalid = (
        bad("""
            import sys
            import keras

            class Exits(keras.layers.Layer):
                def call(self, x):
                    sys.exit(3)
            """, (4, 7)),
        bad("""
            import os
            import keras

            class Aborts(keras.layers.Layer):
                def call(self, x):
                    os.abort()
            """, (4, 7)),
    )


RULES = (VerifyNotInstantiable, GetConfigFailed, ConfigNotJson, FromConfigFailed, ConfigDrift, OutputsDiffer,
         SharedState, SaveLoadFailed, VerifyCrashed)
