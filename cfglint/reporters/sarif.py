"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

GitHub shows a rule's short and full descriptions at the top of an alert and its help beside it, and
refuses descriptions over 1024 characters; it places a result by a relative URI under the checkout, so
paths are written relative to `%SRCROOT%` (the working directory the run started in).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

from cfglint.finding import Finding, Fix, Severity, Span

if TYPE_CHECKING:
    from cfglint.rules.base import Rule

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/cfglint/cfglint"
RULES_DOC_URI = f"{INFORMATION_URI}/blob/main/docs/rules.md"
SRCROOT = "%SRCROOT%"
MAX_DESCRIPTION = 1024  # GitHub rejects longer shortDescription / fullDescription texts
FINGERPRINT_KEY = "cfglint/v1"

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_SEVERITY_ORDER = (Severity.ERROR, Severity.WARNING, Severity.INFO)


def write(findings: Sequence[Finding], stream: TextIO, *, rules: Mapping[str, Rule], version: str) -> None:
    """Write one SARIF log with a single run."""
    json.dump(sarif_log(findings, rules=rules, version=version), stream, indent=2)
    stream.write("\n")


def sarif_log(findings: Sequence[Finding], *, rules: Mapping[str, Rule], version: str) -> dict[str, Any]:
    """The SARIF document as plain data: every rule in `rules` is described, and a finding from a code
    missing there (a dynamic check, a stale registry) still gets a minimal descriptor, so the log
    stays valid and every `ruleIndex` points somewhere."""
    unknown: dict[str, Finding] = {}
    for finding in findings:
        if finding.code not in rules:
            unknown.setdefault(finding.code, finding)
    descriptors = [rule_descriptor(rules[code]) for code in sorted(rules)]
    descriptors += [minimal_descriptor(finding) for finding in unknown.values()]
    index = {code: position for position, code in enumerate([*sorted(rules), *unknown])}
    root = _source_root()
    run: dict[str, Any] = {"tool": {"driver": {
        "name": "cfglint",
        "version": version,
        "informationUri": INFORMATION_URI,
        "rules": descriptors,
    }}}
    if root is not None:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": _directory_uri(root)}}
    run["results"] = [result(finding, index[finding.code], root) for finding in findings]
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    """The reportingDescriptor GitHub turns into an alert's title, description and help panel."""
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": _clip(rule.summary)},
        "fullDescription": {"text": _clip(rule.what)},
        "help": {"text": _help_text(rule), "markdown": _help_markdown(rule)},
        "helpUri": f"{RULES_DOC_URI}#{rule.code.lower()}",
        "defaultConfiguration": {"level": _LEVEL[_default_severity(rule)]},
        "properties": {"tags": ["keras", *sorted(target.value for target in rule.severity)]},
    }


def minimal_descriptor(finding: Finding) -> dict[str, Any]:
    """A descriptor for a code the rules mapping does not know: enough for GitHub to show the alert."""
    title = f"{finding.code} {finding.name}"
    return {
        "id": finding.code,
        "name": finding.name,
        "shortDescription": {"text": _clip(title)},
        "fullDescription": {"text": _clip(title)},
        "help": {"text": title},
        "defaultConfiguration": {"level": _LEVEL[finding.severity]},
    }


def result(finding: Finding, rule_index: int, root: Path | None) -> dict[str, Any]:
    """One finding as a SARIF result located by a relative URI and a 1-based, end-exclusive region."""
    data: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": artifact_location(finding.path, root),
            "region": _region(finding.span),
        }}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding)},
    }
    if finding.fix:
        data["fixes"] = [_fix(finding.fix, artifact_location(finding.path, root))]
    return data


def artifact_location(path: str, root: Path | None) -> dict[str, str]:
    """A POSIX URI relative to `%SRCROOT%` (percent-encoded), or an absolute `file:` URI for a file
    outside it, which GitHub cannot place but other viewers can."""
    if root is None:
        return {"uri": _uri(Path(path).as_posix()), "uriBaseId": SRCROOT}
    absolute = Path(os.path.normpath(root / path))
    try:
        relative = absolute.relative_to(root)
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": _uri(relative.as_posix()), "uriBaseId": SRCROOT}


def fingerprint(finding: Finding) -> str:
    """Identity that survives edits above the finding (no line numbers), so an alert stays one alert.
    GitHub's upload action adds its own line-hash fingerprint beside it."""
    identity = "\0".join((finding.code, finding.path, finding.class_name or "", finding.message))
    return hashlib.sha256(identity.encode("utf-8", "surrogateescape")).hexdigest()


def _region(span: Span) -> dict[str, int]:
    return {
        "startLine": span.line,
        "startColumn": span.column,
        "endLine": span.end_line,
        "endColumn": span.end_column,
    }


def _fix(fix: Fix, location: dict[str, str]) -> dict[str, Any]:
    return {
        "description": {"text": fix.message},
        "artifactChanges": [{
            "artifactLocation": location,
            "replacements": [
                {"deletedRegion": _region(edit.span), "insertedContent": {"text": edit.text}}
                for edit in fix.edits
            ],
        }],
        "properties": {"applicability": "safe" if fix.safe else "unsafe"},
    }


def _help_text(rule: Rule) -> str:
    return (f"What it does\n{rule.what.strip()}\n\nWhy is this bad?\n{rule.why.strip()}\n\n"
            f"Use instead\n{rule.instead.strip()}")


def _help_markdown(rule: Rule) -> str:
    return (f"## What it does\n{rule.what.strip()}\n\n## Why is this bad?\n{rule.why.strip()}\n\n"
            f"## Use instead\n{rule.instead.strip()}")


def _default_severity(rule: Rule) -> Severity:
    """A rule's severity differs by Keras target; its default level is the most severe of them."""
    return min(rule.severity.values(), key=_SEVERITY_ORDER.index)


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_DESCRIPTION else text[:MAX_DESCRIPTION - 1] + "…"


def _source_root() -> Path | None:
    """The working directory, which paths are relative to; None if it no longer exists."""
    try:
        return Path.cwd()
    except OSError:
        return None


def _directory_uri(directory: Path) -> str:
    """SARIF requires a base URI to end with a slash."""
    uri = directory.as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _uri(posix_path: str) -> str:
    """Percent-encode a path; bytes that are not UTF-8 (surrogate escapes) stay as they were on disk."""
    return quote(posix_path.encode("utf-8", "surrogateescape"))
