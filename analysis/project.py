"""Whole-project analysis, pure: what one file contributes (`file_facts`, run in worker processes) and the
findings only the whole project can give (`workspace_findings`: SA301 cycles, SA302 contracts, SA303
unused code).

`FileFacts` is everything kept about one file between runs: its own findings (suppressions applied), the
suppression comments (workspace findings honour them too), a compact summary for debt snapshots and
hotspots, and the import records and symbols the graph and the symbol index are built from, so a file is
read and analysed once. `memory.workspace_index` persists them; the server and `check` use that.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import __version__
from .config import Settings
from .engine import ANALYZER_VERSION, apply_suppressions
from .model import Finding, Range, Suppression

FACTS_VERSION = f"facts1/{ANALYZER_VERSION}/{__version__}"
"""Bumped whenever `file_facts` could return something different for the same file and settings."""

COMPLEXITY_RULES = ("SA101", "SA102")


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=20).hexdigest()


@dataclass(slots=True)
class FunctionSummary:
    qualname: str
    line: int  # 0-based line of the name
    cyclomatic: int
    cognitive: int
    loc: int


@dataclass(slots=True)
class FileFacts:
    """One file of the project, as analysed. `skip_reason` or `error` set means no analysis."""

    rel: str  # relative to the project root, with "/"
    digest: str = ""
    language: str = "python"
    findings: list[Finding] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    lines: dict[int, str] = field(default_factory=dict)  # text of non-ASCII lines findings start on
    functions: list[FunctionSummary] = field(default_factory=list)
    sloc: int = 0
    maintainability: float | None = None
    skip_reason: str | None = None
    error: str | None = None
    partial: bool = False  # read for the project's graph and symbols only, not analysed
    # import records and symbols under their cache keys (graph and symbol index); the index stores them apart
    extractions: dict[str, Any] = field(default_factory=dict)

    @property
    def analysed(self) -> bool:
        return self.skip_reason is None and self.error is None and not self.partial

    def complexity_excess(self, settings: Settings) -> int:
        """How far the functions' cyclomatic complexity goes over its threshold, summed."""
        limit = settings.threshold("cyclomatic")
        return sum(max(0, f.cyclomatic - limit) for f in self.functions)


def file_facts(
    path: str | os.PathLike[str],
    rel: str,
    module: str | None,
    settings: Settings,
    *,
    analyse: bool = True,
    extract: bool = True,
) -> FileFacts:
    """Read one file and parse it once: its findings and summary (when `analyse`; otherwise the facts are
    `partial`), and (when `extract`) its import records and, given its dotted `module` name, its symbols,
    in `extractions` under the keys the import graph and the symbol index cache them by. Never raises for
    the file's content; unexpected failures propagate."""
    from . import shared_query

    try:
        return _file_facts(os.fspath(path), rel, module, settings, analyse, extract)
    finally:
        shared_query.release()  # the primed tree (see analyze_path's `readers`) is not kept past its file


def _file_facts(name: str, rel: str, module: str | None, settings: Settings, analyse: bool, extract: bool) -> FileFacts:
    from . import files
    from .document import Document, dialect_for
    from .imports.extract import cache_key as imports_key
    from .imports.extract import tree_imports
    from .imports.languages import dialect_of, language_of
    from .symbols.extract import cache_key as symbols_key
    from .symbols.extract import tree_symbols

    facts = FileFacts(rel, language=language_of(name) or "python", partial=not analyse)
    doc = None
    if analyse:
        readers = (("imports", "symbols") if module is not None else ("imports",)) if extract else ()
        report = files.analyze_path(name, settings, keep_document=True, readers=readers)
        if report.result is None:
            facts.skip_reason = report.skip_reason or "unreadable"
            return facts
        doc = report.document
        result = report.result
        facts.findings = result.findings
        facts.suppressions = result.suppressions
        facts.lines = report.lines
        facts.maintainability = report.maintainability
        facts.sloc = result.file.sloc
        facts.functions = [
            FunctionSummary(f.qualname, f.name_range.start.line, f.metrics.cyclomatic, f.metrics.cognitive,
                            f.metrics.loc)
            for f in result.functions
        ]
        data = doc.source
    else:
        data, reason = files.read_source(name, settings.max_file_size)
        if data is None:
            facts.skip_reason = reason or "unreadable"
            return facts
    facts.digest = digest(data)
    dialect = dialect_of(name)
    if not extract or dialect is None:
        return facts
    if doc is None or getattr(doc, "dialect", "python") != dialect:
        doc = Document(data, dialect_for(name) or "python")
    facts.extractions[imports_key(name, data)] = tuple(tree_imports(doc.tree, data, dialect))
    if module is not None and dialect == "python":
        facts.extractions[symbols_key(module, rel, data)] = tree_symbols(module, rel, data, doc.tree)
    return facts


# --------------------------------------------------------------------------------------------- workspace rules


@dataclass
class WorkspaceFindings:
    """SA301-SA303 by file (absolute path), plus problems to show (unreadable import-linter config...)."""

    findings: dict[str, list[Finding]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    contracts: list[Any] = field(default_factory=list)


def wanted(settings: Settings) -> bool:
    return any(settings.enabled(r) for r in ("SA301", "SA302", "SA303"))


def workspace_findings(
    root: Path,
    settings: Settings,
    graph: Any | None,
    index: Any | None,
    *,
    texts: Mapping[str, str] | None = None,
) -> WorkspaceFindings:
    """The project-level findings from its import graph (SA301/SA302) and symbol index (SA303)."""
    from .architecture import project_architecture

    out = WorkspaceFindings()
    if graph is not None:
        arch = project_architecture(graph, root, settings, texts=texts)
        out.findings = arch.findings
        out.problems = list(arch.problems)
        out.contracts = arch.contracts
    if index is not None and settings.enabled("SA303"):
        for path, found in unused_findings(index, settings).items():
            out.findings.setdefault(path, []).extend(found)
            out.findings[path].sort(key=Finding.sort_key)
    return out


def unused_findings(index: Any, settings: Settings) -> dict[str, list[Finding]]:
    """SA303 by file (absolute path) from a `symbols.WorkspaceIndex`."""
    from .symbols import find_unused

    severity = settings.severity_of("SA303")
    out: dict[str, list[Finding]] = {}
    unused = settings.unused
    for item in find_unused(index, whitelist=unused.whitelist, min_confidence=unused.min_confidence):
        message = f"{item.reason[:1].upper()}{item.reason[1:]} ({item.confidence}% sure)"
        if item.qualname != item.qualname.rsplit(".", 1)[-1]:
            message = message.replace(f"'{item.qualname.rsplit('.', 1)[-1]}'", f"'{item.qualname}'", 1)
        data = {"qualname": item.qualname, "kind": item.kind, "confidence": item.confidence,
                "threshold": unused.min_confidence}
        path = str(index.root / item.path)
        out.setdefault(path, []).append(Finding("SA303", severity, message, item.range, data))
    return out


def honour_suppressions(findings: list[Finding], suppressions: list[Suppression]) -> list[Finding]:
    return apply_suppressions(findings, suppressions)[0] if suppressions else list(findings)


def relocate(finding: Finding, shown: Any) -> Finding:
    """`finding` with the paths of its related locations passed through `shown` (absolute -> displayed)."""
    if not finding.related:
        return finding
    return replace(finding, related=tuple(replace(r, path=shown(r.path)) if r.path else r for r in finding.related))


def debt_snapshot(facts: Mapping[str, FileFacts], workspace: Mapping[str, list[Finding]], settings: Settings) -> dict[str, Any]:
    """Counts per rule, functions over a complexity threshold, and their summed excess complexity."""
    counts: dict[str, int] = {}
    over = 0
    excess = 0
    files = 0
    sloc = 0
    for f in facts.values():
        if not f.analysed:
            continue
        files += 1
        sloc += f.sloc
        for finding in f.findings:
            counts[finding.rule] = counts.get(finding.rule, 0) + 1
        over += sum(1 for fn in f.functions if fn.cyclomatic > settings.threshold("cyclomatic")
                    or fn.cognitive > settings.threshold("cognitive"))
        excess += f.complexity_excess(settings)
    for found in workspace.values():
        for finding in found:
            counts[finding.rule] = counts.get(finding.rule, 0) + 1
    return {
        "files": files,
        "sloc": sloc,
        "findings": dict(sorted(counts.items())),
        "total": sum(counts.values()),
        "over_threshold": over,
        "excess_complexity": excess,
    }


__all__ = [
    "FACTS_VERSION",
    "FileFacts",
    "FunctionSummary",
    "Range",
    "WorkspaceFindings",
    "debt_snapshot",
    "digest",
    "file_facts",
    "honour_suppressions",
    "relocate",
    "unused_findings",
    "wanted",
    "workspace_findings",
]
