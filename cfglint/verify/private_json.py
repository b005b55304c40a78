"""A private copy of the standard `json` package, for the verify worker and its checks.

User modules imported by a worker can monkeypatch `json.dumps` (or `json.JSONEncoder`), and both the
worker's protocol and the plain-JSON stage of the checks (CFG902) encode with JSON: a patch there could
corrupt the protocol or turn a failing class into a verified one. This module loads the `json` package
a second time, under a name of its own, as soon as cfglint is imported in the worker (before any user
code runs), so later patches of `json` never reach it. The C accelerator functions it uses are bound
at load time as well.
"""

from __future__ import annotations

import importlib.util
import json as _public
import os
import sys
from types import ModuleType
from typing import TYPE_CHECKING

_NAME = "_cfglint_private_json"


def _load() -> ModuleType:
    loaded = sys.modules.get(_NAME)
    if loaded is not None:
        return loaded
    folder = os.path.dirname(_public.__file__)
    spec = importlib.util.spec_from_file_location(_NAME, _public.__file__, submodule_search_locations=[folder])
    if spec is None or spec.loader is None:  # pragma: no cover - a Python without a `json` package file
        return _public
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:  # the private copy has the public package's interface
    import json
else:
    json = _load()
dumps = json.dumps
loads = json.loads

__all__ = ["dumps", "json", "loads"]
