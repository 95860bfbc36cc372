"""Workspace commands (docs/commands.md): sophia.impact, sophia.graph, sophia.report, sophia.openCycle,
sophia.reindex. Each answers the CLI's JSON shape plus `uri`s, or `{"version": 1, "error": ...}`.

Work that may take long (building the graph on first use, mining git history) runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from sophia_artemis.analysis.model import Range

from . import convert
from .engine import WorkspaceEngine, uri_to_path
from .project import FolderState, ProjectFeature

log = logging.getLogger(__name__)

IMPACT = "sophia.impact"
GRAPH = "sophia.graph"
REPORT = "sophia.report"
OPEN_CYCLE = "sophia.openCycle"
REINDEX = "sophia.reindex"
HOTSPOTS_SHOWN = 20
HISTORY_TIMEOUT = 20.0


class CommandError(Exception):
    """A one-line answer for the user: `{"version": 1, "error": message}`."""


def _argument(args: Any) -> dict[str, Any]:
    if isinstance(args, (list, tuple)):
        args = args[0] if args else {}
    if args is None:
        return {}
    if not isinstance(args, dict):
        raise CommandError(f"expected one JSON object as the argument, got {type(args).__name__}")
    return args


def _position(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        return int(value["line"]), int(value["character"])
    except (KeyError, TypeError, ValueError):
        raise CommandError("position must be {\"line\": N, \"character\": N}") from None


class ProjectCommands:
    def __init__(self, server: LanguageServer, engine: WorkspaceEngine, project: ProjectFeature) -> None:
        self.server = server
        self.engine = engine
        self.project = project

    # ---- helpers ----
    async def state(self, uri: str | None) -> FolderState:
        path = uri_to_path(uri) if uri else None
        if uri and path is None:
            raise CommandError(f"not a file uri: {uri}")
        if path is None:
            folders = self.project.store.folders
            if not folders:
                raise CommandError("no workspace folder is open")
            path = folders[-1]
        folder = self.project.store.folder_of(path)
        if folder is None:
            raise CommandError(f"{path} is not inside a workspace folder")
        state = self.project.folders.get(folder)
        if state is None:
            self.project.request_refresh(folder, debounce=False)
            await asyncio.sleep(0)
            state = self.project.folders.get(folder)
        if state is None:
            raise CommandError(f"{folder} is not indexed")
        await state.ready.wait()
        if state.index.graph is None or state.index.symbols is None:
            await asyncio.to_thread(state.index.ensure_models)
        return state

    @staticmethod
    def _file(root: Path, rel: str) -> dict[str, str]:
        return {"path": rel, "uri": (root / rel).as_uri()}

    # ---- sophia.impact ----
    async def impact(self, args: Any) -> dict[str, Any]:
        arg = _argument(args)
        uri = arg.get("uri")
        if not isinstance(uri, str):
            raise CommandError("sophia.impact needs \"uri\" (the file)")
        state = await self.state(uri)
        index = state.index
        path = uri_to_path(uri)
        assert path is not None
        rel = index.rel(path)
        graph, symbols = index.graph, index.symbols
        module = graph.module_for_path(rel) or symbols.by_path.get(rel)
        if module is None:
            raise CommandError(f"{rel} is not a module of the project's import graph")
        target = arg.get("target")
        if target is None:
            target = self._symbol_at(module, rel, path, _position(arg.get("position")))
        elif not isinstance(target, str):
            raise CommandError("target must be \"module:qualname\"")
        root = index.root
        modules = {m.name: m for m in graph.modules}

        def entry(name: str) -> dict[str, str]:
            node = modules.get(name)
            return {"module": name, **(self._file(root, node.path) if node else {"path": "", "uri": ""})}

        callers: list[dict[str, Any]] = []
        tests: set[str] = set()
        if ":" in target:
            from sophia_artemis.analysis.symbols import TargetError

            try:
                found = symbols.callers_of(target)
                tests.update(symbols.tests_for(target))
            except TargetError as exc:
                raise CommandError(f"unknown target {target}: {exc}") from None
            callers = [
                {**self._file(root, c.path), "range": c.range.to_json(), "qualname": c.qualname,
                 "confidence": c.confidence}
                for c in found
            ]
        transitive = graph.dependents_of(module, transitive=True)
        from sophia_artemis.analysis.symbols import is_test_path

        tests.update(modules[m].path for m in [module, *transitive] if m in modules and is_test_path(modules[m].path))
        co_changed = await self._co_changed(root, rel)
        return {
            "version": 1,
            "target": target,
            "dependents": {
                "direct": [entry(m) for m in graph.dependents_of(module)],
                "transitive": [entry(m) for m in transitive],
            },
            "callers": callers,
            "co_changed": co_changed,
            "tests": [self._file(root, t) for t in sorted(tests)],
        }

    def _symbol_at(self, module: str, rel: str, path: Path, position: tuple[int, int] | None) -> str:
        """`module:qualname` of the definition at `position` (its name, or the innermost function around
        it), else the module itself."""
        if position is None:
            return module
        line, character = position
        fs = self.project.state_for(path).index.symbols.file(rel)  # type: ignore[union-attr]
        if fs is not None:
            for d in fs.definitions:
                a, b, c, e = d.span
                if (a, b) <= (line, character) <= (c, e) and not d.local:
                    return f"{module}:{d.qualname}"
        doc = self.engine.get(path.as_uri())
        if doc is not None and doc.result is not None:
            around = [f for f in doc.result.functions
                      if convert.overlaps(f.range, Range.of(line, character, line, character))]
            if around:
                inner = max(around, key=lambda f: (f.range.start.line, f.range.start.character))
                if "<locals>" not in inner.qualname:
                    return f"{module}:{inner.qualname}"
        return module

    def _history(self, root: Path) -> tuple[Path, Any] | None:
        """(work tree root, History of HEAD) from the project memory (only new commits are mined), or None
        outside git. Runs in a worker thread."""
        from sophia_artemis.analysis.history import HistoryError, toplevel
        from sophia_artemis.memory.history_store import project_history

        state = self.project.state_for(root)
        memory = state.index.memory if state is not None else None
        try:
            top = toplevel(root)
            return top, project_history(top, memory)
        except HistoryError:
            return None

    async def _co_changed(self, root: Path, rel: str) -> list[dict[str, Any]]:
        def compute() -> list[dict[str, Any]]:
            found = self._history(root)
            if found is None:
                return []
            top, history = found
            repo_rel = Path(os.path.relpath(root / rel, top)).as_posix()
            out = []
            for r in history.related(repo_rel, k=10):
                shown = Path(os.path.relpath(top / r.path, root)).as_posix()
                out.append({"path": shown, "uri": (top / r.path).as_uri(), "score": round(r.score, 4),
                            "commits": r.support})
            return out

        try:
            return await asyncio.wait_for(asyncio.to_thread(compute), HISTORY_TIMEOUT)
        except (asyncio.TimeoutError, OSError) as exc:
            log.info("co-change history unavailable for %s: %s", rel, exc)
            return []

    # ---- sophia.graph ----
    async def graph(self, args: Any) -> dict[str, Any]:
        arg = _argument(args)
        language = arg.get("language", "all")
        if language not in ("python", "javascript", "typescript", "all"):
            raise CommandError("language must be python, javascript, typescript or all")
        state = await self.state(arg.get("uri"))
        graph = state.index.graph
        data = graph.to_json()
        keep = {m["name"] for m in data["modules"] if language == "all" or m["language"] == language
                or (language == "javascript" and m["language"] == "typescript")}
        root = state.index.root
        data["modules"] = [{**m, "uri": (root / m["path"]).as_uri()} for m in data["modules"] if m["name"] in keep]
        data["edges"] = [e for e in data["edges"] if e["from"] in keep and e["to"] in keep]
        data["external"] = [x for x in data["external"] if x["from"] in keep]
        data["cycles"] = [c for c in data["cycles"] if set(c) <= keep]
        data["root"] = str(root)
        return data

    # ---- sophia.report ----
    async def report(self, args: Any) -> dict[str, Any]:
        arg = _argument(args)
        state = await self.state(arg.get("uri"))
        index = state.index
        root = index.root
        from sophia_artemis.analysis.project import debt_snapshot

        snap = debt_snapshot(index.files, {r: index.workspace_for(root / r) for r in index.workspace}, index.settings)
        churn = await self._churn(root)
        hotspots = []
        for rel, facts in index.files.items():
            complexity = sum(f.cyclomatic for f in facts.functions)
            changes = churn.get(rel, 0)
            if complexity and (changes or not churn):
                hotspots.append({**self._file(root, rel), "score": complexity * max(changes, 1),
                                 "churn": changes, "complexity": complexity})
        hotspots.sort(key=lambda h: (-h["score"], h["path"]))
        return {
            "version": 1,
            "root": str(root),
            "files": snap["files"],
            "findings": snap["findings"],
            "debt": {"over_threshold": snap["over_threshold"], "excess_complexity": snap["excess_complexity"]},
            "hotspots": hotspots[:HOTSPOTS_SHOWN],
            "cycles": index.graph.cycles if index.graph is not None else [],
            "snapshots": [
                {"time": s["time"], "findings": s.get("total", 0), "over_threshold": s.get("over_threshold", 0),
                 "excess_complexity": s.get("excess_complexity", 0)}
                for s in index.snapshots()
            ],
        }

    async def _churn(self, root: Path) -> dict[str, int]:
        """Commits touching each file (paths relative to `root`); {} outside git."""
        def compute() -> dict[str, int]:
            found = self._history(root)
            if found is None:
                return {}
            top, history = found
            churn = history.churn()
            out = {}
            for path, n in churn.items():
                rel = Path(os.path.relpath(top / path, root)).as_posix()
                if not rel.startswith("../"):
                    out[rel] = n
            return out

        try:
            return await asyncio.wait_for(asyncio.to_thread(compute), HISTORY_TIMEOUT)
        except (asyncio.TimeoutError, OSError) as exc:
            log.info("history unavailable for the report: %s", exc)
            return {}

    # ---- sophia.openCycle ----
    async def open_cycle(self, args: Any) -> dict[str, Any]:
        arg = _argument(args)
        modules = arg.get("modules")
        if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules) or len(modules) < 2:
            raise CommandError("sophia.openCycle needs \"modules\": the modules of the cycle")
        state = await self.state(arg.get("uri"))
        from sophia_artemis.analysis.architecture import cycle_path

        graph = state.index.graph
        members = [m for m in modules if graph.module(m) is not None]
        if len(members) < 2:
            raise CommandError("those modules are not in the import graph any more")
        path = cycle_path(graph, members)
        locations = []
        root = state.index.root
        for src, dst in zip(path, path[1:] + path[:1]):
            edge, node = graph.edge(src, dst), graph.module(src)
            if edge is None or node is None:
                continue
            line = edge.lines[0] - 1
            locations.append({"uri": (root / node.path).as_uri(),
                              "range": Range.of(line, 0, line, 0).to_json(), "message": f"{src} imports {dst}"})
        return {"version": 1, "cycle": path, "locations": locations}

    # ---- sophia.reindex ----
    async def reindex(self, args: Any) -> dict[str, Any]:
        for folder in self.project.store.folders:
            self.project.request_refresh(folder, debounce=False)
        return {"version": 1, "started": True}


def setup(server: LanguageServer, engine: WorkspaceEngine, project: ProjectFeature) -> ProjectCommands:
    commands = ProjectCommands(server, engine, project)
    for name, handler in (
        (IMPACT, commands.impact),
        (GRAPH, commands.graph),
        (REPORT, commands.report),
        (OPEN_CYCLE, commands.open_cycle),
    ):
        server.command(name)(_answering(name, handler))
    return commands


def join_reindex(server: LanguageServer, commands: ProjectCommands) -> None:
    """`sophia.reindex` re-indexes the workspace index too. The memory feature registers the command (pygls
    takes one handler per command); this puts the project index's refresh in front of it, or registers it
    when nobody did."""
    registry = server.protocol.fm._commands
    inner = registry.get(REINDEX)
    if inner is None:
        server.command(REINDEX)(_answering(REINDEX, commands.reindex))
        return

    async def both(*args: Any) -> Any:
        await commands.reindex(args[-1] if args else None)
        result = inner(*args)
        return await result if asyncio.iscoroutine(result) else result

    registry[REINDEX] = both


def _answering(name: str, handler: Any) -> Any:
    async def run(args: Any) -> dict[str, Any]:
        try:
            return await handler(args)
        except CommandError as exc:
            return {"version": 1, "error": str(exc)}
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("%s failed", name)
            return {"version": 1, "error": f"{name} failed: {exc.__class__.__name__}: {exc}"}

    run.__name__ = name.replace(".", "_")
    return run


__all__ = ["ProjectCommands", "setup", "types"]
