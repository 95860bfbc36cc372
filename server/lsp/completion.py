"""`textDocument/completion` for Python: jedi's completions, re-ranked by working and session memory.

Off by default (setting `completion`), so it never doubles another Python server's completions. When a
workspace folder turns it on, the capability is registered dynamically (client/registerCapability, Python
documents, trigger character "."), and unregistered when no folder wants it any more. Clients that cannot
register dynamically get it statically only when `initializationOptions` said `completion: true` (their
capabilities are fixed by the `initialize` answer, before any workspace/configuration is read). Without jedi
installed the feature says so once in the log and never registers. A request the server did not advertise (or
for a folder with completion off) answers null, never an error.

Jedi runs on the document's current text with `jedi.Project(root, load_unsafe_extensions=False,
smart_sys_path=False)` (the root and `import_roots` added to its path): it parses the user's code, never
imports or runs it. One worker thread (jedi is not thread-safe) with a time budget: when jedi is slow the
answer is what it had for this spot of the line before (filtered by the word typed), marked isIncomplete so
the client asks again; the job finishes in the background and the next request reuses it.

Ranking: names the user recently focused or edited (working memory, last 10 items, newest first), then names
from the session's recent events (navigation, notes, suggestions acted on), then jedi's order. A candidate
matches a focus item exactly when jedi's definition is that symbol (same file, qualified name), by name
otherwise. `sortText` encodes the new order, `data` says why an item was boosted, `detail` is jedi's
description.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer
from sophia_artemis.analysis import build_settings

from .engine import OpenDocument, WorkspaceEngine
from .guard import guarded

log = logging.getLogger(__name__)

BUDGET = 1.5  # seconds a request waits for jedi before answering with what it had (isIncomplete)
WORKING_ITEMS = 10  # focus items of working memory that boost
SESSION_EVENTS = 50  # recent session events read for names
SESSION_KINDS = ("navigation", "note", "suggestion", "opened", "edit")
TRIGGERS = ["."]
SELECTOR = [types.TextDocumentFilterLanguage(language="python")]

KINDS = {
    "module": types.CompletionItemKind.Module,
    "class": types.CompletionItemKind.Class,
    "instance": types.CompletionItemKind.Variable,
    "function": types.CompletionItemKind.Function,
    "param": types.CompletionItemKind.Variable,
    "path": types.CompletionItemKind.File,
    "keyword": types.CompletionItemKind.Keyword,
    "property": types.CompletionItemKind.Property,
    "statement": types.CompletionItemKind.Variable,
}


def jedi_available() -> bool:
    return importlib.util.find_spec("jedi") is not None


# ------------------------------------------------------------------------------------------------ ranking


@dataclass(frozen=True)
class Hint:
    """One thing from memory that may boost a completion: a symbol (or a file) and why."""

    source: str  # "working" or "session"
    order: int  # newest first
    path: str  # relative to the project root
    qualname: str | None
    why: str  # the focus context or the event kind

    @property
    def name(self) -> str:
        if self.qualname:
            return self.qualname.rsplit(".", 1)[-1]
        return Path(self.path).stem

    def to_json(self, exact: bool) -> dict[str, Any]:
        return {"by": "working memory" if self.source == "working" else "session memory",
                "path": self.path, "qualname": self.qualname, "because": self.why,
                "match": "symbol" if exact else "name"}


def memory_hints(engine: Any) -> list[Hint]:
    """Hints from an IntelligenceEngine: its working memory's last focus items, then its session's recent
    events that name a file or symbol. Never raises (memory is a convenience here)."""
    hints: list[Hint] = []
    try:
        for i, item in enumerate(engine.working.items()[:WORKING_ITEMS]):
            hints.append(Hint("working", i, item.path, item.qualname, item.context or item.kind))
    except Exception:
        log.debug("completion: reading working memory failed", exc_info=True)
    try:
        events = engine.session.recent(limit=SESSION_EVENTS)
    except Exception:
        log.debug("completion: reading session memory failed", exc_info=True)
        events = []
    for i, event in enumerate(events):
        path = event.data.get("path")
        if event.kind in SESSION_KINDS and isinstance(path, str) and path:
            qualname = event.data.get("qualname")
            hints.append(Hint("session", i, path, qualname if isinstance(qualname, str) and qualname else None,
                              event.kind))
    return hints


def _relative(path: Any, root: Path) -> str | None:
    if path is None:
        return None
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return None


def _exact(completion: Any, hint: Hint, root: Path) -> bool:
    """Is jedi's definition the very symbol (or module) the hint names?"""
    try:
        if _relative(completion.module_path, root) != hint.path:
            return False
        if hint.qualname is None:
            return completion.type == "module"
        full = completion.full_name or ""
    except Exception:  # noqa: BLE001 - jedi could not tell
        return False
    return full == hint.qualname or full.endswith("." + hint.qualname)


def rank(completions: list[Any], hints: list[Hint], root: Path) -> list[tuple[Any, Hint | None, bool]]:
    """Completions in the new order: (completion, the hint that boosted it or None, exact match)."""
    by_name: dict[str, list[Hint]] = {}
    for hint in hints:
        by_name.setdefault(hint.name, []).append(hint)
    keyed = []
    for index, completion in enumerate(completions):
        best: tuple[Any, ...] = (2, 1, 0)
        boost: tuple[Hint | None, bool] = (None, False)
        for hint in by_name.get(completion.name, ()):
            exact = _exact(completion, hint, root)
            key = (0 if hint.source == "working" else 1, 0 if exact else 1, hint.order)
            if key < best:
                best, boost = key, (hint, exact)
        keyed.append(((*best, index), completion, *boost))
    keyed.sort(key=lambda k: k[0])
    return [(c, hint, exact) for _, c, hint, exact in keyed]


# ------------------------------------------------------------------------------------------------ jedi


def _column(line: str, character: int) -> int:
    """The code-point column of a UTF-16 `character` on `line`."""
    units = 0
    for i, ch in enumerate(line):
        if units >= character:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line)


def _utf16(text: str) -> int:
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


@dataclass
class Spot:
    """Where a completion is asked: the line, the text before the word being typed, and the word."""

    line: int
    column: int  # code points
    before: str  # the line up to the word
    word: str

    @classmethod
    def of(cls, text: str, position: types.Position) -> Spot:
        lines = text.split("\n")
        line = lines[position.line] if position.line < len(lines) else ""
        line = line.rstrip("\r")
        column = _column(line, position.character)
        start = column
        while start > 0 and (line[start - 1].isalnum() or line[start - 1] == "_"):
            start -= 1
        return cls(position.line, column, line[:start], line[start:column])


@dataclass
class Answer:
    spot: Spot
    items: list[types.CompletionItem] = field(default_factory=list)


def _item(completion: Any, order: int, jedi_rank: int, hint: Hint | None, exact: bool, spot: Spot) -> types.CompletionItem:
    name = completion.name
    try:
        prefix = completion.get_completion_prefix_length()
    except Exception:  # noqa: BLE001
        prefix = len(spot.word)
    end = _utf16(spot.before + spot.word)
    start = end - _utf16(spot.word[len(spot.word) - prefix:]) if 0 < prefix <= len(spot.word) else end
    data: dict[str, Any] = {"source": "sophia-artemis", "jediRank": jedi_rank}
    if hint is not None:
        data["boost"] = hint.to_json(exact)
    return types.CompletionItem(
        label=name,
        kind=KINDS.get(completion.type, types.CompletionItemKind.Text),
        detail=completion.description,
        sort_text=f"{order:05d}",
        filter_text=name,
        text_edit=types.TextEdit(
            range=types.Range(start=types.Position(line=spot.line, character=start),
                              end=types.Position(line=spot.line, character=end)),
            new_text=name,
        ),
        data=data,
    )


class Completer:
    """jedi on one worker thread, a Project per root (cached), the last answer per document."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sophia-completion")
        self.projects: dict[tuple[Path, tuple[str, ...]], Any] = {}
        self.last: dict[str, Answer] = {}  # uri -> the last answer jedi finished
        self.pending: dict[str, tuple[tuple[Any, ...], Future[Answer | None]]] = {}
        self.lock = threading.Lock()

    def project(self, root: Path, import_roots: tuple[str, ...]) -> Any:
        import jedi

        key = (root, import_roots)
        if key not in self.projects:
            extra = [str(root)] + [str(root / r) for r in import_roots]
            self.projects[key] = jedi.Project(root, load_unsafe_extensions=False, smart_sys_path=False,
                                              added_sys_path=tuple(extra))
        return self.projects[key]

    def submit(self, uri: str, key: tuple[Any, ...], work: Any) -> Future[Answer | None]:
        """The job for `key` (reused when the same request is still being answered)."""
        with self.lock:
            pending = self.pending.get(uri)
            if pending is not None and pending[0] == key and not pending[1].done():
                return pending[1]

            def run() -> Answer | None:
                with self.lock:
                    current = self.pending.get(uri)
                if current is not None and current[0] != key:
                    return None  # a newer request for this document replaced it while it waited
                answer = work()
                if answer is not None:
                    self.last[uri] = answer
                return answer

            future = self.pool.submit(run)
            self.pending[uri] = (key, future)
            return future

    def stale(self, uri: str, spot: Spot) -> list[types.CompletionItem]:
        """What jedi had for this spot of the line (same text before the word), filtered by the word."""
        answer = self.last.get(uri)
        if answer is None or answer.spot.line != spot.line or answer.spot.before != spot.before:
            return []
        word = spot.word.lower()
        return [i for i in answer.items if i.label.lower().startswith(word)]

    def forget(self, uri: str) -> None:
        self.last.pop(uri, None)
        with self.lock:
            self.pending.pop(uri, None)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


# ------------------------------------------------------------------------------------------------ feature


class CompletionFeature:
    def __init__(self, server: LanguageServer, engine: WorkspaceEngine, memory: Any = None) -> None:
        self.server = server
        self.engine = engine
        self.memory = memory  # memory_features.MemoryFeatures: `roots[root].memory` is the IntelligenceEngine
        self.completer = Completer()
        self.available = jedi_available()
        self.dynamic = False  # the client can register textDocument/completion dynamically
        self.static = False  # advertised in the initialize answer
        self.ready = False  # the editor's settings are in: registrations follow them
        self.registration: str | None = None  # id of the dynamic registration in force
        self._said_missing = False
        self._lock = asyncio.Lock()
        self._background: set[asyncio.Task[Any]] = set()
        self.budget = BUDGET

    # ---- lifecycle and registration ----
    def initialize(self, params: types.InitializeParams) -> None:
        """Called from the `initialize` handler, before the server's capabilities are computed."""
        caps = params.capabilities
        self.dynamic = bool(get_capability(caps, "text_document.completion.dynamic_registration", False))
        options = self.engine.settings.initialization_options
        wanted = build_settings([("initializationOptions", options)])[0].completion if options is not None else False
        if not self.dynamic and wanted:
            if self.available:
                self.static = True
                self._add_handler(types.CompletionOptions(trigger_characters=TRIGGERS, resolve_provider=False))
                log.info("completion: advertised statically (the client cannot register it dynamically)")
                return
            self._missing()
        # not advertised: answer requests all the same (null), once the capabilities have been computed
        asyncio.get_running_loop().call_soon(self._add_handler, None)

    def _add_handler(self, options: Any) -> None:
        handler = guarded(types.TEXT_DOCUMENT_COMPLETION, lambda: None)(self.complete)
        if options is None:
            self.server.feature(types.TEXT_DOCUMENT_COMPLETION)(handler)
        else:
            self.server.feature(types.TEXT_DOCUMENT_COMPLETION, options)(handler)

    def _missing(self) -> None:
        if not self._said_missing:
            self._said_missing = True
            log.warning("completion is on but jedi is not installed (pip install jedi); completion stays off")

    def wanted(self) -> bool:
        settings = self.engine.settings
        roots = [settings.project_root(f / "__init__.py") for f in settings.folders] or [None]
        return any(settings.settings(root).completion for root in roots)

    async def on_ready(self) -> None:
        self.ready = True
        await self.sync()

    def settings_changed(self) -> None:
        if not self.ready:
            return
        task = asyncio.get_running_loop().create_task(self.sync())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def sync(self) -> None:
        """Register or unregister textDocument/completion to match the settings (dynamic clients only)."""
        async with self._lock:
            wanted = self.wanted()
            if wanted and not self.available:
                self._missing()
                return
            if not self.dynamic or self.static or wanted == (self.registration is not None):
                return
            if wanted:
                rid = f"sophia-completion-{uuid.uuid4()}"
                options = types.CompletionRegistrationOptions(document_selector=SELECTOR, trigger_characters=TRIGGERS,
                                                              resolve_provider=False)
                try:
                    await self.server.client_register_capability_async(types.RegistrationParams(
                        registrations=[types.Registration(id=rid, method=types.TEXT_DOCUMENT_COMPLETION,
                                                          register_options=options)]))
                except Exception as exc:  # noqa: BLE001 - an error response, or the client went away
                    log.info("client did not accept registering completion: %s", exc)
                    return
                self.registration = rid
                log.info("completion: registered")
            else:
                rid, self.registration = self.registration, None
                try:
                    await self.server.client_unregister_capability_async(types.UnregistrationParams(
                        unregisterations=[types.Unregistration(id=rid, method=types.TEXT_DOCUMENT_COMPLETION)]))
                except Exception as exc:  # noqa: BLE001
                    log.info("client did not accept unregistering completion: %s", exc)
                log.info("completion: unregistered")

    # ---- the request ----
    def enabled_for(self, doc: OpenDocument | None) -> bool:
        return (self.available and doc is not None and doc.dialect == "python"
                and self.engine.settings_for(doc).completion)

    async def complete(self, params: types.CompletionParams) -> types.CompletionList | None:
        uri = params.text_document.uri
        doc = self.engine.get(uri)
        if not self.enabled_for(doc):
            return None
        assert doc is not None
        text, version = doc.buffer.text, doc.version
        spot = Spot.of(text, params.position)
        root = doc.root or self.engine.settings.project_root(doc.path) or (doc.path.parent if doc.path else None)
        settings = self.engine.settings_for(doc)
        rm = self.memory.roots.get(doc.root) if self.memory is not None and doc.root is not None else None
        intelligence = rm.memory if rm is not None else None
        key = (version, params.position.line, params.position.character)

        def work() -> Answer:
            import jedi

            project = self.completer.project(root, tuple(settings.import_roots)) if root is not None else None
            script = jedi.Script(text, path=doc.path, project=project)
            completions = script.complete(spot.line + 1, spot.column)
            hints = memory_hints(intelligence) if intelligence is not None else []
            ranked = rank(completions, hints, root or Path.cwd())
            jedi_rank = {id(c): i for i, c in enumerate(completions)}
            items = [_item(c, order, jedi_rank[id(c)], hint, exact, spot)
                     for order, (c, hint, exact) in enumerate(ranked)]
            return Answer(spot, items)

        future = self.completer.submit(uri, key, work)
        try:
            answer = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), self.budget)
        except asyncio.TimeoutError:
            log.info("completion: jedi took more than %.1f s; answering with what it had", self.budget)
            future.add_done_callback(lambda f: log.info("completion: jedi answered for %s (late)", uri))
            return types.CompletionList(is_incomplete=True, items=self.completer.stale(uri, spot))
        if answer is None:  # replaced by a newer request
            return types.CompletionList(is_incomplete=True, items=self.completer.stale(uri, spot))
        return types.CompletionList(is_incomplete=False, items=answer.items)

    def close(self) -> None:
        self.completer.close()


def setup(server: LanguageServer, engine: WorkspaceEngine, session: Any, *, memory: Any = None) -> CompletionFeature:
    """Completion, registered as the settings say: `initialize(params)` from the initialize handler; it
    follows settings changes (engine.reanalyse, called after each) and closed documents."""
    feature = CompletionFeature(server, engine, memory)
    session.ready_listeners.append(feature.on_ready)
    reanalyse = engine.reanalyse

    def reanalyse_and_sync(*args: Any, **kwargs: Any) -> None:
        reanalyse(*args, **kwargs)
        feature.settings_changed()

    engine.reanalyse = reanalyse_and_sync  # type: ignore[method-assign]
    engine.hook(closed=lambda doc: feature.completer.forget(doc.uri))
    return feature
