"""CFG2: config values are serializable and survive the JSON round trip unchanged."""

from __future__ import annotations

from collections.abc import Iterable

from cfglint.context import ClassContext, ModuleContext
from cfglint.extract import is_serialized_slot
from cfglint.facts import Value
from cfglint.finding import Severity, Target
from cfglint.keras_names import classify_base
from cfglint.keras_values import builds_layer, is_array, is_numpy_scalar, is_serialize_call, keras_family
from cfglint.rules._values import attr_values, layer_params, source_param
from cfglint.rules.base import FixSpec, Hit, Rule, bad, good
from cfglint.rules.cfg1 import both


class KerasObjectNotSerialized(Rule):
    code = "CFG201"
    name = "keras-object-not-serialized"
    summary = "An activation/initializer/regularizer/constraint object is returned raw in the config."
    what = ("Flags a config value that holds a Keras object (an attribute set with `activations.get(...)`, "
            "`initializers.get(...)`, `keras.initializers.HeNormal()`...) instead of its serialized form.")
    why = ("The config is no longer JSON: `json.dumps(layer.get_config())` raises `TypeError: Object of "
           "type function is not JSON serializable`, Keras's own `run_layer_test` fails, and legacy `.h5` "
           "loading fails for built-in initializers/regularizers (`Unknown config_item: 'HeNormal'`). "
           "Keras's own saving (`.keras`, `to_json`, `clone_model`) serializes the object and hands "
           "`__init__` its serialized form, so when `__init__` decodes the argument with "
           "`<family>.get(...)` those reloads work: the finding is then info. When `__init__` keeps the "
           "argument as it comes, the reload hands it a dict and the layer breaks: a warning.")
    instead = "`config[\"activation\"] = keras.activations.serialize(self.activation)` (likewise for the others)."
    fix = FixSpec(
        "safe",
        title="Serialize the Keras object in the config",
        why=("Wraps the value in the matching `<family>.serialize(...)`, spelled the way the file already "
             "spells the family module. Offered only when `__init__` builds the attribute with "
             "`<family>.get(argument)`, which accepts the serialized form, so a reload builds the same object; "
             "only the config's value changes, from a Python object to JSON."),
        planner="cfglint.fixes.serialize:plan",
        decider="cfglint.fixes.decide:decide_serialize",
    )
    severity = both(Severity.WARNING)
    severity_note = "info when `__init__` decodes it with `<family>.get`: only plain JSON and `.h5` break"
    invalid = (
        bad("""
            import keras

            class Act(keras.layers.Layer):
                def __init__(self, activation="relu", **kwargs):
                    super().__init__(**kwargs)
                    self.activation = keras.activations.get(activation)

                def get_config(self):
                    config = super().get_config()
                    config.update({"activation": self.activation})
                    return config
            """, (10, 24),
            fixed="""
            import keras

            class Act(keras.layers.Layer):
                def __init__(self, activation="relu", **kwargs):
                    super().__init__(**kwargs)
                    self.activation = keras.activations.get(activation)

                def get_config(self):
                    config = super().get_config()
                    config.update({"activation": keras.activations.serialize(self.activation)})
                    return config
            """),
        bad("""
            from tensorflow.keras import initializers, layers

            class Kernel(layers.Layer):
                def __init__(self, kernel_initializer="he_normal", **kwargs):
                    super().__init__(**kwargs)
                    self.kernel_initializer = initializers.get(kernel_initializer)

                def get_config(self):
                    return {**super().get_config(), "kernel_initializer": self.kernel_initializer}
            """, (9, 41),
            fixed="""
            from tensorflow.keras import initializers, layers

            class Kernel(layers.Layer):
                def __init__(self, kernel_initializer="he_normal", **kwargs):
                    super().__init__(**kwargs)
                    self.kernel_initializer = initializers.get(kernel_initializer)

                def get_config(self):
                    return {**super().get_config(), "kernel_initializer": initializers.serialize(self.kernel_initializer)}
            """),  # noqa: E501 - the fix's output, as written
    )
    valid = (
        good("""
            import keras

            class Act(keras.layers.Layer):
                def __init__(self, activation="relu", **kwargs):
                    super().__init__(**kwargs)
                    self.activation = keras.activations.get(activation)

                def get_config(self):
                    config = super().get_config()
                    config.update({"activation": keras.activations.serialize(self.activation)})
                    return config
            """),
        good("""
            from tensorflow.keras import initializers, layers

            class Kernel(layers.Layer):
                def __init__(self, kernel_initializer="he_normal", **kwargs):
                    super().__init__(**kwargs)
                    self.kernel_initializer_arg = kernel_initializer
                    self.kernel_initializer = initializers.get(kernel_initializer)

                def get_config(self):
                    return {**super().get_config(), "kernel_initializer": self.kernel_initializer_arg}
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        init = ctx.init
        for key, entry in ctx.own_keys.items():
            if is_serialize_call(entry.value):
                continue
            family = next((f for f in map(keras_family, attr_values(ctx, entry.value)) if f), None)
            if not family:
                continue
            uses = init.param_uses.get(key, set()) if init is not None and init.param(key) else set()
            if any(_decodes(use, family) for use in uses):
                # Keras's own saving serializes the object and `__init__` decodes it again: only a user's
                # plain `json.dumps(get_config())` and legacy `.h5` files break
                yield Hit(entry.span, f"config key `{key}` holds a Keras object: plain `json.dumps` of the "
                                      f"config and legacy `.h5` fail; return `{family}.serialize(...)` of it",
                          Severity.INFO, subject=key)
            else:
                yield Hit(entry.span, f"config key `{key}` holds a Keras object that `__init__` does not "
                                      f"decode again; return `{family}.serialize(...)` of it", subject=key)


def _decodes(use: str, family: str) -> bool:
    """Whether a use of a parameter (`activations.get`, `deserialize_keras_object`) turns the serialized
    form of a `family` object back into the object."""
    return use in (f"{family}.get", f"{family}.deserialize") or use.endswith("deserialize_keras_object")


class NestedLayerNotRoundtripped(Rule):
    code = "CFG202"
    name = "nested-layer-not-roundtripped"
    summary = "A layer passed to `__init__` is put in the config, but `from_config` does not rebuild it."
    what = ("Flags a config key carrying a layer-valued constructor argument (raw or serialized) when "
            "`from_config` does not deserialize it; and a key `from_config` deserializes although "
            "`get_config` returns the layer raw. An argument is layer-valued when the code says so: it is "
            "annotated as a layer, defaults to one, falls back to one (`inner or Dense(4)`), is checked with "
            "`isinstance(arg, Layer)`, or is built or used with layer methods (`.build`, `.built`, "
            "`.trainable_weights`...). A value that is only called may be a function, and is not flagged.")
    why = ("`from_config` receives the nested layer as stored: `load_model`, `model_from_json` and "
           "`deserialize_keras_object` fail with `'TrackedDict' object has no attribute 'built'` (or "
           "`... is not callable`); "
           "`clone_model` and in-process `from_config` silently *share* the sub-layer and its weights "
           "with the original.")
    instead = ("`config[\"inner\"] = keras.saving.serialize_keras_object(self.inner)` in `get_config`, and "
               "in a `@classmethod from_config`: `config[\"inner\"] = "
               "keras.saving.deserialize_keras_object(config[\"inner\"])`, then `return cls(**config)`.")
    severity = both(Severity.ERROR)
    invalid = (
        bad("""
            import keras

            class Wrap(keras.layers.Layer):
                def __init__(self, inner: keras.layers.Layer, **kwargs):
                    super().__init__(**kwargs)
                    self.inner = inner

                def call(self, x):
                    return self.inner(x)

                def get_config(self):
                    config = super().get_config()
                    config["inner"] = self.inner
                    return config
            """, (13, 16)),
        bad("""
            import tensorflow as tf
            from tensorflow.keras.saving import serialize_keras_object

            class Wrap(tf.keras.layers.Layer):
                def __init__(self, layer, **kwargs):
                    super().__init__(**kwargs)
                    self.layer = layer

                def build(self, input_shape):
                    if not self.layer.built:
                        self.layer.build(input_shape)

                def get_config(self):
                    return {**super().get_config(), "layer": serialize_keras_object(self.layer)}
            """, (14, 41)),
        bad("""
            import keras

            class Residual(keras.layers.Layer):
                def __init__(self, inner=None, **kwargs):
                    super().__init__(**kwargs)
                    self.inner = inner or keras.layers.Dense(4)

                def call(self, x):
                    return x + self.inner(x)

                def get_config(self):
                    config = super().get_config()
                    config["inner"] = self.inner
                    return config
            """, (13, 16)),
        bad("""
            import tf_keras as keras

            class Gated(keras.layers.Layer):
                def __init__(self, gate, **kwargs):
                    super().__init__(**kwargs)
                    if not isinstance(gate, keras.layers.Layer):
                        raise TypeError(f"`gate` must be a layer, got {gate!r}")
                    self.gate = gate

                def call(self, x):
                    return x * self.gate(x)

                def get_config(self):
                    return {**super().get_config(), "gate": self.gate}
            """, (14, 41), target=Target.TF_KERAS),
    )
    valid = (
        good("""
            import keras

            class Wrap(keras.layers.Layer):
                def __init__(self, inner: keras.layers.Layer, **kwargs):
                    super().__init__(**kwargs)
                    self.inner = inner

                def get_config(self):
                    config = super().get_config()
                    config["inner"] = keras.saving.serialize_keras_object(self.inner)
                    return config

                @classmethod
                def from_config(cls, config):
                    config["inner"] = keras.saving.deserialize_keras_object(config["inner"])
                    return cls(**config)
            """),
        good("""
            import tensorflow as tf

            class Owns(tf.keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.dense = tf.keras.layers.Dense(units)

                def get_config(self):
                    return {**super().get_config(), "units": self.units}
            """),
        good("""
            import keras

            class Residual(keras.layers.Layer):
                def __init__(self, inner=None, **kwargs):
                    super().__init__(**kwargs)
                    self.inner = inner or keras.layers.Dense(4)

                def call(self, x):
                    return x + self.inner(x)

                def get_config(self):
                    config = super().get_config()
                    config["inner"] = keras.saving.serialize_keras_object(self.inner)
                    return config

                @classmethod
                def from_config(cls, config):
                    config["inner"] = keras.saving.deserialize_keras_object(config["inner"])
                    return cls(**config)
            """),
        good("""
            import keras

            class Mlp(keras.layers.Layer):
                def __init__(self, units=8, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.hidden = keras.layers.Dense(units, activation="relu")
                    self.out = keras.layers.Dense(2)

                def call(self, x):
                    return self.out(self.hidden(x))

                def get_config(self):
                    return {**super().get_config(), "units": self.units}
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        layers = layer_params(ctx)
        fc = ctx.from_config
        if fc is not None and fc.opaque:
            return
        # a `from_config` that hands over to `super().from_config(config)` lets a base decode the key
        decoded = {key for ancestor in ctx.chain if ancestor.cls.from_config is not None
                   for key in ancestor.cls.from_config.deserialized}
        for key, entry in ctx.own_keys.items():
            value = entry.value
            raw = source_param(ctx, value)
            wrapped = value.items[0] if is_serialize_call(value) and value.items else (
                value.receiver if value.kind == "call" and value.receiver is not None else None)
            param = raw or (source_param(ctx, wrapped) if wrapped is not None else None)
            if param in layers and key not in decoded:
                yield Hit(entry.span, f"config key `{key}` holds the layer `{param}`, but `from_config` "
                                      "does not deserialize it")
            elif key in decoded and (param in layers or any(map(builds_layer, attr_values(ctx, value)))) \
                    and raw is not None:
                yield Hit(entry.span, f"config key `{key}` returns the layer raw, but `from_config` "
                                      "deserializes it; serialize it in `get_config`")


class ArrayOrTensorInConfig(Rule):
    code = "CFG203"
    name = "array-or-tensor-in-config"
    summary = "A numpy array or tensor is returned in the config without `.tolist()`."
    what = ("Flags a config value made by `np.array/asarray/zeros...`, `tf.constant/Variable` or "
            "`keras.ops.*`, directly or through the attribute `__init__` stored it in. (Like every rule, it "
            "also sees classes whose Keras base comes through a module of the project that re-exports Keras, "
            "such as `mypkg/compat.py: from keras import *`.)")
    why = ("`serialize_keras_object` stores it as `{'class_name': '__numpy__', ...}` and `from_config` "
           "receives that dict undecoded: `load_model`, `model_from_json` and `Model.from_config` fail; "
           "`json.dumps(get_config())` raises; a `tf.Variable` cannot be serialized at all.")
    instead = "Return `self.values.tolist()` and convert back with `np.asarray(...)` in `__init__`."
    severity = both(Severity.ERROR)
    invalid = (
        bad("""
            import keras
            import numpy as np

            class Table(keras.layers.Layer):
                def __init__(self, values, **kwargs):
                    super().__init__(**kwargs)
                    self.values = np.asarray(values, dtype="float32")

                def get_config(self):
                    config = super().get_config()
                    config["values"] = self.values
                    return config
            """, (11, 16)),
        bad("""
            import tensorflow as tf

            class Table(tf.keras.layers.Layer):
                def __init__(self, values, **kwargs):
                    super().__init__(**kwargs)
                    self.values = tf.constant(values)

                def get_config(self):
                    return {**super().get_config(), "values": self.values}
            """, (9, 41)),
        bad("""
            import numpy as np
            from mypkg.compat import layers

            class Table(layers.Layer):
                def __init__(self, values, **kwargs):
                    super().__init__(**kwargs)
                    self.values = np.asarray(values, dtype="float32")

                def get_config(self):
                    return {**super().get_config(), "values": self.values}
            """, (10, 41), files=(("mypkg/__init__.py", ""), ("mypkg/compat.py", "from keras import *\n"))),
    )
    valid = (
        good("""
            import keras
            import numpy as np

            class Table(keras.layers.Layer):
                def __init__(self, values, **kwargs):
                    super().__init__(**kwargs)
                    self.values = np.asarray(values, dtype="float32")

                def get_config(self):
                    config = super().get_config()
                    config["values"] = self.values.tolist()
                    return config
            """),
        good("""
            import tensorflow as tf

            class Table(tf.keras.layers.Layer):
                def __init__(self, values, **kwargs):
                    super().__init__(**kwargs)
                    self.raw_values = list(values)
                    self.values = tf.constant(values)

                def get_config(self):
                    return {**super().get_config(), "values": self.raw_values}
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        for key, entry in ctx.own_keys.items():
            if is_serialize_call(entry.value):
                continue
            if any(map(is_array, attr_values(ctx, entry.value))):
                yield Hit(entry.span, f"config key `{key}` holds an array or tensor; return `.tolist()` of it")


class NumpyScalarInConfig(Rule):
    code = "CFG204"
    name = "numpy-scalar-in-config"
    summary = "A numpy scalar that plain JSON rejects (`np.float32(x)`) is returned in the config."
    what = ("Flags config values made by `np.float32(...)`, `np.int64(...)` and other numpy scalar types "
            "that do not subclass a Python number (`np.float64` does, and is fine).")
    why = ("Keras's own serializer converts them with `.item()`, so saving works; but "
           "`json.dumps(layer.get_config())` raises `TypeError: Object of type float32 is not JSON "
           "serializable`, which breaks user-side config handling and Keras's `run_layer_test`.")
    instead = "Return a Python number: `float(self.factor)`, or store the argument as given."
    severity = both(Severity.INFO)
    invalid = (
        bad("""
            import keras
            import numpy as np

            class Factor(keras.layers.Layer):
                def __init__(self, factor=0.5, **kwargs):
                    super().__init__(**kwargs)
                    self.factor = np.float32(factor)

                def get_config(self):
                    return {**super().get_config(), "factor": self.factor}
            """, (10, 41)),
        bad("""
            import numpy
            from tensorflow import keras

            class Count(keras.layers.Layer):
                def __init__(self, n=2, **kwargs):
                    super().__init__(**kwargs)
                    self.n = n

                def get_config(self):
                    config = super().get_config()
                    config["n"] = numpy.int64(self.n)
                    return config
            """, (11, 16)),
    )
    valid = (
        good("""
            import keras
            import numpy as np

            class Factor(keras.layers.Layer):
                def __init__(self, factor=0.5, **kwargs):
                    super().__init__(**kwargs)
                    self.factor = np.float32(factor)

                def get_config(self):
                    return {**super().get_config(), "factor": float(self.factor)}
            """),
        good("""
            import numpy as np
            from tensorflow import keras

            class Factor(keras.layers.Layer):
                def __init__(self, factor=0.5, **kwargs):
                    super().__init__(**kwargs)
                    self.factor = np.float64(factor)

                def get_config(self):
                    return {**super().get_config(), "factor": self.factor}
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        for key, entry in ctx.own_keys.items():
            if any(map(is_numpy_scalar, attr_values(ctx, entry.value))):
                yield Hit(entry.span, f"config key `{key}` holds a numpy scalar; return a Python number")


def _non_idempotent(value: Value, param: str) -> bool:
    """`units * 2`, `(pool, pool)`, `[p] * 2`: applying it to its own result changes it again."""
    if value.kind == "binop":
        return param in value.names
    if value.kind in ("tuple", "list"):
        return any(item.kind == "name" and item.text == param for item in value.items)
    return False


class NonIdempotentConfigValue(Rule):
    code = "CFG205"
    name = "non-idempotent-config-value"
    summary = "The config returns a value `__init__` computed from the argument, so each reload changes it."
    what = ("Flags a config key named after a constructor argument whose value is the attribute "
            "`__init__` computed from that argument with arithmetic or by packing it (`units * 2`, "
            "`(pool, pool)`). Idempotent normalisations (`int(p)`, `tuple(p)`, `p.lower()`) are fine.")
    why = ("The reloaded layer is built from the computed value and computes it again: 6 becomes 12, "
           "`[2, 2]` becomes `[[2, 2], [2, 2]]`. `load_model` then fails with `The shape of the target "
           "variable ... must match`, or the model silently changes on every `clone_model`.")
    instead = "Keep the argument as passed (`self.units = units`) for the config, and the derived value apart."
    severity = both(Severity.ERROR)
    invalid = (
        bad("""
            import keras

            class Wide(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units * 2

                def get_config(self):
                    return {**super().get_config(), "units": self.units}
            """, (9, 41)),
        bad("""
            from tensorflow.keras import layers

            class Pool(layers.Layer):
                def __init__(self, pool=2, **kwargs):
                    super().__init__(**kwargs)
                    self.pool = (pool, pool)

                def get_config(self):
                    config = super().get_config()
                    config.update({"pool": self.pool})
                    return config
            """, (10, 24)),
    )
    valid = (
        good("""
            import keras

            class Wide(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.width = units * 2

                def get_config(self):
                    return {**super().get_config(), "units": self.units}
            """),
        good("""
            from tensorflow.keras import layers

            class Pool(layers.Layer):
                def __init__(self, pool=2, **kwargs):
                    super().__init__(**kwargs)
                    self.pool = tuple(pool) if isinstance(pool, (list, tuple)) else (pool, pool)

                def get_config(self):
                    config = super().get_config()
                    config.update({"pool": self.pool})
                    return config
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        if ctx.cls.init is None:
            return
        params = {p.name for p in ctx.cls.init.named_params}
        for key, entry in ctx.own_keys.items():
            value = entry.value
            if key not in params or value.kind != "self_attr":
                continue
            assigned = ctx.cls.init.self_attrs.get(value.text, [])
            if assigned and all(_non_idempotent(v, key) for v in assigned):
                yield Hit(entry.span, f"config key `{key}` returns `self.{value.text}`, computed from "
                                      f"`{key}` in `__init__`; every reload applies it again")


class TupleOnlyUse(Rule):
    code = "CFG206"
    name = "tuple-only-use"
    summary = "A config value is used as a tuple, but JSON gives it back as a list."
    what = ("Flags a statement that concatenates a tuple with an attribute holding a constructor "
            "argument returned in the config (`(-1,) + self.shape`), when `__init__` does not coerce the "
            "argument with `tuple(...)`.")
    why = ("JSON has no tuples: after `load_model`, `model_from_json` or `deserialize_keras_object` the "
           "argument arrives as a list and the call fails with `can only concatenate tuple (not "
           "\"TrackedList\") to tuple`. In-process `from_config` and `clone_model` do not show it, and "
           "Keras's `run_layer_test` does not catch it.")
    instead = "Coerce in `__init__`: `self.shape = tuple(shape)`."
    severity = both(Severity.WARNING)
    invalid = (
        bad("""
            import keras

            class Reshape2(keras.layers.Layer):
                def __init__(self, shape, **kwargs):
                    super().__init__(**kwargs)
                    self.shape = shape

                def call(self, x):
                    return keras.ops.reshape(x, (-1,) + self.shape)

                def get_config(self):
                    return {**super().get_config(), "shape": self.shape}
            """, (9, 9)),
        bad("""
            import tensorflow as tf

            class Tile(tf.keras.layers.Layer):
                def __init__(self, reps=(1, 2), **kwargs):
                    super().__init__(**kwargs)
                    self.reps = reps

                def call(self, x):
                    full = (1,) + self.reps
                    return tf.tile(x, full)
            """, (9, 9)),
    )
    valid = (
        good("""
            import keras

            class Reshape2(keras.layers.Layer):
                def __init__(self, shape, **kwargs):
                    super().__init__(**kwargs)
                    self.shape = tuple(shape)

                def call(self, x):
                    return keras.ops.reshape(x, (-1,) + self.shape)

                def get_config(self):
                    return {**super().get_config(), "shape": self.shape}
            """),
        good("""
            import tensorflow as tf

            class Tile(tf.keras.layers.Layer):
                def __init__(self, reps=(1, 2), **kwargs):
                    super().__init__(**kwargs)
                    self.reps = reps

                def call(self, x):
                    return tf.tile(x, (1,) + tuple(self.reps))
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        init = ctx.cls.init
        if init is None:
            return
        reported: set[tuple[int, int]] = set()
        for attr, span in ctx.cls.tuple_uses:
            param = init.attrs_from_param.get(attr)
            if param is None or len(init.self_attrs.get(attr, [])) != 1:
                continue
            returned = param in ctx.coverage.keys or not ctx.has_config_override
            if returned and (span.line, span.column) not in reported:
                reported.add((span.line, span.column))
                yield Hit(span, f"`self.{attr}` is used as a tuple, but reloads pass `{param}` as a list; "
                                f"coerce it with `tuple({param})` in `__init__`")


def _lambda_in_slot(site_slot: str, callee_keys: set[str] | None) -> bool:
    return site_slot == "" or is_serialized_slot(site_slot) or (
        callee_keys is not None and site_slot in callee_keys)


class LambdaInSerializedSlot(Rule):
    code = "CFG207"
    name = "lambda-in-serialized-slot"
    summary = "A lambda is passed where Keras writes it into a config (`activation=`, `Lambda(...)`)."
    what = ("Flags a lambda passed as `activation=`, `*_initializer=`, `*_regularizer=`, `*_constraint=`, "
            "to `keras.layers.Lambda(...)`, or as a constructor argument that a custom layer returns in its "
            "config, in model-building code. Sub-layers a custom class builds in its own `__init__`/`build`, "
            "or in a helper method they call, are not flagged: code rebuilds them, no config carries them.")
    why = ("A built-in layer serializes a lambda activation in a form Keras 3 cannot read back: "
           "`load_model`, `deserialize_keras_object` and `model_from_json` fail with `Could not interpret "
           "activation function identifier: {'value': ...}` even with `safe_mode=False`. A `Lambda` layer "
           "fails with \"Requested the deserialization of a Python lambda\" in safe mode, and "
           "`model_from_json`/`Model.from_config` have no switch to allow it. tf-keras fails on every JSON "
           "path (`Unknown activation function: '__lambda__'`), and `.h5` with `Could not interpret "
           "activation function identifier`.")
    instead = ("A named function registered with `@keras.saving.register_keras_serializable()`, or a "
               "built-in activation name (`activation=\"gelu\"`).")
    severity = both(Severity.WARNING)
    invalid = (
        bad("""
            import keras

            inputs = keras.Input((4,))
            outputs = keras.layers.Dense(3, activation=lambda t: t * 4)(inputs)
            model = keras.Model(inputs, outputs)
            """, (4, 44)),
        bad("""
            from tensorflow.keras import layers

            def head(x):
                return layers.Lambda(lambda t: t / 2)(x)
            """, (4, 26)),
        bad("""
            import keras

            class Apply(keras.layers.Layer):
                def __init__(self, fn="relu", **kwargs):
                    super().__init__(**kwargs)
                    self.fn = fn

                def call(self, x):
                    return keras.activations.get(self.fn)(x)

                def get_config(self):
                    return {**super().get_config(), "fn": self.fn}

            inputs = keras.Input((4,))
            outputs = Apply(fn=lambda t: t * 2)(inputs)
            """, (15, 20)),
    )
    valid = (
        good("""
            import keras

            inputs = keras.Input((4,))
            outputs = keras.layers.Dense(3, activation="gelu")(inputs)
            """),
        good("""
            from tensorflow.keras import layers

            class Block(layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.dense = layers.Dense(units, activation=lambda t: t * 2)

                def get_config(self):
                    return {**super().get_config(), "units": self.units}
            """),
        good("""
            import keras

            class Head(keras.layers.Layer):
                def __init__(self, scale=2.0, **kwargs):
                    super().__init__(**kwargs)
                    self.scale = scale
                    self.steps = self._make_steps()

                def _make_steps(self):
                    return [keras.layers.Lambda(lambda t: t * self.scale), keras.layers.Dense(3)]

                def call(self, x):
                    for step in self.steps:
                        x = step(x)
                    return x

                def get_config(self):
                    return {**super().get_config(), "scale": self.scale}
            """),
    )

    def check_module(self, ctx: ModuleContext) -> Iterable[Hit]:
        for site in ctx.module.lambda_sites:
            owner = ctx.keras_classes.get(site.enclosing_class or "")
            if site.in_super_init:
                # the subclass passes it again on every reload: either it works (kwargs popped) or
                # it fails twice over, which CFG308 reports
                continue
            if owner is not None and (site.enclosing_method in ("__init__", "build")
                                      or site.enclosing_method in owner.cls.builder_helpers):
                continue
            callee = ctx.index.lookup_class(site.callee)
            callee_ctx = _context_for(ctx, *callee) if callee is not None else None
            keys = callee_ctx.coverage.keys if callee_ctx is not None else None
            if not _lambda_in_slot(site.slot, keys):
                continue
            where = f"`{site.slot}=`" if site.slot else "`Lambda(...)`"
            yield Hit(site.span, f"lambda passed to {where} is written into the config and will not reload")

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        init = ctx.cls.init
        if init is None or not ctx.has_config_override:
            return
        for param in init.named_params:
            if param.default is not None and param.default.kind == "lambda" and param.name in ctx.coverage.keys:
                yield Hit(param.default.span, f"the default of `{param.name}` is a lambda, and "
                                              "`get_config` returns it")


def _class_reference(ctx: ClassContext, value: Value | None) -> str | None:
    """The class a default names (`keras.layers.Dense`, `MyAttention`): a Keras class or a project class.
    Not a call, not a constant, not a name the analysis cannot resolve to a class."""
    if value is None or value.kind not in ("name", "dotted"):
        return None
    dotted = value.text
    if value.kind == "name":
        if value.text in ctx.module.imports:
            dotted = ctx.module.imports[value.text]
        elif ctx.module.class_named(value.text) is not None:
            dotted = f"{ctx.module.module}.{value.text}"
        else:
            return None
    if classify_base(dotted) is not None or ctx.index.lookup_class(dotted) is not None:
        return dotted.split(".")[-1]
    return None


def is_class_annotation(annotation: str | None) -> bool:
    """`type[Layer]`, `Type[keras.layers.Layer]`, `typing.Type[...]`, `type`: the argument is a class."""
    if not annotation:
        return False
    text = annotation.replace(" ", "")
    return text in ("type", "Type", "typing.Type") or text.startswith(("type[", "Type[", "typing.Type["))


def class_params(ctx: ClassContext) -> dict[str, str]:
    """Constructor parameters that evidently receive a class object, with the evidence."""
    init = ctx.init
    if init is None:
        return {}
    found: dict[str, str] = {}
    for param in init.named_params:
        named = _class_reference(ctx, param.default)
        if named is not None:
            found[param.name] = f"its default is the class `{named}`"
        elif is_class_annotation(param.annotation):
            found[param.name] = f"it is annotated `{param.annotation}`"
    return found


def _stores_as_passed(ctx: ClassContext, attr: str, param: str) -> bool:
    """`self.attr = param` (or a conditional whose every branch is `param` or a class) everywhere `__init__`
    sets it: not `param if isinstance(param, str) else param.__name__`, which stores a name."""
    values = ctx.init.self_attrs.get(attr, []) if ctx.init is not None else []

    def passed(value: Value) -> bool:
        if value.kind == "name":
            return value.text == param or _class_reference(ctx, value) is not None
        if value.kind == "dotted":
            return _class_reference(ctx, value) is not None
        return value.kind == "ifexp" and all(map(passed, value.items))

    return bool(values) and all(map(passed, values))


class ClassObjectInConfig(Rule):
    code = "CFG208"
    name = "class-object-in-config"
    summary = "A class object (not an instance) is returned in the config."
    what = ("Flags a config key that returns, as it was passed, a constructor argument that receives a "
            "class: its default is a class (`attention_cls=MultiHeadAttention`, a Keras layer or a project "
            "class) or it is annotated `type[...]`.")
    why = ("Keras cannot encode a class. For a Keras class, `serialize_keras_object` calls its "
           "`get_config` unbound, so `model.save(\"m.keras\")`, `to_json`, legacy `.h5` saving and "
           "`serialize_keras_object` fail with `TypeError: Dense.get_config() missing 1 required positional "
           "argument: 'self'` (Keras 3 and tf-keras). Any other class is written as "
           "`{'class_name': 'type', 'config': 'Name'}` and comes back from a reload as that dict, not the "
           "class. `json.dumps(layer.get_config())` raises `Object of type type is not JSON serializable`.")
    instead = ("Return a name (`self.block_cls.__name__`, or `keras.saving.get_registered_name(self.block_cls)` "
               "for a registered class) and map it back to the class in `__init__` when it arrives as a string "
               "(a table of the allowed classes, or `keras.saving.get_registered_object(name)`).")
    severity = both(Severity.ERROR)
    invalid = (
        bad("""
            import keras

            class Block(keras.layers.Layer):
                def __init__(self, units=4, block_cls=keras.layers.Dense, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.block_cls = block_cls
                    self.block = block_cls(units)

                def call(self, x):
                    return self.block(x)

                def get_config(self):
                    config = super().get_config()
                    config.update({"units": self.units, "block_cls": self.block_cls})
                    return config
            """, (15, 45)),
        bad("""
            from tf_keras import layers

            class Wrapper(layers.Layer):
                def __init__(self, layer_cls: type[layers.Layer], units=4, **kwargs):
                    super().__init__(**kwargs)
                    self._layer_cls = layer_cls
                    self.units = units
                    self.inner = layer_cls(units)

                def call(self, x):
                    return self.inner(x)

                def get_config(self):
                    return {**super().get_config(), "layer_cls": self._layer_cls, "units": self.units}
            """, (14, 41), target=Target.TF_KERAS),
    )
    valid = (
        good("""
            import keras

            class Wide(keras.layers.Dense):
                pass

            BLOCKS = {"Dense": keras.layers.Dense, "Wide": Wide}

            class Block(keras.layers.Layer):
                def __init__(self, units=4, block_cls=keras.layers.Dense, **kwargs):
                    super().__init__(**kwargs)
                    if isinstance(block_cls, str):
                        block_cls = BLOCKS[block_cls]
                    self.units = units
                    self.block_cls = block_cls
                    self.block = block_cls(units)

                def call(self, x):
                    return self.block(x)

                def get_config(self):
                    config = super().get_config()
                    config.update({"units": self.units, "block_cls": self.block_cls.__name__})
                    return config
            """),
        good("""
            import keras

            class Block(keras.layers.Layer):
                def __init__(self, units=4, block="Dense", **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.block_name = block
                    self.block = getattr(keras.layers, block)(units)

                def call(self, x):
                    return self.block(x)

                def get_config(self):
                    return {**super().get_config(), "units": self.units, "block": self.block_name}
            """),
        good("""
            import keras

            class Block(keras.layers.Layer):
                def __init__(self, units=4, block_cls=keras.layers.Dense, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.block_cls = block_cls if isinstance(block_cls, str) else block_cls.__name__
                    self.block = getattr(keras.layers, self.block_cls)(units)

                def call(self, x):
                    return self.block(x)

                def get_config(self):
                    return {**super().get_config(), "units": self.units, "block_cls": self.block_cls}
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        classes = class_params(ctx)
        for key, entry in ctx.own_keys.items():
            param = source_param(ctx, entry.value)
            if param in classes and _stores_as_passed(ctx, entry.value.text, param):
                yield Hit(entry.span, f"config key `{key}` returns `{param}`, a class ({classes[param]}); "
                                      "Keras cannot serialize a class: return its registered name")


def _context_for(ctx: ModuleContext, cls, module) -> ClassContext | None:  # type: ignore[no-untyped-def]
    hierarchy = ctx.index.hierarchy(cls, module)
    if not hierarchy.is_keras:
        return None
    return ClassContext(cls, module, hierarchy, ctx.target, ctx.index)


RULES = (KerasObjectNotSerialized, NestedLayerNotRoundtripped, ArrayOrTensorInConfig, NumpyScalarInConfig,
         NonIdempotentConfigValue, TupleOnlyUse, LambdaInSerializedSlot, ClassObjectInConfig)
