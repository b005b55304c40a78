"""CFG5: saved model configs that today's code would no longer load (`cfglint saved`).

These rules judge a saved config (a `.keras` archive, `to_json()` / `get_config()` JSON) against the
project's classes; `cfglint check` never reports them. Each example is a project source (`example.py`,
the module `example`) with the saved config beside it (`model.json`); the test suite runs
`cfglint saved model.json` on every one. An example whose file is named `example.py@old` is the source
as it was committed before `example.py` (CFG504 compares with it through `--since`).
"""

from __future__ import annotations

import json
from typing import ClassVar

from cfglint.finding import Severity, Target
from cfglint.rules.base import Rule, bad, good

BOTH_ERROR = {Target.KERAS3: Severity.ERROR, Target.TF_KERAS: Severity.ERROR}


def saved(class_name: str, config: dict[str, object], registered: str | None = None, module: str = "example",
          name: str = "model.json") -> tuple[str, str]:
    """A saved config file holding one object as Keras 3 serializes it (`model.save`, `to_json`)."""
    base = {"name": config.pop("name", "layer"), "trainable": True, "dtype": "float32"}
    document = {"module": module, "class_name": class_name, "config": {**base, **config},
                "registered_name": registered or class_name}
    return name, json.dumps(document, indent=2) + "\n"


def functional(*layers: tuple[str, str, dict[str, object]]) -> tuple[str, str]:
    """A saved functional model named `model` holding `(class_name, registered_name, config)` layers."""
    entries = [{"module": "example", "class_name": cls, "registered_name": reg, "name": config["name"],
                "config": {"trainable": True, "dtype": "float32", **config}, "inbound_nodes": []}
               for cls, reg, config in layers]
    document = {"module": "keras.src.models.functional", "class_name": "Functional", "registered_name": "Functional",
                "config": {"name": "model", "trainable": True, "layers": entries}}
    return "model.json", json.dumps(document, indent=2) + "\n"


SCALE = """
    import keras

    @keras.saving.register_keras_serializable(package="demo")
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}
    """


class SavedRule(Rule):
    """A rule `cfglint saved` reports on saved configs; `check` never does."""

    dynamic = True
    saved = True
    severity = BOTH_ERROR
    needs_dynamic: ClassVar[bool] = False  # reported only with `cfglint saved --dynamic`


class SavedConfigUnreadable(SavedRule):
    code = "CFG500"
    name = "saved-config-unreadable"
    summary = "A saved model file cannot be read."
    what = ("Reports a `.keras` archive that is not a readable zip holding `config.json`, or a JSON file named on "
            "the command line that does not parse (as CFG001 reports a Python file that does not parse). A JSON "
            "file that parses but holds no Keras config is skipped with a note instead.")
    why = "`keras.saving.load_model` cannot open it either, so nothing in it was checked."
    instead = "Save the model again (`model.save(\"model.keras\")`), or remove the file from the checked folder."
    invalid = (
        bad(SCALE, (1, 2), files=(("model.json", "{not json\n"),)),
        bad(SCALE, (2, 1), files=(("model.json", '{"class_name": "Scale",\n}\n'),)),
    )
    valid = (
        good(SCALE, files=(saved("Scale", {"factor": 3.0}, "demo>Scale"),)),
        good(SCALE, files=(("model.json", '{"not": "a keras config"}\n'),)),
    )


class SavedUnknownKey(SavedRule):
    code = "CFG501"
    name = "saved-key-not-accepted"
    summary = "A saved config key that today's `__init__` does not accept."
    what = ("For every custom object in a saved config, checks that each key of its config is a keyword today's "
            "`__init__` takes: a parameter, a key a `from_config` of the class sets or removes, or one `**kwargs` "
            "absorbs. `**kwargs` handed on to Keras's `Layer.__init__` absorb only the keys Keras knows (`name`, "
            "`trainable`, `dtype`, ...). Keras passes those base keys to every layer, so a constructor without "
            "`**kwargs` fails on them too.")
    why = ("`keras.saving.load_model` rebuilds the layer with `cls(**config)`: a renamed argument raises "
           "`TypeError: Scale.__init__() got an unexpected keyword argument 'scale'` (through `**kwargs`: "
           "`ValueError: Unrecognized keyword arguments passed to Scale: {'scale': 3.0}`; tf-keras: `Keyword "
           "argument not understood`), and every model saved before the rename no longer loads.")
    instead = ("Keep accepting the old name: take it as a deprecated keyword, or map it in `from_config` "
               "(`config[\"factor\"] = config.pop(\"scale\")`) before calling `cls(**config)`.")
    invalid = (
        bad(SCALE, (5, 9), files=(saved("Scale", {"scale": 3.0}, "demo>Scale"),)),
        bad("""
            import keras

            @keras.saving.register_keras_serializable(package="demo")
            class Gate(keras.layers.Layer):
                def __init__(self, units):
                    super().__init__()
                    self.units = units

                def get_config(self):
                    return {**super().get_config(), "units": self.units}
            """, (5, 9), (5, 9), (5, 9), files=(saved("Gate", {"units": 4}, "demo>Gate"),)),
    )
    valid = (
        good(SCALE, files=(functional(("Scale", "demo>Scale", {"name": "scale", "factor": 3.0})),)),
        good("""
            import keras

            @keras.saving.register_keras_serializable(package="demo")
            class Scale(keras.layers.Layer):
                def __init__(self, factor=2.0, **kwargs):
                    super().__init__(**kwargs)
                    self.factor = factor

                def get_config(self):
                    return {**super().get_config(), "factor": self.factor}

                @classmethod
                def from_config(cls, config):
                    if "scale" in config:
                        config["factor"] = config.pop("scale")
                    return cls(**config)
            """, files=(saved("Scale", {"scale": 3.0}, "demo>Scale"),)),
    )


class SavedMissingRequired(SavedRule):
    code = "CFG502"
    name = "saved-config-missing-required"
    summary = "A required `__init__` argument that the saved config does not hold."
    what = ("For every custom object in a saved config, checks that each required argument of today's `__init__` "
            "is in its config or set by the class's `from_config`.")
    why = ("`cls(**config)` then raises `TypeError: Scale.__init__() missing 1 required positional argument: "
           "'bias'`: adding a required argument breaks every model saved before.")
    instead = "Give the new argument a default that reproduces the old behaviour (or set it in `from_config`)."
    invalid = (
        bad("""
            import keras

            @keras.saving.register_keras_serializable(package="demo")
            class Scale(keras.layers.Layer):
                def __init__(self, bias, factor=2.0, **kwargs):
                    super().__init__(**kwargs)
                    self.factor = factor
                    self.bias = bias

                def get_config(self):
                    return {**super().get_config(), "factor": self.factor, "bias": self.bias}
            """, (5, 24), files=(saved("Scale", {"factor": 3.0}, "demo>Scale"),)),
        bad("""
            import keras

            class Block(keras.layers.Layer):
                def __init__(self, units, depth, **kwargs):
                    super().__init__(**kwargs)
                    self.units, self.depth = units, depth

                def get_config(self):
                    return {**super().get_config(), "units": self.units, "depth": self.depth}
            """, (4, 31), files=(functional(("Block", "Block", {"name": "block_3", "units": 8})),)),
    )
    valid = (
        good(SCALE, files=(saved("Scale", {"factor": 3.0}, "demo>Scale"),)),
        good("""
            import keras

            class Block(keras.layers.Layer):
                def __init__(self, units, depth=1, **kwargs):
                    super().__init__(**kwargs)
                    self.units, self.depth = units, depth

                def get_config(self):
                    return {**super().get_config(), "units": self.units, "depth": self.depth}
            """, files=(functional(("Block", "Block", {"name": "block_3", "units": 8})),)),
    )


class SavedClassNotFound(SavedRule):
    code = "CFG503"
    name = "saved-class-not-found"
    summary = "A saved custom class that no longer exists or is no longer registered under the saved name."
    what = ("Finds each custom object of a saved config the way Keras does at load time: by the `registered_name` "
            "it was saved under (`\"package>Name\"`, from `@register_keras_serializable(package=..., name=...)`), "
            "else by its module and class name. Reports a class that is gone (at the saved file), and a class "
            "that is still there but registered under another name, or no longer registered (at the class: it "
            "loads only when the caller passes `custom_objects`).")
    why = ("`load_model` raises `TypeError: Could not locate class 'Scale'. Make sure custom classes are decorated "
           "with @keras.saving.register_keras_serializable()`: renaming a class or its registration package "
           "breaks every model saved before.")
    instead = ("Keep the saved name working: leave the registration as it was, or register the class again under "
               "the old name (`keras.saving.register_keras_serializable(package=\"demo\", name=\"Scale\")(NewName)`) "
               "beside the new one.")
    invalid = (
        bad(SCALE.replace('package="demo"', 'package="demo2"'), (4, 7),
            files=(saved("Scale", {"factor": 3.0}, "demo>Scale"),)),
        bad(SCALE, (1, 1), files=(saved("Shift", {"offset": 1.0}, "demo>Shift"),)),
    )
    valid = (
        good(SCALE, files=(saved("Scale", {"factor": 3.0}, "demo>Scale"),)),
        good(SCALE.replace('@keras.saving.register_keras_serializable(package="demo")\n', ""),
             files=(saved("Scale", {"factor": 3.0}),)),
    )


SMOOTH = """
    import keras

    @keras.saving.register_keras_serializable(package="demo")
    class Smooth(keras.layers.Layer):
        def __init__(self, epsilon=1e-3, mode="sum", **kwargs):
            super().__init__(**kwargs)
            self.epsilon = epsilon
            self.mode = mode

        def get_config(self):
            return super().get_config()
    """


class SavedDefaultChanged(SavedRule):
    code = "CFG504"
    name = "saved-default-changed"
    summary = "A defaulted argument absent from a saved config whose default changed since `--since REV`."
    what = ("With `cfglint saved --since REV`, compares the defaults of today's `__init__` with those of the same "
            "class at git revision REV, for the arguments a saved config does not hold (a `get_config` that "
            "leaves an argument out saves no value for it). Defaults written differently but equal (`1e-3` and "
            "`0.001`) are the same.")
    why = ("The reload silently takes today's default: the model loads without an error, but it is not the "
           "model that was saved (a different dropout rate, activation or epsilon).")
    instead = ("Return every argument from `get_config` so saved models keep their value, or keep the old default "
               "and pass the new value where new models are built.")
    severity = {Target.KERAS3: Severity.WARNING, Target.TF_KERAS: Severity.WARNING}
    invalid = (
        bad(SMOOTH.replace("epsilon=1e-3", "epsilon=1e-5"), (5, 24),
            files=(("example.py@old", SMOOTH), saved("Smooth", {}, "demo>Smooth"))),
        bad(SMOOTH.replace('mode="sum"', 'mode="mean"'), (5, 38),
            files=(("example.py@old", SMOOTH), saved("Smooth", {"epsilon": 0.001}, "demo>Smooth"))),
    )
    valid = (
        good(SMOOTH.replace("epsilon=1e-3", "epsilon=1e-5").replace(
                "return super().get_config()",
                'return {**super().get_config(), "epsilon": self.epsilon, "mode": self.mode}'),
             files=(("example.py@old", SMOOTH), saved("Smooth", {"epsilon": 0.001, "mode": "sum"}, "demo>Smooth"))),
        good(SMOOTH.replace("epsilon=1e-3", "epsilon=0.001"),
             files=(("example.py@old", SMOOTH), saved("Smooth", {}, "demo>Smooth"))),
    )


STRICT_SCALE = """
    import keras

    @keras.saving.register_keras_serializable(package="demo")
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, name=None, trainable=True, dtype=None):
            super().__init__(name=name, trainable=trainable, dtype=dtype)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}
    """


class SavedModelDoesNotLoad(SavedRule):
    code = "CFG505"
    name = "saved-model-does-not-load"
    summary = "Keras itself cannot load the saved model with today's code (`cfglint saved --dynamic`)."
    what = ("With `--dynamic`, each saved model is loaded with real Keras (`keras.saving.load_model`, or "
            "`model_from_json` for JSON) in a worker process that first imports the project's modules, and a load "
            "that raises, hangs or crashes is reported at the saved file, with the error Keras gave. It settles "
            "what the static reading cannot decide: a class built by a factory, a `from_config` that transforms "
            "the config, a `build` that no longer accepts the saved weights.")
    why = "This is the error users will meet when they load the model: it does not load."
    instead = ("Read the error: usually an `__init__` argument was renamed or added, or a class was renamed or "
               "registered under another name (the static CFG501-CFG503 findings say where). Keep the old names "
               "accepted, or give the new argument a default.")
    invalid = (
        bad(STRICT_SCALE.replace("factor=2.0, name=None", "scale=2.0, name=None").replace(
                "self.factor = factor", "self.factor = scale"), (1, 1),
            files=(saved("Scale", {"factor": 3.0}, "demo>Scale"),)),
        bad(STRICT_SCALE.replace("factor=2.0, name=None", "factor, bias, name=None"), (1, 1),
            files=(saved("Scale", {"factor": 3.0}, "demo>Scale"),)),
    )
    valid = (
        good(STRICT_SCALE, files=(saved("Scale", {"factor": 3.0}, "demo>Scale"),)),
        good(STRICT_SCALE.replace("factor=2.0, name=None", "scale=2.0, name=None").replace(
                "self.factor = factor", "self.factor = scale").replace(
                'return {**super().get_config(), "factor": self.factor}',
                'return {**super().get_config(), "scale": self.factor}\n\n'
                '        @classmethod\n'
                '        def from_config(cls, config):\n'
                '            config = dict(config)\n'
                '            if "factor" in config:  # saved before the rename\n'
                '                config["scale"] = config.pop("factor")\n'
                '            return cls(**config)'),
             files=(saved("Scale", {"factor": 3.0}, "demo>Scale"),)),
    )
    needs_dynamic = True


RULES = (SavedConfigUnreadable, SavedUnknownKey, SavedMissingRequired, SavedClassNotFound, SavedDefaultChanged,
         SavedModelDoesNotLoad)
