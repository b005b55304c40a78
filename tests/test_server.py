"""`cfglint server` driven over stdio by a real LSP client (pygls's `LanguageClient`).

Each test starts `python -m cfglint server` as a subprocess in a temporary project, initializes it
(with or without pull-diagnostics support), and plays an editor: open, change, request code actions,
apply their edits, change the configuration, shut down.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import os
import re
import sys
import textwrap
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pygls")

from helpers import FIXED_NAME
from lsprotocol import types
from pygls.lsp.client import LanguageClient

TIMEOUT = 10.0
DOCS = "https://github.com/cfglint/cfglint/blob/main/docs/rules.md"

# `units` is required and missing from get_config (CFG101). The emoji before it on the same line is
# one code point but two UTF-16 code units: the diagnostic's column must count UTF-16 units.
BAD = textwrap.dedent('''\
    import keras


    class Scale(keras.layers.Layer):
        def __init__(self, tag="\N{SLIGHTLY SMILING FACE}", *, units, scale=1.0, **kwargs):
            super().__init__(**kwargs)
            self.tag = tag
            self.units = units
            self.scale = scale

        def get_config(self):
            config = super().get_config()
            config.update({"tag": self.tag, "scale": self.scale})
            return config
    ''')
BAD_LINE = 4  # 0-based line of `def __init__`
UNITS_COLUMN = BAD.splitlines()[BAD_LINE].index("units") + 1  # UTF-16 units: the emoji counts twice
HALF_TYPED = BAD + "\nclass Broken(keras.layers.Layer):\n    def __init__(self, units\n"
IGNORE_CFG101 = '[tool.cfglint]\nignore = ["CFG101"]\n'


@functools.lru_cache(maxsize=1)
def fixes_missing() -> str | None:
    """Why the fix tests cannot run yet: `cfglint.fixes` absent or not able to fix BAD in-process."""
    if importlib.util.find_spec("cfglint.fixes") is None:
        return "cfglint.fixes is not installed yet: no quick fixes to test"
    try:
        from cfglint.config import Settings
        from cfglint.engine import Checker
        from cfglint.fixes import fix_one, fix_source  # noqa: F401

        findings = Checker(Settings(root=Path.cwd())).check_source(BAD, "layers.py")
        fix_one(BAD, findings[0])
    except (ImportError, AttributeError, NotImplementedError) as exc:
        return f"cfglint.fixes is not complete yet ({type(exc).__name__}: {exc})"
    except Exception:
        return None
    return None


# ------------------------------------------------------------------------------------------ harness
def run(coroutine: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coroutine, 40))  # type: ignore[arg-type]


def _lines(text: str) -> list[str]:
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z", text)


def _offset(lines: list[str], position: types.Position) -> int:
    """Code-point offset of an LSP position counted in UTF-16 code units."""
    if position.line >= len(lines):
        return sum(map(len, lines))
    line = lines[position.line]
    units = 0
    index = 0
    while index < len(line) and units < position.character:
        units += 2 if ord(line[index]) > 0xFFFF else 1
        index += 1
    return sum(map(len, lines[:position.line])) + index


def apply_edit(text: str, uri: str, edit: types.WorkspaceEdit) -> str:
    """Apply the text edits a WorkspaceEdit makes to one document, as an editor would."""
    edits: list[types.TextEdit] = []
    for change in edit.document_changes or []:
        assert isinstance(change, types.TextDocumentEdit), change
        assert change.text_document.uri == uri
        edits.extend(change.edits)  # type: ignore[arg-type]
    for target, text_edits in (edit.changes or {}).items():
        assert target == uri
        edits.extend(text_edits)
    lines = _lines(text)
    spans = sorted(((_offset(lines, e.range.start), _offset(lines, e.range.end), e.new_text) for e in edits),
                   reverse=True)
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text


class Editor:
    """A pygls LanguageClient plus what an editor keeps: open texts and versions, received messages."""

    def __init__(self, root: Path, *, pull: bool, command: tuple[str, ...] = ("-m", "cfglint", "server")) -> None:
        self.root = root
        self.pull = pull
        self.command = command
        self.client = LanguageClient("cfglint-test-client", "1.0")
        self.published: dict[str, list[types.PublishDiagnosticsParams]] = defaultdict(list)
        self.refreshes = 0
        self.registrations: list[types.Registration] = []
        self.messages: list[str] = []
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        client = self.client

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            self.published[params.uri].append(params)

        @client.feature(types.WORKSPACE_DIAGNOSTIC_REFRESH)
        def on_refresh(params: Any) -> None:
            self.refreshes += 1

        @client.feature(types.CLIENT_REGISTER_CAPABILITY)
        def on_register(params: types.RegistrationParams) -> None:
            self.registrations.extend(params.registrations)

        @client.feature(types.WINDOW_SHOW_MESSAGE)
        def on_show(params: types.ShowMessageParams) -> None:
            self.messages.append(params.message)

        @client.feature(types.WINDOW_LOG_MESSAGE)
        def on_log(params: types.LogMessageParams) -> None:
            self.messages.append(params.message)

    def capabilities(self) -> types.ClientCapabilities:
        code_action = types.CodeActionClientCapabilities(
            code_action_literal_support=types.ClientCodeActionLiteralOptions(
                code_action_kind=types.ClientCodeActionKindOptions(
                    value_set=[types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll])),
            is_preferred_support=True,
            data_support=True,
            resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"]) if self.pull else None,
        )
        text_document = types.TextDocumentClientCapabilities(
            synchronization=types.TextDocumentSyncClientCapabilities(did_save=True),
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(
                version_support=True, code_description_support=True, data_support=True),
            code_action=code_action,
            diagnostic=types.DiagnosticClientCapabilities() if self.pull else None,
        )
        workspace = types.WorkspaceClientCapabilities(
            # the push-mode editor takes versioned document edits, the pull-mode one plain `changes`
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=not self.pull),
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True),
            diagnostics=types.DiagnosticWorkspaceClientCapabilities(refresh_support=True) if self.pull else None,
        )
        return types.ClientCapabilities(text_document=text_document, workspace=workspace)

    async def start(self) -> types.InitializeResult:
        env = {**os.environ, "CFGLINT_NO_CACHE": "1"}
        await self.client.start_io(sys.executable, *self.command, cwd=str(self.root), env=env)
        result = await self.client.initialize_async(types.InitializeParams(
            process_id=os.getpid(), root_uri=self.root.as_uri(), capabilities=self.capabilities(),
            workspace_folders=[types.WorkspaceFolder(uri=self.root.as_uri(), name="project")]))
        self.client.initialized(types.InitializedParams())
        return result

    async def stop(self, *, shutdown: bool = True) -> int | None:
        if shutdown:
            await self.client.shutdown_async(None)
        self.client.exit(None)
        server = self.client._server
        assert server is not None
        await asyncio.wait_for(server.wait(), TIMEOUT)
        await asyncio.wait_for(self.client.stop(), TIMEOUT)
        return server.returncode

    # ---------------------------------------------------------------- documents
    def open(self, name: str, text: str) -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        uri = path.as_uri()
        self.texts[uri], self.versions[uri] = text, 1
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
        return uri

    def change(self, uri: str, text: str) -> int:
        """A full-text change (what applying a WorkspaceEdit amounts to)."""
        self.versions[uri] += 1
        self.texts[uri] = text
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
        return self.versions[uri]

    def apply(self, uri: str, edit: types.WorkspaceEdit | None) -> int:
        assert edit is not None
        return self.change(uri, apply_edit(self.texts[uri], uri, edit))

    # ---------------------------------------------------------------- diagnostics
    async def wait_published(self, uri: str, predicate: Callable[[list[types.Diagnostic]], bool],
                             *, version: int | None = None) -> list[types.Diagnostic]:
        """The diagnostics last pushed for `uri` once they satisfy `predicate` (for `version`)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            pushed = self.published.get(uri)
            if pushed and (version is None or pushed[-1].version == version) and predicate(pushed[-1].diagnostics):
                return list(pushed[-1].diagnostics)
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching diagnostics for {uri}; last: {pushed[-1] if pushed else None}")
            await asyncio.sleep(0.02)

    async def pull_diagnostics(self, uri: str) -> list[types.Diagnostic]:
        report = await self.client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=uri), identifier="cfglint"))
        assert isinstance(report, types.RelatedFullDocumentDiagnosticReport), report
        return list(report.items)

    async def code_actions(self, uri: str, diagnostic: types.Diagnostic,
                           only: list[str] | None = None) -> list[types.CodeAction]:
        result = await self.client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic], only=only)))
        actions = list(result or [])
        assert all(isinstance(a, types.CodeAction) for a in actions), actions
        return actions  # type: ignore[return-value]

    def watched_file_changed(self, path: Path, kind: types.FileChangeType = types.FileChangeType.Changed) -> None:
        self.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=path.as_uri(), type=kind)]))


def codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    return [str(d.code) for d in diagnostics]


def write_config(path: Path, text: str) -> None:
    """Write a pyproject.toml whose stat surely differs from the previous one (coarse clocks)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 10_000_000_000, before + 10_000_000_000))


def assert_cfg101(diagnostics: list[types.Diagnostic]) -> types.Diagnostic:
    assert codes(diagnostics) == ["CFG101"], diagnostics
    diagnostic = diagnostics[0]
    assert diagnostic.range == types.Range(
        start=types.Position(line=BAD_LINE, character=UNITS_COLUMN),
        end=types.Position(line=BAD_LINE, character=UNITS_COLUMN + len("units")))
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.source == "cfglint"
    assert "`units`" in diagnostic.message
    assert diagnostic.code_description is not None
    assert diagnostic.code_description.href == f"{DOCS}#cfg101"
    assert isinstance(diagnostic.data, dict) and diagnostic.data["code"] == "CFG101"
    return diagnostic


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n\n[tool.cfglint]\n', encoding="utf-8")
    return tmp_path


# -------------------------------------------------------------------------------------------- tests
def test_push_diagnostics_noqa_syntax_error_and_config_reload(project: Path) -> None:
    async def scenario() -> None:
        editor = Editor(project, pull=False)
        init = await editor.start()
        capabilities = init.capabilities
        assert init.server_info is not None and init.server_info.name == "cfglint"
        assert capabilities.code_action_provider is not None
        assert capabilities.diagnostic_provider is not None

        # open a document with a bug: one CFG101 diagnostic at `units`, counted in UTF-16 units
        uri = editor.open("layers.py", BAD)
        diagnostic = assert_cfg101(await editor.wait_published(uri, bool, version=1))
        assert any(r.register_options is not None and "pyproject.toml" in str(r.register_options)
                   for r in editor.registrations), editor.registrations

        # code actions at the diagnostic: suppress with noqa (and the fix, when cfglint.fixes exists)
        actions = await editor.code_actions(uri, diagnostic)
        titles = [a.title for a in actions]
        noqa = [a for a in actions if "noqa" in a.title]
        assert len(noqa) == 1, titles
        assert noqa[0].title == "Suppress CFG101 with `# noqa`"
        assert noqa[0].kind == types.CodeActionKind.QuickFix
        assert noqa[0].diagnostics and noqa[0].diagnostics[0].code == "CFG101"
        assert noqa[0].edit is not None and noqa[0].edit.document_changes  # versioned edits when supported

        # apply it: the line gains the comment and the diagnostic disappears
        version = editor.apply(uri, noqa[0].edit)
        assert editor.texts[uri].splitlines()[BAD_LINE].endswith("**kwargs):  # noqa: CFG101")
        assert await editor.wait_published(uri, lambda d: not d, version=version) == []

        # a half-typed file: one CFG001 diagnostic, and the server keeps answering
        version = editor.change(uri, HALF_TYPED)
        broken = await editor.wait_published(uri, bool, version=version)
        assert codes(broken) == ["CFG001"], broken
        assert broken[0].range.start.line >= len(BAD.splitlines())
        assert await editor.code_actions(uri, broken[0]) == []  # no noqa offered for a parse error

        # several quick changes: only the last text is checked and published (debounced)
        count = len(editor.published[uri])
        for _ in range(4):
            editor.change(uri, HALF_TYPED + "x = (\n")
        version = editor.change(uri, BAD)
        assert_cfg101(await editor.wait_published(uri, bool, version=version))
        assert [p.version for p in editor.published[uri][count:]] == [version]

        # the configuration changes: after didChangeWatchedFiles the open document is checked again
        write_config(project / "pyproject.toml", IGNORE_CFG101)
        editor.watched_file_changed(project / "pyproject.toml")
        assert await editor.wait_published(uri, lambda d: not d) == []

        # ... and changes again without any notification: the next check notices the new stat
        write_config(project / "pyproject.toml", "[tool.cfglint]\n")
        version = editor.change(uri, BAD + "\n")
        assert_cfg101(await editor.wait_published(uri, bool, version=version))

        # a configuration mistake is one diagnostic on line 1, not a dead server
        write_config(project / "pyproject.toml", '[tool.cfglint]\nselct = ["CFG1"]\n')
        editor.watched_file_changed(project / "pyproject.toml")
        errors = await editor.wait_published(uri, lambda d: bool(d) and d[0].code is None)
        assert len(errors) == 1 and errors[0].range.start.line == 0, errors
        assert "unknown key `selct`" in errors[0].message
        assert any("configuration error" in m for m in editor.messages), editor.messages
        write_config(project / "pyproject.toml", "[tool.cfglint]\n")
        editor.watched_file_changed(project / "pyproject.toml")
        assert_cfg101(await editor.wait_published(uri, lambda d: codes(d) == ["CFG101"]))

        # closing clears the document's diagnostics
        editor.client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        assert await editor.wait_published(uri, lambda d: not d) == []

        assert await editor.stop() == 0
        # (a failing fix is logged and offered as no fix; the fix tests below judge the fixes)
        assert not [m for m in editor.messages if "unexpected error" in m and "in fixing" not in m], editor.messages

    run(scenario())


def test_pull_diagnostics_and_refresh_on_config_change(project: Path) -> None:
    async def scenario() -> None:
        editor = Editor(project, pull=True)
        await editor.start()
        uri = editor.open("pkg/layers.py", BAD)

        diagnostic = assert_cfg101(await editor.pull_diagnostics(uri))

        # existing noqa comments are extended rather than duplicated
        text = BAD.replace("**kwargs):", "**kwargs):  # noqa: CFG102 (reason)")
        editor.change(uri, text)
        diagnostic = assert_cfg101(await editor.pull_diagnostics(uri))
        noqa = [a for a in await editor.code_actions(uri, diagnostic) if "noqa" in a.title]
        assert len(noqa) == 1 and noqa[0].edit is not None and noqa[0].edit.changes  # plain `changes`
        editor.apply(uri, noqa[0].edit)
        assert "# noqa: CFG102, CFG101 (reason)" in editor.texts[uri]
        assert await editor.pull_diagnostics(uri) == []

        # half-typed: one CFG001, and the server still answers the next request
        editor.change(uri, HALF_TYPED)
        assert codes(await editor.pull_diagnostics(uri)) == ["CFG001"]
        editor.change(uri, BAD)
        assert_cfg101(await editor.pull_diagnostics(uri))

        # a pull-mode client gets no pushed diagnostics
        assert not editor.published.get(uri), editor.published

        # the configuration changes: the server asks the client to pull again, and the rule is gone
        write_config(project / "pyproject.toml", IGNORE_CFG101)
        editor.watched_file_changed(project / "pyproject.toml")
        deadline = time.monotonic() + TIMEOUT
        while editor.refreshes == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert editor.refreshes >= 1
        assert await editor.pull_diagnostics(uri) == []

        assert await editor.stop() == 0

    run(scenario())


@pytest.mark.parametrize("pull", [False, True], ids=["push", "pull"])
def test_fix_code_action_and_fix_all(project: Path, pull: bool) -> None:
    if fixes_missing() is not None:
        pytest.skip(fixes_missing())

    async def scenario() -> None:
        editor = Editor(project, pull=pull)
        await editor.start()
        uri = editor.open("layers.py", BAD)
        diagnostics = await (editor.pull_diagnostics(uri) if pull else editor.wait_published(uri, bool))
        diagnostic = assert_cfg101(diagnostics)

        actions = await editor.code_actions(uri, diagnostic)
        fixes = [a for a in actions if a.kind == types.CodeActionKind.QuickFix and "noqa" not in a.title]
        assert len(fixes) == 1, [a.title for a in actions]
        fix = fixes[0]
        assert fix.title.startswith("Fix CFG101"), fix.title
        assert fix.is_preferred  # the CFG101 fix is safe

        version = editor.apply(uri, fix.edit)
        assert '"units"' in editor.texts[uri]
        if pull:
            assert await editor.pull_diagnostics(uri) == []
        else:
            assert await editor.wait_published(uri, lambda d: not d, version=version) == []

        # source.fixAll.cfglint: every safe fix at once (resolved lazily when the client supports it)
        editor.change(uri, BAD)
        if pull:
            await editor.pull_diagnostics(uri)
        fix_all = [a for a in await editor.code_actions(uri, diagnostic, only=["source.fixAll"])]
        assert [a.kind for a in fix_all] == ["source.fixAll.cfglint"], fix_all
        action = fix_all[0]
        if action.edit is None:
            action = await editor.client.code_action_resolve_async(action)
        editor.apply(uri, action.edit)
        assert '"units"' in editor.texts[uri]
        if pull:
            assert await editor.pull_diagnostics(uri) == []

        assert await editor.stop() == 0

    run(scenario())


NAMED = FIXED_NAME


def test_a_safe_fix_held_back_by_validation_is_offered_as_unsafe(project: Path) -> None:
    """Accepting `**kwargs` here would make the fixed `name` reach the parent twice (CFG308)."""
    if fixes_missing() is not None:
        pytest.skip(fixes_missing())

    async def scenario() -> None:
        editor = Editor(project, pull=True)
        await editor.start()
        uri = editor.open("named.py", NAMED)
        diagnostics = await editor.pull_diagnostics(uri)
        assert codes(diagnostics) == ["CFG301"]
        actions = await editor.code_actions(uri, diagnostics[0])
        fixes = [a for a in actions if a.kind == types.CodeActionKind.QuickFix and "noqa" not in a.title]
        title = "Fix CFG301: Accept `**kwargs` and forward it to `super().__init__` (unsafe)"
        assert [a.title for a in fixes] == [title]
        assert not fixes[0].is_preferred
        fix_all = await editor.code_actions(uri, diagnostics[0], only=["source.fixAll"])
        for action in fix_all:
            if action.edit is None:
                action = await editor.client.code_action_resolve_async(action)
            if action.edit is not None:
                editor.apply(uri, action.edit)
        assert editor.texts[uri] == NAMED  # fix-all applies only what validation passed
        assert await editor.stop() == 0

    run(scenario())


def test_without_the_fixes_module_diagnostics_and_noqa_still_work(project: Path) -> None:
    """`cfglint.fixes` made unimportable: no fix actions, everything else as usual."""
    blocked = "import sys; sys.modules['cfglint.fixes'] = None; from cfglint.server import main; main()"

    async def scenario() -> None:
        editor = Editor(project, pull=False, command=("-c", blocked))
        await editor.start()
        uri = editor.open("layers.py", BAD)
        diagnostic = assert_cfg101(await editor.wait_published(uri, bool))
        assert diagnostic.data["fixable"] is False  # type: ignore[index]
        actions = await editor.code_actions(uri, diagnostic)
        assert [a.title for a in actions] == ["Suppress CFG101 with `# noqa`"]
        version = editor.apply(uri, actions[0].edit)
        assert await editor.wait_published(uri, lambda d: not d, version=version) == []
        assert await editor.stop(shutdown=False) == 1  # LSP: `exit` without `shutdown` exits with 1

    run(scenario())


def test_noqa_and_minimal_edits() -> None:
    """The edits behind the quick fixes (unit level, no subprocess)."""
    from cfglint import server

    positions = server.TextPositions("x = 1  # noqa: CFG1\ny = \\\n    2\nz = 3  # noqa\n", "utf-16")
    edit = server.noqa_edit(positions, 0, "CFG101")
    assert edit is not None and edit.new_text == ", CFG101"
    assert server.noqa_edit(positions, 1, "CFG101") is None  # a backslash continuation would break
    assert server.noqa_edit(positions, 3, "CFG101") is None  # a bare noqa already covers it
    replaced = server.TextPositions("a\nb\nc", "utf-16").replacement("a\nB\nc")
    assert replaced is not None and replaced.new_text == "B\n"
    assert replaced.range == types.Range(start=types.Position(line=1, character=0),
                                         end=types.Position(line=2, character=0))


def test_a_configuration_changed_elsewhere_is_picked_up_on_the_save_of_any_buffer(project: Path) -> None:
    """No file watching: the next `didSave` of any document re-checks every open one."""

    async def scenario() -> None:
        editor = Editor(project, pull=False)
        await editor.start()
        uri = editor.open("layers.py", BAD)
        other = editor.open("other.py", "x = 1\n")
        assert_cfg101(await editor.wait_published(uri, bool, version=1))
        await editor.wait_published(other, lambda d: not d)
        notes = (project / "notes.txt")
        notes.write_text("notes\n", encoding="utf-8")
        editor.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=notes.as_uri(), language_id="plaintext", version=1, text="notes\n")))

        def save(target: str) -> None:
            editor.client.text_document_did_save(types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=target)))

        # changed on disk without a notification; saving a text file (not Python) republishes layers.py
        write_config(project / "pyproject.toml", IGNORE_CFG101)
        save(notes.as_uri())
        assert await editor.wait_published(uri, lambda d: not d, version=1) == []

        # and back; this time saving the other Python document
        write_config(project / "pyproject.toml", "[tool.cfglint]\n")
        save(other)
        assert_cfg101(await editor.wait_published(uri, bool, version=1))

        # a save with no configuration change does not re-check the other documents
        count = len(editor.published[uri])
        save(other)
        await editor.wait_published(other, lambda d: not d)
        await asyncio.sleep(0.5)
        assert len(editor.published[uri]) == count
        assert await editor.stop() == 0

    run(scenario())


def _units(text: str, encoding: str) -> int:
    """Independent count of LSP position units: UTF-8 bytes, UTF-16 code units, or code points."""
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_positions_in_each_negotiated_encoding(encoding: str) -> None:
    """Code points to client units through pygls's codec: multi-byte, astral and lone-surrogate
    characters; \\r\\n, \\r and \\n break lines, a form feed and U+2028 do not (LSP's rule)."""
    from cfglint import server
    from cfglint.finding import Span

    lines = ["a\N{LATIN SMALL LETTER E WITH ACUTE}\N{EURO SIGN}\N{SLIGHTLY SMILING FACE}b\ud800c\r\n",
             "\x0cx\u2028y\N{SLIGHTLY SMILING FACE}\r", "tail\N{EURO SIGN}"]
    text = "".join(lines)
    positions = server.TextPositions(text, encoding)
    assert positions.lines == lines
    for line, content in enumerate(line.rstrip("\r\n") for line in lines):
        for column in range(len(content) + 1):
            assert positions.position(line, column) == types.Position(
                line=line, character=_units(content[:column], encoding)), (line, column)
        # past the end of a line: its end; negative: its start
        assert positions.position(line, len(content) + 5).character == _units(content, encoding)
        assert positions.position(line, -3).character == 0
    end = types.Position(line=2, character=_units("tail\N{EURO SIGN}", encoding))
    assert positions.end() == end
    assert positions.position(7, 0) == end  # past the last line: the end of the text
    assert positions.span_range(Span(1, 4, 2, 3)) == types.Range(
        start=types.Position(line=0, character=_units(lines[0][:3], encoding)),
        end=types.Position(line=1, character=_units(lines[1][:2], encoding)))
    assert server.TextPositions("a\n", encoding).end() == types.Position(line=1, character=0)


def test_the_server_counts_in_the_encoding_the_client_prefers(project: Path) -> None:
    """A client offering UTF-8 first gets it, and diagnostic columns count bytes."""

    class Utf8Editor(Editor):
        def capabilities(self) -> types.ClientCapabilities:
            capabilities = super().capabilities()
            capabilities.general = types.GeneralClientCapabilities(
                position_encodings=[types.PositionEncodingKind.Utf8, types.PositionEncodingKind.Utf16])
            return capabilities

    async def scenario() -> None:
        editor = Utf8Editor(project, pull=True)
        init = await editor.start()
        assert init.capabilities.position_encoding == types.PositionEncodingKind.Utf8
        uri = editor.open("layers.py", BAD)
        diagnostics = await editor.pull_diagnostics(uri)
        assert codes(diagnostics) == ["CFG101"]
        line = BAD.splitlines()[BAD_LINE]
        start = len(line[:line.index("units")].encode("utf-8"))
        assert diagnostics[0].range == types.Range(start=types.Position(line=BAD_LINE, character=start),
                                                   end=types.Position(line=BAD_LINE, character=start + 5))
        assert await editor.stop() == 0

    run(scenario())
