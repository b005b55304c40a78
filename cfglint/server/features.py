"""The LSP features of the server (what each notification and request does) and its entry point.

Each handler is guarded: an exception is logged to the client and the handler returns its default.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types

from cfglint.server.actions import FIX_ALL_KIND, code_actions, fix_all_edit, fixes_module
from cfglint.server.config_watch import CONFIG_FILE
from cfglint.server.diagnostics import SOURCE
from cfglint.server.language_server import CfglintLanguageServer, forget_package_layout
from cfglint.server.positions import TextPositions
from cfglint.server.protocol import guarded

DEBOUNCE_SECONDS = 0.3

__all__ = ["DEBOUNCE_SECONDS", "create_server", "main"]


def create_server() -> CfglintLanguageServer:
    """A server with every feature registered, not yet serving (`main` serves it on stdio)."""
    server = CfglintLanguageServer()

    @server.feature(types.INITIALIZED)
    @guarded()
    def initialized(ls: CfglintLanguageServer, params: types.InitializedParams) -> None:
        if not ls.capability("workspace", "did_change_watched_files", "dynamic_registration"):
            return  # the configuration is still re-read: each check compares the files' stat
        registration = types.Registration(
            id="cfglint-pyproject-watcher",
            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern=f"**/{CONFIG_FILE}")]),
        )
        ls.client_register_capability(types.RegistrationParams(registrations=[registration]))

    @server.feature(types.SHUTDOWN)
    @guarded()
    def shutdown(ls: CfglintLanguageServer, *args: Any) -> None:
        ls.shutdown_requested = True
        for task in ls._pending.values():
            task.cancel()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @guarded()
    def did_open(ls: CfglintLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        document = params.text_document
        if not ls.is_python(document.uri, document.language_id):
            return
        ls._open.add(document.uri)
        if not ls.pull_mode:
            ls.schedule(document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @guarded()
    def did_change(ls: CfglintLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri in ls._open and not ls.pull_mode:
            ls.schedule(uri, DEBOUNCE_SECONDS)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    @guarded()
    def did_save(ls: CfglintLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        # saving any buffer is when a configuration edited elsewhere (another editor, a `git checkout`,
        # a client that does not watch files) is noticed: every open document is checked again
        if ls.is_config(uri) or ls.settings.stale():
            ls.configuration_changed()
            return
        forget_package_layout()
        if uri in ls._open and not ls.pull_mode:
            ls.schedule(uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @guarded()
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
    @guarded()
    def did_change_watched_files(ls: CfglintLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
        if any(ls.is_config(change.uri) for change in params.changes):
            ls.configuration_changed()
        else:
            forget_package_layout()

    @server.feature(types.TEXT_DOCUMENT_DIAGNOSTIC, types.DiagnosticOptions(
        identifier=SOURCE, inter_file_dependencies=True, workspace_diagnostics=False))
    @guarded(lambda: types.RelatedFullDocumentDiagnosticReport(items=[]))
    async def diagnostic(ls: CfglintLanguageServer, params: types.DocumentDiagnosticParams
                         ) -> types.RelatedFullDocumentDiagnosticReport:
        return types.RelatedFullDocumentDiagnosticReport(items=await ls.pull(params.text_document.uri))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND], resolve_provider=True))
    @guarded(list)
    async def code_action(ls: CfglintLanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        text, version, language_id = ls.snapshot(uri)
        if not ls.is_python(uri, language_id):
            return []
        result = await ls.result_for(uri, text, version)
        return await ls.in_worker(code_actions, ls, result, params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: CfglintLanguageServer, action: types.CodeAction) -> types.CodeAction:
        try:
            data = action.data if isinstance(action.data, dict) else {}
            fixes = fixes_module()
            uri = data.get("uri")
            if action.kind == FIX_ALL_KIND and uri and fixes is not None:
                text, version, _ = ls.snapshot(uri)
                result = await ls.result_for(uri, text, version)
                if result.config_error is None and not result.failed:
                    positions = TextPositions(result.text, ls.codec)
                    action.edit = await ls.in_worker(fix_all_edit, ls, result, positions, fixes)
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
