"""Plain-data facts about a module and its classes: everything the rules need, and nothing else.

The extractor (`cfglint.extract`) fills these from one parse of a file; rules only read them. They
hold no syntax-tree nodes, so a module's facts stay small and can be cached or sent between processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cfglint.finding import Span


@dataclass(frozen=True)
class Value:
    """A summary of an expression, enough to classify a config value or what an attribute holds.

    kind is one of: name (text = identifier), self_attr (text = attribute of `self`), dotted (text =
    resolved dotted name, e.g. `keras.activations.relu`), const (text = repr, ctype = type name),
    call (text = resolved callee; for a method call, text = method name and `receiver` is set),
    lambda, tuple, list, dict, set, binop (text = operator), ifexp, comp, starred, fstring, other.
    `names` holds every bare name read inside the expression.
    """

    kind: str
    span: Span
    text: str = ""
    ctype: str = ""
    items: tuple[Value, ...] = ()
    keywords: tuple[tuple[str | None, Value], ...] = ()
    receiver: Value | None = None
    names: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Param:
    """One `__init__` parameter. kind: posonly, normal, vararg, kwonly or varkw."""

    name: str
    kind: str
    span: Span
    default: Value | None = None
    annotation: str | None = None

    @property
    def required(self) -> bool:
        return self.default is None and self.kind in ("posonly", "normal", "kwonly")


@dataclass
class SuperInitCall:
    """A `super().__init__(...)` (or `Parent.__init__(self, ...)`) call inside `__init__`."""

    span: Span
    positional: tuple[Value, ...] = ()
    keywords: dict[str, Value] = field(default_factory=dict)
    keyword_spans: dict[str, Span] = field(default_factory=dict)
    star_names: frozenset[str] = frozenset()  # names spread with * or **
    names: frozenset[str] = frozenset()  # every name read in the call


@dataclass
class InitFacts:
    span: Span  # the `__init__` name on the `def` line
    params: list[Param]
    self_attrs: dict[str, list[Value]] = field(default_factory=dict)
    super_calls: list[SuperInitCall] = field(default_factory=list)
    kwargs_popped: set[str] = field(default_factory=set)
    kwargs_aliases: set[str] = field(default_factory=set)  # locals built from the var-keyword
    param_uses: dict[str, set[str]] = field(default_factory=dict)  # param → how it is used
    attrs_from_param: dict[str, str] = field(default_factory=dict)  # self.attr = param (as is)
    kwargs_set: set[str] = field(default_factory=set)  # keys put into the var-keyword dict (`kwargs["k"] = v`)
    default_only: set[str] = field(default_factory=set)  # params whose non-default values `raise`
    param_folds: dict[str, set[str]] = field(default_factory=dict)  # param → params reassigned from it
    self_dicts: dict[str, tuple[ConfigKey, ...] | None] = field(default_factory=dict)  # self.x = {...}
    # params given to `set_weights`/`load_weights`/`initial_weights` (directly or through a local)
    weight_values: set[str] = field(default_factory=set)
    # param → "method:slot" of the `self.<method>(...)` calls that receive it (slot: position or keyword)
    self_method_args: dict[str, set[str]] = field(default_factory=dict)
    spread_into_calls: set[str] = field(default_factory=set)  # names spread with ** into other calls
    vararg_reads: int = 0  # reads of `*args` other than in the parent's `__init__(...)` call

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def varkw(self) -> Param | None:
        return next((p for p in self.params if p.kind == "varkw"), None)

    @property
    def vararg(self) -> Param | None:
        return next((p for p in self.params if p.kind == "vararg"), None)

    @property
    def named_params(self) -> list[Param]:
        """Parameters a config key can feed (not `*args`/`**kwargs`, not positional-only)."""
        return [p for p in self.params if p.kind in ("normal", "kwonly")]


@dataclass(frozen=True)
class ConfigKey:
    name: str
    value: Value
    span: Span  # the key


@dataclass
class GetConfigFacts:
    span: Span
    decorators: frozenset[str] = frozenset()
    keys: dict[str, ConfigKey] = field(default_factory=dict)
    complete: bool = True  # False when keys are added in ways that cannot be read statically
    merges_super: bool = False
    removed: set[str] = field(default_factory=set)
    vars_self: list[Span] = field(default_factory=list)
    bad_returns: list[tuple[Span, str]] = field(default_factory=list)
    falls_off_end: bool = False
    abstract: bool = False  # body only raises
    super_known: bool = False  # a followed return merges `super().get_config()` (not assumed)
    # keys set on some paths only: key -> (attribute tested, "none" | "not_none" | "truthy" | "falsy"),
    # ("", "") when the condition is not that simple
    conditional: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class FromConfigFacts:
    span: Span
    decorators: frozenset[str] = frozenset()
    cls_calls_without_star: list[Span] = field(default_factory=list)
    returns_value: bool = True
    supplied: set[str] = field(default_factory=set)  # keys the method sets or passes itself
    deserialized: set[str] = field(default_factory=set)  # keys it decodes
    opaque: bool = False  # transforms the config in ways not read statically


@dataclass
class BuildFacts:
    span: Span
    calls_super_build: bool = False
    sets_built: bool = False
    sublayer_builds: list[tuple[str, Span, bool]] = field(default_factory=list)  # attr, call, guarded
    regularized_weights: list[Span] = field(default_factory=list)  # add_weight(..., regularizer=<not None>)


@dataclass
class ClassFacts:
    name: str
    qualname: str  # module.Name
    span: Span  # the class name on the `class` line
    bases: list[str]  # resolved dotted names ("" when a base is not a plain name)
    decorators: list[str] = field(default_factory=list)
    is_dataclass: bool = False
    registered: bool = False
    # the name `register_keras_serializable` files the class under ("package>Name", Keras's defaults
    # filled in): what a saved config's `registered_name` must match; None when not registered or when
    # its arguments are not plain strings
    registered_as: str | None = None
    methods: set[str] = field(default_factory=set)
    init: InitFacts | None = None
    get_config: GetConfigFacts | None = None
    from_config: FromConfigFacts | None = None
    build: BuildFacts | None = None
    attr_uses: dict[str, set[str]] = field(default_factory=dict)  # self.attr → uses in any method
    tuple_uses: list[tuple[str, Span]] = field(default_factory=list)  # self.attr used as a tuple
    dataclass_fields: list[Param] = field(default_factory=list)
    # methods `__init__`/`build` call (through `self.<method>(...)`, transitively); filled only for
    # classes holding a lambda site in another method, the one question it answers (CFG207)
    builder_helpers: set[str] = field(default_factory=set)
    # what `load_assets` restores (directly or through `self.<method>(...)` helpers of the class): the
    # attributes it assigns, and its `self.<method>(...)` calls as "method:slot" (empty: no `load_assets`)
    asset_attrs: set[str] = field(default_factory=set)
    asset_calls: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class LambdaSite:
    """A lambda passed where Keras would serialize it (activation=, *_initializer=, Lambda(...))."""

    span: Span
    callee: str  # resolved dotted callee
    slot: str  # keyword name, or "" for a positional Lambda argument
    enclosing_class: str | None  # qualname of the class whose method holds the call
    enclosing_method: str | None
    in_super_init: bool


@dataclass(frozen=True)
class KerasImport:
    """An import of Keras: which package (`tf_keras`, `keras`, or `tf.keras` for TensorFlow's), where,
    the name it binds, and whether another branch of the same `if`/`try` binds that name too (then
    the binding follows the Keras being checked, and the import says nothing about which one)."""

    flavour: str
    line: int
    name: str
    dotted: str
    conditional: bool = False


@dataclass
class ModuleFacts:
    path: str
    module: str
    imports: dict[str, str] = field(default_factory=dict)
    star_imports: list[str] = field(default_factory=list)
    classes: list[ClassFacts] = field(default_factory=list)
    lambda_sites: list[LambdaSite] = field(default_factory=list)
    imports_tf_keras: bool = False  # unconditionally
    keras_imports: tuple[KerasImport, ...] = ()
    legacy_keras_line: int = 0  # where the module sets TF_USE_LEGACY_KERAS to a true value (0: nowhere)
    noqa: dict[int, frozenset[str] | None] = field(default_factory=dict)  # line → codes (None: all)

    def class_named(self, name: str) -> ClassFacts | None:
        return next((c for c in self.classes if c.name == name), None)
