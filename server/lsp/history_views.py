"""Git history in the editor: SA203 hotspots, "often changes with" in hover, and `sophia.related`.

After each index of a folder, its history is read in a worker thread (kept in project memory: only new
commits are mined after the first time; memory/history_store.py). Then hotspots (analysis/hotspots.py) join
the folder's diagnostics - unopened files through the project feature's publishing, open ones as extra
findings (source "history") - and hover on a module's first lines lists the files that usually change with it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from .engine import OpenDocument, WorkspaceEngine, uri_to_path
from .project import ProjectFeature
from .project_views import FolderState

log = logging.getLogger(__name__)

RELATED = "sophia.related"
SOURCE = "history"
HOVER_LINES = 2  # hover on a module's first lines shows its companions
COMPANIONS_SHOWN = 5


class HistoryViews:
    def __init__(self, server: LanguageServer, engine: WorkspaceEngine, project: ProjectFeature) -> None:
        self.server = server
        self.engine = engine
        self.project = project
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- after each index ----
    def indexed(self, state: FolderState) -> None:
        task = asyncio.get_running_loop().create_task(self._mine(state))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _mine(self, state: FolderState) -> None:
        try:
            found = await asyncio.to_thread(self._history, state)
        except Exception:
            log.exception("reading the git history of %s failed", state.folder)
            return
        if found is None:
            return
        state.history = found
        state.hotspots = await asyncio.to_thread(self._hotspots, state, *found)
        log.info("history of %s: %d hotspots", state.folder, len(state.hotspots))
        self.project.publish(state)
        for doc in list(self.engine.documents.values()):
            if doc.path is not None and self.project.state_for(doc.path) is state:
                self.engine.set_extra(doc, SOURCE, state.hotspots.get(state.index.rel(doc.path), []))

    @staticmethod
    def _history(state: FolderState) -> tuple[Path, Any] | None:
        from sophia_artemis.analysis.history import HistoryError, toplevel
        from sophia_artemis.memory.history_store import project_history

        try:
            top = toplevel(state.folder)
            return top, project_history(top, state.index.memory)
        except HistoryError as exc:
            log.info("no git history for %s: %s", state.folder, exc)
            return None

    @staticmethod
    def _hotspots(state: FolderState, top: Path, history: Any) -> dict[str, list[Any]]:
        from sophia_artemis.analysis.hotspots import hotspot_findings

        index = state.index
        churn: dict[str, int] = {}
        for path, commits in history.churn().items():
            rel = Path(os.path.relpath(top / path, index.root)).as_posix()
            if not rel.startswith("../"):
                churn[rel] = commits
        complexity = {rel: sum(f.cyclomatic for f in facts.functions) for rel, facts in index.files.items()}
        return hotspot_findings(churn, complexity, index.settings)

    # ---- hover and command ----
    def companions(self, path: Path, k: int = COMPANIONS_SHOWN) -> list[dict[str, Any]]:
        state = self.project.state_for(path)
        if state is None or state.history is None:
            return []
        top, history = state.history
        rel = Path(os.path.relpath(path, top)).as_posix()
        if rel.startswith("../") or not history.knows(rel):
            return []
        out = []
        for r in history.related(history.canonical(rel), k=k):
            shown = Path(os.path.relpath(top / r.path, state.index.root)).as_posix()
            out.append({"path": shown, "uri": (top / r.path).as_uri(), "score": round(r.score, 4),
                        "commits": r.support, "reasons": list(r.reasons)})
        return out

    def hover_section(self, doc: OpenDocument, position: Any, markdown: bool) -> str | None:
        if doc.path is None or position.line >= HOVER_LINES:
            return None
        found = self.companions(doc.path)
        if not found:
            return None
        items = ", ".join(f"{c['path']} ({c['score']:.0%}, {c['commits']} commits)" for c in found)
        return f"{'**Often changes with**' if markdown else 'Often changes with'}: {items}"

    async def related(self, args: Any) -> dict[str, Any]:
        arg = args[0] if isinstance(args, (list, tuple)) and args else args
        uri = arg.get("uri") if isinstance(arg, dict) else None
        path = uri_to_path(uri) if isinstance(uri, str) else None
        if path is None:
            return {"version": 1, "error": "sophia.related needs {\"uri\": a file uri}"}
        state = self.project.state_for(path)
        if state is None:
            return {"version": 1, "error": f"{path} is not inside a workspace folder"}
        if state.history is None:
            found = await asyncio.to_thread(self._history, state)
            if found is None:
                return {"version": 1, "error": f"{state.folder} is not in a git repository"}
            state.history = found
        k = arg.get("k", COMPANIONS_SHOWN) if isinstance(arg.get("k", COMPANIONS_SHOWN), int) else COMPANIONS_SHOWN
        return {"version": 1, "file": state.index.rel(path), "related": self.companions(path, k)}

    def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()


def setup(server: LanguageServer, engine: WorkspaceEngine, project: ProjectFeature, *, view: Any = None) -> HistoryViews:
    feature = HistoryViews(server, engine, project)
    project.on_indexed.append(feature.indexed)
    if view is not None:
        view.hover_sections.append(feature.hover_section)

    @server.command(RELATED)
    async def related(*args: Any) -> dict[str, Any]:
        try:
            return await feature.related(args[-1] if args else None)
        except Exception as exc:  # every command answers
            log.exception("%s failed", RELATED)
            return {"version": 1, "error": f"{RELATED} failed: {exc.__class__.__name__}: {exc}"}

    return feature


__all__ = ["HistoryViews", "setup", "types"]
