"""How `verify` constructs a class and what it feeds it (cfglint.verify.examples).

Most tests use plain Python classes with the constructor signatures of interest: they need no Keras and
run in milliseconds. The tests marked `keras` construct and call real Keras 3 layers; the `tfkeras` one
does the same with tf-keras in a child process (the two must not share a process).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from cfglint.verify.examples import (
    DEFAULT_INPUTS,
    TOKEN_INPUT,
    Construction,
    UserExample,
    constructor_kwargs,
    input_candidates,
    make_input,
    nondefault_kwargs,
    parse_user_examples,
)

# ------------------------------------------------------------------------------------------ dummy classes


class AllDefaults:
    def __init__(self, units=8, rate=0.5, **kwargs):
        pass


class Required:
    def __init__(self, units, num_heads, key_dim, rate, dropout_rate, epsilon, activation, hidden_activation,
                 kernel_size, vocab_size, maxlen, num_classes, axis, use_gate, depth_multiplier_dim, *args,
                 scale=1.0, **kwargs):
        pass


# Annotations in every spelling on purpose: typing.Optional, PEP 604, quoted, typing.Tuple.
class Annotated:
    def __init__(self, count: int, ratio: float, flag: bool, label: str, pair: tuple[int, int],
                 sizes: list[int], maybe: int | None, union: int | None, triple: tuple[int, int, int],
                 **kwargs):
        pass


class NameBeatsAnnotation:
    def __init__(self, num_heads: int, rate: float, kernel_size: tuple[int, int], activation: str, **kwargs):
        pass


class Unknown:
    def __init__(self, units, mystery, other_thing, **kwargs):
        pass


class Wrapper:
    def __init__(self, layer, merge_layer, **kwargs):
        pass


class ManyDefaults:
    def __init__(self, units=32, filters=0, offset=-1, vocabulary=10_000, rate=0.0, dropout=0.5, momentum=0.99,
                 scale=1.0, shift=0.0, use_bias=True, center=False, activation="relu", out_activation="linear",
                 padding="valid", kernel_initializer="glorot_uniform", kernel_regularizer=None,
                 bias_constraint=None, mode="fancy", strides=(1, 1), window=[3, 5],  # noqa: B006 (a list default is under test)
                 hidden_dim=None,
                 inner_layer=None, opaque=None, count: int | None = None, factor: float | None = None,
                 kind: str | None = None, table=None,
                 # left alone
                 axis=-1, input_shape=(8,), dtype="float32", name="x", seed=0, data_format="channels_last",
                 trainable=True, dilation_rate=(1, 1), groups=1, layer_name="inner",
                 **kwargs):
        pass


class PositionalOnly:
    def __init__(self, units, /, rate=0.5):
        pass


class NoInit:
    pass


# ------------------------------------------------------------------------------------------ constructor_kwargs


def test_defaults_are_used_and_not_passed() -> None:
    construction = constructor_kwargs(AllDefaults, None)
    assert construction == Construction({}, "defaults", ())
    assert constructor_kwargs(NoInit, None) == Construction({}, "defaults", ())


def test_inference_by_name() -> None:
    construction = constructor_kwargs(Required, None)
    assert construction.source == "inferred"
    assert construction.missing == ()
    assert construction.kwargs == {
        "units": 4, "num_heads": 2, "key_dim": 4, "rate": 0.1, "dropout_rate": 0.1, "epsilon": 1e-3,
        "activation": "relu", "hidden_activation": "relu", "kernel_size": 2, "vocab_size": 10, "maxlen": 5,
        "num_classes": 3, "axis": -1, "use_gate": True, "depth_multiplier_dim": 4,
    }


def test_inference_by_annotation() -> None:
    construction = constructor_kwargs(Annotated, None)
    assert construction.missing == ()
    assert construction.kwargs == {
        "count": 4, "ratio": 0.5, "flag": True, "label": "a", "pair": (2, 2), "sizes": [2, 2], "maybe": 4,
        "union": 4, "triple": (2, 2, 2),
    }


def test_name_rule_wins_when_it_fits_the_annotation() -> None:
    kwargs = constructor_kwargs(NameBeatsAnnotation, None).kwargs
    # kernel_size's name rule (2) does not fit tuple[int, int]: the annotation decides
    assert kwargs == {"num_heads": 2, "rate": 0.1, "kernel_size": (2, 2), "activation": "relu"}


def test_missing_required_parameters_are_reported() -> None:
    construction = constructor_kwargs(Unknown, None)
    assert construction.missing == ("mystery", "other_thing")
    assert construction.kwargs == {"units": 4}
    assert constructor_kwargs(PositionalOnly, None).missing == ("units",)


def test_sublayers_are_missing_without_keras() -> None:
    assert constructor_kwargs(Wrapper, None).missing == ("layer", "merge_layer")


def test_sublayers_come_fresh_from_the_keras_module_passed() -> None:
    class FakeDense:
        def __init__(self, units):
            self.units = units

    class FakeKeras:
        class layers:  # mimics the module
            Dense = FakeDense

    construction = constructor_kwargs(Wrapper, None, keras=FakeKeras)
    assert construction.missing == ()
    assert isinstance(construction.kwargs["layer"], FakeDense) and construction.kwargs["layer"].units == 4
    again = construction.new_kwargs()
    assert isinstance(again["layer"], FakeDense) and again["layer"] is not construction.kwargs["layer"]
    other = nondefault_kwargs(Wrapper, construction)
    assert other["layer"] is not construction.kwargs["layer"]


def test_example_overrides_and_inference_fills_the_rest() -> None:
    example = UserExample(kwargs={"units": 16, "mystery": [1, 2]})
    construction = constructor_kwargs(Unknown, example)
    assert construction.source == "example"
    assert construction.missing == ("other_thing",)
    assert construction.kwargs == {"units": 16, "mystery": [1, 2]}
    # each instance gets its own copy of mutable values
    fresh = construction.new_kwargs()
    assert fresh == construction.kwargs and fresh["mystery"] is not construction.kwargs["mystery"]
    assert fresh["mystery"] is not example.kwargs["mystery"]


def test_example_may_set_defaulted_parameters() -> None:
    construction = constructor_kwargs(AllDefaults, UserExample(kwargs={"rate": 0.3}))
    assert construction == Construction({"rate": 0.3}, "example", ())


def test_serialized_objects_in_an_example_stay_plain_without_keras() -> None:
    value = {"class_name": "Dense", "config": {"units": 3}}
    construction = constructor_kwargs(Wrapper, UserExample(kwargs={"layer": value, "merge_layer": value}))
    assert construction.kwargs["layer"] == value and construction.missing == ()


# ------------------------------------------------------------------------------------------ nondefault_kwargs


def test_nondefault_changes_each_defaulted_parameter_to_the_same_kind() -> None:
    base = constructor_kwargs(ManyDefaults, None)
    changed = nondefault_kwargs(ManyDefaults, base)
    assert changed == {
        "units": 64, "filters": 1, "offset": 2, "vocabulary": 10_001,
        "rate": 0.25, "dropout": 0.25, "momentum": 0.495, "scale": 0.5, "shift": 0.25,
        "use_bias": False, "center": True,
        "activation": "tanh", "out_activation": "relu", "padding": "same", "kernel_initializer": "he_normal",
        "kernel_regularizer": "l2", "bias_constraint": "non_neg",
        "strides": (2, 2), "window": [4, 6], "hidden_dim": 4, "count": 4, "factor": 0.5,
    }
    defaults = {name: p.default for name, p in __import__("inspect").signature(ManyDefaults).parameters.items()}
    for name, value in changed.items():
        assert value != defaults[name], name
        if defaults[name] is not None:
            assert type(value) is type(defaults[name]), name


def test_nondefault_leaves_excluded_and_unknown_parameters_alone() -> None:
    changed = nondefault_kwargs(ManyDefaults, constructor_kwargs(ManyDefaults, None))
    for name in ("axis", "input_shape", "dtype", "name", "seed", "data_format", "trainable", "dilation_rate",
                 "groups", "layer_name",  # excluded by name
                 "mode", "opaque", "kind", "table",  # nothing known about them
                 "inner_layer"):  # a sub-layer needs the keras module
        assert name not in changed, name


def test_nondefault_rates_stay_between_zero_and_one() -> None:
    class Rates:
        def __init__(self, rate=1.0, dropout=0.0, attention_dropout=0.9, alpha=0.3, keep_prob=0.999):
            pass

    changed = nondefault_kwargs(Rates, constructor_kwargs(Rates, None))
    assert set(changed) == {"rate", "dropout", "attention_dropout", "alpha", "keep_prob"}
    assert all(0.0 < value < 1.0 for value in changed.values()), changed


def test_nondefault_merges_over_base_and_keeps_example_values() -> None:
    base = constructor_kwargs(Unknown, UserExample(kwargs={"units": 3, "mystery": "m", "other_thing": 1}))
    assert nondefault_kwargs(Unknown, base) == {"units": 3, "mystery": "m", "other_thing": 1}

    base = constructor_kwargs(AllDefaults, UserExample(kwargs={"rate": 0.3}))  # already non-default: kept
    assert nondefault_kwargs(AllDefaults, base) == {"rate": 0.3, "units": 16}
    base = constructor_kwargs(AllDefaults, UserExample(kwargs={"rate": 0.5}))  # the default: changed
    assert nondefault_kwargs(AllDefaults, base) == {"rate": 0.25, "units": 16}


def test_nondefault_recognises_string_values_without_a_telling_name() -> None:
    class Strings:
        def __init__(self, fn="gelu", border="causal", mode="fancy"):
            pass

    assert nondefault_kwargs(Strings, constructor_kwargs(Strings, None)) == {"fn": "relu", "border": "same"}


def test_nondefault_sublayer_with_keras() -> None:
    class FakeKeras:
        class layers:  # mimics the module
            @staticmethod
            def Dense(units):  # mimics the class
                return ("Dense", units)

    changed = nondefault_kwargs(ManyDefaults, constructor_kwargs(ManyDefaults, None), keras=FakeKeras)
    assert changed["inner_layer"] == ("Dense", 4)


# ------------------------------------------------------------------------------------------ input_candidates


class Plain:
    def __init__(self, scale=1.0):
        pass


class Residual:
    def __init__(self, units=4):
        self.units = units


class TokenAndPositionEmbedding:
    def __init__(self, maxlen=20, vocab_size=100, embed_dim=6):
        self.maxlen, self.vocab_size, self.embed_dim = maxlen, vocab_size, embed_dim


class Lookup:
    def __init__(self, input_dim=10):
        self.input_dim = input_dim


def test_default_candidates_in_order() -> None:
    assert input_candidates(Plain, Plain(), None) == [
        ((2, 8), "float32"), ((2, 5, 8), "float32"), ((2, 8, 8, 3), "float32")]
    assert input_candidates(Plain, Plain(), None) == list(DEFAULT_INPUTS)


def test_candidates_matching_width_attributes() -> None:
    assert input_candidates(Residual, Residual(), None) == [
        ((2, 8), "float32"), ((2, 4), "float32"),
        ((2, 5, 8), "float32"), ((2, 5, 4), "float32"),
        ((2, 8, 8, 3), "float32"), ((2, 8, 8, 4), "float32"),
    ]


def test_candidates_from_sublayer_widths() -> None:
    class Inner:
        units = 6

        def get_config(self):
            return {}

        def call(self, x):
            return x

    class Outer:
        def __init__(self):
            self.inner = Inner()
            self.units = True  # a bool is not a width

    shapes = [shape for shape, _ in input_candidates(Outer, Outer(), None)]
    assert (2, 6) in shapes and (2, 1) not in shapes


def test_embedding_like_classes_get_int_inputs_first() -> None:
    candidates = input_candidates(TokenAndPositionEmbedding, TokenAndPositionEmbedding(), None)
    assert candidates[:2] == [TOKEN_INPUT, ((2, 20), "int32")]
    assert TOKEN_INPUT == ((2, 5), "int32")
    assert ((2, 8), "float32") in candidates and ((2, 6), "float32") in candidates
    assert ((2, 20, 8), "float32") in candidates  # sequence length from `maxlen`
    assert input_candidates(Lookup, Lookup(), None)[0] == ((2, 5), "int32")
    # 100 exceeds no limit, but 10 (input_dim) is offered as a width too
    assert ((2, 10), "float32") in input_candidates(Lookup, Lookup(), None)


def test_example_shape_is_used_as_is() -> None:
    example = UserExample(kwargs={}, input_shape=(3, 7))
    assert input_candidates(Residual, Residual(), example) == [((3, 7), "float32")]
    example = UserExample(kwargs={}, input_shape=(3, 7), input_dtype="int64")
    assert input_candidates(Residual, Residual(), example) == [((3, 7), "int64")]
    example = UserExample(kwargs={}, input_shape=(2, 9))
    assert input_candidates(Lookup, Lookup(), example) == [((2, 9), "int32"), ((2, 9), "float32")]
    example = UserExample(kwargs={}, input_shape=[(2, 4), (2, 3, 4)])
    assert input_candidates(Plain, Plain(), example) == [(((2, 4), (2, 3, 4)), "float32")]


def test_example_dtype_without_shape_applies_to_every_candidate() -> None:
    candidates = input_candidates(Plain, Plain(), UserExample(kwargs={}, input_dtype="float64"))
    assert candidates == [(shape, "float64") for shape, _ in DEFAULT_INPUTS]


# ------------------------------------------------------------------------------------------ make_input


def test_make_input_is_deterministic_and_in_range() -> None:
    np = pytest.importorskip("numpy")
    floats = make_input(None, (2, 5, 8), "float32")
    assert isinstance(floats, np.ndarray) and floats.shape == (2, 5, 8) and floats.dtype == np.float32
    assert np.array_equal(floats, make_input(None, (2, 5, 8), "float32"))
    assert not np.array_equal(floats, make_input(None, (2, 5, 8), "float32", seed=1))
    assert floats.min() >= -1.0 and floats.max() < 1.0
    ints = make_input(None, (2, 50), "int32")
    assert ints.dtype == np.int32 and ints.min() >= 0 and ints.max() < 4 and len(np.unique(ints)) == 4
    assert make_input(None, (3,), "bool").dtype == np.bool_
    several = make_input(None, ((2, 4), (2, 3)), "float32")
    assert [a.shape for a in several] == [(2, 4), (2, 3)]


def test_make_input_floatx_from_the_keras_module() -> None:
    np = pytest.importorskip("numpy")

    class FakeKeras:
        class backend:  # mimics the module
            @staticmethod
            def floatx():
                return "float64"

    assert make_input(FakeKeras, (2, 2), None).dtype == np.float64


# ------------------------------------------------------------------------------------------ parse_user_examples


def test_parse_user_examples() -> None:
    examples = parse_user_examples({
        "pkg.layers:Block": {"kwargs": {"units": 4, "sizes": [1, 2]}, "input_shape": [2, 8]},
        "pkg.layers:Tokens": {"kwargs": {}, "input-shape": [2, 5], "input-dtype": "int32"},
        "pkg.layers:Pair": {"input_shape": [[2, 4], [2, 3, 4]]},
        "app:Outer.Inner": {},
    })
    assert examples == {
        "pkg.layers:Block": UserExample({"units": 4, "sizes": [1, 2]}, (2, 8), None),
        "pkg.layers:Tokens": UserExample({}, (2, 5), "int32"),
        "pkg.layers:Pair": UserExample({}, [(2, 4), (2, 3, 4)], None),
        "app:Outer.Inner": UserExample({}),
    }


@pytest.mark.parametrize(("table", "message"), [
    ([], "tool.cfglint.verify.examples must be a table, not a list"),
    ({"pkg.layers.Block": {}}, '"pkg.layers.Block": the key must be "package.module:ClassName"'),
    ({"pkg:Block": [1]}, '"pkg:Block" must be a table, not a list'),
    ({"pkg:Block": {"kwarg": {}}},
     "\"pkg:Block\": unknown key 'kwarg'; valid keys: args, kwargs, input_shape, input_dtype"),
    ({"pkg:Block": {"input_shape": [2], "input-shape": [2]}}, "'input_shape' is given twice"),
    ({"pkg:Block": {"kwargs": [1, 2]}}, '"pkg:Block".kwargs must be a table of argument = value, not a list'),
    ({"pkg:Block": {"kwargs": {"class": 1}}}, "\"pkg:Block\".kwargs: 'class' is not a valid argument name"),
    ({"pkg:Block": {"kwargs": {"when": __import__("datetime").date(2024, 1, 1)}}},
     '"pkg:Block".kwargs.when: a date cannot be a constructor argument'),
    ({"pkg:Block": {"input_shape": 8}}, '"pkg:Block".input_shape must be a list of positive integers'),
    ({"pkg:Block": {"input_shape": []}}, "input_shape must be a list"),
    ({"pkg:Block": {"input_shape": [2, 0]}}, "input_shape must be a list"),
    ({"pkg:Block": {"input_shape": [2, "8"]}}, "input_shape must be a list"),
    ({"pkg:Block": {"input_shape": [2, True]}}, "input_shape must be a list"),
    ({"pkg:Block": {"input_shape": [[2, 8], 3]}}, "input_shape must be a list"),
    ({"pkg:Block": {"input_shape": [[2, 8], []]}}, "input_shape must be a list"),
    ({"pkg:Block": {"input_dtype": "int"}}, '"pkg:Block".input_dtype must be one of float16, bfloat16'),
    ({"pkg:Block": {"input_dtype": 32}}, "input_dtype must be one of"),
])
def test_parse_user_examples_rejects(table: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_user_examples(table)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_module_imports_nothing_heavy() -> None:
    code = ("import sys, cfglint.verify.examples; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('numpy', 'keras', 'tensorflow', 'tf_keras', 'jax', 'torch', 'ml_dtypes')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


# ------------------------------------------------------------------------------------------ with Keras


@pytest.fixture(scope="module")
def keras():
    if os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true", "yes"):
        pytest.skip("TF_USE_LEGACY_KERAS is set: Keras 3 tests need a plain environment")
    return pytest.importorskip("keras")


def _first_working_input(keras, cls, layer, example=None):
    for shape, dtype in input_candidates(cls, layer, example):
        inputs = make_input(keras, shape, dtype)
        try:
            layer(inputs)
        except Exception:
            layer = cls(**constructor_kwargs(cls, example, keras=keras).new_kwargs())
            continue
        return shape, dtype
    return None


@pytest.mark.keras
def test_keras_builtins_construct_and_take_a_candidate(keras) -> None:
    dense = constructor_kwargs(keras.layers.Dense, None, keras=keras)
    assert dense.kwargs == {"units": 4} and dense.source == "inferred"
    changed = nondefault_kwargs(keras.layers.Dense, dense)
    assert changed["activation"] == "relu" and changed["use_bias"] is False
    assert changed["kernel_initializer"] == "he_normal" and changed["kernel_regularizer"] == "l2"
    layer = keras.layers.Dense(**changed)  # every changed value is one Keras accepts
    assert layer.get_config()["use_bias"] is False
    assert _first_working_input(keras, keras.layers.Dense, keras.layers.Dense(4)) == ((2, 8), "float32")

    embedding = constructor_kwargs(keras.layers.Embedding, None, keras=keras)
    assert embedding.kwargs == {"input_dim": 10, "output_dim": 4}
    layer = keras.layers.Embedding(**embedding.kwargs)
    assert _first_working_input(keras, keras.layers.Embedding, layer) == ((2, 5), "int32")
    keras.layers.Embedding(**nondefault_kwargs(keras.layers.Embedding, embedding))

    conv = constructor_kwargs(keras.layers.Conv2D, None, keras=keras)
    assert conv.kwargs == {"filters": 4, "kernel_size": 2}
    keras.layers.Conv2D(**nondefault_kwargs(keras.layers.Conv2D, conv))
    assert _first_working_input(keras, keras.layers.Conv2D, keras.layers.Conv2D(**conv.kwargs)) == (
        (2, 8, 8, 3), "float32")


@pytest.mark.keras
def test_keras_custom_layers(keras) -> None:
    class Residual(keras.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.dense = keras.layers.Dense(units)

        def call(self, x):
            return x + self.dense(x)

    class Wrapper(keras.layers.Layer):
        def __init__(self, layer, **kwargs):
            super().__init__(**kwargs)
            self.layer = layer

        def call(self, x):
            return x + self.layer(x)

    construction = constructor_kwargs(Residual, None, keras=keras)
    assert _first_working_input(keras, Residual, Residual(**construction.kwargs)) == ((2, 4), "float32")

    construction = constructor_kwargs(Wrapper, None, keras=keras)
    assert isinstance(construction.kwargs["layer"], keras.layers.Dense)
    assert construction.new_kwargs()["layer"] is not construction.kwargs["layer"]
    assert _first_working_input(keras, Wrapper, Wrapper(**construction.kwargs)) == ((2, 4), "float32")


@pytest.mark.keras
def test_keras_serialized_objects_in_an_example(keras) -> None:
    class Wrapper(keras.layers.Layer):
        def __init__(self, layer, **kwargs):
            super().__init__(**kwargs)
            self.layer = layer

    example = parse_user_examples({"m:Wrapper": {"kwargs": {
        "layer": {"class_name": "Dense", "config": {"units": 3}}}}})["m:Wrapper"]
    construction = constructor_kwargs(Wrapper, example, keras=keras)
    first, second = construction.kwargs["layer"], construction.new_kwargs()["layer"]
    assert isinstance(first, keras.layers.Dense) and first.units == 3
    assert isinstance(second, keras.layers.Dense) and second is not first

    bad = UserExample(kwargs={"layer": {"class_name": "NoSuchLayer", "config": {}}})
    with pytest.raises(ValueError, match="example argument 'layer': cannot revive"):
        constructor_kwargs(Wrapper, bad, keras=keras)


@pytest.mark.keras
def test_keras_make_input_bfloat16(keras) -> None:
    assert str(make_input(keras, (2, 3), "bfloat16").dtype) == "bfloat16"
    assert str(make_input(keras, (2, 3), None).dtype) == keras.backend.floatx()


TF_KERAS_SCRIPT = r"""
import json, os
os.environ["TF_USE_LEGACY_KERAS"] = "1"
import tf_keras as keras
from cfglint.verify.examples import constructor_kwargs, input_candidates, make_input, nondefault_kwargs


class Wrapper(keras.layers.Layer):
    def __init__(self, layer, rate=0.5, **kwargs):
        super().__init__(**kwargs)
        self.layer = layer
        self.rate = rate

    def call(self, x):
        return x + self.layer(x)


out = {}
for cls in (keras.layers.Dense, keras.layers.Embedding, Wrapper):
    construction = constructor_kwargs(cls, None, keras=keras)
    layer = cls(**construction.new_kwargs())
    try:  # tf-keras refuses Embedding(mask_zero=True, sparse=True): flags may conflict
        cls(**nondefault_kwargs(cls, construction, keras=keras))
        nondefault = True
    except ValueError:
        nondefault = False
    for shape, dtype in input_candidates(cls, layer, None):
        try:
            layer(make_input(keras, shape, dtype))
        except Exception:
            layer = cls(**construction.new_kwargs())
            continue
        out[cls.__name__] = [sorted(construction.kwargs), list(shape), dtype, nondefault]
        break
print(json.dumps(out))
"""


@pytest.mark.tfkeras
@pytest.mark.slow
def test_tf_keras_in_a_child_process() -> None:
    pytest.importorskip("tf_keras")
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(TF_KERAS_SCRIPT)], capture_output=True,
                            text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "Dense": [["units"], [2, 8], "float32", True],
        "Embedding": [["input_dim", "output_dim"], [2, 5], "int32", False],
        "Wrapper": [["layer"], [2, 4], "float32", True],
    }
