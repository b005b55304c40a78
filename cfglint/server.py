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
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import functools
import logging
import os
import re
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path
from pygls.workspace.position_codec import PositionCodec, ServerTextPosition

from cfglint import __version__
from cfglint.finding import Finding, Severity, Span
from cfglint.noqa import _NOQA, is_suppressed, parse_noqa
from cfglint.reporters.sarif import RULES_DOC_URI

logger = logging.getLogger(__name__)

SOURCE = "cfglint"
DEBOUNCE_SECONDS = 0.3
FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.{SOURCE}"  # source.fixAll.cfglint
CONFIG_FILE = "pyproject.toml"
PYTHON_SUFFIXES = (".py", ".pyi")
PARSE_ERROR_CODE = "CFG001"

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")  # LSP line breaks: \n, \r\n and \r only

T = TypeVar("T")


# ---------------------------------------------------------------------------------------------- text
def split_lines(text: str) -> list[str]:
    """Lines with their line breaks, split where LSP (and Python's tokenizer) split them."""
    return _LINE.findall(text)


class TextPositions:
    """Converts 0-based (line, code point) positions in one text snapshot to LSP positions.

    Code points become the client's units (UTF-16 by default, UTF-8 or UTF-32 when negotiated) through
    pygls's position codec, the one the workspace applies to incoming changes. Lines are split where
    LSP splits them (`split_lines`), not where `str.splitlines` does (form feeds, U+2028 ...)."""

    def __init__(self, text: str, codec: PositionCodec | str) -> None:
        self.text = text
        self.lines = split_lines(text)
        self.codec = codec if isinstance(codec, PositionCodec) else PositionCodec(codec)

    def content(self, line: int) -> str:
        """The text of a 0-based line without its line break ("" beyond the end)."""
        if 0 <= line < len(self.lines):
            return self.lines[line].rstrip("\r\n")
        return ""

    def position(self, line: int, character: int) -> types.Position:
        """A position clamped to the text: past the last line is the end of the text."""
        line = max(line, 0)
        if line >= len(self.lines):
            return self.end()
        character = min(max(character, 0), len(self.content(line)))
        return self.codec.position_to_client_units(self.lines, ServerTextPosition(line, character))

    def end(self) -> types.Position:
        if not self.lines or self.lines[-1].endswith(("\n", "\r")):
            return types.Position(line=len(self.lines), character=0)
        last = len(self.lines) - 1
        return types.Position(line=last, character=self.codec.client_num_units(self.lines[last]))

    def span_range(self, span: Span) -> types.Range:
        """The LSP range of a 1-based, end-exclusive span."""
        start = self.position(span.line - 1, span.column - 1)
        end = self.position(span.end_line - 1, span.end_column - 1)
        if (end.line, end.character) < (start.line, start.character):
            end = start
        return types.Range(start=start, end=end)

    def replacement(self, new_text: str) -> types.TextEdit | None:
        """The smallest whole-line edit turning this text into `new_text` (None when equal)."""
        if new_text == self.text:
            return None
        old, new = self.lines, split_lines(new_text)
        prefix = 0
        while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
            prefix += 1
        suffix = 0
        while (suffix < min(len(old), len(new)) - prefix
               and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]):
            suffix += 1
        start = types.Position(line=prefix, character=0) if prefix < len(old) else self.end()
        end_line = len(old) - suffix
        end = types.Position(line=end_line, character=0) if end_line < len(old) else self.end()
        return types.TextEdit(range=types.Range(start=start, end=end),
                              new_text="".join(new[prefix:len(new) - suffix]))


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


def _overlaps(a: types.Range, b: types.Range) -> bool:
    """Whether two ranges touch (an empty range at a diagnostic's edge counts: a cursor there)."""
    return not ((a.end.line, a.end.character) < (b.start.line, b.start.character)
                or (b.end.line, b.end.character) < (a.start.line, a.start.character))


# ----------------------------------------------------------------------------------- configuration
def config_fingerprint(directory: str) -> tuple[tuple[str, int, int, int], ...]:
    """The identity of every `pyproject.toml` from `directory` up to the filesystem root: any file
    appearing, changing or disappearing there changes it. A few `stat` calls."""
    result = []
    current = os.path.abspath(directory)
    while True:
        candidate = os.path.join(current, CONFIG_FILE)
        try:
            stat = os.stat(candidate)
        except OSError:
            pass
        else:
            result.append((candidate, stat.st_mtime_ns, stat.st_size, stat.st_ino))
        parent = os.path.dirname(current)
        if parent == current:
            return tuple(result)
        current = parent


@dataclass(frozen=True)
class LoadedConfig:
    """The settings and resolver for one directory, or the configuration error found there."""

    fingerprint: tuple[Any, ...]
    base: Any = None  # cfglint.config.Settings
    resolver: Any = None  # cfglint.settings_resolver.SettingsResolver
    error: str | None = None


class SettingsCache:
    """The configuration of each directory, loaded once and re-loaded when its fingerprint changes."""

    def __init__(self) -> None:
        self._entries: dict[str, LoadedConfig] = {}

    def get(self, directory: str) -> LoadedConfig:
        fingerprint = config_fingerprint(directory)
        entry = self._entries.get(directory)
        if entry is None or entry.fingerprint != fingerprint:
            entry = self._entries[directory] = _load_config(directory, fingerprint)
        return entry

    def stale(self) -> bool:
        """Whether a `pyproject.toml` above a loaded directory appeared, changed or disappeared since."""
        return any(config_fingerprint(directory) != entry.fingerprint
                   for directory, entry in list(self._entries.items()))


def _load_config(directory: str, fingerprint: tuple[Any, ...]) -> LoadedConfig:
    """As `cfglint check` does for one file: the nearest configuration is the base, and a resolver
    hands each path the configuration nearest to it (no command-line overrides)."""
    from cfglint.config import ConfigError, load_settings
    from cfglint.rules import ALL_RULES, DEFAULT_CODES
    from cfglint.settings_resolver import SettingsResolver

    try:
        base = load_settings(Path(directory), known_codes=ALL_RULES)
        resolver = SettingsResolver(base, all_codes=ALL_RULES, default_codes=DEFAULT_CODES)
        resolver.for_path(os.path.join(directory, "__cfglint__.py"))  # surfaces errors of nested configs now
    except ConfigError as exc:
        return LoadedConfig(fingerprint, error=str(exc))
    return LoadedConfig(fingerprint, base, resolver)


@functools.lru_cache(maxsize=1)
def _fixes_module() -> Any | None:
    """`cfglint.fixes` when it is installed and importable; without it the server offers no fixes.
    Looked up once per process: a module that fails to import is not retried on every keystroke."""
    try:
        from cfglint import fixes
    except ImportError:
        return None
    except Exception:
        logger.exception("cfglint.fixes cannot be imported; quick fixes are disabled")
        return None
    return fixes


# ---------------------------------------------------------------------------------------- results
@dataclass
class CheckResult:
    """The outcome of checking one text snapshot of a document."""

    uri: str
    version: int | None
    text: str
    path: str
    fingerprint: tuple[Any, ...] = ()
    findings: list[Finding] = field(default_factory=list)
    config_error: str | None = None
    excluded: bool = False
    failed: bool = False  # an unexpected error: publish nothing
    fixed: dict[tuple[str, Span], str | None] = field(default_factory=dict)  # fix_one results
    fix_safe: dict[tuple[str, Span], bool] = field(default_factory=dict)  # whether that fix passed validation
    fixed_all: str | None = None

    def matches(self, text: str, version: int | None, fingerprint: tuple[Any, ...]) -> bool:
        return self.text == text and self.version == version and self.fingerprint == fingerprint


def _finding_key(finding: Finding) -> tuple[str, tuple[int, int, int, int]]:
    span = finding.span
    return finding.code, (span.line, span.column, span.end_line, span.end_column)


# ----------------------------------------------------------------------------------------- server
def _guarded(default: Callable[[], Any] = lambda: None) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Handlers never let an exception out: it is logged (stderr and the client's log) instead."""

    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        if asyncio.iscoroutinefunction(handler):
            @functools.wraps(handler)
            async def run_async(ls: CfglintLanguageServer, *args: Any) -> Any:
                try:
                    return await handler(ls, *args)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    ls.log_exception(handler.__name__)
                    return default()
            return run_async

        @functools.wraps(handler)
        def run(ls: CfglintLanguageServer, *args: Any) -> Any:
            try:
                return handler(ls, *args)
            except Exception:
                ls.log_exception(handler.__name__)
                return default()
        return run

    return decorate


class AnsweringProtocol(LanguageServerProtocol):
    """pygls drops a request whose parameters do not deserialize (`codeAction` with `{}`) after showing
    "Invalid Params" to the user: the client then waits for an answer forever. This protocol answers
    such a request with the JSON-RPC error instead, as the specification asks."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if isinstance(data, dict) and "id" in data and "method" in data:
                self._send_response(data["id"], error=error.to_response_error())
                return _ANSWERED
            raise

    def handle_message(self, message: Any) -> None:
        if message is not _ANSWERED:
            super().handle_message(message)


_ANSWERED = object()  # a request already answered with an error while it was read


class CfglintLanguageServer(LanguageServer):
    """The server's state: open documents, pending checks, cached configurations and results."""

    def __init__(self) -> None:
        super().__init__("cfglint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         protocol_cls=AnsweringProtocol)
        # every check runs in one worker thread, in order: the event loop stays free to read messages
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cfglint-check")
        self._settings = SettingsCache()
        self._open: set[str] = set()
        self._pending: dict[str, asyncio.Task[None]] = {}
        self._results: dict[str, CheckResult] = {}
        self._last_items: dict[str, list[types.Diagnostic]] = {}
        self._shown_errors: set[str] = set()
        self.shutdown_requested = False
        self._loop: asyncio.AbstractEventLoop | None = None

    # ---------------------------------------------------------------- client capabilities
    def _capability(self, *names: str) -> Any:
        value: Any = self.client_capabilities
        for name in names:
            value = getattr(value, name, None)
            if value is None:
                return None
        return value

    @property
    def pull_mode(self) -> bool:
        """The client asks for diagnostics (`textDocument/diagnostic`); then none are pushed."""
        return self._capability("text_document", "diagnostic") is not None

    @property
    def codec(self) -> PositionCodec:
        """The position encoding negotiated at `initialize` (pygls's codec for it)."""
        return self.workspace.position_codec

    # ---------------------------------------------------------------- logging
    def log_exception(self, where: str) -> None:
        """Log the exception being handled to stderr and to the client's log (from any thread)."""
        message = f"cfglint server: unexpected error in {where}:\n{traceback.format_exc()}"
        logger.error(message)

        def send() -> None:
            with contextlib.suppress(Exception):  # the connection may be gone; stderr has it
                self.window_log_message(types.LogMessageParams(type=types.MessageType.Error, message=message))

        try:
            asyncio.get_running_loop()
        except RuntimeError:  # the worker thread: messages are written from the event loop only
            if self._loop is not None:
                self._loop.call_soon_threadsafe(send)
            return
        send()

    def _show_config_error(self, error: str) -> None:
        if error in self._shown_errors:
            return
        self._shown_errors.add(error)
        self.window_show_message(types.ShowMessageParams(
            type=types.MessageType.Error, message=f"cfglint: configuration error: {error}"))

    # ---------------------------------------------------------------- documents
    def path_of(self, uri: str) -> str:
        path = to_fs_path(uri)
        if path:
            # a `%00` in the URI decodes to a NUL, which no file name holds and every OS call refuses: the
            # path only finds the configuration and names the module, so the rest of it still serves
            return path.replace("\x00", "_")
        name = uri.rstrip("/").rsplit("/", 1)[-1]
        root = self.workspace.root_path or os.getcwd()
        return os.path.join(root, name if name.endswith(PYTHON_SUFFIXES) else "untitled.py")

    def is_python(self, uri: str, language_id: str | None = None) -> bool:
        return language_id == "python" or (to_fs_path(uri) or uri).endswith(PYTHON_SUFFIXES)

    def is_config(self, uri: str) -> bool:
        return (to_fs_path(uri) or uri).replace("\\", "/").rsplit("/", 1)[-1] == CONFIG_FILE

    def _snapshot(self, uri: str) -> tuple[str, int | None, str | None]:
        document = self.workspace.get_text_document(uri)
        return document.source, document.version, document.language_id

    # ---------------------------------------------------------------- checking (worker thread)
    def _check(self, uri: str, text: str, version: int | None) -> CheckResult:
        path = self.path_of(uri)
        config = self._settings.get(os.path.dirname(os.path.abspath(path)))
        result = CheckResult(uri, version, text, path, config.fingerprint)
        if config.error is not None:
            result.config_error = config.error
            return result
        try:
            from cfglint.discovery import is_excluded
            from cfglint.engine import Checker

            file_settings = config.resolver.for_path(path)
            if is_excluded(path, file_settings.settings):
                result.excluded = True
                return result
            checker = Checker(config.base, resolver=config.resolver)
            try:
                result.findings = checker.check_source(text, path)
            finally:
                checker.close()
        except Exception:
            self.log_exception(f"checking {path}")
            result.failed = True
        return result

    async def in_worker(self, function: Callable[..., T], *args: Any) -> T:
        self._loop = asyncio.get_running_loop()
        return await self._loop.run_in_executor(self._worker, function, *args)

    async def check(self, uri: str, text: str, version: int | None) -> CheckResult:
        """Check a snapshot now and remember the result (for code actions)."""
        result = await self.in_worker(self._check, uri, text, version)
        if result.config_error is not None:
            self._show_config_error(result.config_error)
        if not result.failed:
            self._results[uri] = result
        return result

    async def result_for(self, uri: str, text: str, version: int | None) -> CheckResult:
        """The remembered result when it is for this very text and configuration, else a new one."""
        cached = self._results.get(uri)
        if cached is not None:
            fingerprint = await self.in_worker(config_fingerprint, os.path.dirname(os.path.abspath(cached.path)))
            if cached.matches(text, version, fingerprint):
                return cached
        return await self.check(uri, text, version)

    # ---------------------------------------------------------------- diagnostics
    def diagnostics(self, result: CheckResult) -> list[types.Diagnostic]:
        positions = TextPositions(result.text, self.codec)
        if result.config_error is not None:
            first = positions.content(0)
            return [types.Diagnostic(
                range=types.Range(start=types.Position(line=0, character=0), end=positions.position(0, len(first))),
                message=f"cfglint configuration error: {result.config_error}",
                severity=types.DiagnosticSeverity.Error,
                source=SOURCE,
            )]
        fixes = _fixes_module()
        catalog = getattr(fixes, "FIXES", {}) if fixes is not None else {}
        return [self._diagnostic(finding, positions, result.version, catalog) for finding in result.findings]

    @staticmethod
    def _diagnostic(finding: Finding, positions: TextPositions, version: int | None,
                    catalog: Any) -> types.Diagnostic:
        span = finding.span
        info = catalog.get(finding.code) if hasattr(catalog, "get") else None
        return types.Diagnostic(
            range=positions.span_range(span),
            message=finding.message,
            severity=_SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
            code=finding.code,
            code_description=types.CodeDescription(href=f"{RULES_DOC_URI}#{finding.code.lower()}"),
            source=SOURCE,
            data={
                "code": finding.code,
                "name": finding.name,
                "span": [span.line, span.column, span.end_line, span.end_column],
                "severity": finding.severity.value,
                "class_name": finding.class_name,
                "version": version,
                "fixable": info is not None,
                "safe": bool(getattr(info, "safe", False)) if info is not None else None,
            },
        )

    def schedule(self, uri: str, delay: float) -> None:
        """(Re)start the check of an open document after `delay`; a newer change cancels it."""
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        self._pending[uri] = asyncio.ensure_future(self._publish_later(uri, delay))

    async def _publish_later(self, uri: str, delay: float) -> None:
        try:
            if delay:
                await asyncio.sleep(delay)
            if uri not in self._open:
                return
            text, version, _ = self._snapshot(uri)
            result = await self.check(uri, text, version)
            if uri not in self._open or self._snapshot(uri)[1] != version or result.failed:
                return  # closed, or changed meanwhile (a newer check is scheduled), or nothing to say
            items = self.diagnostics(result)
            self._last_items[uri] = items
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=items))
        except asyncio.CancelledError:
            raise
        except Exception:
            self.log_exception("publishing diagnostics")
        finally:
            if self._pending.get(uri) is asyncio.current_task():
                del self._pending[uri]

    async def pull(self, uri: str) -> list[types.Diagnostic]:
        text, version, language_id = self._snapshot(uri)
        if not self.is_python(uri, language_id):
            return []
        result = await self.check(uri, text, version)
        if result.failed:
            return self._last_items.get(uri, [])
        items = self.diagnostics(result)
        self._last_items[uri] = items
        return items

    def configuration_changed(self) -> None:
        """A `pyproject.toml` changed: forget every loaded configuration and check again."""
        self._settings = SettingsCache()
        self._shown_errors.clear()
        _forget_package_layout()
        if self.pull_mode:
            if self._capability("workspace", "diagnostics", "refresh_support"):
                self.workspace_diagnostic_refresh(None)
            return
        for uri in list(self._open):
            self.schedule(uri, 0)

    # ---------------------------------------------------------------- code actions (worker thread)
    def code_actions(self, result: CheckResult, params: types.CodeActionParams) -> list[types.CodeAction]:
        if result.config_error is not None or not result.findings:
            return []
        positions = TextPositions(result.text, self.codec)
        fixes = _fixes_module()
        catalog = getattr(fixes, "FIXES", {}) if fixes is not None else {}
        wanted_keys = {
            (d.data["code"], tuple(d.data["span"]))
            for d in params.context.diagnostics
            if d.source == SOURCE and isinstance(d.data, dict) and "code" in d.data and "span" in d.data
        }
        only = params.context.only
        actions: list[types.CodeAction] = []
        if _wanted(only, types.CodeActionKind.QuickFix.value):
            for finding in result.findings:
                diagnostic = self._diagnostic(finding, positions, result.version, catalog)
                if not (_overlaps(diagnostic.range, params.range) or _finding_key(finding) in wanted_keys):
                    continue
                fix = self._fix_action(result, finding, diagnostic, positions, fixes, catalog)
                if fix is not None:
                    actions.append(fix)
                noqa = self._noqa_action(result, finding, diagnostic, positions)
                if noqa is not None:
                    actions.append(noqa)
        if _wanted(only, FIX_ALL_KIND) and fixes is not None:
            fix_all = self._fix_all_action(result, positions, fixes, catalog)
            if fix_all is not None:
                actions.append(fix_all)
        return actions

    def _edit(self, result: CheckResult, edits: Sequence[types.TextEdit]) -> types.WorkspaceEdit:
        if self._capability("workspace", "workspace_edit", "document_changes"):
            return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=result.uri, version=result.version),
                edits=list(edits))])
        return types.WorkspaceEdit(changes={result.uri: list(edits)})

    def _fix_action(self, result: CheckResult, finding: Finding, diagnostic: types.Diagnostic,
                    positions: TextPositions, fixes: Any, catalog: Any) -> types.CodeAction | None:
        info = catalog.get(finding.code) if fixes is not None else None
        if info is None:
            return None
        key = (finding.code, finding.span)
        if key not in result.fixed:
            checked = None
            try:
                checked = fixes.check_one(result.text, finding, self._recheck(result), result.findings)
            except Exception:
                self.log_exception(f"fixing {finding.code}")
            fixed = checked[0] if checked is not None else None
            ok = isinstance(fixed, str) and fixed != result.text and _parses(fixed)
            result.fixed[key] = fixed if ok else None
            result.fix_safe[key] = bool(checked[1]) if ok and checked is not None else False
        fixed = result.fixed[key]
        edit = positions.replacement(fixed) if fixed is not None else None
        if edit is None:
            return None
        safe = result.fix_safe.get(key, False)  # a fix marked safe that validation held back is unsafe here
        title = str(getattr(info, "title", "") or "apply the fix")
        return types.CodeAction(
            title=f"Fix {finding.code}: {title}" + ("" if safe else " (unsafe)"),
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            is_preferred=safe,
            edit=self._edit(result, [edit]),
        )

    def _recheck(self, result: CheckResult) -> Any:
        """What validates a fix of this document: a fresh check with the document's configuration."""
        from cfglint.engine import Checker
        from cfglint.fixes.safety import Recheck

        config = self._settings.get(os.path.dirname(os.path.abspath(result.path)))
        if config.error is not None or config.resolver is None:
            raise RuntimeError(f"no configuration to check fixes with: {config.error}")
        return Recheck(lambda: Checker(config.base, resolver=config.resolver))

    def _noqa_action(self, result: CheckResult, finding: Finding, diagnostic: types.Diagnostic,
                     positions: TextPositions) -> types.CodeAction | None:
        if finding.code == PARSE_ERROR_CODE:
            return None
        edit = noqa_edit(positions, finding.span.line - 1, finding.code)
        if edit is None:
            return None
        return types.CodeAction(
            title=f"Suppress {finding.code} with `# noqa`",
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            edit=self._edit(result, [edit]),
        )

    def _fix_all_action(self, result: CheckResult, positions: TextPositions, fixes: Any,
                        catalog: Any) -> types.CodeAction | None:
        if not any(getattr(catalog.get(f.code), "safe", False) for f in result.findings):
            return None
        action = types.CodeAction(title="cfglint: fix all safely fixable problems", kind=FIX_ALL_KIND)
        properties = self._capability("text_document", "code_action", "resolve_support", "properties") or []
        if "edit" in properties:  # computed only when the client picks it (codeAction/resolve)
            action.data = {"uri": result.uri, "version": result.version}
            return action
        edit = self.fix_all_edit(result, positions, fixes)
        if edit is None:
            return None
        action.edit = edit
        return action

    def fix_all_edit(self, result: CheckResult, positions: TextPositions, fixes: Any) -> types.WorkspaceEdit | None:
        if result.fixed_all is None:
            try:
                outcome = fixes.fix_source(result.text, result.findings, unsafe=False, check=self._recheck(result))
                fixed = outcome.source
            except Exception:
                self.log_exception("fixing all")
                fixed = result.text
            result.fixed_all = fixed if isinstance(fixed, str) and _parses(fixed) else result.text
        edit = positions.replacement(result.fixed_all)
        return self._edit(result, [edit]) if edit is not None else None


def _wanted(only: Sequence[str] | None, kind: str) -> bool:
    """Whether a code action of `kind` passes the client's `only` filter (a kind covers its sub-kinds)."""
    if not only:
        return True
    names = [str(getattr(o, "value", o)) for o in only]
    return any(kind == name or kind.startswith(f"{name}.") for name in names)


def noqa_edit(positions: TextPositions, line: int, code: str) -> types.TextEdit | None:
    """The edit that adds `code` to the `# noqa` comment of a 0-based line, or appends one.

    None when the result would not suppress the code or would not parse (a line continued with a
    backslash), or when a bare `# noqa` already suppresses everything there."""
    if not 0 <= line < len(positions.lines):
        return None
    content = positions.content(line)
    directives = list(re.finditer(_NOQA, content, re.IGNORECASE))
    if directives:
        last = directives[-1]
        if last.group("colon") is None:
            return None
        if last.group("codes"):
            start = end = last.end("codes")
            insertion = f", {code}"
        else:
            start = end = last.end("colon")
            insertion = f" {code}"
    else:
        start, end = len(content.rstrip()), len(content)
        insertion = f"  # noqa: {code}"
    new_line = content[:start] + insertion + content[end:]
    new_lines = list(positions.lines)
    new_lines[line] = new_line + positions.lines[line][len(content):]
    new_text = "".join(new_lines)
    if not is_suppressed(parse_noqa(new_text), line + 1, code) or not _parses(new_text):
        return None
    return types.TextEdit(
        range=types.Range(start=positions.position(line, start), end=positions.position(line, end)),
        new_text=insertion,
    )


def _forget_package_layout() -> None:
    """Module names are cached per directory; a long-lived server must notice new `__init__.py` files."""
    with contextlib.suppress(Exception):
        from cfglint import project

        clear = getattr(getattr(project, "_package", None), "cache_clear", None)
        if clear is not None:
            clear()


# ----------------------------------------------------------------------------------------- features
def create_server() -> CfglintLanguageServer:
    server = CfglintLanguageServer()

    @server.feature(types.INITIALIZED)
    @_guarded()
    def initialized(ls: CfglintLanguageServer, params: types.InitializedParams) -> None:
        if not ls._capability("workspace", "did_change_watched_files", "dynamic_registration"):
            return  # the configuration is still re-read: each check compares the files' stat
        registration = types.Registration(
            id="cfglint-pyproject-watcher",
            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern=f"**/{CONFIG_FILE}")]),
        )
        ls.client_register_capability(types.RegistrationParams(registrations=[registration]))

    @server.feature(types.SHUTDOWN)
    @_guarded()
    def shutdown(ls: CfglintLanguageServer, *args: Any) -> None:
        ls.shutdown_requested = True
        for task in ls._pending.values():
            task.cancel()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @_guarded()
    def did_open(ls: CfglintLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        document = params.text_document
        if not ls.is_python(document.uri, document.language_id):
            return
        ls._open.add(document.uri)
        if not ls.pull_mode:
            ls.schedule(document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @_guarded()
    def did_change(ls: CfglintLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri in ls._open and not ls.pull_mode:
            ls.schedule(uri, DEBOUNCE_SECONDS)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    @_guarded()
    def did_save(ls: CfglintLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        # saving any buffer is when a configuration edited elsewhere (another editor, a `git checkout`,
        # a client that does not watch files) is noticed: every open document is checked again
        if ls.is_config(uri) or ls._settings.stale():
            ls.configuration_changed()
            return
        _forget_package_layout()
        if uri in ls._open and not ls.pull_mode:
            ls.schedule(uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @_guarded()
    def did_close(ls: CfglintLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        pending = ls._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        ls._results.pop(uri, None)
        ls._last_items.pop(uri, None)
        if uri in ls._open:
            ls._open.discard(uri)
            if not ls.pull_mode:
                ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @_guarded()
    def did_change_watched_files(ls: CfglintLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
        if any(ls.is_config(change.uri) for change in params.changes):
            ls.configuration_changed()
        else:
            _forget_package_layout()

    @server.feature(types.TEXT_DOCUMENT_DIAGNOSTIC, types.DiagnosticOptions(
        identifier=SOURCE, inter_file_dependencies=True, workspace_diagnostics=False))
    @_guarded(lambda: types.RelatedFullDocumentDiagnosticReport(items=[]))
    async def diagnostic(ls: CfglintLanguageServer, params: types.DocumentDiagnosticParams
                         ) -> types.RelatedFullDocumentDiagnosticReport:
        return types.RelatedFullDocumentDiagnosticReport(items=await ls.pull(params.text_document.uri))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND], resolve_provider=True))
    @_guarded(list)
    async def code_action(ls: CfglintLanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        text, version, language_id = ls._snapshot(uri)
        if not ls.is_python(uri, language_id):
            return []
        result = await ls.result_for(uri, text, version)
        return await ls.in_worker(ls.code_actions, result, params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: CfglintLanguageServer, action: types.CodeAction) -> types.CodeAction:
        try:
            data = action.data if isinstance(action.data, dict) else {}
            fixes = _fixes_module()
            uri = data.get("uri")
            if action.kind == FIX_ALL_KIND and uri and fixes is not None:
                text, version, _ = ls._snapshot(uri)
                result = await ls.result_for(uri, text, version)
                if result.config_error is None and not result.failed:
                    positions = TextPositions(result.text, ls.codec)
                    action.edit = await ls.in_worker(ls.fix_all_edit, result, positions, fixes)
        except asyncio.CancelledError:
            raise
        except Exception:
            ls.log_exception("codeAction/resolve")
        return action

    return server


def main() -> None:
    """Serve on standard input/output until the client says `exit`."""
    logging.basicConfig(level=logging.WARNING, format="cfglint server: %(levelname)s %(name)s: %(message)s")
    server = create_server()
    server.start_io()
    if not server.shutdown_requested:  # LSP: `exit` without `shutdown` first exits with 1
        raise SystemExit(1)
