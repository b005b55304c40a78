"""`cfglint server`: the language server (LSP over stdio, pygls 2).

The editor's text is checked in-process by the same static checker `cfglint check` uses, with the
configuration nearest to the document (`[tool.cfglint]` in a `pyproject.toml`), re-read whenever one of
those files changes: when the client reports it (file watching, or saving it in the editor), and otherwise
on the next save of any buffer, which re-checks every open document. Nothing is imported or executed
from the checked code.

- Diagnostics are pushed (`textDocument/publishDiagnostics`) on open, on save and after changes
  (debounced: the latest text wins), unless the client supports pull diagnostics
  (`textDocument/diagnostic`); then it asks and the server answers, and a configuration change is
  announced with `workspace/diagnostic/refresh`.
- Code actions: per diagnostic the fix when one exists (preferred when safe), "suppress with
  `# noqa: CODE`", and `source.fixAll.cfglint` applying every safe fix.
- A half-typed file is one CFG001 diagnostic; a configuration mistake is one diagnostic on line 1; an
  unexpected error is logged to the client and publishes nothing. No handler lets an exception out.

The package, from the bottom up: `positions` (text and LSP positions), `config_watch` (the configuration of
each directory and noticing its changes), `diagnostics` (a check's result and its diagnostics), `actions`
(quick fixes, `noqa` and fix-all), `protocol` (answering every request, guarding every handler),
`language_server` (the server's state) and `features` (the handlers, `create_server` and `main`).
pygls is imported only here, when the server runs: `cfglint check` never imports this package.
"""

from cfglint.server.actions import FIX_ALL_KIND, noqa_edit
from cfglint.server.config_watch import CONFIG_FILE, LoadedConfig, SettingsCache, config_fingerprint
from cfglint.server.diagnostics import PARSE_ERROR_CODE, SOURCE, CheckResult
from cfglint.server.features import DEBOUNCE_SECONDS, create_server, main
from cfglint.server.language_server import PYTHON_SUFFIXES, CfglintLanguageServer
from cfglint.server.positions import TextPositions, split_lines
from cfglint.server.protocol import AnsweringProtocol

__all__ = [
    "CONFIG_FILE",
    "DEBOUNCE_SECONDS",
    "FIX_ALL_KIND",
    "PARSE_ERROR_CODE",
    "PYTHON_SUFFIXES",
    "SOURCE",
    "AnsweringProtocol",
    "CfglintLanguageServer",
    "CheckResult",
    "LoadedConfig",
    "SettingsCache",
    "TextPositions",
    "config_fingerprint",
    "create_server",
    "main",
    "noqa_edit",
    "split_lines",
]
