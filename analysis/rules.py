"""The rule registry: stable ids, default severities and thresholds. Documented once in docs/rules.md."""

from __future__ import annotations

from dataclasses import dataclass

DOCS_BASE = "https://github.com/sophia-artemis/sophia-artemis/blob/main/docs/rules.md"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    severity: str
    summary: str
    metric: str | None = None  # the figure in `data` behind the finding
    threshold_key: str | None = None  # key under `thresholds` in the configuration
    fires_below: bool = False  # True when a finding fires under the threshold (maintainability)

    @property
    def docs_url(self) -> str:
        return f"{DOCS_BASE}#{self.id.lower()}"


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("SA001", "syntax-error", "error", "The file does not parse; the rest is still analysed."),
        Rule(
            "SA101",
            "cyclomatic-complexity",
            "warning",
            "Function has too many independent paths (radon's cyclomatic complexity).",
            "cyclomatic",
            "cyclomatic",
        ),
        Rule(
            "SA102",
            "cognitive-complexity",
            "warning",
            "Function is hard to follow (SonarSource cognitive complexity).",
            "cognitive",
            "cognitive",
        ),
        Rule("SA103", "function-too-long", "warning", "Function spans too many lines.", "loc", "function_length"),
        Rule("SA104", "too-many-parameters", "warning", "Function takes too many parameters.", "params", "parameters"),
        Rule("SA105", "nesting-too-deep", "warning", "Blocks are nested too deeply.", "depth", "nesting"),
        Rule("SA201", "debt-marker", "information", "A TODO, FIXME, HACK or XXX comment."),
        Rule(
            "SA202",
            "low-maintainability",
            "warning",
            "The file's maintainability index (radon MI) is low.",
            "maintainability",
            "maintainability",
            fires_below=True,
        ),
        Rule(
            "SA203",
            "hotspot",
            "information",
            "The file changes often and is complex (git churn x cyclomatic complexity).",
            "score",
        ),
        Rule("SA301", "import-cycle", "warning", "Modules import each other in a cycle."),
        Rule(
            "SA302",
            "architecture-violation",
            "warning",
            "An import breaks a declared layer, forbidden-import or independence contract.",
        ),
        Rule("SA303", "unused-code", "information", "A function, class or method nothing in the workspace uses."),
        Rule("SA401", "string-concat-in-loop", "information", "A string is built with += inside a loop."),
        Rule("SA402", "list-membership-in-loop", "information", "An `in` test scans a list inside a loop; a set would hash."),
        Rule("SA403", "list-front-in-loop", "information", "list.pop(0) / list.insert(0, x) inside a loop; a deque is O(1)."),
        Rule("SA404", "regex-in-loop", "information", "A constant regular expression is compiled or looked up inside a loop."),
        Rule("SA406", "query-in-loop", "information", "A database query runs once per loop iteration (N+1)."),
        Rule("SA501", "similar-code", "hint", "A function closely matches another one in the project."),
    )
}

DEFAULT_THRESHOLDS: dict[str, int] = {
    "cyclomatic": 10,
    "cognitive": 15,
    "function_length": 100,
    "parameters": 8,
    "nesting": 5,
    "maintainability": 10,
}

DEFAULT_DEBT_MARKERS = ("TODO", "FIXME", "HACK", "XXX")


def matches(rule_id: str, selectors: tuple[str, ...] | frozenset[str]) -> bool:
    """A selector is a rule id or a prefix of one (`SA1` selects every complexity rule)."""
    return any(rule_id.startswith(s) for s in selectors)
