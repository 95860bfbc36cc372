"""The `graph` and `impact` commands (wired into `server.cli` by `add_parsers` and `COMMANDS`).

    sophia-artemis graph PATH [--format json|dot|mermaid] [--language python|javascript|typescript|all]
    sophia-artemis impact PATH TARGET [--format json|text]

PATH is the project root. Paths in the output are relative to the current directory, with `/` (module
*names* stay as the graph names them). User errors raise `cli.UsageError` (one stderr line, exit 2).
"""

from __future__ import annotations

import argparse
import difflib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sophia_artemis.server.arguments import add_format

GRAPH_FORMATS = ("json", "dot", "mermaid")
IMPACT_FORMATS = ("text", "json")
LANGUAGES = ("python", "javascript", "typescript", "all")
JS_TEST_MARKERS = (".test.", ".spec.")


def add_parsers(commands: Any) -> None:
    """Add `graph` and `impact` to the command line's subparsers."""
    graph = commands.add_parser(
        "graph",
        help="the import graph of a project",
        description="The import graph of the project at PATH: modules, module-level edges (kind import, "
        "type_checking or function_local), external imports and cycles. Python modules are dotted from the "
        "import root (PATH/src when it exists, else PATH; the `import_roots` setting overrides); JS/TS "
        "modules are their path relative to PATH without the extension. Module paths are printed relative "
        "to the current directory.",
    )
    graph.add_argument("path", metavar="PATH", nargs="?", default=".", help="the project root (default: .)")
    add_format(graph, GRAPH_FORMATS, default="json")
    graph.add_argument(
        "--language",
        choices=LANGUAGES,
        default=None,
        help="which modules to include (default: python; all when the project has no Python modules)",
    )
    graph.add_argument("--external", action="store_true", help="dot/mermaid: also draw the external imports")
    graph.add_argument(
        "-o", "--output-file", metavar="FILE", help="write the result to FILE instead of stdout"
    )

    impact = commands.add_parser(
        "impact",
        help="what a change to a file or symbol affects",
        description="What a change to TARGET affects. TARGET is a file (relative to the current directory "
        "or to PATH), a module name, or `module:qualname` (`pkg.mod:Class.method`). Dependents: the modules "
        "importing TARGET's module directly, and at any distance (transitive, which includes the direct "
        "ones). Callers: for `module:qualname` the call sites that may call it (with a confidence); for a "
        "Python file the call sites in other modules of its top-level functions and classes. Tests: for "
        "`module:qualname` the test files calling it or importing its module; for a file the test files "
        "importing its module or any of its dependents. co_changed: files that changed together with the target's file in git history (change coupling; empty outside a git repository).",
    )
    impact.add_argument("path", metavar="PATH", help="the project root")
    impact.add_argument("target", metavar="TARGET", help="a file, a module name, or module:qualname")
    add_format(impact, IMPACT_FORMATS)
    impact.add_argument(
        "-o", "--output-file", metavar="FILE", help="write the result to FILE instead of stdout"
    )


# --------------------------------------------------------------------------------------------- helpers


def _cli() -> Any:
    from sophia_artemis.server import cli

    return cli


def _root(path: str) -> Path:
    cli = _cli()
    if not os.path.lexists(path):
        raise cli.UsageError(f"{path}: no such file or directory")
    if not os.path.isdir(path):
        raise cli.UsageError(f"{path}: not a folder (PATH is the project root)")
    return Path(os.path.abspath(path))


def _settings(root: Path) -> Any:
    from sophia_artemis.analysis.config import project_settings

    settings, problems = project_settings(root)
    for problem in problems:
        _cli()._eprint(f"{_cli().PROG}: warning: {problem}")
    return settings


def _shown(root: Path, rel: str) -> str:
    """A path relative to `root` as the user sees it: relative to the current directory, with `/`."""
    from sophia_artemis.server.output import display_path

    return display_path(root / rel)


def _report_skipped(root: Path, skipped: list[tuple[str, str]]) -> None:
    cli = _cli()
    for rel, reason in skipped:
        cli._eprint(f"{cli.PROG}: skipped {_shown(root, rel)}: {reason}")


def _build_graph(root: Path, settings: Any, language: str) -> Any:
    from sophia_artemis.analysis.imports import build_graph

    graph = build_graph(root, settings, language=language)
    _report_skipped(root, graph.skipped)
    return graph


def _suggest(wanted: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(wanted, sorted(set(candidates)), n=3, cutoff=0.5)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def _write(text: str, output_file: str | None) -> None:
    _cli()._emit(text, output_file)


# --------------------------------------------------------------------------------------------- graph


def cmd_graph(args: argparse.Namespace) -> int:
    root = _root(args.path)
    settings = _settings(root)
    if args.language is None:
        graph = _build_graph(root, settings, "python")
        if not graph.modules:  # a JS/TS-only project
            graph = _build_graph(root, settings, "all")
    else:
        graph = _build_graph(root, settings, args.language)
    if args.format == "json":
        data = graph.to_json()
        for module in data["modules"]:
            module["path"] = _shown(root, module["path"])
        _cli()._dump(data, args.output_file)
    elif args.format == "dot":
        _write(graph.to_dot(external=args.external), args.output_file)
    else:
        _write(graph.to_mermaid(external=args.external), args.output_file)
    return 0


# --------------------------------------------------------------------------------------------- impact


def _is_test(rel: str) -> bool:
    from sophia_artemis.analysis.symbols import is_test_path

    name = rel.rsplit("/", 1)[-1]
    return is_test_path(rel) or any(m in name for m in JS_TEST_MARKERS) or "/__tests__/" in f"/{rel}"


def _locate_file(root: Path, target: str) -> Path | None:
    """TARGET as an existing file or folder: relative to the current directory, else to PATH."""
    for candidate in (Path(target), root / target):
        if candidate.exists():
            return Path(os.path.abspath(candidate))
    return None


def _index(root: Path, settings: Any) -> Any:
    from sophia_artemis.analysis.symbols import WorkspaceIndex

    return WorkspaceIndex.build(root, settings=settings)


def _caller_json(root: Path, caller: Any, **extra: str) -> dict[str, Any]:
    data = caller.to_json()
    data["path"] = _shown(root, data["path"])
    data["confidence"] = caller.confidence
    data.update(extra)
    return data


def _importing_tests(index: Any, modules: set[str]) -> set[str]:
    """Test files of the index (paths relative to the root) importing any of `modules`."""
    out: set[str] = set()
    for fs in index.modules.values():
        if not fs.is_test:
            continue
        for b in fs.imports:
            if b.imported in modules or (b.name is not None and f"{b.module}.{b.name}" in modules):
                out.add(fs.path)
                break
    return out


def _impact_symbol(root: Path, settings: Any, target: str) -> dict[str, Any]:
    from sophia_artemis.analysis.symbols import TargetError

    index = _index(root, settings)
    try:
        key = index.resolve_target(target)
    except TargetError as exc:
        module = target.partition(":")[0]
        if module in index.modules:
            names = [f"{module}:{d.qualname}" for d in index.modules[module].definitions]
        else:
            names = [f"{fs.module}:{d.qualname}" for fs in index.modules.values() for d in fs.definitions]
        hint = _suggest(target, names)
        raise _cli().UsageError(f"impact: unknown target {target}: {exc}{hint}") from None
    name = index.key_name(key)
    module = key[0]
    graph = _build_graph(root, settings, "python")
    callers = [_caller_json(root, c) for c in index.callers_of(name)]
    tests = [_shown(root, p) for p in index.tests_for(name)]
    return _impact_json(name, graph, module, callers, tests, _co_changed(root, graph, module))


def _co_changed(root: Path, graph: Any, module: str | None, k: int = 10) -> list[dict[str, Any]]:
    """Files that changed together with the module's file in git history (empty outside a git repository)."""
    node = graph.module(module) if graph is not None and module else None
    if node is None:
        return []
    from sophia_artemis.analysis.history import (
        DEFAULT_HALF_LIFE_DAYS,
        DEFAULT_MAX_FILES,
        HistoryError,
        toplevel,
    )
    from sophia_artemis.server.history_commands import _repo_relative, _stored_history
    from sophia_artemis.server.output import display_path

    try:
        top = toplevel(root)
        rel = _repo_relative(top, root / node.path)
        history = _stored_history(root, top, DEFAULT_MAX_FILES, DEFAULT_HALF_LIFE_DAYS) if rel is not None else None
        ranked = history.related(rel, k=k) if history is not None else []
    except HistoryError:
        return []
    return [{"path": display_path(top / r.path), "score": round(r.score, 4), "commits": r.support} for r in ranked]


def _impact_json(
    target: str,
    graph: Any,
    module: str | None,
    callers: list[dict[str, Any]],
    tests: list[str],
    co_changed: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "version": 1,
        "target": target,
        "dependents": {
            "direct": graph.dependents_of(module),
            "transitive": graph.dependents_of(module, transitive=True),
        },
        "callers": callers,
        "co_changed": co_changed,
        "tests": sorted(set(tests)),
    }


def _impact_module(root: Path, settings: Any, target: str) -> dict[str, Any]:
    from sophia_artemis.analysis.imports.languages import ALL_SUFFIXES, language_of

    cli = _cli()
    found = _locate_file(root, target)
    module: str | None = None
    graph: Any = None
    shown_target = target
    if found is not None:
        if found.is_dir() and (found / "__init__.py").is_file():
            found = found / "__init__.py"
        try:
            rel = Path(os.path.relpath(found, root)).as_posix()
        except ValueError:
            rel = "../"
        if rel == ".." or rel.startswith("../"):
            raise cli.UsageError(f"impact: {target} is outside the project {_shown(root, '.')}")
        language = language_of(found.name) if found.is_file() else "python"
        graph = _build_graph(root, settings, "python" if language in (None, "python") else "all")
        module = graph.module_for_path(rel)
        shown_target = _shown(root, rel)
        index = _index(root, settings) if language in (None, "python") else None
        if module is None and index is not None:
            module = index.by_path.get(rel)  # a module outside the import roots (tests/ beside src/)
        if module is None:
            raise cli.UsageError(
                f"impact: {shown_target} is not a module of the import graph of {_shown(root, '.')}"
            )
    else:
        graph = _build_graph(root, settings, "python")
        if graph.module(target) is None:
            graph = _build_graph(root, settings, "all")
        if graph.module(target) is None:
            if "/" in target or os.sep in target or target.endswith(ALL_SUFFIXES):  # a path
                candidates = [m.path for m in graph.modules] + [_shown(root, m.path) for m in graph.modules]
            else:
                candidates = [m.name for m in graph.modules]
            raise cli.UsageError(
                f"impact: unknown target {target}: no such file or module{_suggest(target, candidates)}"
            )
        module = target
        node = graph.module(module)
        index = _index(root, settings) if node.language == "python" else None
        shown_target = _shown(root, node.path)
    transitive = graph.dependents_of(module, transitive=True)
    affected = {module, *transitive}
    by_name = {m.name: m for m in graph.modules}
    tests = [_shown(root, by_name[m].path) for m in affected if _is_test(by_name[m].path)]
    callers: list[dict[str, Any]] = []
    if index is not None and module in index.modules:
        fs = index.modules[module]
        tests += [_shown(root, p) for p in _importing_tests(index, affected)]
        seen: set[tuple[str, int, int]] = set()
        for d in fs.definitions:
            if d.parent != -1 or d.kind not in ("function", "class"):
                continue
            name = f"{module}:{d.qualname}"
            for c in index.callers_of(name):
                spot = (c.path, c.range.start.line, c.range.start.character)
                if c.module == module or spot in seen:
                    continue
                seen.add(spot)
                callers.append(_caller_json(root, c, calls=name))
        callers.sort(key=lambda c: (c["path"], c["range"]["start"]["line"], c["range"]["start"]["character"]))
    return _impact_json(shown_target, graph, module, callers, tests, _co_changed(root, graph, module))


def _impact_text(data: dict[str, Any]) -> str:
    lines = [f"Impact of {data['target']}", ""]
    direct = data["dependents"]["direct"]
    transitive = [m for m in data["dependents"]["transitive"] if m not in set(direct)]
    lines.append(f"Dependents ({len(data['dependents']['transitive'])})")
    lines += [f"  {m}" for m in direct] + [f"  {m} (indirect)" for m in transitive] or ["  (none)"]
    lines += ["", f"Callers ({len(data['callers'])})"]
    for c in data["callers"]:
        start = c["range"]["start"]
        calls = f" -> {c['calls']}" if "calls" in c else ""
        lines.append(
            f"  {c['path']}:{start['line'] + 1}:{start['character'] + 1}  in {c['qualname']}{calls} [{c['confidence']}]"
        )
    if not data["callers"]:
        lines.append("  (none)")
    lines += ["", f"Tests ({len(data['tests'])})"]
    lines += [f"  {t}" for t in data["tests"]] or ["  (none)"]
    return "\n".join(lines) + "\n"


def cmd_impact(args: argparse.Namespace) -> int:
    root = _root(args.path)
    settings = _settings(root)
    target = args.target.strip()
    if not target:
        raise _cli().UsageError("impact: TARGET is empty")
    if ":" in target and not os.path.exists(target) and not (root / target).exists():
        data = _impact_symbol(root, settings, target)
    else:
        data = _impact_module(root, settings, target)
    if args.format == "json":
        _cli()._dump(data, args.output_file)
    else:
        _write(_impact_text(data), args.output_file)
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"graph": cmd_graph, "impact": cmd_impact}
