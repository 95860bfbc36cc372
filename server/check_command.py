"""`check` through the project index: per-file findings analysed once and kept in `<root>/.sophia`, SA301-SA303
from the whole project of each file, and `--summary` (debt and its trend). The command line's plumbing
(arguments, output, exit codes) stays in `server.cli`."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sophia_artemis.server import cli  # its helpers through the module, so tests can patch them there


def check_indexed(run: Any, args: argparse.Namespace) -> None:
    """`check` through the project index (memory/workspace_index.py): per-file findings are analysed once
    and kept in `<root>/.sophia` (unless --no-cache), and SA301-SA303 come from the whole project of each
    file (its nearest pyproject.toml or .git), honouring `# sophia: ignore[...]` comments."""
    from sophia_artemis.analysis.files import remembered_listings

    with remembered_listings():  # the walk of the paths given and the index's walk of their project
        _check_indexed(run, args)


def _check_indexed(run: Any, args: argparse.Namespace) -> None:
    from sophia_artemis.analysis.config import project_settings
    from sophia_artemis.analysis.files import FileReport, discover
    from sophia_artemis.analysis.model import AnalysisResult, FileMetrics
    from sophia_artemis.analysis.project import relocate
    from sophia_artemis.memory.workspace_index import ProjectIndex
    from sophia_artemis.server.output import display_path

    files = list(discover(run.paths, run.settings, run.root, on_skip=run._skip))
    whole_root = [os.path.abspath(p) for p in run.paths] == [str(run.root)]
    if not files:
        cli._eprint(f"{cli.PROG}: warning: no Python, JavaScript or TypeScript files found under {', '.join(map(str, run.paths))}")
    by_root: dict[Path, list[Path]] = {}
    marked: dict[str, str | None] = {}  # find_root's answers, shared by all the files
    for path in files:
        by_root.setdefault(cli.find_root(Path(os.path.dirname(os.path.abspath(path))), marked), []).append(path)
    run.progress = cli._Progress(len(files), cli._isatty(sys.stderr))
    try:
        for root, paths in by_root.items():
            settings = run.settings
            if root != run.root:  # a nested project (its own pyproject.toml): its own settings, the flags on top
                settings, problems = project_settings(root)
                for problem in problems:
                    cli._eprint(f"{cli.PROG}: warning: {problem}")
                settings = settings.with_rules(cli._flatten(args.select) or None, cli._flatten(args.ignore) or None)
            memory = None if args.no_cache else _project_memory(root)
            index = ProjectIndex(root, settings, memory=memory, jobs=run.jobs, inline=True)
            # the root itself was asked for: its walk is the index's walk, done once
            walked = paths if whole_root and root == run.root and len(by_root) == 1 else None
            refreshed = index.refresh(
                only=paths,
                discovered=walked,
                # the folders named were walked with these settings and root: the index's walk takes their files
                known=_walked_folders(run.paths, files) if walked is None and root == run.root else None,
                progress=lambda done, total, rel: run.progress.advance(),
            )
            for problem in refreshed.problems:
                cli._eprint(f"{cli.PROG}: warning: {problem}")
            failed = {path for path, _ in refreshed.errors}
            for path, error in refreshed.errors:
                run._on_report(FileReport(Path(path), error=error))
            for path in paths:
                facts = index.files.get(index.rel(path))
                if facts is None:
                    reason = next((r for p, r in refreshed.skipped if p == os.path.abspath(path)), None)
                    if reason is not None and os.path.abspath(path) not in failed:
                        run._on_report(FileReport(path, skip_reason=reason))
                    continue
                findings = [relocate(f, display_path) for f in index.findings_for(path)]
                lines = dict(facts.lines)
                _add_line_texts(path, findings, lines)
                metrics = FileMetrics(facts.language, 0, facts.sloc, facts.maintainability, 0)
                run.reports.append(FileReport(path, AnalysisResult(findings, [], metrics), lines=lines))
            if getattr(args, "summary", False):
                run.summaries.append(_summary_of(index, paths, display_path))
            if memory is not None:
                index.close()
                memory.close()
    finally:
        run.progress.clear()
    run.reports.sort(key=lambda r: display_path(r.path))
    run.skipped.sort(key=lambda item: item[0])
    run.seconds = time.perf_counter() - run.started


def _summary_of(index: Any, paths: list[Path], shown: Callable[[Any], str]) -> dict[str, Any]:
    """`check --summary` for one project: the debt of the files checked, and its trend from the project
    memory's snapshots (one per whole-project index run)."""
    from sophia_artemis.analysis.project import debt_snapshot

    rels = {index.rel(p) for p in paths}
    facts = {rel: f for rel, f in index.files.items() if rel in rels}
    now = debt_snapshot(facts, {rel: index.workspace_for(index.root / rel) for rel in rels}, index.settings)
    modules = sorted(
        ((len(index.findings_for(index.root / rel)), f.complexity_excess(index.settings), rel) for rel, f in facts.items()),
        key=lambda item: (-item[1], -item[0], item[2]),
    )
    snapshots = index.snapshots(50)
    trend = [{"time": s["time"], "findings": s.get("total", 0), "over_threshold": s.get("over_threshold", 0),
              "excess_complexity": s.get("excess_complexity", 0)} for s in snapshots]
    return {
        "root": shown(index.root),
        "files": now["files"],
        "sloc": now["sloc"],
        "findings": now["findings"],
        "over_threshold": now["over_threshold"],
        "excess_complexity": now["excess_complexity"],
        "most_debt": [{"path": shown(index.root / rel), "findings": n, "excess_complexity": excess}
                      for n, excess, rel in modules[:10] if n or excess],
        "trend": trend,
    }


def summary_text(summaries: list[dict[str, Any]]) -> str:
    import datetime

    lines: list[str] = []
    for s in summaries:
        rules = ", ".join(f"{rule} {n}" for rule, n in s["findings"].items()) or "none"
        lines.append(f"Summary of {s['root']}: {s['files']} files, {s['sloc']} source lines")
        lines.append(f"  findings by rule: {rules}")
        lines.append(f"  functions over a complexity threshold: {s['over_threshold']} "
                     f"(excess cyclomatic complexity {s['excess_complexity']})")
        if s["most_debt"]:
            lines.append("  most debt: " + ", ".join(
                f"{m['path']} (+{m['excess_complexity']}, {m['findings']} findings)" for m in s["most_debt"][:5]))
        trend = s["trend"]
        if len(trend) >= 2:
            first, last = trend[0], trend[-1]
            when = datetime.datetime.fromtimestamp(first["time"]).strftime("%Y-%m-%d %H:%M")
            delta = last["excess_complexity"] - first["excess_complexity"]
            lines.append(f"  trend since {when} ({len(trend)} index runs): findings {first['findings']} -> "
                         f"{last['findings']}, excess complexity {first['excess_complexity']} -> "
                         f"{last['excess_complexity']} ({'+' if delta > 0 else ''}{delta})")
        elif trend:
            lines.append("  trend: one index run recorded so far")
    return "\n".join(lines)


def _project_memory(root: Path) -> Any:
    from sophia_artemis.memory.project import ProjectMemory  # not imported at all with --no-cache

    return ProjectMemory(root)


def _walked_folders(named: list[Path], files: list[Path]) -> dict[str, list[Path]]:
    """The folders named on the command line and the files the walk of them found in each (all of them: a
    folder's list must be whole): the index's walk of their project takes these instead of walking them
    again."""
    folders = [os.path.abspath(p) for p in named if os.path.isdir(p)]
    found: dict[str, list[Path]] = {folder: [] for folder in folders}
    for path in files:
        absolute = os.path.abspath(path)
        for folder in folders:
            if absolute.startswith(folder + os.sep):
                found[folder].append(path)  # in each folder holding it: one named inside another is one walk
    return found


def _add_line_texts(path: Path, findings: list[Any], lines: dict[int, str]) -> None:
    """The text of non-ASCII lines that workspace findings start on (output turns UTF-16 columns into
    characters with it); the file's own findings brought theirs."""
    missing = {f.range.start.line for f in findings if f.range.start.line not in lines}
    if not missing:
        return
    try:
        data = Path(path).read_bytes()
    except OSError:
        return
    if data.isascii():
        return
    text = data.decode("utf-8", "replace").splitlines()
    for line in missing:
        if line < len(text) and not text[line].isascii():
            lines[line] = text[line]
