"""Analyse one document: functions and their metrics, then findings, then suppressions.

`analyze` is what both the language server (on every change, with a shared FunctionCache so only changed
functions are measured) and the command line (on each file) call. Its result for a text never depends on
what the cache holds: an incremental analysis equals a fresh one (tests/test_incremental.py proves it).
"""

from __future__ import annotations

import logging
import re

from . import js_metrics, performance, python_metrics
from .comments import iter_comments, scan_comments
from .config import Settings
from .document import Document
from .functions import FunctionCache, iter_functions, js_identity, qualname, text_key
from .maintainability import line_counts
from .model import (
    AnalysisResult,
    FailedFunction,
    FileMetrics,
    Finding,
    FunctionInfo,
    Position,
    Range,
    Related,
    Suppression,
)
from .rules import RULES
from .syntax import syntax_problems
from .text import utf16_len

log = logging.getLogger(__name__)

ANALYZER_VERSION = f"py{python_metrics.ANALYZER_VERSION}+perf{performance.ANALYZER_VERSION}"
JS_ANALYZER_VERSION = f"js{js_metrics.ANALYZER_VERSION}"

# rule id -> (metric attribute, message template); {name} is the function, {value} the figure
_FUNCTION_RULES = (
    ("SA101", "cyclomatic", "Cyclomatic complexity of '{name}' is {value} (threshold {threshold})"),
    ("SA102", "cognitive", "Cognitive complexity of '{name}' is {value} (threshold {threshold})"),
    ("SA103", "loc", "'{name}' is {value} lines long (threshold {threshold})"),
    ("SA104", "params", "'{name}' takes {value} parameters (threshold {threshold})"),
    ("SA105", "depth", "Blocks in '{name}' are nested {value} deep (threshold {threshold})"),
)


def measure_functions(
    doc: Document, cache: FunctionCache | None = None, failures: list[FailedFunction] | None = None
) -> list[FunctionInfo]:
    """Every function in the document with its metrics; unchanged functions come from the cache."""
    if doc.language != "python":
        return _measure_js_functions(doc, cache, failures)
    source = doc.source
    index = doc.index
    out: list[FunctionInfo] = []
    events = python_metrics.file_events(doc.tree)  # when the tree was primed for it (the batch path)
    for func, name_node in iter_functions(doc):
        name = name_node.text.decode("utf-8", "replace")
        try:
            # a function with a syntax error is not cached: how tree-sitter recovers inside it depends on
            # text around it too, so its own text does not decide its metrics
            if cache is None or func.has_error:
                metrics = python_metrics.compute_metrics(func, events)
            else:
                key = text_key(source[func.start_byte:func.end_byte], ANALYZER_VERSION)
                metrics = cache.get_or_compute(key, lambda f=func: python_metrics.compute_metrics(f, events))
        except Exception as exc:  # one analyser failing on one function must not silence the others
            qn = qualname(func, name)
            log.exception("metrics failed on function %s (line %d)", qn, func.start_point[0] + 1)
            if failures is not None:
                failures.append(FailedFunction(qn, f"{exc.__class__.__name__}: {exc}"))
            continue
        out.append(
            FunctionInfo(
                qualname=qualname(func, name),
                name=name,
                def_line=func.start_point[0] + 1,
                range=index.node_range(func),
                name_range=index.node_range(name_node),
                metrics=metrics,
            )
        )
    return out


def _measure_js_functions(
    doc: Document, cache: FunctionCache | None, failures: list[FailedFunction] | None
) -> list[FunctionInfo]:
    source = doc.source
    index = doc.index
    out: list[FunctionInfo] = []
    for func, anchor in iter_functions(doc):
        name, qn, component = js_identity(func)
        try:
            if cache is None or func.has_error:  # see measure_functions
                metrics = js_metrics.compute_metrics(func, component)
            else:
                # the component name is part of the key: SonarJS' React exception depends on it
                key = text_key(component + b"\0" + source[func.start_byte:func.end_byte], JS_ANALYZER_VERSION)
                metrics = cache.get_or_compute(key, lambda f=func, c=component: js_metrics.compute_metrics(f, c))
        except Exception as exc:  # one analyser failing on one function must not silence the others
            log.exception("metrics failed on function %s (line %d)", qn, func.start_point[0] + 1)
            if failures is not None:
                failures.append(FailedFunction(qn, f"{exc.__class__.__name__}: {exc}"))
            continue
        start = js_metrics.definition_start(func)
        out.append(
            FunctionInfo(
                qualname=qn,
                name=name,
                def_line=start.start_point[0] + 1,
                range=index.range(start.start_byte, func.end_byte),
                name_range=index.node_range(anchor),
                metrics=metrics,
            )
        )
    return out


def _deepest_range(doc: Document, func_start: Position, deepest: tuple[int, int] | None) -> Range | None:
    """The line of the most deeply nested block; `deepest` is (row offset, byte column) from the def."""
    if deepest is None:
        return None
    row_offset, column = deepest
    func_row = doc.index.point(doc.index.offset(func_start))[0]
    start = doc.index.offset_of_point(func_row + row_offset, column)
    end = doc.source.find(b"\n", start)
    return doc.index.range(start, len(doc.source) if end == -1 else end)


def function_findings(doc: Document, functions: list[FunctionInfo], settings: Settings) -> list[Finding]:
    findings: list[Finding] = []
    for rule_id, attr, template in _FUNCTION_RULES:
        if not settings.enabled(rule_id):
            continue
        rule = RULES[rule_id]
        threshold = settings.threshold(rule.threshold_key)
        severity = settings.severity_of(rule_id)
        for info in functions:
            value = getattr(info.metrics, attr)
            if value <= threshold:
                continue
            related: tuple[Related, ...] = ()
            if rule_id == "SA105":
                deepest = _deepest_range(doc, info.range.start, info.metrics.deepest)
                if deepest is not None:
                    related = (Related(deepest, f"nested {value} deep here"),)
            findings.append(
                Finding(
                    rule=rule_id,
                    severity=severity,
                    message=template.format(name=info.name, value=value, threshold=threshold),
                    range=info.name_range,
                    data={attr: value, "threshold": threshold, "qualname": info.qualname},
                    related=related,
                )
            )
    return findings


def file_finding_maintainability(doc: Document, mi: float | None, settings: Settings) -> list[Finding]:
    if mi is None or not settings.enabled("SA202"):
        return []
    threshold = settings.threshold("maintainability")
    if mi >= threshold:
        return []
    first = doc.index.line_text(0)
    return [
        Finding(
            rule="SA202",
            severity=settings.severity_of("SA202"),
            message=f"Maintainability index of this file is {mi:.1f} (threshold {threshold}): split it or simplify its largest functions",
            range=Range(Position(0, 0), Position(0, utf16_len(first))),
            data={"maintainability": mi, "threshold": threshold},
        )
    ]


def analyze(
    doc: Document,
    settings: Settings,
    cache: FunctionCache | None = None,
    *,
    maintainability: float | None = None,
) -> AnalysisResult:
    """Findings and metrics for one document.

    `maintainability` is the file's radon MI when the caller has it (the server computes it off the
    keystroke path; the CLI computes it up front); SA202 fires only from it.
    """
    if doc.language != "python":
        maintainability = None  # radon's MI is defined on Python only (SA202 is Python-only)
    failures: list[FailedFunction] = []
    functions = measure_functions(doc, cache, failures)
    findings = function_findings(doc, functions, settings)
    findings.extend(performance.findings(doc, settings, cache, functions))  # SA4xx, cached per function text too

    markers, suppressions = scan_comments(doc, settings.debt_markers)
    if doc.language != "python":
        suppressions = suppressions + js_suppressions(doc)
    if settings.enabled("SA201"):
        severity = settings.severity_of("SA201")
        for m in markers:
            message = f"{m.marker}: {m.text}" if m.text else m.marker
            findings.append(Finding("SA201", severity, message, m.range, {"marker": m.marker, "text": m.text}))

    if settings.enabled("SA001") and doc.language == "python":  # no SA001 for JS/TS: see docs/rules.md
        severity = settings.severity_of("SA001")
        for p in syntax_problems(doc):
            data = {"missing": p.missing} if p.missing else {}
            findings.append(Finding("SA001", severity, p.message, p.range, data))

    findings.extend(file_finding_maintainability(doc, maintainability, settings))

    kept, suppressed = apply_suppressions(findings, suppressions)
    kept.sort(key=Finding.sort_key)
    loc, sloc = line_counts(doc.source)
    file_metrics = FileMetrics(doc.language, loc, sloc, maintainability, len(markers))
    return AnalysisResult(kept, functions, file_metrics, suppressed, suppressions, failures)


JS_SUPPRESSION_RE = re.compile(
    r"(?://|/\*+|^\s*\*)\s*sophia:\s*ignore(?:\[(?P<rules>[^\]]*)\])?(?:\s*--\s*(?P<reason>.*?))?\s*(?=\*/|$)",
    re.IGNORECASE | re.MULTILINE,
)


def js_suppressions(doc: Document) -> list[Suppression]:
    """`// sophia: ignore[SA101] -- reason` and `/* sophia: ignore[SA101] */` in a JavaScript/TypeScript
    document; the suppression applies to the line the comment starts on."""
    found: list[Suppression] = []
    for node in iter_comments(doc):
        text = node.text.decode("utf-8", "replace")
        if "sophia" not in text.lower():
            continue
        for m in JS_SUPPRESSION_RE.finditer(text):
            start = node.start_byte + len(text[: m.start()].encode())
            end = node.start_byte + len(text[: m.end()].rstrip().encode())
            rules = frozenset(r.strip().upper() for r in (m.group("rules") or "").split(",") if r.strip())
            reason = (m.group("reason") or "").strip() or None
            rng = doc.index.range(start, end)
            found.append(Suppression(rng.start.line, rules, reason, rng))
    return found


def apply_suppressions(findings: list[Finding], suppressions: list[Suppression]) -> tuple[list[Finding], list[Finding]]:
    """Split findings into (kept, suppressed) by `# sophia: ignore[...]` on the finding's first line.

    SA001 is never suppressed: a file that does not parse cannot be trusted to say what to ignore."""
    if not suppressions:
        return list(findings), []
    by_line: dict[int, set[str] | None] = {}
    for s in suppressions:
        if not s.rules:
            by_line[s.line] = None
        elif s.line not in by_line or by_line[s.line] is not None:
            by_line.setdefault(s.line, set()).update(s.rules)  # type: ignore[union-attr]
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    for f in findings:
        line = f.range.start.line
        if f.rule != "SA001" and line in by_line and (by_line[line] is None or f.rule in by_line[line]):
            suppressed.append(f)
        else:
            kept.append(f)
    return kept, suppressed
