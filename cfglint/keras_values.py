"""What a config or constructor value is, read from its `Value` fact: Keras predicates that the rules
and the fixes share (one definition, so a rule and its fix never disagree about what an object is)."""

from __future__ import annotations

from cfglint.facts import Param, Value
from cfglint.keras_names import (
    ARRAY_MAKERS,
    NUMPY_SCALAR_TYPES,
    SERIALIZABLE_FAMILIES,
    TENSOR_MAKERS,
    classify_base,
    is_keras_callee,
    keras_path,
)


def is_serialize_call(value: Value) -> bool:
    """`activations.serialize(...)`, `serialize_keras_object(...)`, `x.get_config()`..."""
    if value.kind != "call":
        return False
    name = value.text.split(".")[-1]
    return name in ("serialize", "serialize_keras_object", "get_config", "tolist", "item") \
        or name.startswith("serialize")


def keras_family(value: Value) -> str | None:
    """The family ("activations", ...) of a Keras object an expression builds, or None."""
    if value.kind != "call":
        return None
    path = keras_path(value.text)
    if path is None:
        return None
    parts = path.split(".")
    for family in SERIALIZABLE_FAMILIES:
        if family in parts[:-1]:
            last = parts[-1]
            if last in ("get", "deserialize") or last[:1].isupper():
                return family
    return None


def is_array(value: Value) -> bool:
    """`np.array(...)`, `tf.constant(...)`, `keras.ops.*(...)` and their like."""
    if value.kind != "call":
        return False
    parts = value.text.split(".")
    root, last = parts[0], parts[-1]
    if root in ("numpy", "np", "jax", "torch") and (last in ARRAY_MAKERS or "random" in parts):
        return True
    if root in ("tensorflow", "tf") and last in TENSOR_MAKERS:
        return True
    path = keras_path(value.text)
    return path is not None and path.split(".")[0] == "ops"


def is_numpy_scalar(value: Value) -> bool:
    if value.kind != "call":
        return False
    parts = value.text.split(".")
    return parts[0] in ("numpy", "np") and parts[-1] in NUMPY_SCALAR_TYPES


def builds_layer(value: Value) -> bool:
    """A call that constructs a Keras layer or model (`layers.Dense(4)`, `keras.Sequential()`)."""
    return value.kind == "call" and classify_base(value.text) is not None


LAYER_ANNOTATIONS = ("Layer", "Model", "Sequential")
LAYER_METHODS = (".build()", ".built", ".trainable_weights", ".weights", ".compute_output_shape()",
                 ".trainable_variables", ".non_trainable_weights", ".get_config()", ".count_params()")


def is_keras_call(value: Value, *suffixes: str) -> bool:
    return value.kind == "call" and is_keras_callee(value.text, *suffixes)

# Annotation words and `__init__` uses that show a parameter receives an object (a callable, a layer,
# an array) rather than a value plain JSON carries.
NONBASIC_ANNOTATIONS = ("Callable", "Layer", "Model", "ndarray", "Tensor", "Initializer", "Regularizer",
                        "Constraint", "Variable", "Array", "function", "Sequential")
NONBASIC_USES = {"called", ".build()", "activations.get", "initializers.get", "regularizers.get",
                 "constraints.get", "saving.deserialize_keras_object", "layers.deserialize"}
# `__init__` uses that decode a value: they accept an object and its serialized name alike.
DECODING_USES = {"activations.get", "initializers.get", "regularizers.get", "constraints.get",
                 "saving.deserialize_keras_object", "layers.deserialize"}
BASIC_ANNOTATIONS = frozenset({"str", "int", "float", "bool", "None", "NoneType", "list", "tuple", "dict",
                               "List", "Tuple", "Dict", "Sequence", "Mapping", "Literal", "Any", "object"})


def object_default(param: Param) -> str | None:
    """Why a parameter's default is an object JSON cannot carry ("defaults to a lambda", "defaults to
    the function `tf.nn.relu`", "defaults to an object"), or None."""
    default = param.default
    if default is None:
        return None
    if default.kind == "lambda":
        return "defaults to a lambda"
    if default.kind == "dotted" and default.text.split(".")[-1][:1].islower() and "." in default.text:
        return f"defaults to the function `{default.text}`"
    if builds_layer(default) or is_array(default):
        return "defaults to an object"
    return None
