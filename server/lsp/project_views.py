"""What the workspace index shows inside a file: the "N callers · M dependent modules" code lens (resolved
lazily), callers and dependents in hover, and the "Show the import cycle" action on SA301. Mixed into
`project.ProjectFeature`, which owns the folders' indexes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types

from . import convert
from .engine import OpenDocument, uri_to_path


class FolderState:
    """One workspace folder's index and what the client was last told about its unopened files."""

    def __init__(self, folder: Path, index: Any) -> None:
        self.folder = folder
        self.index = index
        self.ready = asyncio.Event()
        self.published: dict[str, str] = {}  # uri -> result id of what the client has (push or pull)
        self.error: str | None = None
        self.hotspots: dict[str, list[Any]] = {}  # rel -> SA203 (history_views.py), once history is mined
        self.history: tuple[Path, Any] | None = None  # (work tree root, History of HEAD), once mined


class ProjectViews:
    """Needs `state_for(path)` and a `_counts` dict from the class it is mixed into."""

    _counts: dict[tuple[int, str], tuple[list[Any], list[str]]]

    def state_for(self, path: Path | None) -> FolderState | None:  # pragma: no cover - provided by the owner
        raise NotImplementedError

    def _target(self, doc: OpenDocument, qualname: str) -> tuple[FolderState, str, str] | None:
        """(state, module, `module:qualname`) of a function of an open document, once indexed."""
        state = self.state_for(doc.path)
        if state is None or not state.ready.is_set() or doc.path is None or "<locals>" in qualname:
            return None
        index = state.index
        if index.graph is None or index.symbols is None:
            return None
        rel = index.rel(doc.path)
        module = index.graph.module_for_path(rel) or index.symbols.by_path.get(rel)
        return (state, module, f"{module}:{qualname}") if module else None

    def callers_lenses(self, doc: OpenDocument, functions: list[Any]) -> list[types.CodeLens]:
        """"N callers · M dependent modules" above each function, resolved lazily (codeLens/resolve)."""
        out = []
        for info in functions:
            found = self._target(doc, info.qualname)
            if found is None:
                continue
            out.append(types.CodeLens(
                range=convert.lsp_range(info.name_range),
                data={"provider": "callers", "uri": doc.uri, "target": found[2]},
            ))
        return out

    def impact_counts(self, state: FolderState, module: str, target: str) -> tuple[list[Any], list[str]]:
        key = (state.index.generation, target)
        cached = self._counts.get(key)
        if cached is None:
            from sophia_artemis.analysis.symbols import TargetError

            try:
                callers = state.index.symbols.callers_of(target)
            except TargetError:
                callers = []
            cached = (callers, state.index.graph.dependents_of(module, transitive=True))
            if len(self._counts) > 5000:
                self._counts.clear()
            self._counts[key] = cached
        return cached

    def resolve_callers(self, lens: types.CodeLens) -> types.CodeLens:
        data = lens.data
        uri, target = data["uri"], data["target"]
        state = self.state_for(uri_to_path(uri))
        if state is None or not state.ready.is_set() or state.index.graph is None:
            lens.command = types.Command(title="callers: indexing…", command="")
            return lens
        module = target.partition(":")[0]
        callers, dependents = self.impact_counts(state, module, target)
        n, m = len(callers), len(dependents)
        title = f"{n} caller{'s' if n != 1 else ''} · {m} dependent module{'s' if m != 1 else ''}"
        lens.command = types.Command(title=title, command="sophia.impact", arguments=[{"uri": uri, "target": target}])
        return lens

    def hover_section(self, doc: OpenDocument, position: Any, markdown: bool) -> str | None:
        """Callers and dependents of the function whose name or `def` line is under the cursor."""
        from .metrics_view import function_at

        if doc.result is None:
            return None
        info = function_at(doc.result.functions, position)
        found = self._target(doc, info.qualname) if info is not None else None
        if found is None:
            return None
        state, module, target = found
        callers, dependents = self.impact_counts(state, module, target)
        bold = "**{}**".format if markdown else str
        shown = ", ".join(f"{c.qualname} ({c.path}:{c.range.start.line + 1})" for c in callers[:5]) or "none"
        if len(callers) > 5:
            shown += f" and {len(callers) - 5} more"
        modules = ", ".join(dependents[:5]) + (" …" if len(dependents) > 5 else "")
        lines = [f"{bold(f'Callers ({len(callers)})')}: {shown}",
                 f"{bold(f'Dependent modules ({len(dependents)})')}: {modules or 'none'}"]
        return ("\n\n" if markdown else "\n").join(lines)

    def cycle_actions(self, doc: OpenDocument, wanted: Any) -> list[types.CodeAction]:
        """On an SA301 finding: open the cycle (every import of it, in order) for inspection."""
        actions = []
        for finding in doc.findings:
            if finding.rule != "SA301" or not convert.overlaps(finding.range, wanted):
                continue
            modules = list(finding.data.get("cycle", []))
            actions.append(types.CodeAction(
                title=f"Show the import cycle ({len(modules)} modules)",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[convert.diagnostic(finding, doc.uri, doc.root)],
                command=types.Command(title="Show the import cycle", command="sophia.openCycle",
                                      arguments=[{"uri": doc.uri, "modules": modules}]),
            ))
        return actions

