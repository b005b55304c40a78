"""Shared readings of `Value`s: what an attribute holds and whether a config value is encoded."""

from __future__ import annotations

from cfglint.context import ClassContext
from cfglint.facts import Value
from cfglint.keras_names import (
    ARRAY_MAKERS,
    NUMPY_SCALAR_TYPES,
    SERIALIZABLE_FAMILIES,
    TENSOR_MAKERS,
    classify_base,
    is_keras_callee,
    keras_path,
)


def attr_values(ctx: ClassContext, value: Value) -> list[Value]:
    """What `__init__` assigned to `self.x` when `value` is `self.x` (else the value itself)."""
    if value.kind == "self_attr" and ctx.init is not None:
        return ctx.init.self_attrs.get(value.text, [])
    return [value]


def source_param(ctx: ClassContext, value: Value) -> str | None:
    """The `__init__` parameter a config value returns unchanged (`self.units` set from `units`)."""
    if value.kind == "self_attr" and ctx.init is not None:
        return ctx.init.attrs_from_param.get(value.text)
    return None


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


def layer_params(ctx: ClassContext) -> set[str]:
    """Constructor parameters that evidently receive a Keras layer."""
    init = ctx.init
    if init is None:
        return set()
    found: set[str] = set()
    for param in init.named_params:
        annotation = param.annotation or ""
        if annotation.replace(" ", "").startswith(("type[", "Type[", "typing.Type[")):
            continue  # a layer class, not a layer (CFG208)
        if any(word in annotation for word in LAYER_ANNOTATIONS) or (param.default is not None and builds_layer(param.default)) or any(_layer_evidence(ctx, use) for use in init.param_uses.get(param.name, ())):
            found.add(param.name)
    for attr, param in init.attrs_from_param.items():
        uses = ctx.cls.attr_uses.get(attr, set())
        if uses & set(LAYER_METHODS):
            found.add(param)
    return found


def _is_layer_class(ctx: ClassContext, dotted: str) -> bool:
    """A Keras layer class, built-in or of the project (named like a class: not `keras_hub...adjust_channels`)."""
    if not dotted.split(".")[-1][:1].isupper():
        return False
    if classify_base(dotted) is not None:
        return True
    found = ctx.index.lookup_class(dotted)
    return found is not None and ctx.index.hierarchy(*found).is_keras


def _layer_evidence(ctx: ClassContext, use: str) -> bool:
    """A use in `__init__` that shows a parameter holds a layer: `inner.build(...)`, a fallback layer
    (`inner or Dense(3)`), or `isinstance(inner, Layer)` with only layer classes."""
    if use == ".build()":
        return True
    kind, _, names = use.partition(":")
    if kind == "fallback":
        return _is_layer_class(ctx, names)
    if kind == "isinstance":
        return all(_is_layer_class(ctx, name) for name in names.split("|"))
    return False


def is_keras_call(value: Value, *suffixes: str) -> bool:
    return value.kind == "call" and is_keras_callee(value.text, *suffixes)
