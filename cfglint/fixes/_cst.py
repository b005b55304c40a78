"""libcst helpers shared by the fixes: find a class and its methods, append to comma-separated lists
in the layout they already have, build small snippets in the module's own style."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

import libcst as cst

from cfglint.fixes.site import Skip

T = TypeVar("T", bound=cst.CSTNode)


# ------------------------------------------------------------------------------------------- locating
# Finding a class or swapping a method must not cost a visit of the whole module: a file with hundreds
# of fixes would pay it hundreds of times. Statements only nest in these nodes, so walks that look for
# a class or a statement descend through them and never into expressions.
_SUITE_FIELDS: dict[type, tuple[str, ...]] = {
    cst.Module: ("body",), cst.IndentedBlock: ("body",), cst.ClassDef: ("body",), cst.FunctionDef: ("body",),
    cst.If: ("body", "orelse"), cst.Else: ("body",), cst.For: ("body", "orelse"), cst.While: ("body", "orelse"),
    cst.With: ("body",), cst.Try: ("body", "handlers", "orelse", "finalbody"),
    cst.TryStar: ("body", "handlers", "orelse", "finalbody"), cst.ExceptHandler: ("body",),
    cst.ExceptStarHandler: ("body",), cst.Finally: ("body",), cst.Match: ("cases",), cst.MatchCase: ("body",),
}


def _statement_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The children of `node` that are statements or hold statements (by exact type: no ABC checks)."""
    for name in _SUITE_FIELDS.get(type(node), ()):
        value = getattr(node, name)
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            for item in value:
                if type(item) in _SUITE_FIELDS or type(item) is cst.SimpleStatementLine:
                    yield item
        elif type(value) in _SUITE_FIELDS:
            yield value


def _classes(node: cst.CSTNode, name: str, found: list[cst.ClassDef]) -> None:
    """Classes named `name` below `node`, in source order (what a full visit would find)."""
    for child in _statement_children(node):
        if isinstance(child, cst.ClassDef) and child.name.value == name:
            found.append(child)
        if type(child) in _SUITE_FIELDS:
            _classes(child, name, found)


def find_class(module: cst.Module, name: str, index: int) -> cst.ClassDef:
    """The `index`-th class named `name`, in source order (the order is what `ast` sees too)."""
    found: list[cst.ClassDef] = []
    _classes(module, name, found)
    if index >= len(found):
        raise Skip(f"class `{name}` not found")
    return found[index]


def _path_to(node: cst.CSTNode, target: cst.CSTNode) -> list[cst.CSTNode] | None:
    """The chain of statement containers from `node` down to `target` (by identity), or None."""
    for child in _statement_children(node):
        if child is target:
            return [node, child]
        if type(child) in _SUITE_FIELDS:
            below = _path_to(child, target)
            if below is not None:
                return [node, *below]
    return None


def _with_child(parent: T, old: cst.CSTNode, new: cst.CSTNode) -> T:
    """`parent` with its direct child `old` replaced, rebuilding only `parent` itself."""
    for name in _SUITE_FIELDS[type(parent)]:
        value = getattr(parent, name)
        if value is old:
            return parent.with_changes(**{name: new})
        if isinstance(value, (list, tuple)) and any(item is old for item in value):
            return parent.with_changes(**{name: type(value)(new if item is old else item for item in value)})
    raise ValueError("not a direct child")


def class_body(cls: cst.ClassDef) -> cst.IndentedBlock:
    if not isinstance(cls.body, cst.IndentedBlock):
        raise Skip(f"class `{cls.name.value}` is written on one line")
    return cls.body


def find_method(cls: cst.ClassDef, name: str) -> cst.FunctionDef | None:
    """The method Python would use: the last `def name` directly in the class body."""
    found = None
    for stmt in class_body(cls).body:
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value == name:
            found = stmt
    return found


def first_param_name(fn: cst.FunctionDef, default: str = "self") -> str:
    params = list(fn.params.posonly_params) + list(fn.params.params)
    return params[0].name.value if params else default


class _Walker(cst.CSTVisitor):
    """Collects nodes of a function body without entering nested functions, classes or lambdas."""

    def __init__(self) -> None:
        self.nodes: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.nodes.append(node)
        return not isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda))


def body_nodes(fn: cst.FunctionDef) -> list[cst.CSTNode]:
    walker = _Walker()
    fn.body.visit(walker)
    return walker.nodes


class _Finder(cst.CSTVisitor, Generic[T]):
    """Every node of a kind below a node, in source order (pre-order). `libcst.matchers.findall` does
    the same, but importing `libcst.matchers` builds some 400 dataclasses (0.3 s per process)."""

    def __init__(self, kind: type[T]) -> None:
        self.kind = kind
        self.found: list[T] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, self.kind):
            self.found.append(node)
        return True


def find_all(node: cst.CSTNode, kind: type[T]) -> list[T]:
    """The nodes of type `kind` in `node` (itself included), in source order."""
    finder = _Finder(kind)
    node.visit(finder)
    return finder.found


def top_level_small(fn: cst.FunctionDef
                    ) -> Iterator[tuple[int, cst.SimpleStatementLine, cst.BaseSmallStatement]]:
    """(index in the body, line, small statement) for the simple statements directly in the body."""
    if not isinstance(fn.body, cst.IndentedBlock):
        raise Skip(f"`{fn.name.value}` is written on one line")
    for index, stmt in enumerate(fn.body.body):
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                yield index, stmt, small


def returns(fn: cst.FunctionDef) -> list[cst.Return]:
    return [n for n in body_nodes(fn) if isinstance(n, cst.Return)]


def names_used(node: cst.CSTNode) -> set[str]:
    return {n.value for n in find_all(node, cst.Name)}


def string_value(node: cst.CSTNode | None) -> str | None:
    """The value of a plain string literal (not an f-string, not concatenated), else None."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def quote_of(*nodes: cst.CSTNode) -> str:
    """The quote character string literals use in the first of `nodes` that has one (double quotes
    when none has)."""
    for node in nodes:
        # a module is searched statement by statement, so the search stops at the first literal
        # instead of walking every expression of a large file
        for part in (node.body if isinstance(node, cst.Module) else (node,)):
            for string in find_all(part, cst.SimpleString):
                text = string.value.lstrip("rRbBuU")
                if text[:1] in ("'", '"') and not text.startswith(("'''", '"""')):
                    return str(text[0])
    return '"'


def string_literal(value: str, quote: str) -> cst.SimpleString:
    if quote in value or "\\" in value:
        quote = '"' if quote == "'" else "'"
    return cst.SimpleString(f"{quote}{value}{quote}")


def is_super_call(node: cst.CSTNode, method: str) -> bool:
    """`super().method(...)`."""
    return (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
            and node.func.attr.value == method and isinstance(node.func.value, cst.Call)
            and isinstance(node.func.value.func, cst.Name) and node.func.value.func.value == "super")


def super_get_config() -> cst.Call:
    return cst.parse_expression("super().get_config()")  # type: ignore[return-value]


def self_attr(self_name: str, attr: str) -> cst.Attribute:
    return cst.Attribute(value=cst.Name(self_name), attr=cst.Name(attr))


# ------------------------------------------------------------------------------------------- layout
def _clean(ws: cst.BaseParenthesizableWhitespace) -> cst.BaseParenthesizableWhitespace:
    """The same whitespace without a comment or blank lines (for copying a separator)."""
    if isinstance(ws, cst.ParenthesizedWhitespace):
        return ws.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
    return ws


def _separator(items: Sequence[cst.CSTNode], opening: cst.BaseParenthesizableWhitespace) -> cst.Comma:
    """The comma (and whitespace after it) the list uses between items."""
    if len(items) >= 2 and isinstance(items[-2].comma, cst.Comma):  # type: ignore[attr-defined]
        comma = items[-2].comma  # type: ignore[attr-defined]
        return comma.with_changes(whitespace_after=_clean(comma.whitespace_after))
    if isinstance(opening, cst.ParenthesizedWhitespace):
        return cst.Comma(whitespace_after=_clean(opening))
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def append_item(items: Sequence[T], new: T, opening: cst.BaseParenthesizableWhitespace,
                tail: str | None = None, closing: cst.BaseParenthesizableWhitespace | None = None
                ) -> tuple[list[T], cst.BaseParenthesizableWhitespace | None]:
    """`items` + `new`, laid out like the items already are (one per line, trailing comma or not),
    and the new whitespace before the closing bracket.

    `opening` is the whitespace after the opening bracket; `tail` names the attribute holding the
    whitespace after an item when it is the last one (`whitespace_after_arg` for call arguments);
    `closing` is the whitespace before the closing bracket when the node keeps it there (dicts). A
    comment that ended the last item's line stays on that line."""
    items = list(items)
    if not items:
        return [new], closing
    last = items[-1]
    trailing = last.comma  # type: ignore[attr-defined]
    home, end = None, None
    if isinstance(trailing, cst.Comma) and isinstance(trailing.whitespace_after, cst.ParenthesizedWhitespace):
        home, end = "comma", trailing.whitespace_after
    elif not isinstance(trailing, cst.Comma) and tail is not None \
            and isinstance(getattr(last, tail, None), cst.ParenthesizedWhitespace):
        home, end = "tail", getattr(last, tail)
    elif isinstance(closing, cst.ParenthesizedWhitespace):
        home, end = "bracket", closing
    indent = _item_indent(items, opening)
    if end is None or indent is None:  # one line: `a, b` → `a, b, new`
        separator = _separator(items, opening)
        if isinstance(trailing, cst.Comma):
            items[-1] = last.with_changes(comma=separator)
            new = new.with_changes(comma=trailing)
        else:
            changes: dict[str, object] = {"comma": separator}
            if tail is not None and hasattr(last, tail):
                new = new.with_changes(**{tail: getattr(last, tail)})
                changes[tail] = cst.SimpleWhitespace("")
            items[-1] = last.with_changes(**changes)
        return [*items, new], closing
    assert isinstance(end, cst.ParenthesizedWhitespace)
    separator = cst.Comma(whitespace_after=cst.ParenthesizedWhitespace(
        first_line=end.first_line, empty_lines=end.empty_lines, indent=end.indent, last_line=indent))
    clean_end = _clean(end)
    last_changes: dict[str, object] = {"comma": separator}
    new_changes: dict[str, object] = {}
    if isinstance(trailing, cst.Comma):
        new_changes["comma"] = trailing.with_changes(whitespace_after=clean_end) if home == "comma" else trailing
    if home == "tail":
        last_changes[tail] = cst.SimpleWhitespace("")  # type: ignore[index]
        new_changes[tail] = clean_end  # type: ignore[index]
    items[-1] = last.with_changes(**last_changes)
    new = new.with_changes(**new_changes)
    return [*items, new], (clean_end if home == "bracket" else closing)


def _item_indent(items: Sequence[cst.CSTNode],
                 opening: cst.BaseParenthesizableWhitespace) -> cst.SimpleWhitespace | None:
    """The indentation of items laid out one per line, or None."""
    if len(items) >= 2:
        comma = items[-2].comma  # type: ignore[attr-defined]
        if isinstance(comma, cst.Comma) and isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace):
            return comma.whitespace_after.last_line
        return None
    if isinstance(opening, cst.ParenthesizedWhitespace):
        return opening.last_line
    return None


def append_dict_element(node: cst.Dict, element: cst.BaseDictElement) -> cst.Dict:
    elements, closing = append_item(node.elements, element, node.lbrace.whitespace_after,
                                    closing=node.rbrace.whitespace_before)
    return node.with_changes(elements=elements, rbrace=node.rbrace.with_changes(whitespace_before=closing))


def _leading_separator(opening: cst.BaseParenthesizableWhitespace) -> cst.Comma:
    """The comma after an item put first: a new line when the items are one per line."""
    if isinstance(opening, cst.ParenthesizedWhitespace):
        return cst.Comma(whitespace_after=_clean(opening))
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def prepend_dict_element(node: cst.Dict, element: cst.BaseDictElement) -> cst.Dict:
    """`{**super().get_config(), ...}`: the new element first."""
    if not node.elements:
        return node.with_changes(elements=[element])
    element = element.with_changes(comma=_leading_separator(node.lbrace.whitespace_after))
    return node.with_changes(elements=[element, *node.elements])


def append_arg(call: cst.Call, arg: cst.Arg) -> cst.Call:
    args, _ = append_item(call.args, arg, call.whitespace_before_args, "whitespace_after_arg")
    return call.with_changes(args=args)


def prepend_arg(call: cst.Call, arg: cst.Arg) -> cst.Call:
    if not call.args:
        return call.with_changes(args=[arg])
    arg = arg.with_changes(comma=_leading_separator(call.whitespace_before_args))
    return call.with_changes(args=[arg, *call.args])


def keyword_arg(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(value=value, keyword=cst.Name(name),
                   equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                         whitespace_after=cst.SimpleWhitespace("")))


def add_star_kwarg(fn: cst.FunctionDef, name: str) -> cst.FunctionDef:
    """`def f(self, a)` → `def f(self, a, **name)`, keeping the parameter list's layout."""
    params = fn.params
    if params.star_kwarg is not None:
        raise Skip("`__init__` already takes a var-keyword parameter")
    slots: list[tuple[str, cst.CSTNode]] = []
    slots += [("posonly", p) for p in params.posonly_params]
    if isinstance(params.posonly_ind, cst.ParamSlash):
        slots.append(("slash", params.posonly_ind))
    slots += [("params", p) for p in params.params]
    if isinstance(params.star_arg, (cst.Param, cst.ParamStar)):
        slots.append(("star", params.star_arg))
    slots += [("kwonly", p) for p in params.kwonly_params]
    new = cst.Param(name=cst.Name(name), star="**")
    nodes, _ = append_item([node for _, node in slots], new, fn.whitespace_before_params,
                           "whitespace_after_param")
    rebuilt: dict[str, list[cst.CSTNode]] = {"posonly": [], "params": [], "kwonly": []}
    changes: dict[str, object] = {}
    for (kind, _), node in zip(slots, nodes, strict=False):  # `nodes` ends with the new one
        if kind == "slash":
            changes["posonly_ind"] = node
        elif kind == "star":
            changes["star_arg"] = node
        else:
            rebuilt[kind].append(node)
    return fn.with_changes(params=params.with_changes(
        posonly_params=rebuilt["posonly"], params=rebuilt["params"], kwonly_params=rebuilt["kwonly"],
        star_kwarg=nodes[-1], **changes))


# ------------------------------------------------------------------------------------------- snippets
def parse_method(module: cst.Module, code: str) -> cst.FunctionDef:
    """A method written at column 0 with the module's indentation and newline."""
    indent = module.default_indent
    text = code.replace("    ", indent).replace("\n", module.default_newline)
    statement = cst.parse_statement(text, config=module.config_for_parsing)
    assert isinstance(statement, cst.FunctionDef)
    return statement


def parse_line(module: cst.Module, code: str) -> cst.SimpleStatementLine:
    statement = cst.parse_statement(code + module.default_newline, config=module.config_for_parsing)
    assert isinstance(statement, cst.SimpleStatementLine)
    return statement


def blank_lines_between_methods(cls: cst.ClassDef) -> int:
    """How many blank lines the class puts before its methods (1 when it has no other method)."""
    counts = [sum(1 for line in stmt.leading_lines if line.comment is None)
              for stmt in class_body(cls).body[1:] if isinstance(stmt, cst.FunctionDef)]
    return counts[-1] if counts else 1


def append_method(cls: cst.ClassDef, method: cst.FunctionDef) -> cst.ClassDef:
    """Add a method at the end of the class body, separated like the class's other methods."""
    body = class_body(cls)
    blank = blank_lines_between_methods(cls)
    method = method.with_changes(leading_lines=[cst.EmptyLine(indent=False) for _ in range(blank)])
    return cls.with_changes(body=body.with_changes(body=[*body.body, method]))


def replace_in(root: T, old: cst.CSTNode, new: cst.CSTNode) -> T:
    """`root` with the node `old` (by identity) replaced. A statement (a class, a method) is found through
    statement containers and only the nodes on its path are rebuilt; anything else takes libcst's
    `deep_replace`, a visit of `root` (callers pass a small root, such as one method, for those)."""
    path = _path_to(root, old)
    if path is None:
        return root.deep_replace(old, new)  # type: ignore[return-value]
    replacement = new
    for parent, child in zip(reversed(path[:-1]), reversed(path[1:]), strict=True):
        replacement = _with_child(parent, child, replacement)
    return replacement  # type: ignore[return-value]
