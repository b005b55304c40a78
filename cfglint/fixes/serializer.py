"""CFG201, the decision: which config key to wrap in which `<family>.serialize`, or Skip.

Only `ast` facts are read here (no libcst), so `cfglint.fixes.decide` decides with it too;
`cfglint.fixes.serialize` rewrites with what it gives.
"""

from __future__ import annotations

import ast
from collections import Counter

from cfglint.facts import Value
from cfglint.finding import Finding
from cfglint.fixes.site import Analysis, ClassSite, Skip, assignments_to_attr
from cfglint.keras_names import SERIALIZABLE_FAMILIES, keras_path
from cfglint.keras_values import keras_family


def serializer_for(finding: Finding, site: ClassSite) -> tuple[str, str, str]:
    """The config key, the family and the serializer's spelling (`keras.activations.serialize`), or Skip.
    (`ast` only: `cfglint.fixes.decide` decides with it too.)"""
    gc = site.facts.get_config
    if gc is None:
        raise Skip("the class has no `get_config` of its own")
    entry = next((e for e in gc.keys.values()
                  if (e.span.line, e.span.column) == (finding.span.line, finding.span.column)), None)
    if entry is None:
        raise Skip("cannot tell which config key the finding is about")
    key, value = entry.name, entry.value
    if value.kind != "self_attr":
        raise Skip(f"the value of `{key}` is not an attribute set in `__init__`")
    attr = value.text
    _, _, init = site.init_owner()
    params = {p.name for p in init.params}
    family, prefix = _built_by_getter(site, init.self_attrs.get(attr, []), attr, params)
    return key, family, f"{prefix}.serialize"


def _built_by_getter(site: ClassSite, values: list[Value], attr: str, params: set[str]) -> tuple[str, str]:
    """The family and its spelled module when every assignment of `self.<attr>` is
    `<family>.get(<parameter>)` in `__init__`, else Skip."""
    if not values:
        raise Skip(f"`__init__` does not set `self.{attr}`")
    families = {keras_family(v) for v in values}
    family = families.pop() if len(families) == 1 else None
    if family is None or any(v.kind != "call" or v.text.split(".")[-1] != "get" or len(v.items) != 1
                             or v.items[0].kind != "name" or v.items[0].text not in params or v.keywords
                             for v in values):
        raise Skip(f"`self.{attr}` is not built with `{family or 'activations'}.get(argument)` in `__init__`, "
                   "so a reload might not decode a serialized value")
    bindings = [b for _, node in site.ancestors() for b in assignments_to_attr(node, attr)]
    if any(method != "__init__" for method, _ in bindings) or len(bindings) != len(values):
        raise Skip(f"`self.{attr}` is also set outside `__init__`")
    prefix = _prefix(site.analysis, family, [statement for _, statement in bindings])
    return family, prefix


def _prefix(analysis: Analysis, family: str, statements: list[ast.AST]) -> str:
    """How the file spells the family's module: from the `get` call itself, else the spelling the file
    uses most, else through an imported Keras root."""
    imports = analysis.facts.imports
    for statement in statements:
        value = getattr(statement, "value", None)
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
            spelled = _spelling(analysis, value.func.value, family, imports)
            if spelled:
                return spelled
    counts: Counter[str] = Counter()
    for node in ast.walk(analysis.tree):
        if isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Store):
            spelled = _spelling(analysis, node.value, family, imports)
            if spelled:
                counts[spelled] += 1
    if counts:
        return counts.most_common(1)[0][0]
    for name, dotted in sorted(imports.items()):
        if dotted in ("keras", "tf_keras", "tensorflow.keras"):
            return f"{name}.{family}"
        if dotted == "tensorflow":
            return f"{name}.keras.{family}"
    raise Skip(f"the file does not import a Keras module to spell `{family}.serialize` with")


def _spelling(analysis: Analysis, node: ast.AST, family: str, imports: dict[str, str]) -> str | None:
    """The source text of `node` when it names the Keras `family` module (`keras.activations`)."""
    parts: list[str] = []
    current = node
    while isinstance(current, ast.Attribute):
        parts.append(current.attr)
        current = current.value
    if not isinstance(current, ast.Name):
        return None
    parts.append(imports.get(current.id, current.id))
    dotted = ".".join(reversed(parts))
    path = keras_path(dotted)
    if path != family or family not in SERIALIZABLE_FAMILIES:
        return None
    if current.id not in imports:
        return None  # an unresolved name: not certainly the Keras module
    return ast.get_source_segment(analysis.source, node) or None
