"""What a rule sees: one class's facts joined with what its hierarchy contributes.

The questions several rules share ("which `get_config` applies?", "which keys does the config end
up with?", "is this parameter covered?") are answered here once, so each rule stays a few lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from cfglint.facts import ClassFacts, ConfigKey, FromConfigFacts, GetConfigFacts, InitFacts, ModuleFacts, Param
from cfglint.finding import Target
from cfglint.keras_names import BASE_CONFIG_KEYS, BASE_KEYWORDS
from cfglint.project import Ancestor, Hierarchy, ProjectIndex

# First positional parameters of common built-in layers, to name what `super().__init__(x)` feeds.
BUILTIN_POSITIONAL = {
    "Dense": ("units",), "EinsumDense": ("equation", "output_shape"),
    "Conv1D": ("filters", "kernel_size"), "Conv2D": ("filters", "kernel_size"),
    "Conv3D": ("filters", "kernel_size"), "Conv1DTranspose": ("filters", "kernel_size"),
    "Conv2DTranspose": ("filters", "kernel_size"), "Conv3DTranspose": ("filters", "kernel_size"),
    "SeparableConv1D": ("filters", "kernel_size"), "SeparableConv2D": ("filters", "kernel_size"),
    "DepthwiseConv1D": ("kernel_size",), "DepthwiseConv2D": ("kernel_size",),
    "Embedding": ("input_dim", "output_dim"), "Dropout": ("rate",), "SpatialDropout1D": ("rate",),
    "SpatialDropout2D": ("rate",), "GaussianNoise": ("stddev",), "GaussianDropout": ("rate",),
    "LSTM": ("units",), "GRU": ("units",), "SimpleRNN": ("units",), "LSTMCell": ("units",),
    "GRUCell": ("units",), "SimpleRNNCell": ("units",), "RNN": ("cell",),
    "MultiHeadAttention": ("num_heads", "key_dim"), "Activation": ("activation",),
    "Reshape": ("target_shape",), "Permute": ("dims",), "RepeatVector": ("n",), "Lambda": ("function",),
    "TimeDistributed": ("layer",), "Bidirectional": ("layer",), "Wrapper": ("layer",),
}

# Built-in layers that define no `get_config` of their own (below Keras's base `Layer`), measured on
# Keras 3.15 and tf-keras 2.21: a subclass gets Keras's automatic config, which keeps its arguments.
AUTO_CONFIG_BUILTINS = {
    Target.KERAS3: frozenset({"Identity", "ELU"}),
    Target.TF_KERAS: frozenset({"AbstractRNNCell", "Identity"}),
}


@dataclass
class Coverage:
    """The keys the effective `get_config` returns, as far as they can be known."""

    keys: set[str] = field(default_factory=set)
    complete: bool = True


@dataclass
class ClassContext:
    cls: ClassFacts
    module: ModuleFacts
    hierarchy: Hierarchy
    target: Target
    index: ProjectIndex

    # ----------------------------------------------------------- hierarchy
    @property
    def chain(self) -> list[Ancestor]:
        return self.hierarchy.chain

    @property
    def is_model(self) -> bool:
        return self.hierarchy.is_model

    @property
    def builtin_parent(self) -> str | None:
        return self.hierarchy.builtin_parent

    def _first(self, attr: str) -> tuple[int, Ancestor] | None:
        for i, ancestor in enumerate(self.chain):
            if getattr(ancestor.cls, attr) is not None:
                return i, ancestor
        return None

    @cached_property
    def init(self) -> InitFacts | None:
        """The `__init__` that runs: the class's own or the nearest project ancestor's."""
        found = self._first("init")
        return found[1].cls.init if found else None

    @cached_property
    def get_config(self) -> GetConfigFacts | None:
        found = self._first("get_config")
        return found[1].cls.get_config if found else None

    @cached_property
    def from_config(self) -> FromConfigFacts | None:
        found = self._first("from_config")
        return found[1].cls.from_config if found else None

    @property
    def has_config_override(self) -> bool:
        """Whether some `get_config` other than Keras's automatic one applies."""
        return self.get_config is not None or self.config_builtin is not None

    @property
    def config_builtin(self) -> str | None:
        """The built-in parent whose own `get_config` applies (not one that leaves the automatic config)."""
        builtin = self.builtin_parent
        if builtin is None or builtin.split(".")[-1] in AUTO_CONFIG_BUILTINS.get(self.target, ()):
            return None
        return builtin

    @property
    def is_k3(self) -> bool:
        return self.target is Target.KERAS3

    @cached_property
    def own_keys(self) -> dict[str, ConfigKey]:
        return self.cls.get_config.keys if self.cls.get_config else {}

    # ----------------------------------------------------------- config keys
    @cached_property
    def coverage(self) -> Coverage:
        """The keys of the config this class returns (own `get_config`, inherited, or built-in)."""
        return self._coverage_from(0)

    def _coverage_from(self, start: int) -> Coverage:
        for i in range(start, len(self.chain)):
            gc = self.chain[i].cls.get_config
            if gc is None:
                continue
            result = Coverage(set(gc.keys), gc.complete)
            if gc.merges_super:
                above = self._coverage_from(i + 1)
                result.keys |= above.keys
                result.complete = result.complete and above.complete
            result.keys -= gc.removed - set(gc.keys)
            return result
        if self.config_builtin is not None:
            return self._forwarded_to_builtin()
        if self.is_model and not self.is_k3:
            return Coverage(set(), True)
        # Keras 3's base config also carries `activity_regularizer` when one is set
        return Coverage(set(BASE_CONFIG_KEYS) | ({"activity_regularizer"} if self.is_k3 else set()), True)

    @cached_property
    def coverage_entries(self) -> list[ConfigKey]:
        """The project-written entries of the config (own and inherited `get_config`s that merge)."""
        entries: list[ConfigKey] = []
        for ancestor in self.chain:
            gc = ancestor.cls.get_config
            if gc is None:
                continue
            entries.extend(gc.keys.values())
            if not gc.merges_super:
                break
        return entries

    def _forwarded_to_builtin(self) -> Coverage:
        """Keys a built-in parent's config returns for what the project classes hand to it.

        A built-in covers its own constructor arguments, so a keyword passed to it comes back under
        that name. A positional argument is named from a table of common layers; for other
        built-ins only a plain parameter passed positionally is assumed to come back under its
        own name, and anything else leaves the keys unknown.
        """
        coverage = Coverage(set(BASE_CONFIG_KEYS) | {"activity_regularizer"}, True)
        builtin = (self.builtin_parent or "").split(".")[-1]
        positional_names = BUILTIN_POSITIONAL.get(builtin)
        for ancestor in self.chain:
            init = ancestor.cls.init
            if init is None:
                continue
            params = {p.name for p in init.params}
            carriers = {init.varkw.name} | init.kwargs_aliases if init.varkw else set()
            for call in init.super_calls:
                coverage.keys |= set(call.keywords) | call.star_names
                if call.star_names & carriers:  # `kwargs["groups"] = groups`, then `**kwargs`
                    coverage.keys |= init.kwargs_set
                for index, value in enumerate(call.positional):
                    if positional_names and index < len(positional_names):
                        coverage.keys.add(positional_names[index])
                    elif value.kind == "name" and value.text in params:
                        coverage.keys.add(value.text)
                    else:
                        coverage.complete = False
        return coverage

    def covers(self, param: Param) -> bool:
        """Whether a reload gets this parameter back: from the config, or from `from_config`."""
        if param.name in self.coverage.keys:
            return True
        fc = self.from_config
        return fc is not None and (param.name in fc.supplied or fc.opaque)

    # ----------------------------------------------------------- parameters
    def accepted_keywords(self) -> set[str] | None:
        """Keywords the constructor accepts (None when it cannot be known, e.g. a built-in parent)."""
        accepted = set(BASE_KEYWORDS[self.target.value])
        for ancestor in self.chain:
            init = ancestor.cls.init
            if init is None:
                continue
            accepted |= {p.name for p in init.named_params} | init.kwargs_popped
            if init.varkw is None:
                return accepted
            if not any(init.varkw.name in call.star_names for call in init.super_calls):
                return accepted
        if self.builtin_parent is not None:
            return None
        return accepted


@dataclass
class ModuleContext:
    module: ModuleFacts
    target: Target
    index: ProjectIndex
    keras_classes: dict[str, ClassContext] = field(default_factory=dict)
