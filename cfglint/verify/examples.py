"""How `verify` constructs a Layer/Model class and what input it feeds it, without the user writing code.

Four sources, in this order of trust:

* a user example, `[tool.cfglint.verify.examples."pkg.module:Class"]` in pyproject.toml
  (`parse_user_examples`); its `input_shape` **includes the batch dimension**: `[2, 8]`, not `[8]`;
* the constructor's defaults (a defaulted parameter is not passed at all, as a user would write it);
* a value inferred for each remaining required parameter from its name and annotation
  (`_BY_NAME`, `_annotation_value`);
* otherwise the parameter is reported as missing (CFG900: add an example).

`nondefault_kwargs` then moves every defaulted parameter to another value of the same kind, so that a
parameter left out of `get_config` shows up (a reload would silently use the default).

This module runs in the worker process but imports nothing heavy itself: functions that need Keras take
the module (`keras` or `tf_keras`) as a parameter, and NumPy is imported inside `make_input` only.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import keyword
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, cast

# --------------------------------------------------------------------------------------------- user examples

EXAMPLE_KEYS = ("args", "kwargs", "input_shape", "input_dtype")
# The kebab-case spelling of the rest of [tool.cfglint] is accepted too.
_KEY_ALIASES = {"input-shape": "input_shape", "input-dtype": "input_dtype"}
DTYPES = (
    "float16", "bfloat16", "float32", "float64",
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool",
)
_CLASS_KEY = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
_WHERE = "tool.cfglint.verify.examples"

Shape = tuple[int, ...]


@dataclass(frozen=True)
class UserExample:
    """One `[tool.cfglint.verify.examples."pkg.module:Class"]` table.

    `kwargs` go to the constructor as they are; a value that is a table with `class_name` (a serialized
    Keras object, e.g. `{class_name = "Dense", config = {units = 4}}`) is revived fresh for every instance.
    `input_shape` includes the batch dimension (`[2, 8]`); a list of shapes means several inputs.
    `input_dtype` applies to every input; without it inputs are float32 (int32 tried first for
    embedding-like classes).
    """

    kwargs: dict[str, Any]
    input_shape: Shape | list[Shape] | None = None
    input_dtype: str | None = None
    args: tuple[Any, ...] = ()  # positional arguments, for `*args` constructors


def parse_user_examples(table: Mapping[str, Any]) -> dict[str, UserExample]:
    """Validate the `examples` table; keys are "module:Class". Raises ValueError naming the bad key."""
    if not isinstance(table, Mapping):
        raise ValueError(f"{_WHERE} must be a table, not {_describe(table)}")
    examples = {}
    for key, value in table.items():
        where = f'{_WHERE}."{key}"'
        if not isinstance(key, str) or not _CLASS_KEY.fullmatch(key):
            raise ValueError(f"{where}: the key must be \"package.module:ClassName\"")
        if not isinstance(value, Mapping):
            raise ValueError(f"{where} must be a table, not {_describe(value)}")
        fields: dict[str, Any] = {}
        for name, item in value.items():
            canonical = _KEY_ALIASES.get(name, name)
            if canonical not in EXAMPLE_KEYS:
                raise ValueError(f"{where}: unknown key {name!r}; valid keys: {', '.join(EXAMPLE_KEYS)}")
            if canonical in fields:
                raise ValueError(f"{where}: {canonical!r} is given twice")
            fields[canonical] = item
        examples[key] = UserExample(
            kwargs=_parse_kwargs(where, fields.get("kwargs", {})),
            input_shape=_parse_shape(where, fields.get("input_shape")),
            input_dtype=_parse_dtype(where, fields.get("input_dtype")),
            args=_parse_args(where, fields.get("args", [])),
        )
    return examples


def _parse_args(where: str, value: Any) -> tuple[Any, ...]:
    if not isinstance(value, list):
        raise ValueError(f"{where}.args must be a list of positional arguments, not {_describe(value)}")
    for index, item in enumerate(value):
        _check_plain(f"{where}.args[{index}]", item)
    return tuple(value)


def _parse_kwargs(where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}.kwargs must be a table of argument = value, not {_describe(value)}")
    for name, item in value.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"{where}.kwargs: {name!r} is not a valid argument name")
        _check_plain(f"{where}.kwargs.{name}", item)
    return copy.deepcopy(dict(value))


def _check_plain(where: str, value: Any) -> None:
    """Only what TOML and JSON share: no dates or times."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_plain(where, item)
        return
    if isinstance(value, Mapping):
        for name, item in value.items():
            _check_plain(f"{where}.{name}", item)
        return
    raise ValueError(f"{where}: {_describe(value)} cannot be a constructor argument here")


def _parse_shape(where: str, value: Any) -> Shape | list[Shape] | None:
    if value is None:
        return None
    message = (f"{where}.input_shape must be a list of positive integers including the batch dimension "
               f"(e.g. [2, 8]), or a list of such lists for several inputs, not {value!r}")
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(message)
    if all(isinstance(item, (list, tuple)) for item in value):
        return [_one_shape(item, message) for item in value]
    return _one_shape(value, message)


def _one_shape(value: Any, message: str) -> Shape:
    if (not isinstance(value, (list, tuple)) or not value
            or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in value)):
        raise ValueError(message)
    return tuple(value)


def _parse_dtype(where: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in DTYPES:
        raise ValueError(f"{where}.input_dtype must be one of {', '.join(DTYPES)}, not {value!r}")
    return value


def _describe(value: Any) -> str:
    return "a table" if isinstance(value, Mapping) else f"a {type(value).__name__}"


# --------------------------------------------------------------------------------------------- construction

_SUBLAYER = object()  # marker in _BY_NAME: a fresh `keras.layers.Dense(4)`

# A value for a required parameter, by name (fnmatch patterns, first match wins; order matters:
# `input_dim` before `*_dim`, `dilation_rate` before `*_rate`, `num_heads` before `num_*`).
_BY_NAME: tuple[tuple[tuple[str, ...], Any], ...] = (
    (("vocab_size", "vocabulary_size", "vocab", "input_dim", "num_tokens", "max_tokens", "num_embeddings"), 10),
    (("sequence_length", "seq_len", "seq_length", "max_len", "maxlen", "max_length", "max_seq_len",
      "max_sequence_length", "num_positions"), 5),
    (("num_classes", "n_classes", "classes"), 3),
    (("num_heads", "n_heads", "heads", "num_attention_heads"), 2),
    (("key_dim", "value_dim", "head_dim", "head_size"), 4),
    (("kernel_size", "pool_size", "strides", "stride", "dilation_rate", "window_size", "patch_size"), 2),
    (("epsilon", "eps", "*_epsilon"), 1e-3),
    (("rate", "*_rate", "dropout", "*_dropout", "dropout_*", "alpha", "momentum"), 0.1),
    (("activation", "*_activation"), "relu"),
    (("axis", "*_axis"), -1),
    (("units", "filters", "dim", "hidden_dim", "d_model", "embed_dim", "embedding_dim", "output_dim",
      "features", "channels", "size", "width", "depth", "hidden_size", "hidden_units", "intermediate_dim",
      "intermediate_size", "ff_dim", "latent_dim", "*_units", "*_filters", "*_dim", "*_channels", "*_features"), 4),
    (("num_*", "n_*"), 2),
    (("use_*",), True),
    (("initializer", "*_initializer"), "glorot_uniform"),
    (("layer", "inner", "sublayer", "*_layer"), _SUBLAYER),
)
# Only for a parameter whose default is None: names that say what the value is.
_NONE_BY_NAME: tuple[tuple[tuple[str, ...], Any], ...] = (
    (("regularizer", "*_regularizer"), "l2"),
    (("constraint", "*_constraint"), "non_neg"),
)

# A value by annotation (`Optional[...]`/`X | None` unwrapped; tuple/list of int -> (2, 2)), used when no
# name rule matches or the name rule's value does not fit the annotation. str: "relu" for activation names.
_BY_ANNOTATION = {"int": 4, "float": 0.5, "bool": True, "str": "a"}


@dataclass(frozen=True)
class Construction:
    """What to pass to the constructor.

    `kwargs` is ready for one instance. Keras objects in it (sub-layers) must not be shared between
    instances: call `new_kwargs()` for each further instance, which revives them fresh and deep-copies
    the plain values.
    """

    kwargs: dict[str, Any]
    source: str  # "example", "defaults" or "inferred"
    args: tuple[Any, ...] = field(default=(), kw_only=True)  # the example's positional arguments
    missing: tuple[str, ...] = ()  # required parameters with no value known: CFG900, add an example
    factories: Mapping[str, Callable[[], Any]] = field(default_factory=dict, compare=False, repr=False)

    def new_kwargs(self) -> dict[str, Any]:
        fresh = {name: make() for name, make in self.factories.items()}
        return {name: fresh[name] if name in fresh else copy.deepcopy(value)
                for name, value in self.kwargs.items()}


def constructor_kwargs(cls: type, example: UserExample | None, keras: Any = None) -> Construction:
    """Arguments for `cls(...)`: the example's, then values inferred for the other required parameters.

    `keras` (the `keras` or `tf_keras` module) is needed only for sub-layer parameters and for Keras
    objects serialized in an example; without it those are missing / left as plain tables. Raises
    ValueError when such a serialized object cannot be revived.
    """
    kwargs: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    if example is not None:
        for name, value in example.kwargs.items():
            if keras is not None and _is_serialized_object(value):
                factories[name] = _reviver(keras, name, value)
                kwargs[name] = factories[name]()
            else:
                kwargs[name] = copy.deepcopy(value)
    missing = []
    inferred = False
    for param in _parameters(cls):
        if param.name in kwargs or param.default is not inspect.Parameter.empty:
            continue
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            missing.append(param.name)  # cannot be passed by keyword
            continue
        value = _infer(param.name, param.annotation)
        if value is _SUBLAYER:
            if keras is None:
                missing.append(param.name)
                continue
            factories[param.name] = _dense_factory(keras)
            value = factories[param.name]()
        elif value is None:
            missing.append(param.name)
            continue
        kwargs[param.name] = value
        inferred = True
    source = "example" if example is not None else "inferred" if inferred else "defaults"
    args = example.args if example is not None else ()
    return Construction(kwargs, source, tuple(missing), factories, args=args)


def _parameters(cls: type) -> list[inspect.Parameter]:
    """The constructor's named parameters, without self, *args and **kwargs."""
    try:
        signature = inspect.signature(cast(Any, cls).__init__)
    except (TypeError, ValueError):
        return []
    params = list(signature.parameters.values())
    if params and params[0].kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
        params = params[1:]  # `self`, whatever its name (`__init__` is looked up on the class: unbound)
    return [p for p in params if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]


def _infer(name: str, annotation: Any) -> Any:
    """A value for a required parameter, or None. The name rule wins when it fits the annotation."""
    by_name = _lookup(name, _BY_NAME)
    by_annotation = _annotation_value(name, annotation)
    if by_name is not None and (by_annotation is None or by_name is _SUBLAYER or _same_kind(by_name, by_annotation)):
        return by_name
    return by_annotation


def _lookup(name: str, table: tuple[tuple[tuple[str, ...], Any], ...]) -> Any:
    lowered = name.lower()
    for patterns, value in table:
        if any(fnmatchcase(lowered, pattern) for pattern in patterns):
            return value
    return None


def _same_kind(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, (int, float)) and isinstance(b, float):
        return True  # an int is fine where a float is annotated
    return type(a) is type(b)


def _annotation_value(name: str, annotation: Any) -> Any:
    """4 for int, 0.5 for float, True for bool, a string for str, (2, 2) for tuple[int, ...]; else None."""
    text = _annotation_text(annotation)
    if text is None:
        return None
    if text in _BY_ANNOTATION:
        if text == "str" and _lookup(name, _BY_NAME) == "relu":
            return "relu"
        return _BY_ANNOTATION[text]
    match = re.fullmatch(r"(tuple|Tuple|list|List|Sequence)\[(.*)\]", text)
    if match:
        container, args = match.group(1).lower(), _split_top(match.group(2), ",")
        if args and args[0] == "int" and all(a in ("int", "...") for a in args):
            length = 2 if "..." in args or container != "tuple" else len(args)
            return [2] * length if container == "list" else (2,) * length
    return None


def _annotation_text(annotation: Any) -> str | None:
    """The first non-None alternative of an annotation, as text (annotations may be strings)."""
    if annotation is inspect.Parameter.empty or annotation is None:
        return None
    if isinstance(annotation, str):
        text = annotation
    elif isinstance(annotation, type) and not getattr(annotation, "__args__", None):
        text = annotation.__name__
    else:
        text = str(annotation)
    text = text.replace(" ", "").replace("typing.", "").replace("collections.abc.", "").strip("'\"")
    match = re.fullmatch(r"Optional\[(.*)\]", text)
    if match:
        text = match.group(1)
    match = re.fullmatch(r"Union\[(.*)\]", text)
    options = _split_top(match.group(1), ",") if match else _split_top(text, "|")
    options = [option for option in options if option not in ("None", "NoneType")]
    return options[0] if options else None


def _split_top(text: str, separator: str) -> list[str]:
    """Split at `separator` outside brackets."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p]


def _is_serialized_object(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("class_name"), str)


def _reviver(keras: Any, name: str, value: Mapping[str, Any]) -> Callable[[], Any]:
    """Revives a serialized Keras object; a built-in layer needs only its class name (no `module`)."""
    frozen = copy.deepcopy(dict(value))

    def revive() -> Any:
        try:
            return keras.saving.deserialize_keras_object(copy.deepcopy(frozen))
        except Exception as exc:
            layer_class = None if "module" in frozen else getattr(keras.layers, frozen["class_name"], None)
            if isinstance(layer_class, type):
                return cast(Any, layer_class).from_config(copy.deepcopy(frozen.get("config") or {}))
            raise ValueError(f"example argument {name!r}: cannot revive {frozen!r}: {exc}") from None

    return revive


def _dense_factory(keras: Any) -> Callable[[], Any]:
    return lambda: keras.layers.Dense(4)


# --------------------------------------------------------------------------------------------- non-default

# Left alone: changing these changes shapes, identity or randomness rather than the layer's definition.
# `dilation_rate` (dilation > 1 with strides > 1 is refused by Keras convolutions) and `groups` (must
# divide the channels) likewise.
_KEEP = ("*shape*", "axis", "*_axis", "axes", "*_axes", "*dtype*", "name", "*_name", "seed", "*_seed",
         "data_format", "trainable", "dilation_rate", "groups",
         # Keras's own base-layer keywords, which built-in layers do not return in their config either
         "autocast", "activity_regularizer", "input_dim", "batch_size", "dynamic", "weights")

# Floats that must stay in (0, 1).
_RATE_LIKE = ("rate", "*_rate", "*dropout*", "alpha", "momentum", "*_prob", "p", "*_p")

# String choices: (name patterns, choices). The new value is the first choice unlike the default.
_ACTIVATIONS = frozenset({
    "relu", "tanh", "sigmoid", "linear", "gelu", "softmax", "log_softmax", "swish", "silu", "elu", "selu",
    "softplus", "softsign", "leaky_relu", "relu6", "hard_sigmoid", "hard_silu", "exponential", "mish",
})
_STRING_CHOICES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("activation", "*_activation"), ("relu", "tanh")),
    (("padding",), ("same", "valid")),
    (("interpolation",), ("bilinear", "nearest")),
    (("initializer", "*_initializer"), ("glorot_uniform", "he_normal")),
    (("regularizer", "*_regularizer"), ("l2", "l1")),
    (("constraint", "*_constraint"), ("non_neg", "unit_norm")),
    (("merge_mode",), ("concat", "sum")),
    (("pooling",), ("avg", "max")),
)
_LARGE_INT = 4096  # above this an int default grows by 1 instead of doubling (vocabularies)


def nondefault_kwargs(cls: type, base: Construction, *, keras: Any = None) -> dict[str, Any]:
    """`base`'s arguments plus every defaulted parameter moved to another value of the same kind.

    int: doubled (0 -> 1; above 4096 +1; negative -> 2); float: halved (0 -> 0.25), rate-like names stay in
    (0, 1); bool: negated; str: another valid choice when the name or value is recognisable (activation,
    padding, initializer, ...), else left alone; tuple/list of numbers: each int +1 / float halved;
    None: a value only when the name says what it is (`_BY_NAME`, `_NONE_BY_NAME`; sub-layers need
    `keras`). Names in `_KEEP` are left alone, and so are defaulted parameters `base` already sets to
    something else. Keras objects are fresh.
    """
    kwargs = base.new_kwargs()
    for param in _parameters(cls):
        default = param.default
        if default is inspect.Parameter.empty or param.kind is inspect.Parameter.POSITIONAL_ONLY:
            continue
        if _matches(param.name, _KEEP):
            continue
        if param.name in kwargs and not _equal(kwargs[param.name], default):
            continue
        value = _other_value(param.name, param.annotation, default)
        if value is _SUBLAYER:
            if keras is None:
                continue
            value = _dense_factory(keras)()
        if value is not None and not _equal(value, default):
            kwargs[param.name] = value
    return kwargs


def _other_value(name: str, annotation: Any, default: Any) -> Any:
    """A different value of the same kind as `default`, or None when none is known."""
    if isinstance(default, bool):
        return not default
    if isinstance(default, int):
        return _other_int(default)
    if isinstance(default, float):
        return _other_float(name, default)
    if isinstance(default, str):
        return _other_string(name, default)
    if isinstance(default, (tuple, list)) and default and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in default):
        changed = [x + 1 if isinstance(x, int) else _other_float(name, x) for x in default]
        return type(default)(changed)
    if default is None:
        value = _lookup(name, _NONE_BY_NAME)
        if value is None:
            value = _lookup(name, _BY_NAME)
        if value is None:
            text = _annotation_text(annotation)
            value = _BY_ANNOTATION.get(text) if text in ("int", "float", "bool") else None
        return value
    return None


def _other_int(default: int) -> int:
    if default == 0:
        return 1
    if default < 0:
        return 2
    return default * 2 if default <= _LARGE_INT else default + 1


def _other_float(name: str, default: float) -> float:
    if _matches(name, _RATE_LIKE):
        return default * 0.5 if 0.0 < default < 1.0 else 0.25
    return default * 0.5 if default != 0.0 else 0.25


def _other_string(name: str, default: str) -> str | None:
    for patterns, choices in _STRING_CHOICES:
        if _matches(name, patterns):
            return next(c for c in choices if c != default)
    if default in _ACTIVATIONS:
        return "tanh" if default == "relu" else "relu"
    if default in ("valid", "same", "causal"):
        return "valid" if default == "same" else "same"
    return None


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    lowered = name.lower()
    return any(fnmatchcase(lowered, pattern) for pattern in patterns)


def _equal(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


# --------------------------------------------------------------------------------------------- inputs

# (shape with batch dimension, dtype), tried in this order.
DEFAULT_INPUTS: tuple[tuple[Shape, str], ...] = (
    ((2, 8), "float32"),        # features
    ((2, 5, 8), "float32"),     # sequence
    ((2, 8, 8, 3), "float32"),  # image
)
TOKEN_INPUT: tuple[Shape, str] = ((2, 5), "int32")  # ids in [0, 4), so any vocabulary of 4 or more
# Attributes whose value the input's last dimension may have to equal (a residual `x + f(x)`).
_WIDTH_ATTRIBUTES = ("units", "filters", "input_dim", "embed_dim", "embedding_dim", "hidden_dim", "hidden_size",
                     "d_model", "model_dim", "dim", "channels", "output_dim")
# Attributes whose value the input's sequence length may have to equal (position embeddings).
_LENGTH_ATTRIBUTES = ("sequence_length", "seq_len", "max_len", "maxlen", "max_length", "max_sequence_length",
                      "num_positions")
# A class is embedding-like when its name, or one of its parameters' names, says so.
_EMBEDDING_CLASS = ("*embedding*", "*token*", "*vocab*")
_EMBEDDING_PARAMS = ("*vocab*", "*token*", "input_dim", "num_embeddings")
_MAX_DIM = 512  # larger attribute values are not offered as input dimensions


def input_candidates(cls: type, layer: Any, example: UserExample | None) -> list[tuple[Shape | tuple[Shape, ...], str]]:
    """Inputs to try, in order: (shape with batch dimension, dtype).

    From the example when it has an `input_shape` (a multi-input example gives one candidate whose shape
    is a tuple of shapes; `make_input` then returns a list of arrays). Otherwise int32 token ids first
    for embedding-like classes, then 2-D, 3-D sequence and 4-D image float32 inputs, each followed by
    variants whose last dimension (or sequence length) equals a width-like attribute of `layer`
    (`units`, `d_model`, ...; also one level down, in sub-layers).
    """
    token_like = _embedding_like(cls)
    if example is not None and example.input_shape is not None:
        given = example.input_shape
        shape: Shape | tuple[Shape, ...] = (tuple(tuple(s) for s in given) if isinstance(given, list)
                                            else tuple(given))
        if example.input_dtype is not None:
            return [(shape, example.input_dtype)]
        return [(shape, "int32"), (shape, "float32")] if token_like else [(shape, "float32")]
    widths = _attribute_ints(layer, _WIDTH_ATTRIBUTES)
    lengths = _attribute_ints(layer, _LENGTH_ATTRIBUTES)
    candidates: list[tuple[Shape, str]] = []
    if token_like:
        candidates.append(TOKEN_INPUT)
        candidates += [((2, n), "int32") for n in lengths]
    for shape, dtype in DEFAULT_INPUTS:
        candidates.append((shape, dtype))
        candidates += [((*shape[:-1], w), dtype) for w in widths]
        if len(shape) == 3:
            candidates += [((2, n, w), dtype) for n in lengths for w in (shape[-1], *widths)]
    if example is not None and example.input_dtype is not None:
        candidates = [(shape, example.input_dtype) for shape, _ in candidates]
    unique: list[tuple[Shape | tuple[Shape, ...], str]] = []
    for candidate in candidates:
        if candidate not in unique:
            unique.append(candidate)
    return unique


def _embedding_like(cls: type) -> bool:
    if _matches(cls.__name__, _EMBEDDING_CLASS):
        return True
    return any(_matches(p.name, _EMBEDDING_PARAMS) for p in _parameters(cls))


def _attribute_ints(layer: Any, names: tuple[str, ...]) -> list[int]:
    """Distinct small positive ints in those attributes of `layer` and of its direct sub-layers."""
    found: list[int] = []
    owners = [layer]
    with contextlib.suppress(TypeError):
        owners += [value for value in vars(layer).values()
                   if value is not layer and hasattr(value, "get_config") and hasattr(value, "call")]
    for owner in owners:
        for name in names:
            try:
                value: Any = getattr(owner, name, None)
            except Exception:
                continue
            if isinstance(value, bool):
                continue
            try:
                number = value.__index__()
            except Exception:
                continue
            if 0 < number <= _MAX_DIM and number not in found:
                found.append(number)
    return found


def make_input(keras: Any, shape: Shape | tuple[Shape, ...], dtype: str | None, seed: int = 0) -> Any:
    """A deterministic NumPy array (not a tensor): uniform in [-1, 1) for floats, ints in [0, 4), bools.

    A tuple of shapes gives a list of arrays. `dtype=None` means the backend's float type (`keras` is only
    used for that).
    """
    import numpy as np

    if dtype is None:
        dtype = keras.backend.floatx()
    rng = np.random.default_rng(seed)
    if shape and all(isinstance(s, tuple) for s in shape):
        return [_array(np, rng, cast(Shape, s), dtype) for s in shape]
    return _array(np, rng, tuple(cast(Shape, shape)), dtype)


def _array(np: Any, rng: Any, shape: Shape, dtype: str) -> Any:
    try:
        np_dtype = np.dtype(dtype)
    except TypeError:  # bfloat16: NumPy knows it only through ml_dtypes, which TensorFlow and JAX bring
        import ml_dtypes

        np_dtype = np.dtype(getattr(ml_dtypes, dtype))
    if np_dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    if np.issubdtype(np_dtype, np.integer):
        return rng.integers(0, 4, size=shape).astype(np_dtype)
    return rng.uniform(-1.0, 1.0, size=shape).astype(np_dtype)
