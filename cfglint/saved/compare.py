"""Compare one saved object's config with the constructor today's code has.

Keras rebuilds a layer with `cls.from_config(config)`, which for a class without its own `from_config`
is `cls(**config)`: every saved key becomes a keyword argument, the base keys `name`, `trainable`
and `dtype` included. A key the constructor does not take fails (`TypeError: ... got an unexpected
keyword argument`, or Keras's `Layer.__init__` rejecting what `**kwargs` hands on to it), and a
required argument the config lacks fails too. A `from_config` of the class's own that sets, removes or
rewrites a key is taken at its word; one that rewrites the config in ways not read statically makes
the comparison stop there (a false alarm costs more trust than a miss).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from cfglint.context import ClassContext
from cfglint.facts import InitFacts, Param
from cfglint.finding import Span
from cfglint.keras_names import BASE_KEYWORDS

KERAS_BASE = "Keras"  # `Acceptance.rejected_by` when Keras's own `Layer`/`Model` constructor turns a key away


@dataclass(frozen=True)
class Problem:
    """One incompatibility, before it becomes a finding: the rule, where, what, and about what."""

    code: str
    path: str
    span: Span
    message: str
    subject: str | None = None


@dataclass(frozen=True)
class Acceptance:
    """What the constructor takes: named keywords, whether anything else is taken (`**kwargs` kept), and
    which `__init__` turns the rest away (None: the class's own, which has no `**kwargs`)."""

    keywords: frozenset[str]
    anything: bool
    rejected_by: str | None = None  # "Base" (a project class), or KERAS_BASE


def acceptance(ctx: ClassContext) -> Acceptance | None:
    """The keywords `cls(**config)` may pass (None: cannot be known, e.g. a built-in parent takes the rest)."""
    keywords: set[str] = set()
    forwarded_from: str | None = None  # the class whose `**kwargs` reached this `__init__`
    for ancestor in ctx.chain:
        init = ancestor.cls.init
        if init is None:
            continue
        keywords |= {p.name for p in init.named_params} | init.kwargs_popped
        if init.varkw is None:
            return Acceptance(frozenset(keywords), anything=False,
                              rejected_by=ancestor.cls.name if forwarded_from else None)
        carriers = {init.varkw.name} | init.kwargs_aliases
        if not any(carriers & call.star_names for call in init.super_calls):
            return Acceptance(frozenset(keywords), anything=True)
        forwarded_from = ancestor.cls.name
    if ctx.builtin_parent is not None:
        return None
    return Acceptance(frozenset(keywords | BASE_KEYWORDS[ctx.target.value]), anything=False, rejected_by=KERAS_BASE)


def effective_init(ctx: ClassContext) -> tuple[InitFacts, str, bool] | None:
    """The `__init__` that runs, the file it is in, and whether it is the class's own."""
    for index, ancestor in enumerate(ctx.chain):
        if ancestor.cls.init is not None:
            return ancestor.cls.init, ancestor.module.path, index == 0
    return None


def unknown_keys(ctx: ClassContext, config: dict[str, object], where: str) -> Iterator[Problem]:
    """CFG501: saved keys today's constructor does not take."""
    fc = ctx.from_config
    if fc is not None and fc.opaque:
        return
    accepted = acceptance(ctx)
    if accepted is None or accepted.anything:
        return
    consumed = fc.supplied if fc is not None else set()
    found = effective_init(ctx)
    span, path = (found[0].span, found[1]) if found and found[2] else (ctx.cls.span, ctx.module.path)
    for key in config:
        if key in accepted.keywords or key in consumed:
            continue
        if accepted.rejected_by == KERAS_BASE:
            reason = "its `**kwargs` hand it to Keras's base `__init__`, which rejects it"
        elif accepted.rejected_by is not None:
            reason = f"its `**kwargs` hand it to `{accepted.rejected_by}.__init__`, which has no such parameter"
        else:
            reason = "it has no such parameter and no `**kwargs`"
        yield Problem("CFG501", path, span,
                      f"{where}: saved config key `{key}` is not accepted by `{ctx.cls.name}.__init__` ({reason})",
                      subject=key)


def missing_required(ctx: ClassContext, config: dict[str, object], where: str) -> Iterator[Problem]:
    """CFG502: required constructor arguments the saved config lacks."""
    fc = ctx.from_config
    if fc is not None and fc.opaque:
        return
    found = effective_init(ctx)
    if found is None:
        return
    init, path, own = found
    supplied = fc.supplied if fc is not None else set()
    for param in init.params:
        if not param.required or param.name in config or param.name in supplied:
            continue
        span, at = (param.span, path) if own else (ctx.cls.span, ctx.module.path)
        how = " (positional-only: a config can never pass it)" if param.kind == "posonly" else ""
        yield Problem("CFG502", at, span,
                      f"{where}: required argument `{param.name}` of `{ctx.cls.name}.__init__` is not in the "
                      f"saved config{how}", subject=param.name)


def absent_defaults(ctx: ClassContext, config: dict[str, object]) -> Iterator[tuple[Param, str]]:
    """Defaulted parameters of the class's own `__init__` the saved config lacks (and `from_config`
    does not set): a reload takes today's default for them. With the file they are in."""
    fc = ctx.from_config
    if fc is not None and fc.opaque:
        return
    found = effective_init(ctx)
    if found is None or not found[2]:
        return
    init, path, _ = found
    supplied = fc.supplied if fc is not None else set()
    for param in init.named_params:
        if param.default is not None and param.name not in config and param.name not in supplied:
            yield param, path
