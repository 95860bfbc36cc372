"""The memory's executeCommand commands (docs/commands.md): `sophia.search`, `sophia.remember`, `sophia.notes`,
`sophia.reindex`, `sophia.showSimilar`, over the per-root memories of `memory_features.MemoryFeatures`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from sophia_artemis.analysis import Position, Range
from sophia_artemis.analysis.chunks import chunk_file, tokens

from . import convert
from . import similar_code as sc
from .engine import uri_to_path
from .memory_features import (
    NOTE_MIN_SIMILARITY,
    CommandError,
    MemoryFeatures,
    RootMemory,
    relative,
    symbol_at,
)
from .status import search_status

log = logging.getLogger(__name__)


def note_matches(rm: RootMemory, query: str, k: int) -> list[tuple[Any, float]]:
    """Notes that answer `query`: cosine of the note's embedding (>= NOTE_MIN_SIMILARITY), or without a
    model the share of the query's terms the note contains (>= 0.5)."""
    notes = rm.memory.project.notes()
    if not notes:
        return []
    sem = rm.memory.semantic
    out: list[tuple[Any, float]] = []
    if sem.mode == "vector":
        import numpy as np

        q = np.asarray(sem.embedder.embed_query(query), dtype=np.float32)
        todo = [n for n in notes if (n.id, n.updated) not in rm.note_vectors]
        if todo:
            for n, v in zip(todo, sem.embedder.embed([n.text for n in todo])):
                rm.note_vectors[(n.id, n.updated)] = np.asarray(v, dtype=np.float32)
        for n in notes:
            v = rm.note_vectors[(n.id, n.updated)]
            sim = float(v @ q / max(float(np.linalg.norm(v) * np.linalg.norm(q)), 1e-12))
            if sim >= NOTE_MIN_SIMILARITY:
                out.append((n, sim))
    else:
        terms = set(tokens(query))
        for n in notes:
            share = len(terms & set(tokens(n.text))) / max(len(terms), 1)
            if share >= 0.5:
                out.append((n, share))
    return sorted(out, key=lambda ns: -ns[1])[:k]


# --------------------------------------------------------------------------------------------- commands


class MemoryCommands:
    """`sophia.search`, `sophia.remember`, `sophia.notes`, `sophia.reindex`, `sophia.showSimilar`, as
    docs/commands.md says: one JSON object in, one out (`{"version": 1, "error": ...}` when it cannot answer)."""

    def __init__(self, features: MemoryFeatures) -> None:
        self.f = features

    def _arg(self, args: tuple[Any, ...]) -> dict[str, Any]:
        if len(args) != 1 or not isinstance(args[0], dict):
            raise CommandError("expected one argument, a JSON object")
        return args[0]

    def _root(self, uri: Any) -> tuple[Path, Path | None]:
        """(project root, file) for a file or folder uri, or the workspace's root without one."""
        path = uri_to_path(uri) if isinstance(uri, str) else None
        if isinstance(uri, str) and path is None:
            raise CommandError(f"not a file uri: {uri}")
        if path is not None and path.is_dir():
            root = self.f.root_of(path, folder=True)
            path = None
        else:
            root = self.f.root_of(path)
        if root is None:
            raise CommandError("no workspace folder is open")
        return root, path

    async def _run(self, fn: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.f.pool, fn)

    def _uri(self, root: Path, path: str) -> str:
        return (root / path).as_uri()

    async def search(self, arg: dict[str, Any]) -> dict[str, Any]:
        query = arg.get("query")
        if not isinstance(query, str) or not query.strip():
            raise CommandError("'query' must be a non-empty string")
        k = arg.get("k", 10)
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise CommandError("'k' must be a whole number of 1 or more")
        root, _ = self._root(arg.get("uri"))
        rm = self.f.ensure_indexed(root)
        assert rm is not None
        await rm.scanned.wait()

        def work() -> dict[str, Any]:
            with rm.cond:
                rm.waiting += 1
            try:
                response = rm.memory.search(query, k, ensure=False)
                notes = note_matches(rm, query, k)
            finally:
                with rm.cond:
                    rm.waiting -= 1
                    rm.cond.notify_all()
            out = response.to_json()
            results = [{**r, "uri": self._uri(root, r["path"])} for r in out["results"]]
            for note, score in notes:
                path, _, qualname = note.target.partition("::")
                results.append({"path": path, "uri": self._uri(root, path), "qualname": qualname or "<file>",
                                "kind": "note", "range": self._range_of(root, path, qualname),
                                "score": round(score, 6), "note": note.to_json()})
            results.sort(key=lambda r: -r["score"])
            out["results"] = results[:k]
            return out

        out = await self._run(work)
        if not rm.indexing:  # search can fall back (or recover) after indexing
            self.f.status.report(self.f.search_component(rm), *search_status(out.get("mode"), out.get("note"), rm.options[4]))
        if out.get("mode") == "lexical":
            self.f._show_note(rm, out.get("note"))
        return {"version": 1, **out}

    @staticmethod
    def _range_of(root: Path, path: str, qualname: str) -> dict[str, Any]:
        whole = Range.of(0, 0, 0, 0)
        if qualname:
            try:
                for c in chunk_file(path, (root / path).read_bytes()):
                    if c.qualname == qualname:
                        return c.range.to_json()
            except OSError:
                pass
        return whole.to_json()

    def _target(self, arg: dict[str, Any]) -> tuple[RootMemory, str, str | None]:
        uri = arg.get("uri")
        if not isinstance(uri, str):
            raise CommandError("'uri' (a file uri) is required")
        root, path = self._root(uri)
        if path is None:
            raise CommandError("'uri' must name a file")
        rm = self.f.memory_for(root)
        rel = relative(path, root)
        qualname = None
        pos = arg.get("position")
        if pos is not None:
            try:
                at = Position(int(pos["line"]), int(pos["character"]))
            except (KeyError, TypeError, ValueError):
                raise CommandError("'position' must be {\"line\", \"character\"}") from None
            doc = self.f.engine.get(uri)
            source = doc.buffer.source if doc is not None else (path.read_bytes() if path.is_file() else b"")
            symbol = symbol_at(chunk_file(rel, source), at)
            qualname = symbol.qualname if symbol is not None else None
        return rm, rel, qualname

    async def remember(self, arg: dict[str, Any]) -> dict[str, Any]:
        text = arg.get("text")
        if not isinstance(text, str) or not text.strip():
            raise CommandError("'text' must be a non-empty string")
        rm, rel, qualname = self._target(arg)

        def work() -> Any:
            note = rm.memory.project.add_note(rel, qualname, text.strip())
            rm.memory.record("note", path=rel, qualname=qualname)
            rm.memory.focus(rel, qualname, context="note")
            return note

        note = await self._run(work)
        return {"version": 1, "note": note.to_json()}

    async def notes(self, arg: dict[str, Any]) -> dict[str, Any]:
        rm, rel, qualname = self._target(arg)
        found = await self._run(lambda: rm.memory.project.notes(rel, qualname))
        return {"version": 1, "notes": [n.to_json() for n in found]}

    async def reindex(self, arg: dict[str, Any]) -> dict[str, Any]:
        for folder in list(self.f.engine.settings.folders) or [None]:
            root = self.f.root_of(folder, folder=True) if folder is not None else self.f.root_of(None)
            if root is None:
                raise CommandError("no workspace folder is open")
            rm = self.f.memory_for(root)
            rm.ready.clear()
            rm.task = self.f._spawn(self.f.index(rm))
        return {"version": 1, "started": True}

    async def show_similar(self, arg: dict[str, Any]) -> dict[str, Any]:
        """The code action's command: open the similar code (window/showDocument) and remember the choice."""
        uri, rng = arg.get("uri"), convert.range_from_json(arg.get("range"))
        if not isinstance(uri, str) or rng is None:
            raise CommandError("expected {\"uri\", \"range\"}")
        shown = False
        if self.f.show_document:
            result = await self.f.server.window_show_document_async(
                types.ShowDocumentParams(uri=uri, take_focus=True, selection=convert.lsp_range(rng)))
            shown = bool(result and result.success)
        source = arg.get("from") or {}
        root = self.f.root_of(uri_to_path(str(source.get("uri", ""))) or uri_to_path(uri))
        rm = self.f.roots.get(root) if root is not None else None
        if rm is not None:
            self.f._in_background(rm.memory.feedback, str(source.get("path", "")), source.get("qualname"),
                                  "accepted", rule=sc.RULE, detail=str(arg.get("qualname", "")))
        return {"version": 1, "uri": uri, "range": rng.to_json(), "shown": shown}


# --------------------------------------------------------------------------------------------- editor views



def command(name: str, handler: Callable[[dict[str, Any]], Any], commands: MemoryCommands) -> Callable[..., Any]:
    async def run(*args: Any) -> dict[str, Any]:
        try:
            return await handler(commands._arg(args))
        except CommandError as exc:
            return {"version": 1, "error": str(exc)}
        except Exception as exc:
            log.exception("%s failed", name)
            return {"version": 1, "error": f"{name} failed: {exc.__class__.__name__}: {exc}"}

    return run
