"""Turning analysis results into what `check` and `metrics` print: text, JSON and SARIF 2.1.0.

Every path printed is relative to the current directory with `/` (absolute when there is no relative
path, e.g. another drive on Windows). JSON ranges are exactly the contract's (0-based, UTF-16 columns);
the text format is `path:line:col: RULE message` with 1-based lines and 1-based character columns (like
ruff); SARIF uses 1-based lines and 1-based UTF-16 columns, declared by `run.columnKind`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sophia_artemis import __version__
from sophia_artemis.analysis.files import FileReport
from sophia_artemis.analysis.model import Finding
from sophia_artemis.analysis.rules import RULES

TOOL_NAME = "sophia-artemis"
INFORMATION_URI = "https://github.com/sophia-artemis/sophia-artemis"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_LEVELS = {"error": "error", "warning": "warning", "information": "note", "hint": "note"}

Skipped = Sequence[tuple[str, str]]  # (display path, reason)


def display_path(path: Path | str, cwd: str | None = None) -> str:
    """`path` relative to the current directory with `/`; absolute (still `/`) when no relative path exists."""
    absolute = os.path.abspath(path)
    try:
        rel = os.path.relpath(absolute, cwd or os.getcwd())
    except ValueError:  # another drive
        rel = absolute
    return rel.replace(os.sep, "/") if os.sep != "/" else rel


def _findings(reports: Iterable[FileReport]) -> Iterable[tuple[FileReport, str, Finding]]:
    for report in reports:
        if report.result is None:
            continue
        shown = display_path(report.path)
        for finding in report.result.findings:
            yield report, shown, finding


def count_findings(reports: Iterable[FileReport]) -> int:
    return sum(len(r.result.findings) for r in reports if r.result is not None)


# --------------------------------------------------------------------------------------------- JSON


def finding_json(path: str, finding: Finding) -> dict[str, Any]:
    return {
        "path": path,
        "rule": finding.rule,
        "severity": finding.severity,
        "message": finding.message,
        "range": finding.range.to_json(),
        "data": dict(finding.data),
    }


def _stats(reports: Sequence[FileReport], seconds: float, skipped: Skipped) -> dict[str, Any]:
    return {
        "files": sum(1 for r in reports if r.result is not None),
        "seconds": round(seconds, 3),
        "skipped": [{"path": path, "reason": reason} for path, reason in skipped],
    }


def check_json(reports: Sequence[FileReport], seconds: float, skipped: Skipped) -> dict[str, Any]:
    """`{"version": 1, "findings": [...], "stats": {"files", "seconds", "skipped"}}`; `files` counts the
    files analysed (the skipped ones are listed apart)."""
    return {
        "version": 1,
        "findings": [finding_json(path, f) for _, path, f in _findings(reports)],
        "stats": _stats(reports, seconds, skipped),
    }


def metrics_json(reports: Sequence[FileReport], seconds: float, skipped: Skipped) -> dict[str, Any]:
    functions: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    for report in reports:
        if report.result is None:
            continue
        shown = display_path(report.path)
        functions.extend(info.to_json(shown) for info in report.result.functions)
        files.append(report.result.file.to_json(shown))
    return {"version": 1, "functions": functions, "files": files, "stats": _stats(reports, seconds, skipped)}


# --------------------------------------------------------------------------------------------- text


def _char_column(line_text: str | None, utf16: int) -> int:
    """0-based character (code point) column of a 0-based UTF-16 column on a line."""
    if line_text is None:
        return utf16
    units = 0
    for index, ch in enumerate(line_text):
        if units >= utf16:
            return index
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line_text) + max(0, utf16 - units)


def check_text(reports: Sequence[FileReport]) -> str:
    """One line per finding: `path:line:col: RULE message`, 1-based line and character column."""
    out: list[str] = []
    for report, path, f in _findings(reports):
        start = f.range.start
        column = _char_column(report.lines.get(start.line), start.character)
        message = " ".join(f.message.split())  # one finding, one line
        out.append(f"{path}:{start.line + 1}:{column + 1}: {f.rule} {message}")
    return "\n".join(out) + ("\n" if out else "")


def summary_line(reports: Sequence[FileReport], skipped: Skipped, seconds: float) -> str:
    analysed = sum(1 for r in reports if r.result is not None)
    by_severity: Counter[str] = Counter(f.severity for _, _, f in _findings(reports))
    total = sum(by_severity.values())
    files = f"{analysed} file{'s' if analysed != 1 else ''}"
    skipped_part = f", {len(skipped)} skipped" if skipped else ""
    if not total:
        return f"No findings in {files}{skipped_part} ({seconds:.2f}s)."
    parts = ", ".join(
        _count(by_severity[sev], sev)
        for sev in ("error", "warning", "information", "hint")
        if by_severity[sev]
    )
    noun = "finding" if total == 1 else "findings"
    return f"Found {total} {noun} ({parts}) in {files}{skipped_part} ({seconds:.2f}s)."


def _count(n: int, severity: str) -> str:
    return f"{n} {severity}{'s' if n != 1 and severity != 'information' else ''}"


def metrics_text(reports: Sequence[FileReport]) -> str:
    """A table: `path:def_line qualname cc cog loc params`, then one line per file."""
    rows: list[tuple[str, ...]] = []
    file_rows: list[tuple[str, ...]] = []
    for report in reports:
        if report.result is None:
            continue
        shown = display_path(report.path)
        for info in report.result.functions:
            m = info.metrics
            rows.append(
                (
                    f"{shown}:{info.def_line}",
                    info.qualname,
                    str(m.cyclomatic),
                    str(m.cognitive),
                    str(m.loc),
                    str(m.params),
                )
            )
        fm = report.result.file
        mi = "-" if fm.maintainability is None else f"{fm.maintainability:.1f}"
        file_rows.append((shown, str(fm.loc), str(fm.sloc), mi, str(fm.debt_markers)))
    return (
        _table(("location", "qualname", "cc", "cog", "loc", "params"), rows, numeric_from=2)
        + "\n"
        + _table(("file", "loc", "sloc", "mi", "debt"), file_rows, numeric_from=1)
    )


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]], numeric_from: int) -> str:
    widths = [
        max(len(header[i]), *(len(r[i]) for r in rows)) if rows else len(header[i])
        for i in range(len(header))
    ]

    def fmt(row: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(widths[i]) if i >= numeric_from else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        return "  ".join(cells).rstrip()

    return "\n".join([fmt(header), *(fmt(r) for r in rows)]) + "\n"


# --------------------------------------------------------------------------------------------- SARIF


def _uri(path: str) -> tuple[str, str | None]:
    """(uri, uriBaseId): relative paths against %SRCROOT% (the current directory), else a file URI."""
    if os.path.isabs(path) or (len(path) > 1 and path[1] == ":"):
        return Path(path).as_uri(), None
    return quote(path, safe="/"), "%SRCROOT%"


def _location(path: str, start_line: int, start_col: int, end_line: int, end_col: int) -> dict[str, Any]:
    uri, base = _uri(path)
    artifact: dict[str, Any] = {"uri": uri}
    if base:
        artifact["uriBaseId"] = base
    return {
        "physicalLocation": {
            "artifactLocation": artifact,
            "region": {
                "startLine": start_line + 1,
                "startColumn": start_col + 1,
                "endLine": end_line + 1,
                "endColumn": end_col + 1,
            },
        }
    }


def _sarif_rules() -> tuple[list[dict[str, Any]], dict[str, int]]:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for i, rule in enumerate(sorted(RULES.values(), key=lambda r: r.id)):
        index[rule.id] = i
        entry: dict[str, Any] = {
            "id": rule.id,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.summary},
            "helpUri": rule.docs_url,
            "help": {"text": f"{rule.summary} See {rule.docs_url}"},
            "defaultConfiguration": {"level": SARIF_LEVELS[rule.severity]},
        }
        if rule.metric:
            entry["properties"] = {"metric": rule.metric, "thresholdKey": rule.threshold_key}
        rules.append(entry)
    return rules, index


def check_sarif(
    reports: Sequence[FileReport], skipped: Skipped, *, successful: bool = True
) -> dict[str, Any]:
    rules, rule_index = _sarif_rules()
    results: list[dict[str, Any]] = []
    for _, path, f in _findings(reports):
        r = f.range
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": rule_index[f.rule],
            "level": SARIF_LEVELS.get(f.severity, "none"),
            "message": {"text": f.message},
            "locations": [_location(path, r.start.line, r.start.character, r.end.line, r.end.character)],
            "properties": dict(f.data),
        }
        if f.related:
            related = []
            for i, rel in enumerate(f.related, start=1):
                loc = _location(
                    rel.path or path,
                    rel.range.start.line,
                    rel.range.start.character,
                    rel.range.end.line,
                    rel.range.end.character,
                )
                loc["id"] = i
                loc["message"] = {"text": rel.message}
                related.append(loc)
            result["relatedLocations"] = related
        results.append(result)
    notifications = []
    for path, reason in skipped:
        uri, base = _uri(path)
        artifact: dict[str, Any] = {"uri": uri}
        if base:
            artifact["uriBaseId"] = base
        notifications.append(
            {
                "level": "note",
                "message": {"text": f"skipped {path}: {reason}"},
                "locations": [{"physicalLocation": {"artifactLocation": artifact}}],
            }
        )
    cwd = Path(os.getcwd()).as_uri()
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": cwd if cwd.endswith("/") else cwd + "/"}},
                "columnKind": "utf16CodeUnits",
                "invocations": [
                    {"executionSuccessful": successful, "toolExecutionNotifications": notifications}
                ],
                "results": results,
            }
        ],
    }
