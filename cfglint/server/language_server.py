"""The language server's state: open documents, pending checks, cached configurations and results.

Every check runs in one worker thread, in order, so the event loop stays free to read messages; the
results are remembered per document for the code actions that follow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace.position_codec import PositionCodec

from cfglint import __version__
from cfglint.server.actions import fixes_module
from cfglint.server.config_watch import CONFIG_FILE, SettingsCache, config_fingerprint
from cfglint.server.diagnostics import CheckResult, config_error_diagnostic, diagnostic, fix_catalog
from cfglint.server.positions import TextPositions
from cfglint.server.protocol import AnsweringProtocol

logger = logging.getLogger("cfglint.server")  # one name for the whole server in its log

PYTHON_SUFFIXES = (".py", ".pyi")

T = TypeVar("T")

__all__ = ["PYTHON_SUFFIXES", "CfglintLanguageServer", "forget_package_layout"]


class CfglintLanguageServer(LanguageServer):
    """The server's state: open documents, pending checks, cached configurations and results."""

    def __init__(self) -> None:
        super().__init__("cfglint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         protocol_cls=AnsweringProtocol)
        # every check runs in one worker thread, in order: the event loop stays free to read messages
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cfglint-check")
        self.settings = SettingsCache()
        self._open: set[str] = set()
        self._pending: dict[str, asyncio.Task[None]] = {}
        self._results: dict[str, CheckResult] = {}
        self._last_items: dict[str, list[types.Diagnostic]] = {}
        self._shown_errors: set[str] = set()
        self.shutdown_requested = False
        self._loop: asyncio.AbstractEventLoop | None = None

    # ---------------------------------------------------------------- client capabilities
    def capability(self, *names: str) -> Any:
        """A client capability by its path of attribute names (None when the client did not say)."""
        value: Any = self.client_capabilities
        for name in names:
            value = getattr(value, name, None)
            if value is None:
                return None
        return value

    @property
    def pull_mode(self) -> bool:
        """The client asks for diagnostics (`textDocument/diagnostic`); then none are pushed."""
        return self.capability("text_document", "diagnostic") is not None

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

    def snapshot(self, uri: str) -> tuple[str, int | None, str | None]:
        """The document's current text, version and language."""
        document = self.workspace.get_text_document(uri)
        return document.source, document.version, document.language_id

    # ---------------------------------------------------------------- checking (worker thread)
    def _check(self, uri: str, text: str, version: int | None) -> CheckResult:
        path = self.path_of(uri)
        config = self.settings.get(os.path.dirname(os.path.abspath(path)))
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
            return [config_error_diagnostic(result.config_error, positions)]
        fixes = fixes_module()
        catalog = fix_catalog() if fixes is not None else {}
        return [diagnostic(finding, positions, result.version, catalog) for finding in result.findings]

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
            text, version, _ = self.snapshot(uri)
            result = await self.check(uri, text, version)
            if uri not in self._open or self.snapshot(uri)[1] != version or result.failed:
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
        text, version, language_id = self.snapshot(uri)
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
        self.settings = SettingsCache()
        self._shown_errors.clear()
        forget_package_layout()
        if self.pull_mode:
            if self.capability("workspace", "diagnostics", "refresh_support"):
                self.workspace_diagnostic_refresh(None)
            return
        for uri in list(self._open):
            self.schedule(uri, 0)


def forget_package_layout() -> None:
    """Module names are cached per directory; a long-lived server must notice new `__init__.py` files."""
    with contextlib.suppress(Exception):
        from cfglint import project

        clear = getattr(getattr(project, "_package", None), "cache_clear", None)
        if clear is not None:
            clear()
