"""The keys `get_config` returns, followed through the dict it builds statement by statement.

The rules check these keys against `__init__`'s arguments (a missing or misspelled key loses an
argument on reload) and need to know which keys are written on some paths only.
"""

from __future__ import annotations

import ast

from cfglint.extract._syntax import (
    always_exits,
    const_str,
    is_super_call,
    keyword_span,
    self_attr,
    self_name_of,
    walk,
    walk_no_nested,
)
from cfglint.extract.scope import ModuleScope
from cfglint.facts import ConfigKey, GetConfigFacts, InitFacts


class _DictState:
    """What is known about a dict being built in `get_config`."""

    def __init__(self, keys: dict[str, ConfigKey] | None = None, complete: bool = True,
                 has_super: bool = False) -> None:
        self.keys = dict(keys or {})
        self.complete = complete
        self.has_super = has_super

    def merge(self, other: _DictState | None) -> None:
        if other is None:
            self.complete = False
            return
        self.keys.update(other.keys)
        self.complete = self.complete and other.complete
        self.has_super = self.has_super or other.has_super

    def copy(self) -> _DictState:
        return _DictState(self.keys, self.complete, self.has_super)


class GetConfigExtractor:
    """Follows the dict `get_config` builds, statement by statement, to learn its keys."""

    def __init__(self, scope: ModuleScope, fn: ast.FunctionDef | ast.AsyncFunctionDef,
                 init: InitFacts | None = None) -> None:
        self.m = scope
        self.pos = scope.pos
        self.fn = fn
        self.self_name = self_name_of(fn)
        self.init_dicts = init.self_dicts if init is not None else {}
        self.vars: dict[str, _DictState] = {}
        self.returned: list[_DictState | None] = []
        self.removed: set[str] = set()

    def run(self) -> GetConfigFacts:
        fn = self.fn
        decorators = frozenset(self.m.resolve(d) for d in fn.decorator_list)
        facts = GetConfigFacts(span=self.pos.name_span(fn, fn.name), decorators=decorators)
        body = [s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        facts.abstract = bool(body) and all(isinstance(s, (ast.Raise, ast.Pass)) for s in body) \
            and any(isinstance(s, ast.Raise) for s in body)
        self._statements(fn.body, facts)
        facts.falls_off_end = not facts.abstract and not always_exits(fn.body)
        for node in walk_no_nested(fn.body):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "vars"
                    and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == self.self_name) \
                    or (isinstance(node, ast.Attribute) and node.attr == "__dict__"
                        and isinstance(node.value, ast.Name) and node.value.id == self.self_name):
                facts.vars_self.append(self.pos.span(node))
        known = [r for r in self.returned if r is not None]
        facts.complete = bool(known) and len(known) == len(self.returned) and all(r.complete for r in known)
        facts.super_known = any(r.has_super for r in known)
        facts.merges_super = facts.super_known or (not known and bool(self.returned))
        facts.conditional = _conditional_keys(fn.body, self.self_name, known)
        for state in known:
            for key, entry in state.keys.items():
                facts.keys.setdefault(key, entry)
        facts.removed = self.removed
        return facts

    # statements -----------------------------------------------------------
    def _statements(self, body: list[ast.stmt], facts: GetConfigFacts) -> None:
        for stmt in body:
            self._statement(stmt, facts)

    def _statement(self, stmt: ast.stmt, facts: GetConfigFacts) -> None:
        for expression in _statement_expressions(stmt):
            self._pops_in(expression)
        if isinstance(stmt, ast.Return):
            self._return(stmt, facts)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                self._assign(target, stmt.value, facts)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.BitOr) \
                and isinstance(stmt.target, ast.Name) and stmt.target.id in self.vars:
            self.vars[stmt.target.id].merge(self._eval(stmt.value))
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            self._mutating_call(stmt.value)
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                self._delete(target)
        elif isinstance(stmt, (ast.If, ast.With, ast.AsyncWith, ast.Try)):
            for block in _blocks(stmt):
                self._statements(block, facts)
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            self._statements(stmt.body + stmt.orelse, facts)

    def _assign(self, target: ast.AST, value: ast.AST | None, facts: GetConfigFacts) -> None:
        if value is None:
            return
        if isinstance(target, ast.Name):
            state = self._eval(value)
            if state is not None:
                self.vars[target.id] = state
            else:
                self.vars.pop(target.id, None)
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                and target.value.id in self.vars:
            state = self.vars[target.value.id]
            key = const_str(target.slice)
            if key is None:
                state.complete = False
            else:
                state.keys[key] = ConfigKey(key, self.m.value(value), self.pos.span(target.slice))

    def _mutating_call(self, call: ast.Call) -> None:
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in self.vars:
            state = self.vars[func.value.id]
            if func.attr == "update":
                for arg in call.args:
                    state.merge(self._eval(arg))
                self._keywords(call, state)
            elif func.attr == "setdefault" and call.args:
                key = const_str(call.args[0])
                if key is None:
                    state.complete = False
                elif len(call.args) > 1 and key not in state.keys:
                    state.keys[key] = ConfigKey(key, self.m.value(call.args[1]), self.pos.span(call.args[0]))
            elif func.attr in ("pop", "popitem", "clear"):
                key = const_str(call.args[0]) if call.args else None
                if key is not None:
                    state.keys.pop(key, None)
                    self.removed.add(key)
            return
        # a dict handed to another function may be changed there
        for arg in list(call.args) + [k.value for k in call.keywords]:
            if isinstance(arg, ast.Name) and arg.id in self.vars:
                self.vars[arg.id].complete = False

    def _pops_in(self, expression: ast.AST) -> None:
        """`assert config.pop("k", None) is None`, `if config.pop("k", None) is not None: raise`,
        `value = config.pop("k")`: the key is removed wherever the call sits in the statement."""
        for node in walk(expression):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "pop"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id in self.vars and node.args):
                continue
            key = const_str(node.args[0])
            if key is not None:
                self.vars[node.func.value.id].keys.pop(key, None)
                self.removed.add(key)

    def _delete(self, target: ast.AST) -> None:
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                and target.value.id in self.vars:
            key = const_str(target.slice)
            if key is not None:
                self.vars[target.value.id].keys.pop(key, None)
                self.removed.add(key)

    def _keywords(self, call: ast.Call, state: _DictState) -> None:
        for kw in call.keywords:
            if kw.arg is None:
                state.merge(self._eval(kw.value))
            else:
                state.keys[kw.arg] = ConfigKey(kw.arg, self.m.value(kw.value), keyword_span(self.pos, kw))

    def _return(self, stmt: ast.Return, facts: GetConfigFacts) -> None:
        value = stmt.value
        if value is None or (isinstance(value, ast.Constant) and value.value is None):
            facts.bad_returns.append((self.pos.span(stmt), "None"))
            return
        kind = _non_dict_kind(value)
        if kind:
            facts.bad_returns.append((self.pos.span(stmt), kind))
            return
        self.returned.append(self._eval(value))

    # expressions ----------------------------------------------------------
    def _eval(self, node: ast.AST) -> _DictState | None:
        """The dict an expression evaluates to, or None when it is not a dict we can follow."""
        if isinstance(node, ast.Name):
            state = self.vars.get(node.id)
            return state.copy() if state is not None else None
        if isinstance(node, ast.Call):
            return self._eval_call(node)
        attr = self_attr(node, self.self_name)
        if attr is not None and self.init_dicts.get(attr) is not None:
            # the `self._config = {...}` idiom: a dict literal built once in `__init__`, returned here
            return _DictState({k.name: k for k in self.init_dicts[attr]})  # type: ignore[union-attr]
        if isinstance(node, ast.Dict):
            state = _DictState()
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None:
                    state.merge(self._eval(value))
                    continue
                name = const_str(key)
                if name is None:
                    state.complete = False
                else:
                    state.keys[name] = ConfigKey(name, self.m.value(value), self.pos.span(key))
            return state
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            left = self._eval(node.left)
            if left is not None:
                left.merge(self._eval(node.right))
            return left
        return None

    def _eval_call(self, node: ast.Call) -> _DictState | None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "get_config":
            if is_super_call(func.value) or (
                    node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == self.self_name):
                return _DictState(has_super=True)
            return None
        if isinstance(func, ast.Attribute) and func.attr == "copy" and not node.args:
            return self._eval(func.value)
        callee = self.m.resolve(func)
        if callee in ("copy.copy", "copy.deepcopy") and node.args:
            return self._eval(node.args[0])
        if callee == "dict":
            state = _DictState()
            for arg in node.args:
                state.merge(self._eval_items(arg))
            self._keywords(node, state)
            return state
        return None

    def _eval_items(self, node: ast.AST) -> _DictState | None:
        """`dict(list(a.items()) + list(b.items()))`, the Keras 2 idiom for merging configs."""
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self._eval_items(node.left)
            if left is not None:
                left.merge(self._eval_items(node.right))
            return left
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "list" \
                and node.args:
            return self._eval_items(node.args[0])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "items":
            return self._eval(node.func.value)
        return self._eval(node)


def _statement_expressions(stmt: ast.stmt) -> list[ast.expr]:
    """The expressions a statement evaluates itself (not those of the blocks it holds)."""
    if isinstance(stmt, ast.Assert):
        return [stmt.test] + ([stmt.msg] if stmt.msg is not None else [])
    if isinstance(stmt, (ast.If, ast.While)):
        return [stmt.test]
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr, ast.Return)):
        return [stmt.value] if stmt.value is not None else []
    return []


def _conditional_keys(body: list[ast.stmt], self_name: str,
                      returned: list[_DictState]) -> dict[str, tuple[str, str]]:
    """Keys `get_config` sets on some paths only, each with the simple condition that guards it.

    A key set under `if self.x is not None:` (and not in the `else`), in a loop, or missing from one
    of several returned dicts is conditional: a subclass may fix the argument so that it never appears.
    """
    found: dict[str, tuple[str, str]] = {}
    certain = _keys_added(body, self_name, found)
    conditional = {key: test for key, test in found.items() if key not in certain}
    if len(returned) > 1:  # `if ...: return base_config` before the key is added
        every = set.intersection(*(set(r.keys) for r in returned))
        for state in returned:
            for key in set(state.keys) - every:
                conditional.setdefault(key, ("", ""))
    return conditional


def _keys_added(body: list[ast.stmt], self_name: str, found: dict[str, tuple[str, str]]) -> set[str]:
    """Keys a block certainly writes (`d["k"] = v`, `d.update(...)`, `d.setdefault("k", v)`); the ones it
    writes on one branch only go to `found` with the branch's condition."""
    added: set[str] = set()
    for stmt in body:
        if isinstance(stmt, ast.If):
            then = _keys_added(stmt.body, self_name, found)
            other = _keys_added(stmt.orelse, self_name, found)
            for key in then - other:
                found.setdefault(key, _condition(stmt.test, self_name, True))
            for key in other - then:
                found.setdefault(key, _condition(stmt.test, self_name, False))
            added |= then & other
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            for key in _keys_added(stmt.body + stmt.orelse, self_name, found):
                found.setdefault(key, ("", ""))
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            added |= _keys_added(stmt.body, self_name, found)
        elif isinstance(stmt, ast.Try):
            added |= _keys_added(stmt.body + stmt.finalbody, self_name, found)
            for block in [h.body for h in stmt.handlers] + [stmt.orelse]:
                for key in _keys_added(block, self_name, found):
                    found.setdefault(key, ("", ""))
        else:
            added |= _keys_written(stmt)
    return added


def _keys_written(stmt: ast.stmt) -> set[str]:
    keys: set[str] = set()
    if isinstance(stmt, ast.Assign):
        for target in stmt.targets:
            if isinstance(target, ast.Subscript) and const_str(target.slice):
                keys.add(const_str(target.slice))  # type: ignore[arg-type]
    elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) \
            and isinstance(stmt.value.func, ast.Attribute):
        call = stmt.value
        if call.func.attr == "update":  # type: ignore[attr-defined]
            keys |= {kw.arg for kw in call.keywords if kw.arg}
            for arg in call.args:
                if isinstance(arg, ast.Dict):
                    keys |= {k for k in map(const_str, arg.keys) if k}
        elif call.func.attr == "setdefault" and call.args and const_str(call.args[0]):  # type: ignore[attr-defined]
            keys.add(const_str(call.args[0]))  # type: ignore[arg-type]
    return keys


def _condition(test: ast.expr, self_name: str, branch: bool) -> tuple[str, str]:
    """(attribute, "none" | "not_none" | "truthy" | "falsy") for `self.x is [not] None`, `self.x`,
    `not self.x` on the given branch; ("", "") for anything else."""
    while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test, branch = test.operand, not branch
    attr = self_attr(test, self_name)
    if attr:
        return attr, "truthy" if branch else "falsy"
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.comparators[0], ast.Constant) \
            and test.comparators[0].value is None and isinstance(test.ops[0], (ast.Is, ast.IsNot)):
        attr = self_attr(test.left, self_name)
        if attr:
            is_none = isinstance(test.ops[0], ast.Is) == branch
            return attr, "none" if is_none else "not_none"
    return "", ""


def _blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    if isinstance(stmt, ast.If):
        return [stmt.body, stmt.orelse]
    if isinstance(stmt, ast.Try):
        return [stmt.body] + [h.body for h in stmt.handlers] + [stmt.orelse, stmt.finalbody]
    return [stmt.body]  # type: ignore[attr-defined]


def _non_dict_kind(node: ast.AST) -> str | None:
    """A description of a returned expression that is certainly not a dict."""
    if isinstance(node, (ast.List, ast.ListComp)):
        return "a list"
    if isinstance(node, ast.Tuple):
        return "a tuple"
    if isinstance(node, (ast.Set, ast.SetComp)):
        return "a set"
    if isinstance(node, ast.Constant):
        return f"a {type(node.value).__name__}"
    if isinstance(node, ast.JoinedStr):
        return "a str"
    return None
