"""Code actions: per diagnostic its fix and "suppress with `# noqa: CODE`", and fix-all for a document.

A fix is computed by `cfglint.fixes` on the remembered result of the document (once per finding and
text), validated with a fresh check in the document's configuration, and offered as the smallest
whole-line edit. Without `cfglint.fixes` (not installed, or failing to import) only `noqa` is offered.
Everything here runs in the server's worker thread.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Sequence
from typing import Any, Protocol

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from cfglint.finding import Finding
from cfglint.noqa import _NOQA, is_suppressed, parse_noqa
from cfglint.server.config_watch import SettingsCache
from cfglint.server.diagnostics import PARSE_ERROR_CODE, SOURCE, CheckResult, diagnostic, finding_key, fix_catalog
from cfglint.server.positions import TextPositions, overlaps, parses

logger = logging.getLogger("cfglint.server")  # one name for the whole server in its log

FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.{SOURCE}"  # source.fixAll.cfglint

__all__ = ["FIX_ALL_KIND", "ActionHost", "code_actions", "fix_all_edit", "fixes_module", "noqa_edit", "wanted"]


class ActionHost(Protocol):
    """What building code actions needs from the language server (and nothing more)."""

    @property
    def codec(self) -> PositionCodec: ...

    @property
    def settings(self) -> SettingsCache: ...

    def capability(self, *names: str) -> Any: ...

    def log_exception(self, where: str) -> None: ...


@functools.lru_cache(maxsize=1)
def fixes_module() -> Any | None:
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


def code_actions(host: ActionHost, result: CheckResult, params: types.CodeActionParams) -> list[types.CodeAction]:
    """The actions for the diagnostics in (or touching) the requested range, filtered by `only`."""
    if result.config_error is not None or not result.findings:
        return []
    positions = TextPositions(result.text, host.codec)
    fixes = fixes_module()
    catalog = fix_catalog() if fixes is not None else {}
    wanted_keys = {
        (d.data["code"], tuple(d.data["span"]))
        for d in params.context.diagnostics
        if d.source == SOURCE and isinstance(d.data, dict) and "code" in d.data and "span" in d.data
    }
    only = params.context.only
    actions: list[types.CodeAction] = []
    if wanted(only, types.CodeActionKind.QuickFix.value):
        for finding in result.findings:
            item = diagnostic(finding, positions, result.version, catalog)
            if not (overlaps(item.range, params.range) or finding_key(finding) in wanted_keys):
                continue
            fix = _fix_action(host, result, finding, item, positions, fixes, catalog)
            if fix is not None:
                actions.append(fix)
            noqa = _noqa_action(host, result, finding, item, positions)
            if noqa is not None:
                actions.append(noqa)
    if wanted(only, FIX_ALL_KIND) and fixes is not None:
        fix_all = _fix_all_action(host, result, positions, fixes, catalog)
        if fix_all is not None:
            actions.append(fix_all)
    return actions


def _workspace_edit(host: ActionHost, result: CheckResult, edits: Sequence[types.TextEdit]) -> types.WorkspaceEdit:
    if host.capability("workspace", "workspace_edit", "document_changes"):
        return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=result.uri, version=result.version),
            edits=list(edits))])
    return types.WorkspaceEdit(changes={result.uri: list(edits)})


def _fix_action(host: ActionHost, result: CheckResult, finding: Finding, item: types.Diagnostic,
                positions: TextPositions, fixes: Any, catalog: Any) -> types.CodeAction | None:
    info = catalog.get(finding.code) if fixes is not None else None
    if info is None:
        return None
    key = (finding.code, finding.span)
    if key not in result.fixed:
        checked = None
        try:
            checked = fixes.check_one(result.text, finding, _recheck(host, result), result.findings)
        except Exception:
            host.log_exception(f"fixing {finding.code}")
        fixed = checked[0] if checked is not None else None
        ok = isinstance(fixed, str) and fixed != result.text and parses(fixed)
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
        diagnostics=[item],
        is_preferred=safe,
        edit=_workspace_edit(host, result, [edit]),
    )


def _recheck(host: ActionHost, result: CheckResult) -> Any:
    """What validates a fix of this document: a fresh check with the document's configuration."""
    from cfglint.engine import Checker
    from cfglint.fixes.safety import Recheck

    config = host.settings.get(os.path.dirname(os.path.abspath(result.path)))
    if config.error is not None or config.resolver is None:
        raise RuntimeError(f"no configuration to check fixes with: {config.error}")
    return Recheck(lambda: Checker(config.base, resolver=config.resolver))


def _noqa_action(host: ActionHost, result: CheckResult, finding: Finding, item: types.Diagnostic,
                 positions: TextPositions) -> types.CodeAction | None:
    if finding.code == PARSE_ERROR_CODE:
        return None
    edit = noqa_edit(positions, finding.span.line - 1, finding.code)
    if edit is None:
        return None
    return types.CodeAction(
        title=f"Suppress {finding.code} with `# noqa`",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[item],
        edit=_workspace_edit(host, result, [edit]),
    )


def _fix_all_action(host: ActionHost, result: CheckResult, positions: TextPositions, fixes: Any,
                    catalog: Any) -> types.CodeAction | None:
    if not any(getattr(catalog.get(f.code), "safe", False) for f in result.findings):
        return None
    action = types.CodeAction(title="cfglint: fix all safely fixable problems", kind=FIX_ALL_KIND)
    properties = host.capability("text_document", "code_action", "resolve_support", "properties") or []
    if "edit" in properties:  # computed only when the client picks it (codeAction/resolve)
        action.data = {"uri": result.uri, "version": result.version}
        return action
    edit = fix_all_edit(host, result, positions, fixes)
    if edit is None:
        return None
    action.edit = edit
    return action


def fix_all_edit(host: ActionHost, result: CheckResult, positions: TextPositions,
                 fixes: Any) -> types.WorkspaceEdit | None:
    """The edit applying every safe fix that validation passed (computed once per result)."""
    if result.fixed_all is None:
        try:
            outcome = fixes.fix_source(result.text, result.findings, unsafe=False, check=_recheck(host, result))
            fixed = outcome.source
        except Exception:
            host.log_exception("fixing all")
            fixed = result.text
        result.fixed_all = fixed if isinstance(fixed, str) and parses(fixed) else result.text
    edit = positions.replacement(result.fixed_all)
    return _workspace_edit(host, result, [edit]) if edit is not None else None


def wanted(only: Sequence[str] | None, kind: str) -> bool:
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
    if not is_suppressed(parse_noqa(new_text), line + 1, code) or not parses(new_text):
        return None
    return types.TextEdit(
        range=types.Range(start=positions.position(line, start), end=positions.position(line, end)),
        new_text=insertion,
    )
