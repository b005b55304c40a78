"""The `ast`-only half of a fix: whether `--fix` would fix a finding, decided without libcst.

`[*]` needs only *whether* `--fix` fixes a finding, but planning it with libcst costs libcst's import
(about 0.2 s per process), more than checking the file. A rule's `FixSpec.decider` names a function
`(finding, site) -> TextPlan` that takes its planner's decisions from the `ast` of the text and makes an
equivalent edit as plain text: the same statements in the same places, possibly laid out differently.
The fixing pipeline (`apply_fixes`: compile, validation by checking the result again, fixing until
stable) runs unchanged on those texts, so the findings it resolves are the ones `--fix` resolves.

Where a decider cannot mirror its planner for certain (a layout it does not handle: semicolons,
parenthesized values, implicitly concatenated strings), it raises `Unsure` and the caller plans with
libcst instead (`cfglint.fixes.plan.would_fix`). A test compares both on every example and fixture.
The one thing a decider cannot know is whether libcst's own parser accepts a file that `ast` accepts
(it does for all of Python 3.11's grammar; `--fix` would report such a file as not rewritable).
"""

from __future__ import annotations

import ast
import bisect
import io
import keyword
import re
import tokenize
from collections.abc import Callable, Iterator

from cfglint.finding import Finding
from cfglint.fixes.config_pairs import missing_key_pairs, model_config_pairs
from cfglint.fixes.serializer import serializer_for
from cfglint.fixes.site import ClassSite, Skip, Unsure
from cfglint.parsing import keeps_texts

TextPlan = Callable[[str], str]  # one fix as text: the source before it, the source after it
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_CLASS_LINE = re.compile(r"^([ \t]*)class[ \t]+(\w+)", re.M)
_COMMENT = re.compile(r"#[^\r\n]*")
DECORATORS = {"classmethod", "staticmethod"}
_TEXTS: dict[str, Text] = {}  # the last few texts parsed, by source
keeps_texts(_TEXTS.clear)


def text_of(source: str) -> Text:
    """The `Text` of a source, reused: validation plans several fixes on the same text in turn."""
    cached = _TEXTS.get(source)
    if cached is None:
        cached = Text(source)
        if len(_TEXTS) >= 4:
            _TEXTS.pop(next(iter(_TEXTS)))
        _TEXTS[source] = cached
    return cached


class Text:
    """A source with its `ast`, to find nodes as the libcst rewrites find them and edit at them
    (never changed once made)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._tree: ast.Module | None = None
        self._class_lines: dict[str, list[re.Match[str]]] | None = None  # `class NAME` lines, by name
        self.lines: list[str] = _LINES.findall(source)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    @property
    def tree(self) -> ast.Module:
        """The whole text's `ast`, parsed on first use (`class_by_lines` usually makes it unneeded)."""
        if self._tree is None:
            try:
                self._tree = ast.parse(self.source)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                raise Unsure("the text does not parse") from None
        return self._tree

    def class_by_lines(self, name: str, index: int, expected: int) -> ast.ClassDef | None:
        """The `index`-th class `name` from its own lines, parsed alone (positions as in the whole text),
        or None when that cannot be done with certainty (the full parse is then used).

        Fixing a file with fifty classes re-reads the text after each fix; parsing one class instead of
        the file each time is what keeps `[*]` cheap. Certainty: the lines that start `class NAME` must be
        exactly the `expected` classes of that name the facts know (a line in a string would add one), and
        every code line of the block must carry the class's indentation (no string or bracket continues
        below it), and the block must parse as that one class."""
        if self._class_lines is None:
            self._class_lines = {}
            for found in _CLASS_LINE.finditer(self.source):
                self._class_lines.setdefault(found.group(2), []).append(found)
        matches = self._class_lines.get(name, [])
        if len(matches) != expected or index >= len(matches):
            return None
        match = matches[index]
        indent = match.group(1)
        first = bisect.bisect_right(self.starts, match.start()) - 1  # 0-based line of `class`
        if indent and not first:
            return None  # an indented first line: not Python
        last = first
        for number in range(first + 1, len(self.lines)):
            stripped = self.lines[number].strip()
            if not stripped or stripped.startswith("#"):
                continue  # comments may sit at any indentation inside a class
            if not self.lines[number].startswith(indent) or len(self.lines[number]) - len(
                    self.lines[number].lstrip(" \t")) <= len(indent):
                break
            last = number
        block = self.lines[first:last + 1]
        if any(line.strip() and not line.strip().startswith("#") and not line.startswith(indent) for line in block):
            return None
        # parsed where it stands, after blank lines and (when indented) under `if 1:`, so that its
        # positions are those of the whole text with no pass over the tree to shift them
        head = "\n" * (first - 1) + "if 1:\n" if indent else "\n" * first
        try:
            tree = ast.parse(head + "".join(block))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        body = tree.body
        if indent:
            if len(body) != 1 or not isinstance(body[0], ast.If):
                return None
            body = body[0].body
        if len(body) != 1 or not isinstance(body[0], ast.ClassDef) or body[0].name != name:
            return None
        return body[0]

    def offset(self, line: int, column: int) -> int:
        """The index in `source` of an `ast` position (its column counts UTF-8 bytes)."""
        if line > len(self.lines):
            return len(self.source)
        text = self.lines[line - 1]
        return self.starts[line - 1] + len(text.encode("utf-8")[:column].decode("utf-8", "replace"))

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def starts_line(self, node: ast.stmt) -> bool:
        """Whether only indentation precedes the statement on its line (it is not after `:` or `;`)."""
        line = self.lines[node.lineno - 1]
        return not line.encode("utf-8")[:node.col_offset].strip()

    def indent(self, line: int) -> str:
        text = self.lines[line - 1]
        return text[: len(text) - len(text.lstrip(" \t"))]

    def line_start(self, line: int) -> int:
        return self.starts[line - 1] if line <= len(self.lines) else len(self.source)

    def insert(self, at: int, text: str) -> str:
        return self.source[:at] + text + self.source[at:]

    def is_concatenated(self, node: ast.expr) -> bool:
        """Whether a string node is several literals written side by side (`"a" "b"`): libcst sees each."""
        segment = self.source[self.start(node):self.end(node)]
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(f"({segment})").readline))
        except (tokenize.TokenError, SyntaxError):
            return True
        return sum(token.type == tokenize.STRING for token in tokens) != 1


# ------------------------------------------------------------------------------------ locating
def find_class(text: Text, name: str, index: int, expected: int | None = None) -> ast.ClassDef:
    """The `index`-th class named `name` in source order (`cfglint.fixes._cst.find_class`). Classes are
    statements, so only statement lists are walked, never expressions (a large file has many). With
    `expected` (how many classes of that name the text has), the class alone is parsed when it can be."""
    if expected is not None:
        alone = text.class_by_lines(name, index, expected)
        if alone is not None:
            return alone
    found: list[ast.ClassDef] = []
    stack: list[ast.stmt] = list(reversed(text.tree.body))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.ClassDef) and node.name == name:
            found.append(node)
        stack.extend(reversed(_inner_statements(node)))
    if index >= len(found):
        raise Skip(f"class `{name}` not found")
    return found[index]


def site_class(text: Text, site: ClassSite) -> ast.ClassDef:
    """The site's class in `text` (a later version of the site's source)."""
    return find_class(text, site.name, site.index, same_name(site))


def same_name(site: ClassSite) -> int:
    """How many classes of the site's name its source has (every fix keeps that number)."""
    return sum(1 for node in site.analysis.classes if node.name == site.name)


def _inner_statements(node: ast.stmt) -> list[ast.stmt]:
    """The statements nested in a compound statement, in source order."""
    inner: list[ast.stmt] = []
    for field in ("body", "handlers", "orelse", "finalbody", "cases"):
        for item in getattr(node, field, ()):
            inner.extend(item.body if isinstance(item, (ast.ExceptHandler, ast.match_case)) else [item])
    return inner


def find_method(text: Text, cls: ast.ClassDef, name: str) -> FunctionNode | None:
    """The last `def name` directly in the class body (Skip for a class written on one line)."""
    if not text.starts_line(cls.body[0]):
        raise Skip(f"class `{cls.name}` is written on one line")
    found = None
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
            found = stmt
    return found


def body_nodes(fn: FunctionNode) -> Iterator[ast.AST]:
    """The nodes of a function body as libcst's walk sees them: not inside nested functions, classes or
    lambdas, and an f-string's literal parts are not string literals."""
    stack: list[ast.AST] = list(reversed(fn.body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        children = list(ast.iter_child_nodes(node))
        if isinstance(node, ast.JoinedStr):
            children = [c for c in children if not isinstance(c, ast.Constant)]
        stack.extend(reversed(children))


def first_param_name(fn: FunctionNode, default: str = "self") -> str:
    params = fn.args.posonlyargs + fn.args.args
    return params[0].arg if params else default


def _first_line(node: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])


# ------------------------------------------------------------------------------------ editing
Edit = tuple[int, str]  # insert this text at this index


def _append_after(text: Text, last: ast.AST, closing: int, item: str) -> Edit:
    """`item` after the last element of a bracketed list that closes at `closing` (the bracket's index);
    Unsure when anything but a comma or comments follows the element (a parenthesized value)."""
    after = text.end(last)
    if _COMMENT.sub("", text.source[after:closing]).strip() not in ("", ","):
        raise Unsure("the last element is followed by more than a comma")
    return after, f", {item}"


def dict_element_edit(text: Text, node: ast.Dict, element: str) -> Edit:
    closing = text.end(node) - 1
    if text.source[closing:closing + 1] != "}":
        raise Unsure("the dict does not end at its brace")
    if not node.values:
        return closing, element
    return _append_after(text, node.values[-1], closing, element)


def argument_edit(text: Text, call: ast.Call, argument: str) -> Edit:
    closing = text.end(call) - 1
    if text.source[closing:closing + 1] != ")" or any(isinstance(a, ast.GeneratorExp) for a in call.args):
        raise Unsure("the call does not end at its parenthesis")
    items: list[ast.AST] = [*call.args, *call.keywords]
    if not items:
        return closing, argument
    last = max(items, key=lambda n: (n.end_lineno, n.end_col_offset))  # type: ignore[attr-defined]
    return _append_after(text, last, closing, argument)


def apply_edits(text: Text, edits: list[Edit]) -> str:
    """The source with every insertion made."""
    return replace_spans(text, [(at, at, insert) for at, insert in edits])


def replace_spans(text: Text, changes: list[tuple[int, int, str]]) -> str:
    """The source with each `[start, end)` replaced (from the last, so earlier indices stay valid)."""
    source = text.source
    for start, end, new in sorted(changes, key=lambda c: (c[0], c[1]), reverse=True):
        source = source[:start] + new + source[end:]
    return source


def insert_statement(text: Text, fn: FunctionNode, where: int, statement: str) -> str:
    """`statement` as the `where`-th statement of the function body (before the one there now)."""
    line = _first_line(fn.body[where])
    return text.insert(text.line_start(line), f"{text.indent(fn.body[0].lineno)}{statement}\n")


def append_method(text: Text, cls: ast.ClassDef, method: list[str]) -> str:
    """A method (its lines, unindented) at the end of the class body, after a blank line."""
    indent = text.indent(cls.body[0].lineno)
    at = text.line_start((cls.end_lineno or cls.lineno) + 1)
    lead = "" if text.source[:at].endswith(("\n", "\r")) else "\n"
    return text.insert(at, lead + "\n" + "".join(f"{indent}{line}\n" for line in method))


# ------------------------------------------------------------------------------------ CFG101/102/303
def decide_missing_key(finding: Finding, site: ClassSite) -> TextPlan:
    pairs = missing_key_pairs(finding, site)
    return lambda source: add_keys(text_of(source), site.name, site.index, pairs, same_name(site))


def decide_model_config(finding: Finding, site: ClassSite) -> TextPlan:
    pairs = model_config_pairs(finding, site)
    return lambda source: add_keys(text_of(source), site.name, site.index, pairs, same_name(site))


def add_keys(text: Text, name: str, index: int, pairs: list[tuple[str, str]], expected: int | None = None
             ) -> str:
    """`cfglint.fixes.config_keys.add_keys` as text."""
    cls = find_class(text, name, index, expected)
    fn = find_method(text, cls, "get_config")
    if fn is None:
        entries = ", ".join(f'"{key}": self.{attr}' for key, attr in pairs)
        return append_method(text, cls, ["def get_config(self):", "    config = super().get_config()",
                                         f"    config.update({{{entries}}})", "    return config"])
    if len(pairs) != 1:
        raise Unsure("several keys for an existing `get_config`")
    key, attr = pairs[0]
    return add_key(text, fn, key, attr)


def _mentions(text: Text, fn: FunctionNode, key: str) -> bool:
    for node in body_nodes(fn):
        if isinstance(node, (ast.Constant, ast.JoinedStr)) and (isinstance(node, ast.JoinedStr)
                                                                or isinstance(node.value, str)):
            if text.is_concatenated(node):
                raise Unsure("a string literal is implicitly concatenated")
            if isinstance(node, ast.Constant) and node.value == key:
                return True
        if isinstance(node, ast.keyword) and node.arg == key:
            return True
    return False


def _as_keyword(key: str) -> bool:
    return key.isidentifier() and not keyword.iskeyword(key)


def _is_dict_call(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict"


def add_key(text: Text, fn: FunctionNode, key: str, attr: str) -> str:
    """`cfglint.fixes.config_keys.add_key` as text."""
    if _mentions(text, fn, key):
        raise Skip(f"`get_config` already mentions `{key}`")
    value = f"{first_param_name(fn)}.{attr}"
    element = f'"{key}": {value}'
    found = [n for n in body_nodes(fn) if isinstance(n, ast.Return)]
    if len(found) != 1:
        raise Skip("`get_config` has several `return` statements" if found else "`get_config` returns nothing")
    expr = found[0].value
    if isinstance(expr, ast.Dict):
        return apply_edits(text, [dict_element_edit(text, expr, element)])
    if isinstance(expr, ast.Call) and _is_dict_call(expr) and _as_keyword(key):
        return apply_edits(text, [argument_edit(text, expr, f"{key}={value}")])
    if isinstance(expr, ast.Name):
        return _add_to_variable(text, fn, found[0], expr.id, key, value, element)
    raise Skip("cannot tell where `get_config` builds the dict it returns")


def _binds(node: ast.AST, name: str) -> bool:
    if isinstance(node, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        return isinstance(node.target, ast.Name) and node.target.id == name
    return False


def _is_method_call(node: ast.AST, receiver: str, method: str) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method
            and isinstance(node.func.value, ast.Name) and node.func.value.id == receiver)


def _one_statement_a_line(text: Text, fn: FunctionNode) -> None:
    if not text.starts_line(fn.body[0]):
        raise Skip(f"`{fn.name}` is written on one line")
    for before, after in zip(fn.body, fn.body[1:], strict=False):
        if after.lineno <= (before.end_lineno or before.lineno):
            raise Unsure("statements share a line")


def _add_to_variable(text: Text, fn: FunctionNode, ret: ast.Return, var: str, key: str, value: str,
                     element: str) -> str:
    """`cfglint.fixes.config_keys._add_to_variable` as text (statement indices match: one a line)."""
    _one_statement_a_line(text, fn)
    ret_index = next((i for i, stmt in enumerate(fn.body) if stmt is ret), None)
    if ret_index is None:
        raise Skip("the config is returned from inside a block")
    assigns = [(i, stmt) for i, stmt in enumerate(fn.body[:ret_index])
               if isinstance(stmt, ast.Assign) and _binds(stmt, var)]
    bindings = [n for n in body_nodes(fn) if _binds(n, var)]
    if not assigns or len(bindings) != len(assigns):
        raise Skip(f"`{var}` is built in a way that cannot be followed")
    start = assigns[-1][0]
    window = list(enumerate(fn.body))[start:ret_index]
    updates = [stmt.value for _, stmt in window if isinstance(stmt, ast.Expr)
               and _is_method_call(stmt.value, var, "update")]
    if updates:
        call = updates[-1]
        assert isinstance(call, ast.Call)
        if len(call.args) == 1 and not call.keywords and isinstance(call.args[0], ast.Dict):
            return apply_edits(text, [dict_element_edit(text, call.args[0], element)])
        if not call.args and call.keywords and all(k.arg is not None for k in call.keywords) \
                and _as_keyword(key):
            return apply_edits(text, [argument_edit(text, call, f"{key}={value}")])
    subscripts = [i for i, stmt in window if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                  and isinstance(stmt.targets[0], ast.Subscript)
                  and isinstance(stmt.targets[0].value, ast.Name) and stmt.targets[0].value.id == var]
    assigned = assigns[-1][1].value
    if not subscripts and isinstance(assigned, ast.Dict):
        return apply_edits(text, [dict_element_edit(text, assigned, element)])
    where = subscripts[-1] + 1 if subscripts else ret_index
    return insert_statement(text, fn, where, f'{var}["{key}"] = {value}')


# ------------------------------------------------------------------------------------ CFG401
def from_config_problem(finding: Finding, site: ClassSite) -> None:
    """Skip unless the finding is a missing `@classmethod` on a `from_config(cls, config)`."""
    fc = site.facts.from_config
    if fc is None or (fc.span.line, fc.span.column) != (finding.span.line, finding.span.column):
        raise Skip("only a missing `@classmethod` is fixed")
    if fc.decorators & DECORATORS or finding.subject != "classmethod":
        raise Skip("only a missing `@classmethod` is fixed")
    node = site.method("from_config")
    positional = (node.args.posonlyargs + node.args.args) if node is not None else []
    if len(positional) < 2 or node.args.vararg is not None:  # type: ignore[union-attr]
        raise Skip("`from_config` does not take `(cls, config)`")


def decide_from_config(finding: Finding, site: ClassSite) -> TextPlan:
    from_config_problem(finding, site)

    def apply(source: str) -> str:
        text = text_of(source)
        fn = find_method(text, site_class(text, site), "from_config")
        if fn is None:
            raise Skip("`from_config` not found")
        if any(_decorator_name(d) in DECORATORS for d in fn.decorator_list):
            raise Skip("`from_config` is already a classmethod")
        line = _first_line(fn)
        return text.insert(text.line_start(line), f"{text.indent(line)}@classmethod\n")

    return apply


def _decorator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


# ------------------------------------------------------------------------------------ CFG301/302/306
KWARGS = "kwargs"


def decide_accept(finding: Finding, site: ClassSite) -> TextPlan:
    accept_problem(site)

    def apply(source: str) -> str:
        text = text_of(source)
        fn = _init(text, site_class(text, site))
        if _uses_name(text, fn, KWARGS):
            raise Skip(f"the name `{KWARGS}` is already used in `__init__`")
        edits = _forward(text, fn, KWARGS)
        if fn.args.kwarg is not None:
            raise Skip("`__init__` already takes a var-keyword parameter")
        edits.append(_star_kwarg(text, fn, KWARGS))
        return apply_edits(text, edits)

    return apply


def decide_forward(finding: Finding, site: ClassSite) -> TextPlan:
    name = forward_name(site)

    def apply(source: str) -> str:
        text = text_of(source)
        fn = _init(text, site_class(text, site))
        return apply_edits(text, _forward(text, fn, name))

    return apply


def accept_problem(site: ClassSite) -> None:
    """Skip unless `__init__` is the class's own and takes no var-keyword parameter (CFG301/302)."""
    init = site.facts.init
    if init is None:
        dataclass = " (a dataclass layer)" if site.facts.is_dataclass else ""
        raise Skip(f"the class has no `__init__` of its own{dataclass}")
    if init.varkw is not None:
        raise Skip("`__init__` already takes a var-keyword parameter")


def forward_name(site: ClassSite) -> str:
    """The name of `__init__`'s var-keyword parameter (CFG306), or Skip."""
    init = site.facts.init
    if init is None or init.varkw is None:
        raise Skip("`__init__` has no var-keyword parameter")
    return init.varkw.name


def _init(text: Text, cls: ast.ClassDef) -> FunctionNode:
    fn = find_method(text, cls, "__init__")
    if fn is None:
        raise Skip("`__init__` not found")
    return fn


def _uses_name(text: Text, fn: FunctionNode, name: str) -> bool:
    """Whether a name of the parameters or the body spells `name` (libcst's names include attributes
    and keywords); Unsure when it occurs there only in strings or comments (an f-string may use it)."""
    if _signature_uses(fn, name):
        return True
    region = text.source[text.line_start(fn.body[0].lineno):text.end(fn)]
    return name in region and _tokens_spell(region, name)


def _signature_uses(fn: FunctionNode, name: str) -> bool:
    args = fn.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, *(a for a in (args.vararg, args.kwarg) if a)]
    if any(a.arg == name for a in every):
        return True
    if any(name in ast.dump(node) for node in [*args.defaults, *(d for d in args.kw_defaults if d),
                                                 *(a.annotation for a in every if a.annotation)]):
        raise Unsure(f"`{name}` may be used in a default or an annotation")
    return False


def _tokens_spell(region: str, name: str) -> bool:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(region).readline))
    except (tokenize.TokenError, SyntaxError):
        raise Unsure("the function does not tokenize on its own") from None
    if any(token.type == tokenize.NAME and token.string == name for token in tokens):
        return True
    raise Unsure(f"`{name}` occurs in a string or a comment")


def _parent_init_calls(fn: FunctionNode) -> list[ast.Call]:
    """`cfglint.fixes.kwargs.parent_init_calls`: `super().__init__(...)`, `Base.__init__(self, ...)`."""
    self_name = first_param_name(fn)
    calls = []
    for node in body_nodes(fn):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__"):
            continue
        receiver = node.func.value
        is_super = isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name) \
            and receiver.func.id == "super"
        if is_super or _is_explicit_base_call(node, self_name):
            calls.append(node)
    return calls


def _is_explicit_base_call(call: ast.Call, self_name: str) -> bool:
    assert isinstance(call.func, ast.Attribute)
    if not isinstance(call.func.value, (ast.Name, ast.Attribute)):
        return False
    items: list[ast.AST] = [*call.args, *call.keywords]
    if not items:
        return False
    first = min(items, key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]
    return isinstance(first, ast.Name) and first.id == self_name


def _forward(text: Text, fn: FunctionNode, name: str) -> list[Edit]:
    """`cfglint.fixes.kwargs._forward`: `**name` appended to every parent `__init__` call."""
    calls = _parent_init_calls(fn)
    if not calls:
        raise Skip("`__init__` calls no `super().__init__(...)` to forward the keywords to")
    todo = []
    for call in calls:
        spreads = [k.value for k in call.keywords if k.arg is None]
        if any(not isinstance(value, ast.Name) for value in spreads):
            raise Unsure("a spread mapping that is not a plain name")
        if any(isinstance(value, ast.Name) and value.id == name for value in spreads):
            continue
        if spreads:
            raise Skip("`super().__init__(...)` already spreads another mapping")
        todo.append(call)
    if not todo:
        raise Skip(f"`**{name}` is already forwarded")
    return [argument_edit(text, call, f"**{name}") for call in todo]


def _star_kwarg(text: Text, fn: FunctionNode, name: str) -> Edit:
    """`**name` appended to the parameters (Unsure unless the list ends with a parameter, a comma or
    comments before its parenthesis)."""
    args = fn.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, *(a for a in (args.vararg,) if a)]
    parts: list[ast.AST] = [*every, *args.defaults, *(d for d in args.kw_defaults if d)]
    last = max(parts, key=lambda n: (n.end_lineno, n.end_col_offset))  # type: ignore[attr-defined]
    after = text.end(last)
    # the parenthesis must be the one closing the parameters: `:` or `->` follows it (a parenthesized
    # default's own parenthesis is followed by the list's)
    rest = re.match(r"(?:\s|,|#[^\r\n]*|\\\r?\n)*\)[ \t\f]*(?:\\\r?\n[ \t\f]*)*(?::|->)", text.source[after:])
    if rest is None or rest.group(0).count(",") > 1:
        raise Unsure("the parameter list does not end with a parameter")
    return after, f", **{name}"


# ------------------------------------------------------------------------------------ CFG201
def decide_serialize(finding: Finding, site: ClassSite) -> TextPlan:
    key, family, serializer = serializer_for(finding, site)
    if any(char in serializer for char in "\\#\r\n"):
        raise Unsure("the serializer is spelled across lines")

    def apply(source: str) -> str:
        text = text_of(source)
        fn = find_method(text, site_class(text, site), "get_config")
        if fn is None:
            raise Skip("`get_config` not found")
        values = _values_of(text, fn, key)
        if len(values) != 1:
            raise Skip(f"`get_config` sets `{key}` in {len(values) or 'no'} places")
        old = values[0]
        if isinstance(old, ast.Call) and _callee_name(old.func).endswith("serialize"):
            raise Skip(f"`{key}` is already serialized")
        try:
            ast.parse(serializer, mode="eval")
        except SyntaxError:
            raise Skip(f"cannot spell `{family}.serialize` in this file") from None
        return apply_edits(text, [(text.start(old), f"{serializer}("), (text.end(old), ")")])

    return apply


def _key_is(text: Text, node: ast.AST | None, key: str) -> bool:
    """Whether `node` is the plain string literal `key` (Unsure for `"k" "ey"`: libcst sees two)."""
    if not (isinstance(node, ast.Constant) and node.value == key):
        return False
    if text.is_concatenated(node):
        raise Unsure("a string literal is implicitly concatenated")
    return True


def _values_of(text: Text, fn: FunctionNode, key: str) -> list[ast.expr]:
    """`cfglint.fixes.serialize._values_of`: every expression `get_config` stores under `key`."""
    found: list[ast.expr] = []
    for node in body_nodes(fn):
        if isinstance(node, ast.Dict):
            found += [value for k, value in zip(node.keys, node.values, strict=False) if _key_is(text, k, key)]
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript):
            index = node.targets[0].slice
            if isinstance(index, ast.Tuple) and len(index.elts) == 1 and _key_is(text, index.elts[0], key):
                raise Unsure("a one-element tuple as the key")  # `config["k",]`: libcst sees one index
            if _key_is(text, index, key):
                found.append(node.value)
        elif isinstance(node, ast.keyword) and node.arg == key:
            found.append(node.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "setdefault" and len(node.args) + len(node.keywords) == 2:
            if node.keywords or isinstance(node.args[0], ast.Starred):
                raise Unsure("a `setdefault` call with keywords or unpacking")
            if _key_is(text, node.args[0], key):
                found.append(node.args[1])
    return found


def _callee_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


# ------------------------------------------------------------------------------------ CFG104
SUPER_CONFIG = "super().get_config()"


def super_config_problem(finding: Finding, site: ClassSite) -> None:
    """Skip unless the finding is on this class's own, undecorated `get_config`."""
    gc = site.facts.get_config
    if gc is None or (gc.span.line, gc.span.column) != (finding.span.line, finding.span.column):
        raise Skip("the finding is not on this class's `get_config`")
    if gc.decorators:
        raise Skip("`get_config` is decorated")


def decide_merge_super(finding: Finding, site: ClassSite) -> TextPlan:
    super_config_problem(finding, site)

    def apply(source: str) -> str:
        text = text_of(source)
        fn = find_method(text, site_class(text, site), "get_config")
        if fn is None:
            raise Skip("`get_config` not found")
        return replace_spans(text, _merge_super(text, fn))

    return apply


def _merge_super(text: Text, fn: FunctionNode) -> list[tuple[int, int, str]]:
    """`cfglint.fixes.super_config.merge_super` as text changes."""
    found = [n for n in body_nodes(fn) if isinstance(n, ast.Return)]
    if not found:
        raise Skip("`get_config` returns nothing")
    if not text.starts_line(fn.body[0]):
        raise Skip(f"`{fn.name}` is written on one line")
    targets: dict[int, ast.expr] = {}
    for ret in found:
        expr = ret.value
        if isinstance(expr, ast.Name):
            name = expr.id
            assigns = [n for n in body_nodes(fn) if isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign))
                       and _binds(n, name)]
            if len(assigns) != 1 or not isinstance(assigns[0], ast.Assign) \
                    or not any(stmt is assigns[0] for stmt in fn.body):
                raise Skip(f"`{name}` is built in a way that cannot be followed")
            expr = assigns[0].value
        if expr is None:
            raise Skip("`get_config` returns nothing")
        targets[id(expr)] = expr
    return [_merged(text, expr) for expr in targets.values()]


def _merged(text: Text, expr: ast.expr) -> tuple[int, int, str]:
    """`{...}` → `{**super().get_config(), ...}`; `{}` → `super().get_config()`; `dict(k=v)` →
    `dict(super().get_config(), k=v)`."""
    start, end = text.start(expr), text.end(expr)
    if isinstance(expr, ast.Dict):
        if text.source[start:start + 1] != "{":
            raise Unsure("the dict does not start at its brace")
        if not expr.keys:
            return start, end, SUPER_CONFIG
        return start + 1, start + 1, f"**{SUPER_CONFIG}, "
    if isinstance(expr, ast.Call) and _is_dict_call(expr):
        if expr.args or any(k.arg is None for k in expr.keywords):
            raise Skip("`dict(...)` already has a positional argument")
        opening = re.match(r"[ \t]*\(", text.source[text.end(expr.func):end])
        if opening is None:
            raise Unsure("the call's parenthesis does not follow its name")
        at = text.end(expr.func) + opening.end()
        return at, at, f"{SUPER_CONFIG}, " if expr.keywords else SUPER_CONFIG
    raise Skip("cannot tell where `get_config` builds the dict it returns")
