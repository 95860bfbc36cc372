"""Plain data the analysis produces. No protocol types: the server converts these to LSP objects.

All ranges are 0-based with `character` in UTF-16 code units, exactly as LSP and the JSON contract use them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("error", "warning", "information", "hint")


@dataclass(frozen=True, slots=True)
class Position:
    line: int
    character: int

    def to_json(self) -> dict[str, int]:
        return {"line": self.line, "character": self.character}


@dataclass(frozen=True, slots=True)
class Range:
    start: Position
    end: Position

    @classmethod
    def of(cls, start_line: int, start_char: int, end_line: int, end_char: int) -> Range:
        return cls(Position(start_line, start_char), Position(end_line, end_char))

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start.to_json(), "end": self.end.to_json()}

    def contains(self, pos: Position) -> bool:
        return (self.start.line, self.start.character) <= (pos.line, pos.character) <= (
            self.end.line,
            self.end.character,
        )


@dataclass(frozen=True, slots=True)
class Related:
    """Another place that matters to a finding (LSP relatedInformation). `path` None = same file."""

    range: Range
    message: str
    path: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: str
    message: str
    range: Range
    data: dict[str, Any] = field(default_factory=dict)
    related: tuple[Related, ...] = ()

    def sort_key(self) -> tuple[int, int, str]:
        return (self.range.start.line, self.range.start.character, self.rule)


@dataclass(frozen=True, slots=True)
class Metrics:
    """Per-function figures that depend only on the function's own text (so they can be cached by hash).

    `deepest` locates the most deeply nested block relative to the function's first byte as
    (row offset, byte column) - it is None when the body has no nesting.
    """

    cyclomatic: int
    cognitive: int
    loc: int
    params: int
    depth: int
    deepest: tuple[int, int] | None = None
    loops: int = 0  # loops and comprehensions in the body, nested definitions' included (SA4xx need one)


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    """One `def`/`async def` at any depth, located in its document."""

    qualname: str
    name: str
    def_line: int  # 1-based line of the `def` keyword, as Python's ast gives `lineno`
    range: Range  # the whole definition, decorators excluded
    name_range: Range  # the function's name
    metrics: Metrics

    def to_json(self, path: str) -> dict[str, Any]:
        m = self.metrics
        return {
            "path": path,
            "qualname": self.qualname,
            "name": self.name,
            "def_line": self.def_line,
            "range": self.range.to_json(),
            "cyclomatic": m.cyclomatic,
            "cognitive": m.cognitive,
            "loc": m.loc,
            "params": m.params,
        }


@dataclass(frozen=True, slots=True)
class FileMetrics:
    language: str
    loc: int
    sloc: int
    maintainability: float | None  # radon's MI; None when the file cannot be parsed by Python
    debt_markers: int

    def to_json(self, path: str) -> dict[str, Any]:
        return {
            "path": path,
            "language": self.language,
            "loc": self.loc,
            "sloc": self.sloc,
            "maintainability": self.maintainability,
            "debt_markers": self.debt_markers,
        }


@dataclass(frozen=True, slots=True)
class Suppression:
    """A `# sophia: ignore[...]` comment. `rules` empty = every rule on that line."""

    line: int
    rules: frozenset[str]
    reason: str | None
    range: Range  # the comment itself


@dataclass(frozen=True, slots=True)
class FailedFunction:
    """A function whose metrics raised; logged with its traceback, the rest of the file still reports."""

    qualname: str
    error: str


@dataclass(slots=True)
class AnalysisResult:
    findings: list[Finding]
    functions: list[FunctionInfo]
    file: FileMetrics
    suppressed: list[Finding] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    failures: list[FailedFunction] = field(default_factory=list)
