"""One pass over a module's syntax tree (stdlib `ast`) that turns it into `ModuleFacts`.

stdlib `ast` is used for analysis because it parses about ten times faster than libcst and is
already imported by Python itself; libcst is kept for rewriting source (fixes), where formatting must
survive. Every position handed out is 1-based, with columns counted in characters.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator

from cfglint.facts import (
    BuildFacts,
    ClassFacts,
    ConfigKey,
    FromConfigFacts,
    GetConfigFacts,
    InitFacts,
    KerasImport,
    LambdaSite,
    ModuleFacts,
    Param,
    SuperInitCall,
    Value,
)
from cfglint.finding import Span
from cfglint.keras_names import classify_base, is_spelled_from_keras_root, keras_path

MAX_VALUE_DEPTH = 6
USES_METHODS = frozenset({"__init__", "build", "call", "__call__", "compute_output_shape", "compute_output_spec",
                          "compute_mask", "get_config", "build_from_config"})
STATEMENT_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")  # where statements nest
NON_KERAS_ROOTS = frozenset({"numpy", "torch", "jax", "flax", "absl", "pytest", "parameterized", "pydantic",
                             "attr", "attrs", "enum", "typing_extensions", "builtins"})
SERIALIZED_SLOT_SUFFIXES = ("_initializer", "_regularizer", "_constraint", "_activation")
SERIALIZED_SLOTS = frozenset({"activation", "initializer", "regularizer", "constraint"})


def is_serialized_slot(keyword: str) -> bool:
    """Keyword arguments whose value Keras writes into a config (and so must not be a lambda)."""
    return keyword in SERIALIZED_SLOTS or keyword.endswith(SERIALIZED_SLOT_SUFFIXES)


class Positions:
    """Converts `ast` offsets (UTF-8 bytes) to 1-based character columns."""

    def __init__(self, source: str) -> None:
        self.lines = source.splitlines()

    def column(self, line: int, byte_offset: int) -> int:
        if 1 <= line <= len(self.lines):
            text = self.lines[line - 1]
            if not text.isascii():
                return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "ignore")) + 1
        return byte_offset + 1

    def span(self, node: ast.AST) -> Span:
        line = node.lineno  # type: ignore[attr-defined]
        end_line = getattr(node, "end_lineno", None) or line
        end_col = getattr(node, "end_col_offset", None)
        start = self.column(line, node.col_offset)  # type: ignore[attr-defined]
        end = self.column(end_line, end_col) if end_col is not None else start + 1
        return Span(line, start, end_line, end)

    def name_span(self, node: ast.AST, name: str) -> Span:
        """The span of a `def`/`class` name, which `ast` does not record."""
        line = node.lineno  # type: ignore[attr-defined]
        col = node.col_offset  # type: ignore[attr-defined]
        if 1 <= line <= len(self.lines):
            text = self.lines[line - 1]
            start = self.column(line, col) - 1
            found = _find_word(text, name, start)
            if found >= 0:
                return Span(line, found + 1, line, found + 1 + len(name))
        return self.span(node)


def _find_word(text: str, word: str, start: int) -> int:
    index = text.find(word, start)
    while index >= 0:
        before = text[index - 1] if index > 0 else " "
        after = text[index + len(word)] if index + len(word) < len(text) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return index
        index = text.find(word, index + 1)
    return -1


def _is_super_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"


def _method_call(node: ast.AST, method: str) -> ast.Call | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method:
        return node
    return None


def _names_in(node: ast.AST | None) -> frozenset[str]:
    if node is None:
        return frozenset()
    return frozenset(n.id for n in walk(node) if isinstance(n, ast.Name))


def _self_attr(node: ast.AST, self_name: str) -> str | None:
    if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == self_name):
        return node.attr
    return None


def _const_str(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _always_exits(body: list[ast.stmt]) -> bool:
    """Whether control can never fall off the end of these statements."""
    for stmt in body:
        if isinstance(stmt, (ast.Return, ast.Raise)):
            return True
        if isinstance(stmt, ast.If) and stmt.orelse and _always_exits(stmt.body) and _always_exits(stmt.orelse):
            return True
        if isinstance(stmt, ast.Try):
            handlers_exit = all(_always_exits(h.body) for h in stmt.handlers)
            if stmt.finalbody and _always_exits(stmt.finalbody):
                return True
            if (_always_exits(stmt.body) or (stmt.orelse and _always_exits(stmt.orelse))) and handlers_exit:
                return True
        if isinstance(stmt, ast.With) and _always_exits(stmt.body):
            return True
        if isinstance(stmt, ast.Match) and any(
            isinstance(c.pattern, ast.MatchAs) and c.pattern.pattern is None for c in stmt.cases
        ) and all(_always_exits(c.body) for c in stmt.cases):
            return True
        if isinstance(stmt, ast.While) and isinstance(stmt.test, ast.Constant) and stmt.test.value is True:
            if not any(isinstance(n, ast.Break) for n in walk(stmt)):
                return True
    return False


AST = ast.AST
NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """`ast.walk`, about three times faster: reads `_fields` directly (order does not matter here)."""
    stack = [node]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        yield node
        for name in node._fields:
            value = getattr(node, name, None)
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, AST):
                        push(item)
            elif isinstance(value, AST):
                push(value)


def _walk_no_nested(body: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Walk statements in source order without entering nested functions, lambdas or classes."""
    stack = list(body)[::-1]
    pop = stack.pop
    while stack:
        node = pop()
        yield node
        children: list[ast.AST] = []
        for name in node._fields:
            value = getattr(node, name, None)
            if value.__class__ is list:
                children.extend(i for i in value if isinstance(i, AST) and not isinstance(i, NESTED_SCOPES))
            elif isinstance(value, AST) and not isinstance(value, NESTED_SCOPES):
                children.append(value)
        stack.extend(reversed(children))


class ModuleExtractor:
    """Builds `ModuleFacts` from a parsed module."""

    def __init__(self, tree: ast.Module, source: str, path: str, module: str) -> None:
        self.tree = tree
        self.source = source
        self.pos = Positions(source)
        self.facts = ModuleFacts(path=path, module=module)
        self.package = module.rpartition(".")[0] if not path.endswith("__init__.py") else module
        self.local_classes: set[str] = set()
        self.aliases: dict[str, str] = {}
        self.conditional_imports: set[int] = set()  # ids of imports in one branch of a keras switch
        self.keras_imports: list[KerasImport] = []

    # ----------------------------------------------------------------- names
    def resolve(self, node: ast.AST | None) -> str:
        """The dotted, import-resolved name of a Name/Attribute chain, or "" if it is not one."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return ""
        parts.append(self.resolve_name(node.id))
        return ".".join(reversed(parts))

    def resolve_name(self, name: str) -> str:
        if name in self.facts.imports:
            return self.facts.imports[name]
        if name in self.aliases:
            return self.aliases[name]
        if name in self.local_classes:
            return f"{self.facts.module}.{name}"
        for star in self.facts.star_imports:
            if _is_keras_module(star):
                return f"{star}.{name}"
        return name

    # ----------------------------------------------------------------- values
    def value(self, node: ast.AST, depth: int = 0) -> Value:
        """Summarise an expression. Below MAX_VALUE_DEPTH levels it is `other` (with its names): rules
        only look a few levels deep, and this keeps time linear and recursion bounded on huge
        expressions (`units + units + ...` a thousand times)."""
        span = self.pos.span(node)
        names = _names_in(node)
        if depth > MAX_VALUE_DEPTH:
            return Value("other", span, type(node).__name__, names=names)
        sub = depth + 1
        if isinstance(node, ast.Constant):
            return Value("const", span, repr(node.value), type(node.value).__name__, names=names)
        if isinstance(node, ast.Name):
            return Value("name", span, node.id, names=names)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "self":
                return Value("self_attr", span, node.attr, names=names)
            dotted = self.resolve(node)
            if dotted:
                return Value("dotted", span, dotted, names=names)
            return Value("attr", span, node.attr, receiver=self.value(node.value, sub), names=names)
        if isinstance(node, ast.Call):
            args = tuple(self.value(a, sub) for a in node.args)
            kws = tuple((k.arg, self.value(k.value, sub)) for k in node.keywords)
            if isinstance(node.func, ast.Attribute):
                dotted = self.resolve(node.func)
                if dotted and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "self"):
                    return Value("call", span, dotted, items=args, keywords=kws, names=names)
                return Value("call", span, node.func.attr, items=args, keywords=kws,
                             receiver=self.value(node.func.value, sub), names=names)
            return Value("call", span, self.resolve(node.func), items=args, keywords=kws, names=names)
        if isinstance(node, ast.Lambda):
            return Value("lambda", span, names=names)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            kind = {ast.Tuple: "tuple", ast.List: "list", ast.Set: "set"}[type(node)]
            return Value(kind, span, items=tuple(self.value(e, sub) for e in node.elts), names=names)
        if isinstance(node, ast.Dict):
            return Value("dict", span, names=names)
        if isinstance(node, ast.BinOp):
            return Value("binop", span, type(node.op).__name__,
                         items=(self.value(node.left, sub), self.value(node.right, sub)), names=names)
        if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
            return Value("const", span, ast.unparse(node), type(node.operand.value).__name__, names=names)
        if isinstance(node, ast.IfExp):
            return Value("ifexp", span, items=(self.value(node.body, sub), self.value(node.orelse, sub)), names=names)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return Value("comp", span, names=names)
        if isinstance(node, ast.Starred):
            return Value("starred", span, items=(self.value(node.value, sub),), names=names)
        if isinstance(node, ast.JoinedStr):
            return Value("fstring", span, names=names)
        if isinstance(node, ast.Subscript):
            return Value("subscript", span, receiver=self.value(node.value, sub), names=names)
        return Value("other", span, type(node).__name__, names=names)

    # ----------------------------------------------------------------- module
    def run(self) -> ModuleFacts:
        self.conditional_imports = conditional_imports(self.tree.body)
        classes, calls = self._scan()
        self.facts.keras_imports = tuple(sorted(self.keras_imports, key=lambda i: i.line))
        if "TF_USE_LEGACY_KERAS" in self.source:
            from cfglint.keras_target import legacy_setting

            found = legacy_setting(self.source.encode("utf-8", "surrogateescape"), self.facts.path)
            self.facts.legacy_keras_line = found.line if found is not None else 0
        self.local_classes = {c.name for c in classes}
        self._collect_aliases()
        for name, dotted in self.aliases.items():
            self.facts.imports.setdefault(name, dotted)
        registered_by_call = {
            arg.id for call, _, _ in calls if isinstance(call.func, ast.Call)
            and self.resolve(call.func.func).endswith("register_keras_serializable")
            for arg in call.args if isinstance(arg, ast.Name)
        }
        for node in classes:
            facts = ClassExtractor(self, node).run()
            if node.name in registered_by_call:
                facts.registered = True
            self.facts.classes.append(facts)
        finder = LambdaSiteFinder(self)
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
        for node, facts in zip(classes, self.facts.classes):
            if facts.qualname in wanted:
                facts.builder_helpers = _called_from_builders(node)

    def _scan(self) -> tuple[list[ast.ClassDef], list[tuple[ast.Call, str | None, str | None]]]:
        """One walk over the module's statements: imports, classes, and, inside the statements on lines
        that mention a keyword lambda, `Lambda(` or `register_keras_serializable`, the calls rules look
        at (with their class and method). Expressions elsewhere are never visited: most of a tree."""
        classes: list[ast.ClassDef] = []
        calls: list[tuple[ast.Call, str | None, str | None]] = []
        lines = _call_lines(self.source)
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
            elif kind is ast.Import or kind is ast.ImportFrom:
                self._import(node)  # type: ignore[arg-type]
                continue
            for name in STATEMENT_FIELDS:
                value = getattr(node, name, None)
                if value.__class__ is list:
                    for item in value:
                        if isinstance(item, AST):
                            push((item, cls, method))
            if lines and isinstance(node, ast.stmt) and _spans_any(node, lines):
                for name in node._fields:
                    if name in STATEMENT_FIELDS:
                        continue
                    value = getattr(node, name, None)
                    for child in (value if value.__class__ is list else [value]):
                        if isinstance(child, AST):
                            calls.extend((n, cls, method) for n in walk(child)
                                         if n.__class__ is ast.Call and _interesting_call(n))  # type: ignore[arg-type]
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
                dotted = self.resolve(value)
            elif isinstance(value, ast.Call) and not value.args and not value.keywords \
                    and isinstance(value.func, ast.Name) and value.func.id in functions:
                dotted = self._returned_keras_module(functions[value.func.id])
            elif isinstance(value, ast.IfExp):  # `keras = tf.keras if legacy() else keras3`
                either = [self.resolve(v) if isinstance(v, (ast.Attribute, ast.Name)) else ""
                          for v in (value.body, value.orelse)]
                dotted = either[0] if all(_is_keras_module_name(d) for d in either) else ""
            if dotted and dotted != stmt.targets[0].id:
                self.aliases[stmt.targets[0].id] = dotted

    def _returned_keras_module(self, fn: ast.FunctionDef) -> str:
        """The Keras module a function returns (`return tf.keras`, or a local bound only by
        `import tf_keras as k` / `k = tf.keras`), or "" unless every way out of it returns one: the
        first such module in the source when branches differ (they are all Keras; which one a file
        is checked against is decided per file)."""
        nodes = list(walk(fn))[1:]  # nested scopes too: a binding or return there makes it unknown
        returns = [n for n in nodes if isinstance(n, ast.Return)]
        if not returns or not _always_exits(fn.body) or any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in nodes):
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
            dotted = self.resolve_name(name)
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
                head = node.value
                while isinstance(head, ast.Attribute):
                    head = head.value
                if isinstance(head, ast.Name) and self._binds_locally(head.id, nodes):
                    return None  # `k = other_local.keras`: one level only
                bound.append((node.lineno, self.resolve(node.value)))
            elif isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load):
                if not any(node is t for n in nodes if isinstance(n, ast.Assign) for t in n.targets):
                    return None
            elif (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name) or (isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names) or (isinstance(node, ast.ExceptHandler) and node.name == name):
                return None
        return bound

    @staticmethod
    def _binds_locally(name: str, nodes: list[ast.AST]) -> bool:
        return any(isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load) for n in nodes) \
            or any(isinstance(n, (ast.Import, ast.ImportFrom))
                   and any((a.asname or a.name.split(".")[0]) == name for a in n.names) for n in nodes)


def keras_flavour(imported: str) -> str | None:
    """Which Keras an imported dotted name belongs to: "tf_keras", "keras" (the standalone package,
    Keras 3 unless the project pins keras 2) or "tf.keras" (TensorFlow's, which the project decides)."""
    root = imported.split(".")[0]
    if root == "tf_keras":
        return "tf_keras"
    if root == "keras":
        return "keras"
    if imported.startswith(("tensorflow.keras", "tensorflow.python.keras", "tensorflow.compat.v2.keras")):
        return "tf.keras"
    return None


def conditional_imports(body: list[ast.stmt]) -> set[int]:
    """The imports in one branch of a module-level `if`/`try` whose name another branch binds too:
    `try: import tf_keras as keras` / `except ImportError: from tensorflow import keras`, or
    `if keras_3(): import keras` / `else: from tensorflow import keras`. Such a module runs under
    either Keras, so these imports are no evidence of which one."""
    found: set[int] = set()
    for stmt in body:
        if not isinstance(stmt, (ast.If, ast.Try)) and stmt.__class__.__name__ != "TryStar":
            continue
        branches = _compound_blocks(stmt)
        bound = [_bound_names(branch) for branch in branches]
        for index, branch in enumerate(branches):
            others = set().union(*(names for other, names in enumerate(bound) if other != index))
            found.update(id(node) for node in _imports_in(branch) if _import_names(node) & others)
        for branch in branches:
            found |= conditional_imports(branch)
    return found


def _compound_blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists nested in an `if`/`try`/`with` (not in definitions)."""
    if isinstance(stmt, ast.If):
        return [stmt.body, stmt.orelse]
    if isinstance(stmt, ast.Try) or stmt.__class__.__name__ == "TryStar":
        return [stmt.body, *(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody]  # type: ignore[attr-defined]
    if isinstance(stmt, ast.With):
        return [stmt.body]
    return []


def _imports_in(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    for stmt in body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            yield stmt
        for block in _compound_blocks(stmt):
            yield from _imports_in(block)


def _import_names(node: ast.Import | ast.ImportFrom) -> set[str]:
    return {alias.asname or alias.name.split(".")[0] for alias in node.names if alias.name != "*"}


def _bound_names(body: list[ast.stmt]) -> set[str]:
    """Names a block binds by import, assignment or definition (nested `if`/`try` included)."""
    names: set[str] = set()
    for stmt in body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names |= _import_names(stmt)
        elif isinstance(stmt, ast.Assign):
            names.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            names.add(stmt.target.id)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        for block in _compound_blocks(stmt):
            names |= _bound_names(block)
    return names


def _called_from_builders(node: ast.ClassDef) -> set[str]:
    """Methods that `__init__` or `build` call as `self.<method>(...)`, directly or through each other."""
    methods = {s.name: s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
    reached: set[str] = set()
    todo = [name for name in ("__init__", "build") if name in methods]
    while todo:
        fn = methods[todo.pop()]
        self_name = _self_name(fn)
        for sub in walk(fn):
            if isinstance(sub, ast.Call):
                name = _self_attr(sub.func, self_name)
                if name in methods and name not in reached and name not in ("__init__", "build"):
                    reached.add(name)
                    todo.append(name)
    return reached


def _asset_restores(methods: dict[str, ast.FunctionDef | ast.AsyncFunctionDef]) -> tuple[set[str], set[str]]:
    """What `load_assets` sets again after a `.keras` load, directly or through the class's own helper
    methods it calls: the `self` attributes it assigns, and its `self.<method>(...)` calls as
    "method:slot" (slot: argument position or keyword), to match the setter `__init__` calls."""
    attrs: set[str] = set()
    calls: set[str] = set()
    todo, seen = ["load_assets"], {"load_assets", "__init__"}
    while todo:
        fn = methods[todo.pop()]
        self_name = _self_name(fn)
        for node in _walk_no_nested(fn.body):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for item in target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]:
                        attr = _self_attr(item, self_name)
                        if attr is not None:
                            attrs.add(attr)
            elif isinstance(node, ast.Call):
                method = _self_attr(node.func, self_name)
                if method is None:
                    continue
                calls.update(_call_slots(method, node))
                if method in methods and method not in seen:
                    seen.add(method)
                    todo.append(method)
    return attrs, calls


def _call_slots(method: str, call: ast.Call) -> Iterator[str]:
    """"method:0", "method:1", "method:vocabulary": the places a call passes arguments in."""
    for index, arg in enumerate(call.args):
        if not isinstance(arg, ast.Starred):
            yield f"{method}:{index}"
    for kw in call.keywords:
        if kw.arg is not None:
            yield f"{method}:{kw.arg}"


def _call_lines(source: str) -> set[int]:
    """Lines holding what `_interesting_call` looks for: keyword lambdas, `Lambda(`, registration."""
    positions: list[int] = []
    for word in ("lambda", "Lambda", "register_keras_serializable"):
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


def _spans_any(node: ast.stmt, lines: set[int]) -> bool:
    end = getattr(node, "end_lineno", None) or node.lineno
    return any(node.lineno <= line <= end for line in lines) if end - node.lineno < len(lines) else \
        any(line in lines for line in range(node.lineno, end + 1))


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


def _generic_origin(base: ast.expr) -> ast.expr:
    """The class a subscripted base derives from: `Corruptor[float]` is `Corruptor` at run time
    (`Generic[T]`, `Base[int, str]` alike), so its Keras ancestry is `Corruptor`'s."""
    while isinstance(base, ast.Subscript):
        base = base.value
    return base


def _is_keras_module(dotted: str) -> bool:
    root = dotted.split(".")[0]
    return root in ("keras", "tf_keras") or dotted.startswith(("tensorflow.keras", "tensorflow.python.keras"))


class ClassExtractor:
    """Facts of one class: its bases, and what `__init__`, `get_config`, `from_config`, `build` do."""

    def __init__(self, module: ModuleExtractor, node: ast.ClassDef) -> None:
        self.m = module
        self.node = node
        self.pos = module.pos

    def run(self) -> ClassFacts:
        node, m = self.node, self.m
        decorators = [m.resolve(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list]
        facts = ClassFacts(
            name=node.name,
            qualname=f"{m.facts.module}.{node.name}",
            span=self.pos.name_span(node, node.name),
            bases=[m.resolve(_generic_origin(b)) for b in node.bases],
            decorators=decorators,
            is_dataclass=any(d.split(".")[-1] == "dataclass" for d in decorators),
            registered=any(d.endswith("register_keras_serializable") for d in decorators),
        )
        methods = {s.name: s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
        facts.methods = set(methods)
        if facts.is_dataclass:
            facts.dataclass_fields = self._dataclass_fields()
        if "__init__" in methods:
            facts.init = InitExtractor(self, methods["__init__"]).run()
        if "get_config" in methods:
            facts.get_config = GetConfigExtractor(self, methods["get_config"], facts.init).run()
        elif any(isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "get_config"
                                                    for t in s.targets) for s in node.body):
            facts.get_config = GetConfigFacts(span=facts.span, complete=False, merges_super=True)
        if "from_config" in methods:
            facts.from_config = FromConfigExtractor(self, methods["from_config"]).run()
        if "build" in methods:
            facts.build = self._build(methods["build"])
        if "load_assets" in methods:
            facts.asset_attrs, facts.asset_calls = _asset_restores(methods)
        if any(self._may_be_keras(base) for base in node.bases):
            # only a class that is itself checked needs this walk; mixins and `class E(Exception)`
            # still contribute their `__init__`/`get_config` facts above. The methods that use a
            # layer's arguments are the ones Keras calls; helpers and tests are not walked.
            used = {name: fn for name, fn in methods.items() if name in USES_METHODS or name.startswith("_call")}
            self._attribute_uses(facts, used)
        return facts

    def _may_be_keras(self, base: ast.expr) -> bool:
        """False only for bases that certainly are not Keras classes: builtins and the stdlib."""
        dotted = self.m.resolve(_generic_origin(base))
        if not dotted:
            return not isinstance(base, ast.Call)  # `Base[T]` or other expressions: keep looking
        root = dotted.split(".")[0]
        if "." not in dotted and dotted not in self.m.facts.imports and dotted not in self.m.local_classes \
                and not self.m.facts.star_imports:
            return False  # an unresolvable bare name: a builtin (`object`, `Exception`) or undefined
        if root in NON_KERAS_ROOTS or root in sys.stdlib_module_names:
            return False
        if keras_path(dotted) is not None or root in ("tensorflow", "tf_keras", "keras"):
            return classify_base(dotted) is not None  # Keras's own non-layer classes (Callback...)
        return True

    def _dataclass_fields(self) -> list[Param]:
        fields: list[Param] = []
        for stmt in self.node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                annotation = ast.unparse(stmt.annotation)
                if annotation.startswith(("ClassVar", "typing.ClassVar")):
                    continue
                default = self.m.value(stmt.value) if stmt.value is not None else None
                fields.append(Param(stmt.target.id, "normal", self.pos.span(stmt.target), default, annotation))
        return fields

    def _build(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> BuildFacts:
        facts = BuildFacts(span=self.pos.name_span(fn, fn.name))
        self_name = _self_name(fn)
        guarded: set[int] = set()
        for node in _walk_no_nested(fn.body):
            if isinstance(node, ast.If) and _mentions_built(node.test):
                guarded.update(id(n) for stmt in node.body for n in walk(stmt))
            call = _method_call(node, "build")
            if call is not None:
                receiver = call.func.value  # type: ignore[union-attr]
                if _is_super_call(receiver):
                    facts.calls_super_build = True
                    continue
                attr = _self_attr(receiver, self_name)
                if attr:
                    facts.sublayer_builds.append((attr, self.pos.span(call), id(call) in guarded))
                elif isinstance(receiver, ast.Name) and receiver.id not in (self_name,):
                    # `Layer.build(self, shape)` style parent call
                    if call.args and isinstance(call.args[0], ast.Name) and call.args[0].id == self_name:
                        facts.calls_super_build = True
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if _self_attr(target, self_name) in ("built", "_built"):
                        facts.sets_built = True
            weight = _method_call(node, "add_weight") or _method_call(node, "add_variable")
            if weight is not None and _self_attr(weight.func, self_name) and _regularized(weight):
                facts.regularized_weights.append(self.pos.span(weight))
        return facts

    def _attribute_uses(self, facts: ClassFacts, methods: dict[str, ast.AST]) -> None:
        """How each `self.attr` is used anywhere in the class (called, built, used as a tuple), in one
        walk per method; a tuple use is reported on the statement that holds it."""
        uses = facts.attr_uses
        seen_tuple_uses: set[tuple[int, str]] = set()
        for fn in methods.values():
            self_name = _self_name(fn)  # type: ignore[arg-type]
            stack: list[tuple[ast.AST, ast.AST | None]] = [(fn, None)]
            while stack:
                node, statement = stack.pop()
                kind = node.__class__
                if isinstance(node, ast.stmt):
                    statement = node
                if kind is ast.Call:
                    func = node.func  # type: ignore[attr-defined]
                    attr = _self_attr(func, self_name)
                    if attr:
                        uses.setdefault(attr, set()).add("called")
                    if func.__class__ is ast.Attribute:
                        inner = _self_attr(func.value, self_name)
                        if inner:
                            uses.setdefault(inner, set()).add(f".{func.attr}()")
                elif kind is ast.Attribute:
                    inner = _self_attr(node.value, self_name)  # type: ignore[attr-defined]
                    if inner:
                        uses.setdefault(inner, set()).add(f".{node.attr}")  # type: ignore[attr-defined]
                elif kind is ast.keyword and node.arg is None:  # type: ignore[attr-defined]
                    inner = _self_attr(node.value, self_name)  # type: ignore[attr-defined]
                    if inner:
                        uses.setdefault(inner, set()).add("**")  # spread into a call: `Conv(**self.opts)`
                elif kind is ast.BinOp and node.op.__class__ is ast.Add and statement is not None:  # type: ignore[attr-defined]
                    for attr in _tuple_concatenated(node, self_name):  # type: ignore[arg-type]
                        if (id(statement), attr) not in seen_tuple_uses:
                            seen_tuple_uses.add((id(statement), attr))
                            facts.tuple_uses.append((attr, self.pos.span(statement)))
                for name in node._fields:
                    value = getattr(node, name, None)
                    if value.__class__ is list:
                        stack.extend((item, statement) for item in value if isinstance(item, AST))
                    elif isinstance(value, AST):
                        stack.append((value, statement))


def _tuple_concatenated(node: ast.BinOp, self_name: str) -> Iterator[str]:
    """`self.x` concatenated with a tuple literal (`(-1,) + self.shape`): a list would fail there."""
    for side, other in ((node.left, node.right), (node.right, node.left)):
        attr = _self_attr(side, self_name)
        if attr and isinstance(other, ast.Tuple):
            yield attr


def _self_name(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    args = fn.args.posonlyargs + fn.args.args
    return args[0].arg if args else "self"


def _mentions_built(test: ast.AST) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "built" for n in walk(test))


def _regularized(call: ast.Call) -> bool:
    """`add_weight(..., regularizer=r)` with `r` not the constant None (a weight that adds a loss)."""
    return any(kw.arg == "regularizer" and not (isinstance(kw.value, ast.Constant) and kw.value.value is None)
               for kw in call.keywords)


ACTIVATION_LIKE_GETTERS = ("activations.get", "initializers.get", "regularizers.get", "constraints.get")


class InitExtractor:
    """What `__init__` takes, stores on `self`, and hands to `super().__init__`."""

    def __init__(self, cls: ClassExtractor, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.cls = cls
        self.m = cls.m
        self.fn = fn
        self.self_name = _self_name(fn)

    def run(self) -> InitFacts:
        fn, pos = self.fn, self.cls.pos
        params = self._params()
        facts = InitFacts(span=pos.name_span(fn, fn.name), params=params)
        param_names = {p.name for p in params}
        varkw = facts.varkw.name if facts.varkw else None
        locals_: dict[str, Value] = {}
        aliases = {varkw} if varkw else set()
        for node in _walk_no_nested(fn.body):
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                self._assignment(node, facts, locals_, param_names, aliases)
                self._extra_assignment(node, facts, param_names, aliases)
            elif isinstance(node, ast.Call):
                self._call(node, facts, param_names, aliases)
                self._kwargs_call(node, facts, aliases)
                self._self_call(node, facts, param_names, locals_)
            elif isinstance(node, ast.If):
                self._default_only(node, facts, params)
            elif isinstance(node, ast.Delete) and varkw:
                for target in node.targets:
                    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                            and target.value.id == varkw:
                        key = _const_str(target.slice)
                        if key:
                            facts.kwargs_popped.add(key)
        facts.kwargs_aliases = aliases - {varkw} if varkw else set()
        if facts.vararg is not None:
            facts.vararg_reads = self._reads_outside_parent_init(facts.vararg.name)
        return facts

    def _extra_assignment(self, node: ast.Assign | ast.AnnAssign, facts: InitFacts, param_names: set[str],
                          aliases: set[str]) -> None:
        """Keys put into the var-keyword dict, parameters folded into others, dicts kept on `self`."""
        if node.value is None:
            return
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                    and target.value.id in aliases and _const_str(target.slice):
                key = _const_str(target.slice)
                facts.kwargs_set.add(key)  # type: ignore[arg-type]
                for name in _names_in(node.value) & param_names:  # `kwargs["name"] = prefix + ...`
                    facts.param_folds.setdefault(name, set()).add(key)  # type: ignore[arg-type]
            elif isinstance(target, ast.Name) and target.id in aliases:
                facts.kwargs_set.update(_dict_literal_keys(node.value))
            if isinstance(target, ast.Attribute) and target.attr == "initial_weights":
                facts.weight_values |= _names_in(node.value) & param_names
            if isinstance(target, ast.Name) and target.id in param_names:
                for name in _names_in(node.value) & param_names - {target.id}:
                    facts.param_folds.setdefault(name, set()).add(target.id)
            attr = _self_attr(target, self.self_name)
            if attr is not None:
                if isinstance(node.value, ast.Dict) and len(facts.self_attrs.get(attr, ())) == 1:
                    facts.self_dicts[attr] = self._dict_keys(node.value)
                elif attr in facts.self_dicts:
                    facts.self_dicts[attr] = None
            elif isinstance(target, ast.Subscript):
                attr = _self_attr(target.value, self.self_name)
                if attr is not None and facts.self_dicts.get(attr) is not None:
                    key = _const_str(target.slice)
                    facts.self_dicts[attr] = None if key is None else (
                        *facts.self_dicts[attr], ConfigKey(key, self.m.value(node.value),  # type: ignore[misc]
                                                           self.cls.pos.span(target.slice)))

    def _dict_keys(self, node: ast.Dict) -> tuple[ConfigKey, ...] | None:
        """The keys of a dict literal with constant string keys only (None otherwise)."""
        keys = []
        for key, value in zip(node.keys, node.values):
            name = _const_str(key)
            if name is None:
                return None
            keys.append(ConfigKey(name, self.m.value(value), self.cls.pos.span(key)))  # type: ignore[arg-type]
        return tuple(keys)

    def _kwargs_call(self, node: ast.Call, facts: InitFacts, aliases: set[str]) -> None:
        """`kwargs.update(k=v)`, `kwargs.update({"k": v})`, `kwargs.setdefault("k", v)`."""
        func = node.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in aliases):
            return
        if func.attr == "update":
            facts.kwargs_set.update(k.arg for k in node.keywords if k.arg)
            for arg in node.args:
                facts.kwargs_set.update(_dict_literal_keys(arg))
        elif func.attr == "setdefault" and node.args and _const_str(node.args[0]):
            facts.kwargs_set.add(_const_str(node.args[0]))  # type: ignore[arg-type]

    def _self_call(self, node: ast.Call, facts: InitFacts, param_names: set[str], locals_: dict[str, Value]) -> None:
        """Weight values loaded into the layer (`self.set_weights(weights)`, `self.load_weights(path)`
        with `path` built from an argument), and the arguments handed to `self.<method>(...)`."""
        func = node.func
        if not isinstance(func, ast.Attribute):
            return
        if func.attr in WEIGHT_LOADERS:
            first = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg), None)
            if first is not None and not isinstance(first, ast.Starred):
                facts.weight_values |= _params_reached(_names_in(first), locals_, param_names)
        method = _self_attr(func, self.self_name)
        if method is None or method == "__init__":
            return
        for slot, arg in [(str(i), a) for i, a in enumerate(node.args)] + [(k.arg, k.value) for k in node.keywords
                                                                              if k.arg]:
            for param in _params_reached(_names_in(arg), locals_, param_names):
                facts.self_method_args.setdefault(param, set()).add(f"{method}:{slot}")

    def _default_only(self, node: ast.If, facts: InitFacts, params: list[Param]) -> None:
        """`if p != default: raise ...`: the parameter takes no other value, so a config needs no key."""
        if not (node.body and isinstance(node.body[-1], ast.Raise)
                and not any(isinstance(n, ast.Return) for s in node.body for n in walk(s))):
            return
        name = _non_default_test(node.test, {p.name: p for p in params})
        if name is not None:
            facts.default_only.add(name)

    def _reads_outside_parent_init(self, name: str) -> int:
        """How often `__init__` reads a name other than in the parent's `__init__(...)` call."""
        total = inside = 0
        for node in _walk_no_nested(self.fn.body):
            if isinstance(node, ast.Name) and node.id == name:
                total += 1
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "__init__" and self._is_parent_init(node.func.value, node):
                inside += sum(1 for n in walk(node) if isinstance(n, ast.Name) and n.id == name)
        return total - inside

    def _params(self) -> list[Param]:
        args = self.fn.args
        pos = self.cls.pos
        params: list[Param] = []
        positional = args.posonlyargs + args.args
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        for index, (arg, default) in enumerate(zip(positional, defaults)):
            if index == 0:
                continue  # self
            kind = "posonly" if index < len(args.posonlyargs) else "normal"
            params.append(self._param(arg, kind, default))
        if args.vararg:
            params.append(Param(args.vararg.arg, "vararg", pos.span(args.vararg),
                                annotation=_annotation(args.vararg)))
        for arg, default in zip(args.kwonlyargs, args.kw_defaults):
            params.append(self._param(arg, "kwonly", default))
        if args.kwarg:
            params.append(Param(args.kwarg.arg, "varkw", pos.span(args.kwarg),
                                annotation=_annotation(args.kwarg)))
        return params

    def _param(self, arg: ast.arg, kind: str, default: ast.expr | None) -> Param:
        value = self.m.value(default) if default is not None else None
        return Param(arg.arg, kind, self.cls.pos.span(arg), value, _annotation(arg))

    def _assignment(self, node: ast.Assign | ast.AnnAssign, facts: InitFacts, locals_: dict[str, Value],
                    param_names: set[str], aliases: set[str]) -> None:
        if node.value is None:
            return
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        pairs: list[tuple[ast.AST, ast.AST]] = []
        for target in targets:
            if isinstance(target, (ast.Tuple, ast.List)) and isinstance(node.value, (ast.Tuple, ast.List)) \
                    and len(target.elts) == len(node.value.elts):
                pairs.extend(zip(target.elts, node.value.elts))
            else:
                pairs.append((target, node.value))
        for target, value_node in pairs:
            value = self.m.value(value_node)
            if isinstance(value_node, ast.Name) and value_node.id in locals_ \
                    and value_node.id not in param_names:
                value = locals_[value_node.id]
            self._fallback(target, value_node, facts, param_names)
            attr = _self_attr(target, self.self_name)
            if attr is not None:
                facts.self_attrs.setdefault(attr, []).append(value)
                source = _param_passed_through(value_node, param_names)
                if source is not None:
                    facts.attrs_from_param.setdefault(attr, source)
            elif isinstance(target, ast.Name):
                locals_[target.id] = value
                if value.names & aliases:
                    aliases.add(target.id)

    def _fallback(self, target: ast.AST, value: ast.AST, facts: InitFacts, param_names: set[str]) -> None:
        """`self.inner = inner or Dense(3)`, `inner = Dense(3)` (under `if inner is None`): the parameter
        stands for what the fallback call builds, recorded as a `fallback:<callee>` use."""
        if isinstance(target, ast.Name) and target.id in param_names:
            param: str | None = target.id
        elif _self_attr(target, self.self_name) is not None:
            param = _param_passed_through(value, param_names)
        else:
            return
        if param is None:
            return
        if isinstance(value, ast.BoolOp) and isinstance(value.op, ast.Or):
            alternatives = value.values[1:]
        elif isinstance(value, ast.IfExp):
            alternatives = [value.body, value.orelse]
        else:
            alternatives = [value] if isinstance(target, ast.Name) else []
        for alternative in alternatives:
            if isinstance(alternative, ast.Call):
                callee = self.m.resolve(alternative.func)
                if callee:
                    facts.param_uses.setdefault(param, set()).add(f"fallback:{callee}")

    def _call(self, node: ast.Call, facts: InitFacts, param_names: set[str], aliases: set[str]) -> None:
        func = node.func
        varkw = facts.varkw.name if facts.varkw else None
        if isinstance(func, ast.Name) and func.id == "isinstance" and len(node.args) == 2 \
                and isinstance(node.args[0], ast.Name) and node.args[0].id in param_names:
            kinds = node.args[1].elts if isinstance(node.args[1], ast.Tuple) else [node.args[1]]
            classes = [self.m.resolve(kind) for kind in kinds]
            if all(classes):  # `isinstance(inner, keras.layers.Layer)`: recorded as `isinstance:<class>|...`
                facts.param_uses.setdefault(node.args[0].id, set()).add("isinstance:" + "|".join(classes))
        if isinstance(func, ast.Attribute) and func.attr == "__init__" and self._is_parent_init(func.value, node):
            facts.super_calls.append(self._super_call(node))
            return
        for kw in node.keywords:  # `Conv2D(filters, **conv_kwargs)`: the mapping feeds another call
            if kw.arg is None and isinstance(kw.value, ast.Name):
                facts.spread_into_calls.add(kw.value.id)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == varkw \
                and func.attr in ("pop", "popitem") and node.args:
            key = _const_str(node.args[0])
            if key:
                facts.kwargs_popped.add(key)
        # how parameters are used: called, built, handed to activations.get(...)
        if isinstance(func, ast.Name) and func.id in param_names:
            facts.param_uses.setdefault(func.id, set()).add("called")
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in param_names:
            facts.param_uses.setdefault(func.value.id, set()).add(f".{func.attr}()")
        callee = self.m.resolve(func)
        if callee:
            short = ".".join(callee.split(".")[-2:])
            for arg in node.args[:1]:
                if isinstance(arg, ast.Name) and arg.id in param_names:
                    facts.param_uses.setdefault(arg.id, set()).add(short)

    def _is_parent_init(self, receiver: ast.AST, call: ast.Call) -> bool:
        if _is_super_call(receiver):
            return True
        # Parent.__init__(self, ...)
        return bool(call.args) and isinstance(call.args[0], ast.Name) and call.args[0].id == self.self_name \
            and isinstance(receiver, (ast.Name, ast.Attribute))

    def _super_call(self, node: ast.Call) -> SuperInitCall:
        pos = self.cls.pos
        args = list(node.args)
        if not _is_super_call(node.func.value) and args:  # type: ignore[union-attr]
            args = args[1:]  # drop `self` of Parent.__init__(self, ...)
        call = SuperInitCall(span=pos.span(node), names=_names_in(node))
        star: set[str] = set()
        positional: list[Value] = []
        for arg in args:
            if isinstance(arg, ast.Starred):
                star |= _names_in(arg.value)
            else:
                positional.append(self.m.value(arg))
        call.positional = tuple(positional)
        for kw in node.keywords:
            if kw.arg is None:
                star |= _names_in(kw.value)
            else:
                call.keywords[kw.arg] = self.m.value(kw.value)
                call.keyword_spans[kw.arg] = _keyword_span(pos, kw)
        call.star_names = frozenset(star)
        return call


# Methods that load weight values into a layer or model: what they get is saved and restored as weights.
WEIGHT_LOADERS = frozenset({"set_weights", "load_weights"})


def _params_reached(names: frozenset[str], locals_: dict[str, Value], param_names: set[str]) -> set[str]:
    """The parameters an expression reads, directly or through locals built from them (`path =
    get_file(origin=weights)`, then `path`)."""
    found: set[str] = set()
    todo, seen = list(names), set(names)
    while todo:
        name = todo.pop()
        if name in param_names:
            found.add(name)
        elif name in locals_:
            for read in locals_[name].names - seen:
                seen.add(read)
                todo.append(read)
    return found


def _dict_literal_keys(node: ast.AST) -> set[str]:
    """Constant keys of `{**kwargs, "k": v}` or `dict(kwargs, k=v)`."""
    if isinstance(node, ast.Dict):
        return {k for k in map(_const_str, node.keys) if k}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return {k.arg for k in node.keywords if k.arg}
    return set()


FALSY_DEFAULTS = frozenset({"None", "False", "0", "''", "0.0"})


def _non_default_test(test: ast.AST, params: dict[str, Param]) -> str | None:
    """The parameter a test is true for exactly when it is not its (constant) default: `p != d`,
    `p is not d`, `p` (default falsy), `not p` (default `True`)."""
    if isinstance(test, ast.Name) and test.id in params:
        default = params[test.id].default
        return test.id if default is not None and default.kind == "const" and default.text in FALSY_DEFAULTS else None
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.Name) \
            and test.operand.id in params:
        default = params[test.operand.id].default
        return test.operand.id if default is not None and default.text == "True" else None
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.NotEq, ast.IsNot)):
        left, right = test.left, test.comparators[0]
        for name, other in ((left, right), (right, left)):
            if isinstance(name, ast.Name) and name.id in params and isinstance(other, ast.Constant):
                default = params[name.id].default
                if default is not None and default.kind == "const" and default.text == repr(other.value):
                    return name.id
    return None


def _param_passed_through(node: ast.AST, param_names: set[str]) -> str | None:
    """The parameter an expression stores as is: `p`, `p or Default()`, `p if p is not None else d`."""
    if isinstance(node, ast.Name):
        return node.id if node.id in param_names else None
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        return _param_passed_through(node.values[0], param_names)
    if isinstance(node, ast.IfExp):
        return _param_passed_through(node.body, param_names) or _param_passed_through(node.orelse, param_names)
    return None


def _keyword_span(pos: Positions, kw: ast.keyword) -> Span:
    if hasattr(kw, "lineno"):
        return pos.span(kw)
    return pos.span(kw.value)


def _annotation(arg: ast.arg) -> str | None:
    return ast.unparse(arg.annotation) if arg.annotation is not None else None


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

    def __init__(self, cls: ClassExtractor, fn: ast.FunctionDef | ast.AsyncFunctionDef,
                 init: InitFacts | None = None) -> None:
        self.cls = cls
        self.m = cls.m
        self.pos = cls.pos
        self.fn = fn
        self.self_name = _self_name(fn)
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
        facts.falls_off_end = not facts.abstract and not _always_exits(fn.body)
        for node in _walk_no_nested(fn.body):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "vars" \
                    and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == self.self_name) or (isinstance(node, ast.Attribute) and node.attr == "__dict__" \
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
            key = _const_str(target.slice)
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
                key = _const_str(call.args[0])
                if key is None:
                    state.complete = False
                elif len(call.args) > 1 and key not in state.keys:
                    state.keys[key] = ConfigKey(key, self.m.value(call.args[1]), self.pos.span(call.args[0]))
            elif func.attr in ("pop", "popitem", "clear"):
                key = _const_str(call.args[0]) if call.args else None
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
            key = _const_str(node.args[0])
            if key is not None:
                self.vars[node.func.value.id].keys.pop(key, None)
                self.removed.add(key)

    def _delete(self, target: ast.AST) -> None:
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                and target.value.id in self.vars:
            key = _const_str(target.slice)
            if key is not None:
                self.vars[target.value.id].keys.pop(key, None)
                self.removed.add(key)

    def _keywords(self, call: ast.Call, state: _DictState) -> None:
        for kw in call.keywords:
            if kw.arg is None:
                state.merge(self._eval(kw.value))
            else:
                state.keys[kw.arg] = ConfigKey(kw.arg, self.m.value(kw.value), _keyword_span(self.pos, kw))

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
        attr = _self_attr(node, self.self_name)
        if attr is not None and self.init_dicts.get(attr) is not None:
            # the `self._config = {...}` idiom: a dict literal built once in `__init__`, returned here
            return _DictState({k.name: k for k in self.init_dicts[attr]})  # type: ignore[union-attr]
        if isinstance(node, ast.Dict):
            state = _DictState()
            for key, value in zip(node.keys, node.values):
                if key is None:
                    state.merge(self._eval(value))
                    continue
                name = _const_str(key)
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
            if _is_super_call(func.value) or (
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


def _statement_expressions(stmt: ast.stmt) -> list[ast.AST]:
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
            if isinstance(target, ast.Subscript) and _const_str(target.slice):
                keys.add(_const_str(target.slice))  # type: ignore[arg-type]
    elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) \
            and isinstance(stmt.value.func, ast.Attribute):
        call = stmt.value
        if call.func.attr == "update":  # type: ignore[attr-defined]
            keys |= {kw.arg for kw in call.keywords if kw.arg}
            for arg in call.args:
                if isinstance(arg, ast.Dict):
                    keys |= {k for k in map(_const_str, arg.keys) if k}
        elif call.func.attr == "setdefault" and call.args and _const_str(call.args[0]):  # type: ignore[attr-defined]
            keys.add(_const_str(call.args[0]))  # type: ignore[arg-type]
    return keys


def _condition(test: ast.expr, self_name: str, branch: bool) -> tuple[str, str]:
    """(attribute, "none" | "not_none" | "truthy" | "falsy") for `self.x is [not] None`, `self.x`,
    `not self.x` on the given branch; ("", "") for anything else."""
    while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test, branch = test.operand, not branch
    attr = _self_attr(test, self_name)
    if attr:
        return attr, "truthy" if branch else "falsy"
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.comparators[0], ast.Constant) \
            and test.comparators[0].value is None and isinstance(test.ops[0], (ast.Is, ast.IsNot)):
        attr = _self_attr(test.left, self_name)
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


class FromConfigExtractor:
    """Whether `from_config` is a classmethod, forwards `**config`, and which keys it handles."""

    def __init__(self, cls: ClassExtractor, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.cls = cls
        self.m = cls.m
        self.pos = cls.pos
        self.fn = fn

    def run(self) -> FromConfigFacts:
        fn = self.fn
        decorators = frozenset(self.m.resolve(d).split(".")[-1] for d in fn.decorator_list)
        facts = FromConfigFacts(span=self.pos.name_span(fn, fn.name), decorators=decorators)
        args = fn.args.posonlyargs + fn.args.args
        cls_name = args[0].arg if args else "cls"
        config_name = args[1].arg if len(args) > 1 else "config"
        config_names = {config_name}
        self.key_locals: dict[str, str] = {}  # local variable → the config key it was read from
        facts.returns_value = any(isinstance(n, ast.Return) and n.value is not None
                                  for n in _walk_no_nested(fn.body)) or _raises_only(fn.body)
        for node in _walk_no_nested(fn.body):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                            and target.value.id in config_names:
                        key = _const_str(target.slice)
                        if key:
                            facts.supplied.add(key)
                            if _decodes(self.m, node.value):
                                facts.deserialized.add(key)
                        else:
                            facts.opaque = True
                    elif isinstance(target, ast.Name) and _names_in(node.value) & config_names:
                        if (isinstance(node.value, ast.Call) and self.m.resolve(node.value.func) in (
                                "copy.copy", "copy.deepcopy", "dict")) or _method_call(node.value, "copy"):
                            config_names.add(target.id)
                            continue
                    if isinstance(target, ast.Name):
                        key = _config_key_read(node.value, config_names, self.key_locals)
                        if key:
                            self.key_locals[target.id] = key
                            if _decodes(self.m, node.value):
                                facts.deserialized.add(key)
            elif isinstance(node, ast.Call):
                self._call(node, facts, cls_name, config_names)
        return facts

    def _call(self, node: ast.Call, facts: FromConfigFacts, cls_name: str, config_names: set[str]) -> None:
        func = node.func
        if _decodes(self.m, node):
            key = _config_key_read(node, config_names, self.key_locals)
            if key:
                facts.deserialized.add(key)
        if (isinstance(func, ast.Name) and func.id == cls_name) or (
                isinstance(func, ast.Call) and isinstance(func.func, ast.Name) and func.func.id == "super"):
            if any(isinstance(a, ast.Name) and a.id in config_names for a in node.args):
                facts.cls_calls_without_star.append(self.pos.span(node))
            for kw in node.keywords:
                if kw.arg is not None:
                    facts.supplied.add(kw.arg)
                elif not (isinstance(kw.value, ast.Name) and kw.value.id in config_names):
                    facts.opaque = True
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and func.value.id in config_names:
            if func.attr == "pop" and node.args and _const_str(node.args[0]):
                facts.supplied.add(_const_str(node.args[0]))  # type: ignore[arg-type]
            elif func.attr in ("update", "setdefault"):
                if func.attr == "setdefault" and node.args and _const_str(node.args[0]):
                    facts.supplied.add(_const_str(node.args[0]))  # type: ignore[arg-type]
                else:
                    facts.opaque = True
                    for kw in node.keywords:
                        if kw.arg:
                            facts.supplied.add(kw.arg)


DECODERS = ("deserialize_keras_object", "deserialize", "get", "from_config", "Sequential", "model_from_json")


def _decodes(m: ModuleExtractor, node: ast.AST) -> bool:
    """Whether an expression decodes a serialized Keras object (a sub-layer, an activation, ...)."""
    for sub in walk(node):
        if isinstance(sub, ast.Call):
            callee = m.resolve(sub.func) or (sub.func.attr if isinstance(sub.func, ast.Attribute) else "")
            if callee.split(".")[-1] in DECODERS:
                return True
    return False


def _config_key_read(node: ast.AST, config_names: set[str], key_locals: dict[str, str]) -> str | None:
    """The key of `config["k"]`, `config.pop("k")`, `config.get("k")`, or of a local read from one."""
    for sub in walk(node):
        if isinstance(sub, ast.Name) and sub.id in key_locals:
            return key_locals[sub.id]
        if isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name) and sub.value.id in config_names:
            return _const_str(sub.slice)
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) \
                and isinstance(sub.func.value, ast.Name) and sub.func.value.id in config_names \
                and sub.func.attr in ("pop", "get") and sub.args:
            return _const_str(sub.args[0])
    return None


def _raises_only(body: list[ast.stmt]) -> bool:
    return any(isinstance(s, ast.Raise) for s in body)


class LambdaSiteFinder:
    """Lambdas passed where Keras serializes them: `activation=`, `*_initializer=`, `Lambda(...)`."""

    def __init__(self, module: ModuleExtractor) -> None:
        self.m = module
        self.sites: list[LambdaSite] = []

    def call(self, call: ast.Call, cls: str | None, method: str | None) -> None:
        in_super = isinstance(call.func, ast.Attribute) and call.func.attr == "__init__" \
            and _is_super_call(call.func.value)
        callee = "super().__init__" if in_super else self.m.resolve(call.func)
        for kw in call.keywords:
            if kw.arg and isinstance(kw.value, ast.Lambda):
                self.sites.append(LambdaSite(self.m.pos.span(kw.value), callee, kw.arg, cls, method, in_super))
        if (callee.split(".")[-1] == "Lambda" and _is_keras_module(callee)) or callee == "Lambda":
            first = call.args[0] if call.args else next(
                (k.value for k in call.keywords if k.arg == "function"), None)
            if isinstance(first, ast.Lambda):
                self.sites.append(LambdaSite(self.m.pos.span(first), callee, "", cls, method, in_super))


def extract(tree: ast.Module, source: str, path: str, module: str) -> ModuleFacts:
    """Facts of one parsed module."""
    return ModuleExtractor(tree, source, path, module).run()
