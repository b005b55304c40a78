"""One pass over a module's syntax tree (stdlib `ast`) that turns it into `ModuleFacts`.

stdlib `ast` is used for analysis because it parses about ten times faster than libcst and is
already imported by Python itself; libcst is kept for rewriting source (fixes), where formatting must
survive. Every position handed out is 1-based, with columns counted in characters.

The package splits where the work divides: `module` reads imports and finds classes and calls,
`classes` reads one class and calls `init`, `get_config` and `from_config` for those methods,
`lambdas` finds lambdas Keras would serialize. They share `scope` (what the module's names mean) and
`_syntax` (small `ast` helpers); neither imports an extractor, so no import runs back up.
"""

from __future__ import annotations

import ast

from cfglint.extract.lambdas import is_serialized_slot
from cfglint.extract.module import ModuleExtractor
from cfglint.facts import ModuleFacts

__all__ = ["extract", "is_serialized_slot"]


def extract(tree: ast.Module, source: str, path: str, module: str) -> ModuleFacts:
    """Facts of one parsed module."""
    return ModuleExtractor(tree, source, path, module).run()
