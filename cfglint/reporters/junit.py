"""JUnit XML, which CI systems (GitLab, Jenkins, Azure) show as a test report: one test suite per file,
one failed test case per finding, in ruff's layout (a passing `No errors found` case when clean)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TextIO
from xml.etree import ElementTree

from cfglint.finding import Finding

PACKAGE = "cfglint"


def write(findings: Sequence[Finding], stream: TextIO) -> None:
    ElementTree.indent(document := junit_tree(findings), space="    ")
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(ElementTree.tostring(document, encoding="unicode"))
    stream.write("\n")


def junit_tree(findings: Sequence[Finding]) -> ElementTree.Element:
    """The `<testsuites>` element; counts on every suite, as JUnit readers expect."""
    total = str(max(len(findings), 1))
    root = ElementTree.Element("testsuites", name=PACKAGE, tests=total, skipped="0",
                               failures=str(len(findings)), errors="0")
    if not findings:
        suite = _suite(root, PACKAGE, 1, 0)
        ElementTree.SubElement(suite, "testcase", name="No errors found", classname=PACKAGE)
        return root
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    for path, found in by_path.items():
        suite = _suite(root, _text(path), len(found), len(found))
        for finding in found:
            _case(suite, finding)
    return root


def _suite(root: ElementTree.Element, name: str, tests: int, failures: int) -> ElementTree.Element:
    return ElementTree.SubElement(root, "testsuite", name=name, tests=str(tests), skipped="0", errors="0",
                                  failures=str(failures), package=PACKAGE)


def _case(suite: ElementTree.Element, finding: Finding) -> None:
    case = ElementTree.SubElement(suite, "testcase", name=f"{PACKAGE}.{finding.code}",
                                  classname=_text(os.path.splitext(finding.path)[0]),
                                  line=str(finding.span.line), column=str(finding.span.column))
    properties = ElementTree.SubElement(case, "properties")
    ElementTree.SubElement(properties, "property", name="severity", value=finding.severity.value)
    failure = ElementTree.SubElement(case, "failure", message=_text(finding.message))
    failure.text = _text(f"line {finding.span.line}, col {finding.span.column}, {finding.message}")


def _text(value: str) -> str:
    """XML 1.0 cannot hold most control characters or lone surrogates (a file name that is not
    UTF-8): those become `\\xNN` escapes, so the document always parses."""
    return "".join(ch if _allowed(ch) else ascii(ch)[1:-1] for ch in value)


def _allowed(ch: str) -> bool:
    code = ord(ch)
    return (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF)
