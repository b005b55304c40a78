"""The module pass: imports, aliases, classes and the calls worth a look, turned into `ModuleFacts`.

It walks the module's statements once, fills the `ModuleScope` the other extractors resolve names
with, then hands each class to `ClassExtractor` and each interesting call to `LambdaSiteFinder`.
"""

from __future__ import annotations

import ast
from bisect import bisect_left

from cfglint.extract._syntax import AST, Positions, always_exits, child_fields, fast_path, use_fast_path, walk
from cfglint.extract.classes import ClassExtractor, called_from_builders, registration_name
from cfglint.extract.imports import conditional_imports, keras_flavour
from cfglint.extract.lambdas import LambdaSiteFinder
from cfglint.extract.scope import ModuleScope
from cfglint.facts import KerasImport, ModuleFacts
from cfglint.keras_names import is_spelled_from_keras_root
from cfglint.keras_target import legacy_setting

STATEMENT_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")  # where statements nest


class ModuleExtractor:
    """Builds `ModuleFacts` from a parsed module."""

    def __init__(self, tree: ast.Module, source: str, path: str, module: str) -> None:
        self.tree = tree
        self.source = source
        self.facts = ModuleFacts(path=path, module=module)
        self.fast = fast_path()
        use_fast_path(self.fast)
        self.scope = ModuleScope(self.facts, Positions(source, self.fast))
        self.package = module.rpartition(".")[0] if not path.endswith("__init__.py") else module
        self.conditional_imports: set[int] = set()  # ids of imports in one branch of a keras switch
        self.keras_imports: list[KerasImport] = []

    # ----------------------------------------------------------------- module
    def run(self) -> ModuleFacts:
        self.conditional_imports = conditional_imports(self.tree.body)
        classes, calls = self._scan()
        self.facts.keras_imports = tuple(sorted(self.keras_imports, key=lambda i: i.line))
        if "TF_USE_LEGACY_KERAS" in self.source:
            found = legacy_setting(self.source.encode("utf-8", "surrogateescape"), self.facts.path)
            self.facts.legacy_keras_line = found.line if found is not None else 0
        self.scope.local_classes = {c.name for c in classes}
        self._collect_aliases()
        for name, dotted in self.scope.aliases.items():
            self.facts.imports.setdefault(name, dotted)
        registered_by_call = {
            arg.id: call.func for call, _, _ in calls if isinstance(call.func, ast.Call)
            and self.scope.resolve(call.func.func).endswith("register_keras_serializable")
            for arg in call.args if isinstance(arg, ast.Name)
        }
        for node in classes:
            facts = ClassExtractor(self.scope, node, self.fast).run()
            if node.name in registered_by_call:
                facts.registered = True
                facts.registered_as = registration_name(registered_by_call[node.name], node.name)
            self.facts.classes.append(facts)
        finder = LambdaSiteFinder(self.scope)
        for call, cls, method in calls:
            finder.call(call, cls, method)
        self.facts.lambda_sites = finder.sites
        self._builder_helpers(classes)
        return self.facts

    def _builder_helpers(self, classes: list[ast.ClassDef]) -> None:
        """For classes with a lambda site outside `__init__`/`build`: the helper methods those two call."""
        wanted = {site.enclosing_class for site in self.facts.lambda_sites
                  if site.enclosing_method not in (None, "__init__", "build")}
        if not wanted:
            return
        for node, facts in zip(classes, self.facts.classes, strict=True):
            if facts.qualname in wanted:
                facts.builder_helpers = called_from_builders(node)

    def _scan(self) -> tuple[list[ast.ClassDef], list[tuple[ast.Call, str | None, str | None]]]:
        """One walk over the module's statements: imports, classes, and, inside the statements on lines
        that mention a keyword lambda, `Lambda(` or `register_keras_serializable`, the calls rules look
        at (with their class and method). Expressions elsewhere are never visited: most of a tree."""
        classes: list[ast.ClassDef] = []
        calls: list[tuple[ast.Call, str | None, str | None]] = []
        lines = sorted(_word_lines(self.source, CALL_WORDS))
        # the fast path enters a function only if its lines hold an import, a class or such a call
        # (lines are counted at "\n": a file with a lone "\r" break, which `ast` counts too, is walked whole)
        lone_cr = "\r" in self.source and self.source.count("\r") != self.source.count("\r\n")
        wanted = sorted(set(lines) | _word_lines(self.source, ("import", "class"))) \
            if self.fast and not lone_cr else None
        stack: list[tuple[ast.AST, str | None, str | None]] = [(self.tree, None, None)]
        pop, push = stack.pop, stack.append
        module = self.facts.module
        while stack:
            node, cls, method = pop()
            kind = node.__class__
            if kind is ast.ClassDef:
                classes.append(node)  # type: ignore[arg-type]
                cls, method = f"{module}.{node.name}", None  # type: ignore[attr-defined]
            elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                method = node.name if method is None else method  # type: ignore[attr-defined]
                if wanted is not None and not _spans_any(node, wanted):  # type: ignore[arg-type]
                    continue  # nothing in it is read: most of a module's statements
            elif kind is ast.Import or kind is ast.ImportFrom:
                self._import(node)  # type: ignore[arg-type]
                continue
            fields = _BLOCK_FIELDS.get(kind)
            for name in fields if fields is not None else _block_fields(kind):
                value = getattr(node, name, None)
                if value.__class__ is list:
                    for item in value:
                        if isinstance(item, AST):
                            push((item, cls, method))
            if lines and isinstance(node, ast.stmt) and _spans_any(node, lines):
                for name in child_fields(kind):
                    if name in STATEMENT_FIELDS:
                        continue
                    value = getattr(node, name, None)
                    for child in (value if value.__class__ is list else [value]):
                        if isinstance(child, AST):
                            calls.extend((n, cls, method) for n in walk(child)
                                         if n.__class__ is ast.Call and _interesting_call(n))
        return classes, calls

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        imports = self.facts.imports
        conditional = id(node) in self.conditional_imports
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    imports[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    imports.setdefault(top, top)
                self._note_keras(node, alias.name, alias.asname or alias.name.split(".")[0],
                                 alias.name if alias.asname else alias.name.split(".")[0], conditional)
            return
        base = self._absolute_module(node)
        for alias in node.names:
            if alias.name == "*":
                self.facts.star_imports.append(base)
                self._note_keras(node, base if node.level == 0 else "", "*", base, conditional)
                continue
            full = f"{base}.{alias.name}" if base else alias.name
            imports[alias.asname or alias.name] = full
            self._note_keras(node, full if node.level == 0 else "", alias.asname or alias.name, full, conditional)

    def _note_keras(self, node: ast.stmt, imported: str, name: str, dotted: str, conditional: bool) -> None:
        """Remember an import of Keras: the evidence `--target auto` weighs (an unconditional
        `tf_keras` import makes the module tf-keras, as it always did)."""
        flavour = keras_flavour(imported)
        if flavour is None:
            return
        if flavour == "tf_keras" and not conditional:
            self.facts.imports_tf_keras = True
        self.keras_imports.append(KerasImport(flavour, node.lineno, name, dotted, conditional))

    def _absolute_module(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        package = self.package.split(".") if self.package else []
        if node.level > 1:
            package = package[: max(0, len(package) - (node.level - 1))]
        parts = package + ([node.module] if node.module else [])
        return ".".join(p for p in parts if p)

    def _collect_aliases(self) -> None:
        """Module-level `layers = tf.keras.layers` / `Layer = keras.layers.Layer` aliases, and
        `keras = _get_keras()` where that function of this module always returns a Keras module (or
        `keras = tf.keras if ... else tf_keras`, both sides Keras modules)."""
        functions = {s.name: s for s in self.tree.body if isinstance(s, ast.FunctionDef)}
        for stmt in self.tree.body:
            if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                    and isinstance(stmt.targets[0], ast.Name)):
                continue
            value, dotted = stmt.value, ""
            if isinstance(value, (ast.Attribute, ast.Name)):
                dotted = self.scope.resolve(value)
            elif isinstance(value, ast.Call) and not value.args and not value.keywords \
                    and isinstance(value.func, ast.Name) and value.func.id in functions:
                dotted = self._returned_keras_module(functions[value.func.id])
            elif isinstance(value, ast.IfExp):  # `keras = tf.keras if legacy() else keras3`
                either = [self.scope.resolve(v) if isinstance(v, (ast.Attribute, ast.Name)) else ""
                          for v in (value.body, value.orelse)]
                dotted = either[0] if all(_is_keras_module_name(d) for d in either) else ""
            if dotted and dotted != stmt.targets[0].id:
                self.scope.aliases[stmt.targets[0].id] = dotted

    def _returned_keras_module(self, fn: ast.FunctionDef) -> str:
        """The Keras module a function returns (`return tf.keras`, or a local bound only by
        `import tf_keras as k` / `k = tf.keras`), or "" unless every way out of it returns one: the
        first such module in the source when branches differ (they are all Keras; which one a file
        is checked against is decided per file)."""
        nodes = list(walk(fn))[1:]  # nested scopes too: a binding or return there makes it unknown
        returns = [n for n in nodes if isinstance(n, ast.Return)]
        if not returns or not always_exits(fn.body) or any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in nodes):
            return ""
        found: list[tuple[int, str]] = []
        for ret in returns:
            candidates = self._local_values(ret.value, fn, nodes)
            if not candidates or not all(_is_keras_module_name(dotted) for _, dotted in candidates):
                return ""
            found.extend(candidates)
        return min(found)[1]

    def _local_values(self, node: ast.AST | None, fn: ast.FunctionDef, nodes: list[ast.AST]) -> list[tuple[int, str]]:
        """The dotted names a returned `name` or `name.attr` may be (with their lines), [] if unknown."""
        attrs: list[str] = []
        while isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return []
        suffix = "".join(f".{a}" for a in reversed(attrs))
        name = node.id
        if name in {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs,
                                    fn.args.vararg, fn.args.kwarg) if a is not None}:
            return []
        bound = self._local_bindings(name, nodes)
        if bound is None:
            return []
        if not bound:
            dotted = self.scope.resolve_name(name)
            return [(node.lineno, dotted + suffix)] if dotted != name or name in self.facts.imports else []
        return [(line, dotted + suffix) for line, dotted in bound]

    def _local_bindings(self, name: str, nodes: list[ast.AST]) -> list[tuple[int, str]] | None:
        """Every binding of `name` inside a function as (line, dotted name): imports and plain
        `name = dotted.path` assignments. None when anything else binds it (a call, a loop, a `def`)."""
        bound: list[tuple[int, str]] = []
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if (alias.asname or alias.name.split(".")[0]) == name:
                        bound.append((node.lineno, alias.name if alias.asname else name))
            elif isinstance(node, ast.ImportFrom):
                base = self._absolute_module(node)
                for alias in node.names:
                    if (alias.asname or alias.name) == name:
                        bound.append((node.lineno, f"{base}.{alias.name}" if base else alias.name))
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                if len(node.targets) != 1 or not isinstance(node.value, (ast.Name, ast.Attribute)):
                    return None
                head: ast.expr = node.value
                while isinstance(head, ast.Attribute):
                    head = head.value
                if isinstance(head, ast.Name) and self._binds_locally(head.id, nodes):
                    return None  # `k = other_local.keras`: one level only
                bound.append((node.lineno, self.scope.resolve(node.value)))
            elif isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load):
                if not any(node is t for n in nodes if isinstance(n, ast.Assign) for t in n.targets):
                    return None
            elif (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name) \
                    or (isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names) \
                    or (isinstance(node, ast.ExceptHandler) and node.name == name):
                return None
        return bound

    @staticmethod
    def _binds_locally(name: str, nodes: list[ast.AST]) -> bool:
        return any(isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load) for n in nodes) \
            or any(isinstance(n, (ast.Import, ast.ImportFrom))
                   and any((a.asname or a.name.split(".")[0]) == name for a in n.names) for n in nodes)


CALL_WORDS = ("lambda", "Lambda", "register_keras_serializable")  # what `_interesting_call` looks for


def _word_lines(source: str, words: tuple[str, ...]) -> set[int]:
    """Lines holding one of the words (anywhere, in strings and comments too: a superset is safe)."""
    positions: list[int] = []
    for word in words:
        index = source.find(word)
        while index != -1:
            positions.append(index)
            index = source.find(word, index + len(word))
    lines, line, previous = set(), 1, 0
    for position in sorted(positions):
        line += source.count("\n", previous, position)
        previous = position
        lines.add(line)
    return lines


def _spans_any(node: ast.stmt, lines: list[int]) -> bool:
    """Whether a statement's lines hold one of these (sorted) lines."""
    end = getattr(node, "end_lineno", None) or node.lineno
    index = bisect_left(lines, node.lineno)
    return index < len(lines) and lines[index] <= end


_BLOCK_FIELDS: dict[type, tuple[str, ...]] = {}


def _block_fields(kind: type) -> tuple[str, ...]:
    """The STATEMENT_FIELDS a node class has (none for most statements): cached in _BLOCK_FIELDS."""
    fields = _BLOCK_FIELDS[kind] = tuple(f for f in STATEMENT_FIELDS if f in kind._fields)  # type: ignore[attr-defined]
    return fields


def _interesting_call(call: ast.Call) -> bool:
    """Calls that may register a class or pass a lambda where Keras serializes it."""
    if isinstance(call.func, ast.Call):
        return True
    if any(isinstance(k.value, ast.Lambda) for k in call.keywords):
        return True
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name == "Lambda"


def _is_keras_module_name(dotted: str) -> bool:
    """A Keras module spelled from a Keras root (`tf_keras`, `tensorflow.keras.layers`), not a class in it."""
    return is_spelled_from_keras_root(dotted) and all(part[:1].islower() or part[:1] == "_"
                                                      for part in dotted.split("."))
