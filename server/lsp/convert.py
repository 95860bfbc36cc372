"""Analysis dataclasses -> LSP types, and LSP positions -> analysis positions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types
from sophia_artemis.analysis import RULES, Finding, Position, Range

SOURCE = "sophia-artemis"

SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


def lsp_position(pos: Position) -> types.Position:
    return types.Position(line=pos.line, character=pos.character)


def lsp_range(rng: Range) -> types.Range:
    return types.Range(start=lsp_position(rng.start), end=lsp_position(rng.end))


def position(pos: types.Position) -> Position:
    """Our Position from the client's; negative values (invalid, but seen) are clamped to 0."""
    return Position(max(pos.line, 0), max(pos.character, 0))


def range_(rng: types.Range) -> Range:
    start, end = position(rng.start), position(rng.end)
    if (end.line, end.character) < (start.line, start.character):
        start, end = end, start
    return Range(start, end)


def overlaps(a: Range, b: Range) -> bool:
    """Closed-interval overlap, so an empty range (a cursor) touching a finding's edge counts."""
    return (a.start.line, a.start.character) <= (b.end.line, b.end.character) and (
        b.start.line,
        b.start.character,
    ) <= (a.end.line, a.end.character)


def related_uri(uri: str, path: str | None, root: Path | None) -> str:
    """`Related.path` None means the finding's own file; a relative path is relative to the project root."""
    if path is None:
        return uri
    p = Path(path)
    if not p.is_absolute() and root is not None:
        p = root / p
    return p.as_uri() if p.is_absolute() else uri


def diagnostic(finding: Finding, uri: str, root: Path | None = None) -> types.Diagnostic:
    rule = RULES.get(finding.rule)
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(uri=related_uri(uri, r.path, root), range=lsp_range(r.range)),
            message=r.message,
        )
        for r in finding.related
    ]
    return types.Diagnostic(
        range=lsp_range(finding.range),
        message=finding.message,
        severity=SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.rule,
        code_description=types.CodeDescription(href=rule.docs_url) if rule is not None else None,
        source=SOURCE,
        # the editor's `data` equals the command line's (the contract), so it is passed through untouched
        data=finding.data,
        related_information=related or None,
        # unused code is shown faded, as editors show unused variables
        tags=[types.DiagnosticTag.Unnecessary] if finding.rule == "SA303" else None,
    )


def diagnostics(findings: list[Finding], uri: str, root: Path | None = None) -> list[types.Diagnostic]:
    return [diagnostic(f, uri, root) for f in findings]


def json_range(rng: Range) -> dict[str, Any]:
    return rng.to_json()


def range_from_json(value: Any) -> Range | None:
    """A Range from `{"start": {"line", "character"}, "end": {...}}` (our own code action data)."""
    try:
        s, e = value["start"], value["end"]
        return Range.of(int(s["line"]), int(s["character"]), int(e["line"]), int(e["character"]))
    except (KeyError, TypeError, ValueError):
        return None
