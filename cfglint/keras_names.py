"""What cfglint knows about Keras's own names, under every spelling people import them by.

`keras.layers.Dense`, `tf.keras.layers.Dense`, `tensorflow.python.keras.layers.core.Dense`,
`tf_keras.layers.Dense` and `keras.src.layers.core.dense.Dense` are the same class to a rule; this
module reduces each to a path below the Keras root ("layers.Dense") and classifies it.
"""

from __future__ import annotations

import enum

KERAS_ROOTS = (
    "tensorflow.compat.v2.keras",
    "tensorflow.compat.v1.keras",
    "tensorflow.python.keras",
    "tensorflow.keras",
    "tf_keras.src",
    "tf_keras",
    "keras.src",
    "keras",
)
EXTENSION_ROOTS = ("keras_hub", "keras_nlp", "keras_cv")
# Distributions whose own classes cfglint treats as built-in: it trusts their configs when a user class
# derives from them, so findings on their own source are shown as info (nothing a user of them can fix).
BUILTIN_DISTRIBUTIONS = frozenset({"keras", "tf_keras", "tensorflow", *EXTENSION_ROOTS})
# Names people use without importing them from Keras (star imports, or after an unresolvable alias)
KERAS_SUBMODULES = ("activations", "initializers", "regularizers", "constraints", "layers", "ops",
                    "saving", "utils", "models")

BASE_LAYER_NAMES = frozenset({"Layer", "base_layer.Layer", "engine.base_layer.Layer"})
BASE_MODEL_NAMES = frozenset({"Model", "Functional", "Sequential", "training.Model"})


class KerasKind(enum.Enum):
    """How a Keras base class shapes a subclass's config."""

    LAYER = "layer"  # keras.layers.Layer: automatic config unless get_config is overridden
    MODEL = "model"  # keras.Model: K3 automatic config holds the defaults
    BUILTIN_LAYER = "builtin-layer"  # Dense, Conv2D...: their get_config covers their own arguments
    BUILTIN_MODEL = "builtin-model"  # Sequential, keras_hub models...


def keras_path(dotted: str) -> str | None:
    """The part of a dotted name below a Keras root ("layers.Dense"), or None if not Keras."""
    for root in KERAS_ROOTS:
        if dotted == root:
            return ""
        if dotted.startswith(root + "."):
            return dotted[len(root) + 1:]
    if dotted.split(".")[0] in KERAS_SUBMODULES:
        return dotted  # unresolved `activations.get` etc.
    return None


def is_spelled_from_keras_root(dotted: str) -> bool:
    """Whether a name starts with a real Keras root (not just `layers.X` from an unknown import)."""
    return any(dotted == root or dotted.startswith(root + ".") for root in KERAS_ROOTS)


def classify_base(dotted: str) -> KerasKind | None:
    """The kind of a base class named by a resolved dotted name, or None if it is not Keras's."""
    if not dotted:
        return None
    parts = dotted.split(".")
    if parts[0] in EXTENSION_ROOTS:
        if "layers" in parts:
            return KerasKind.BUILTIN_LAYER
        return KerasKind.BUILTIN_MODEL if "models" in parts else None
    path = keras_path(dotted)
    if not path:
        return None
    parts = path.split(".")
    name = parts[-1]
    if not name[:1].isupper() or name in NOT_LAYER_CLASSES:
        return None
    if name == "Layer":
        return KerasKind.LAYER
    if name in ("Model", "Functional"):
        return KerasKind.MODEL
    if name == "Sequential":
        return KerasKind.BUILTIN_MODEL
    if "layers" in parts[:-1] or parts[0] == "engine":
        return KerasKind.BUILTIN_LAYER
    return None


NOT_LAYER_CLASSES = frozenset({"InputSpec", "Input", "Node", "KerasTensor", "InputLayer"})


def is_keras_callee(dotted: str, *suffixes: str) -> bool:
    """Whether `dotted` names a Keras function ending in one of `suffixes` ("activations.get")."""
    path = keras_path(dotted)
    if path is None:
        return False
    return any(path == s or path.endswith("." + s) for s in suffixes)


# Keyword arguments Keras's base Layer constructor accepts besides a subclass's own, per target. A subclass
# that passes **kwargs on to `super().__init__` accepts them too, so a config key with one of these names
# is not unknown to `from_config` (CFG103).
BASE_KEYWORDS = {
    "keras3": frozenset({"name", "trainable", "dtype", "autocast", "activity_regularizer",
                         "input_shape", "input_dim", "batch_input_shape", "batch_size"}),
    "tf-keras": frozenset({"name", "trainable", "dtype", "dynamic", "input_dim", "input_shape",
                           "batch_input_shape", "batch_size", "weights", "activity_regularizer",
                           "autocast", "implementation"}),
}
# Keys Keras's base get_config writes, which a constructor must accept.
BASE_CONFIG_KEYS = frozenset({"name", "trainable", "dtype"})

# The families whose objects need `X.serialize` in a config, and the getters that build them.
SERIALIZABLE_FAMILIES = ("activations", "initializers", "regularizers", "constraints")
ARRAY_MAKERS = frozenset({
    "array", "asarray", "asanyarray", "zeros", "ones", "full", "empty", "arange", "linspace",
    "eye", "identity", "zeros_like", "ones_like", "full_like", "stack", "concatenate", "random",
    "rand", "randn", "normal", "uniform",
})
TENSOR_MAKERS = frozenset({"constant", "Variable", "convert_to_tensor", "zeros", "ones", "fill",
                           "range", "eye", "stack", "concat", "cast"})
NUMPY_SCALAR_TYPES = frozenset({"float16", "float32", "int8", "int16", "int32", "int64", "uint8",
                                "uint16", "uint32", "uint64", "bool_", "half", "single", "intc",
                                "int_", "uint", "longlong"})
