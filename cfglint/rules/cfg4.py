"""CFG4: `from_config`, `build` after a reload, and registration."""

from __future__ import annotations

from collections.abc import Iterable

from cfglint.context import ClassContext
from cfglint.finding import Severity, Target
from cfglint.rules.base import NOT_FIXED, FixSpec, Hit, Rule, bad, good
from cfglint.rules.cfg1 import both


class FromConfigSignature(Rule):
    code = "CFG401"
    name = "from-config-signature"
    summary = "`from_config` is not a classmethod, calls `cls(config)` without `**`, or returns nothing."
    what = "Checks the shape of an overridden `from_config`."
    why = ("Keras calls `cls.from_config(config)`. Without `@classmethod` it fails with `from_config() missing "
           "1 required positional argument: 'config'`; `cls(config)` passes the whole dict as the first "
           "argument (a wrong layer, then a failure in `call`); returning nothing gives `None` to the "
           "loader.")
    instead = "`@classmethod` / `def from_config(cls, config):` / `return cls(**config)`."
    fix = FixSpec(
        "safe",
        title="Make `from_config` a classmethod",
        why=("Adds `@classmethod`; without it Keras's `cls.from_config(config)` always raises, so no working "
             "code depends on its absence. A `cls(config)` without `**` or a missing `return` has no automatic "
             "fix."),
        planner="cfglint.fixes.from_config:plan",
        decider="cfglint.fixes.decide:decide_from_config",
    )
    severity = both(Severity.ERROR)
    invalid = (
        bad("""
            import keras

            class Plain(keras.layers.Layer):
                def get_config(self):
                    return super().get_config()

                def from_config(cls, config):
                    return cls(**config)
            """, (7, 9),
            fixed="""
            import keras

            class Plain(keras.layers.Layer):
                def get_config(self):
                    return super().get_config()

                @classmethod
                def from_config(cls, config):
                    return cls(**config)
            """),
        bad("""
            from tensorflow.keras import layers

            class Positional(layers.Layer):
                def __init__(self, units=1, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    return {**super().get_config(), "units": self.units}

                @classmethod
                def from_config(cls, config):
                    return cls(config)
            """, (13, 16),
            fixed=NOT_FIXED),
        bad("""
            import keras

            class Forgot(keras.layers.Layer):
                @classmethod
                def from_config(cls, config):
                    cls(**config)
            """, (5, 9),
            fixed=NOT_FIXED),
    )
    valid = (
        good("""
            import keras

            class Good(keras.layers.Layer):
                @classmethod
                def from_config(cls, config):
                    return cls(**config)
            """),
        good("""
            from tensorflow.keras import layers

            class Good(layers.Layer):
                @classmethod
                def from_config(cls, config):
                    config = dict(config)
                    return super().from_config(config)
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        fc = ctx.cls.from_config
        if fc is None:
            return
        if not fc.decorators & {"classmethod", "staticmethod"}:
            yield Hit(fc.span, "`from_config` is not a `@classmethod`", subject="classmethod")
        for span in fc.cls_calls_without_star:
            yield Hit(span, "`from_config` passes the config dict as one positional argument; use `cls(**config)`")
        if not fc.returns_value:
            yield Hit(fc.span, "`from_config` returns nothing; return the new instance")


class UnguardedSublayerBuild(Rule):
    code = "CFG402"
    name = "unguarded-sublayer-build"
    summary = "`build()` builds a layer that came from a constructor argument without checking `.built`."
    what = ("Flags `self.<attr>.build(...)` in `build()` where `self.<attr>` holds a constructor argument "
            "and the call is not under `if not self.<attr>.built:`.")
    why = ("Deserialized sub-layers come back already built. After any reload (`load_model`, "
           "`deserialize_keras_object`, and `from_config` when the argument is rebuilt there) Keras 3 fails "
           "with `You cannot add new elements of state (variables or sub-layers) to a layer that is already "
           "built.` tf-keras tolerates it.")
    instead = "`if not self.inner.built: self.inner.build(input_shape)`."
    severity = {Target.KERAS3: Severity.ERROR}
    invalid = (
        bad("""
            import keras

            class Wrap(keras.layers.Layer):
                def __init__(self, inner, **kwargs):
                    super().__init__(**kwargs)
                    self.inner = inner

                def build(self, input_shape):
                    self.inner.build(input_shape)

                def call(self, x):
                    return self.inner(x)

                def get_config(self):
                    config = super().get_config()
                    config["inner"] = keras.saving.serialize_keras_object(self.inner)
                    return config

                @classmethod
                def from_config(cls, config):
                    config["inner"] = keras.saving.deserialize_keras_object(config["inner"])
                    return cls(**config)
            """, (9, 9)),
        bad("""
            from keras import layers

            class Pair(layers.Layer):
                def __init__(self, first, second, **kwargs):
                    super().__init__(**kwargs)
                    self.first = first
                    self.second = second

                def build(self, input_shape):
                    if not self.first.built:
                        self.first.build(input_shape)
                    self.second.build(input_shape)
            """, (12, 9)),
    )
    valid = (
        good("""
            import keras

            class Wrap(keras.layers.Layer):
                def __init__(self, inner, **kwargs):
                    super().__init__(**kwargs)
                    self.inner = inner

                def build(self, input_shape):
                    if not self.inner.built:
                        self.inner.build(input_shape)
            """),
        good("""
            from keras import layers

            class Owns(layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.dense = layers.Dense(units)

                def build(self, input_shape):
                    self.dense.build(input_shape)
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        build, init = ctx.cls.build, ctx.init
        if build is None or init is None:
            return
        for attr, span, guarded in build.sublayer_builds:
            if not guarded and attr in init.attrs_from_param:
                yield Hit(span, f"`self.{attr}` comes from `__init__` and is already built after a reload; "
                                f"guard with `if not self.{attr}.built`")


class BuildWithoutBuilt(Rule):
    code = "CFG403"
    name = "build-without-built"
    summary = ("tf-keras: a `build()` that adds a regularized weight neither calls `super().build()` nor sets "
               "`self.built`.")
    what = ("Flags, for tf-keras, a `build()` that adds a weight with a `regularizer=` and never marks the "
            "layer as built. A `build()` without regularized weights is not reported: building it twice "
            "after a reload changes nothing a user can see.")
    why = ("tf-keras only sets `built` in `Layer.build()`. After `load_model`, `model_from_json` or "
           "`deserialize_keras_object` Keras calls `build` from the saved build config and then again on "
           "first use: the first weight is orphaned but its regularizer stays, so `model.losses` holds the "
           "regularization term twice and training optimizes a different loss than before saving. Keras 3's "
           "build wrapper sets `built` itself.")
    instead = "End `build()` with `super().build(input_shape)` (or `self.built = True`)."
    severity = {Target.TF_KERAS: Severity.WARNING}
    invalid = (
        bad("""
            import tf_keras as keras

            class Twice(keras.layers.Layer):
                def build(self, input_shape):
                    self.w = self.add_weight(name="w", shape=(input_shape[-1], 2), regularizer="l2")
            """, (4, 9), target=Target.TF_KERAS),
        bad("""
            from tf_keras import layers, regularizers

            class Twice(layers.Layer):
                def __init__(self, units=2, kernel_regularizer=None, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.kernel_regularizer = regularizers.get(kernel_regularizer)

                def build(self, input_shape):
                    if input_shape[-1] > 2:
                        self.w = self.add_weight(name="w", shape=(input_shape[-1], self.units),
                                                 regularizer=self.kernel_regularizer)
            """, (9, 9), target=Target.TF_KERAS),
    )
    valid = (
        good("""
            import tf_keras as keras

            class Once(keras.layers.Layer):
                def build(self, input_shape):
                    self.w = self.add_weight(name="w", shape=(input_shape[-1], 2), regularizer="l2")
                    super().build(input_shape)
            """, target=Target.TF_KERAS),
        good("""
            from tf_keras import layers

            class Once(layers.Layer):
                def build(self, input_shape):
                    self.w = self.add_weight(name="w", shape=(input_shape[-1], 2), regularizer="l2")
                    self.built = True
            """, target=Target.TF_KERAS),
        good("""
            import tf_keras as keras

            class Unregularized(keras.layers.Layer):
                def __init__(self, units=2, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def build(self, input_shape):
                    self.w = self.add_weight(name="w", shape=(input_shape[-1], self.units))

                def call(self, x):
                    return keras.backend.dot(x, self.w)
            """, target=Target.TF_KERAS),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        build = ctx.cls.build
        if build is None or build.calls_super_build or build.sets_built or not build.regularized_weights:
            return
        yield Hit(build.span, "`build` adds a regularized weight but neither calls `super().build()` nor sets "
                              "`self.built`: after a reload the regularization loss counts twice")


class UnregisteredCustomObject(Rule):
    code = "CFG404"
    name = "unregistered-custom-object"
    summary = "A custom Layer/Model class is not registered with `register_keras_serializable`."
    what = ("Flags custom Keras classes without `@keras.saving.register_keras_serializable()`. Not selected "
            "by default: code that always loads with `custom_objects=` does not need it (select CFG404).")
    why = ("`keras.models.load_model`, `model_from_json` and `deserialize_keras_object` look classes up by "
           "their registered name: without registration or `custom_objects` they fail with `Could not "
           "locate class 'Scale'` (tf-keras: `Unknown layer: 'Scale'`).")
    instead = "Decorate the class with `@keras.saving.register_keras_serializable(package=\"my_package\")`."
    severity = both(Severity.INFO)
    default_enabled = False
    invalid = (
        bad("""
            import keras

            class Scale(keras.layers.Layer):
                pass
            """, (3, 7)),
        bad("""
            import tensorflow as tf

            class Scale(tf.keras.layers.Layer):
                pass
            """, (3, 7)),
    )
    valid = (
        good("""
            import keras

            @keras.saving.register_keras_serializable(package="demo")
            class Scale(keras.layers.Layer):
                pass
            """),
        good("""
            import tensorflow as tf

            class Scale(tf.keras.layers.Layer):
                pass

            tf.keras.utils.register_keras_serializable("demo")(Scale)
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        if not ctx.cls.registered:
            yield Hit(ctx.cls.span, f"`{ctx.cls.name}` is not registered; loading a saved model needs "
                                    "`custom_objects`")


RULES = (FromConfigSignature, UnguardedSublayerBuild, BuildWithoutBuilt, UnregisteredCustomObject)
