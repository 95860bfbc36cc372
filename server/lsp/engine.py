"""The workspace engine: open documents, their analyses, and when those run.

Each open document keeps our own incrementally parsed `Document` (pygls' workspace copy is never made),
its last AnalysisResult and a result id. Analysis runs in one asyncio task per document: a newer change
cancels the pending task (a tiny debounce, so a burst of keystrokes is analysed once) and the task
re-checks that the document is still open before reporting. The maintainability index (radon, slow) is
computed off the keystroke path - on open, on save and after an idle pause - in a worker thread, and
feeds the next analysis.

The engine speaks no protocol: features subscribe to `on_analysed`, `on_skipped` and `on_closed`, change
findings through `transforms`, and may hand over an analysis made ahead of didOpen through `prepared`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from pygls.uris import to_fs_path
from sophia_artemis.analysis import (
    AnalysisResult,
    Document,
    Finding,
    FunctionCache,
    Range,
    Settings,
    analyze,
)
from sophia_artemis.analysis.document import TextBuffer, dialect_for
from sophia_artemis.analysis.engine import apply_suppressions

from .configuration import SettingsStore
from .mi_worker import MaintainabilityWorker

log = logging.getLogger(__name__)

# Edit -> diagnostics latency is what users feel. A keystroke is analysed at once; only a change arriving
# within BURST_WINDOW of the previous one (a client replaying many edits) waits DEFAULT_DEBOUNCE, which is
# enough to fold the rest of the burst, already queued, into one analysis.
DEFAULT_DEBOUNCE = 0.003
BURST_WINDOW = 0.010
# radon's MI is recomputed after this long without edits (and at once on open and save).
MAINTAINABILITY_IDLE = 1.0
# how long a diagnostic pull may wait for the editor's first workspace/configuration answer
CONFIGURED_WAIT = 2.0


Buffer = Document | TextBuffer


@dataclass(eq=False)
class OpenDocument:
    uri: str
    path: Path | None
    language_id: str
    version: int
    buffer: Buffer
    root: Path | None
    python: bool  # analysed: Python, JavaScript or TypeScript (`dialect` says which grammar)
    result: AnalysisResult | None = None
    result_id: str = ""
    maintainability: float | None = None
    skipped: str | None = None  # why analysis is off for this document, while it is
    has_nul: bool = False
    dialect: str = "python"
    reason: str = "open"  # why the pending analysis runs: open, edit, settings, maintainability, workspace
    # findings other features add (source -> findings): workspace rules (SA3xx), memory (SA5xx); see set_extra
    extra: dict[str, list[Finding]] = field(default_factory=dict)
    # the engine's finding transforms (the learned severities, learning.py), applied in order by `findings`
    transforms: list[Callable[[OpenDocument, list[Finding]], list[Finding]]] = field(default_factory=list)
    _analysed: tuple[int, int, int] | None = None  # (version, settings generation, MI generation)
    _mi_generation: int = 0
    _last_change: float = 0.0
    _failures: list[str] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None
    _mi_task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        if self.path is not None:
            return self.path.name
        return PurePosixPath(urlparse(self.uri).path).name or self.uri

    @property
    def findings(self) -> list[Finding]:
        """`raw_findings` as shown: after the engine's transforms (learned severities; the new-code focus, which
        may also leave out findings the baseline records)."""
        found = self.raw_findings
        for transform in self.transforms:
            found = transform(self, found)
        return found

    @property
    def raw_findings(self) -> list[Finding]:
        """The analysis' findings plus the extra ones, honouring the document's `# sophia: ignore` comments."""
        own = self.result.findings if self.result is not None else []
        if not any(self.extra.values()):
            return own
        extra = [f for found in self.extra.values() for f in found]
        if self.result is not None:
            extra, _ = apply_suppressions(extra, self.result.suppressions)
        return sorted([*own, *extra], key=Finding.sort_key)

    @property
    def parsed(self) -> Document | None:
        return self.buffer if isinstance(self.buffer, Document) else None


def document_dialect(uri: str, language_id: str) -> str | None:
    """The grammar an open document is analysed with (python, javascript, typescript, tsx), by the
    editor's languageId (javascript, javascriptreact, typescript, typescriptreact, python) or else by
    suffix; None when it is not analysed."""
    return dialect_for(urlparse(uri).path, language_id)


def uri_to_path(uri: str) -> Path | None:
    try:
        path = to_fs_path(uri) if uri.startswith("file:") else None
    except Exception:  # noqa: BLE001 - a malformed uri is simply not a file
        path = None
    return Path(path) if path else None


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n / 1000:.0f} kB"


def _noop(*args: object) -> None:
    return None


class WorkspaceEngine:
    def __init__(
        self,
        settings: SettingsStore,
        debounce: float = DEFAULT_DEBOUNCE,
        maintainability_idle: float = MAINTAINABILITY_IDLE,
    ) -> None:
        self.settings = settings
        self.debounce = debounce
        self.maintainability_idle = maintainability_idle
        self.documents: dict[str, OpenDocument] = {}
        # set once the editor's settings are known (first workspace/configuration answered, or none to ask)
        self.configured = asyncio.Event()
        self.cache = FunctionCache()
        self.maintainability = MaintainabilityWorker()
        self.on_analysed: Callable[[OpenDocument, bool], None] = _noop
        self.on_skipped: Callable[[OpenDocument, str], None] = _noop
        self.on_closed: Callable[[OpenDocument], None] = _noop
        # features that react to a saved file (the project index, semantic memory): (uri, path or None)
        self.save_listeners: list[Callable[[str, Path | None], None]] = []
        # applied to every open document's findings (OpenDocument.transforms is this list)
        self.transforms: list[Callable[[OpenDocument, list[Finding]], list[Finding]]] = []
        # a feature that may already hold an analysis of exactly the text being opened (preload.py): returns
        # (the parsed Document, its AnalysisResult, its maintainability or None), or None to analyse as usual
        self.prepared: Callable[[OpenDocument], tuple[Document, AnalysisResult, float | None] | None] | None = None
        self._result_ids = itertools.count(1)

    # ---- document lifecycle ----
    def get(self, uri: str) -> OpenDocument | None:
        return self.documents.get(uri)

    def open(self, uri: str, language_id: str, version: int, text: str) -> OpenDocument:
        if uri in self.documents:
            log.info("didOpen for %s, which is already open: replacing it", uri)
            self.close(uri, notify=False)
        path = uri_to_path(uri)
        dialect = document_dialect(uri, language_id)
        doc = OpenDocument(
            uri=uri,
            path=path,
            language_id=language_id,
            version=version,
            buffer=TextBuffer(text, version),
            root=self.settings.project_root(path),
            python=dialect is not None,
            dialect=dialect or "python",
            has_nul="\0" in text,
            transforms=self.transforms,
        )
        self.documents[uri] = doc
        adopted = doc.python and self._adopt_prepared(doc)
        self._fit_buffer(doc)
        if doc.python:
            self.schedule(doc, "open", delay=0)  # reports at once when adopted: the analysis is up to date
            if not adopted or doc.maintainability is None:
                self.schedule_maintainability(doc, delay=0)
        return doc

    def _adopt_prepared(self, doc: OpenDocument) -> bool:
        """Take `prepared`'s analysis of the opening document's text, if it has one. True when taken."""
        if self.prepared is None:
            return False
        try:
            ready = self.prepared(doc)
        except Exception:
            log.exception("a prepared analysis of %s could not be used", doc.uri)
            return False
        if ready is None:
            return False
        parsed, doc.result, doc.maintainability = ready
        parsed.version = doc.version
        doc.buffer = parsed
        doc._analysed = (doc.version, self.settings.generation, doc._mi_generation)
        doc.result_id = str(next(self._result_ids))
        self._log_failures(doc)
        return True

    def change(
        self, uri: str, version: int, changes: Iterable[tuple[Range | None, str]]
    ) -> OpenDocument | None:
        doc = self.documents.get(uri)
        if doc is None:
            return None
        had_nul = doc.has_nul
        for rng, text in changes:
            doc.buffer.apply_change(rng, text)
            if "\0" in text:
                doc.has_nul = True
        if had_nul:  # the NUL may have been deleted; only then is a full scan needed
            doc.has_nul = b"\0" in doc.buffer.source
        doc.version = doc.buffer.version = version
        self._fit_buffer(doc)
        now = time.monotonic()
        burst, doc._last_change = now - doc._last_change < BURST_WINDOW, now
        if doc.python:
            self.schedule(doc, "edit", self.debounce if burst else 0)
            self.schedule_maintainability(doc, self.maintainability_idle)
        return doc

    def save(self, uri: str) -> None:
        doc = self.documents.get(uri)
        if doc is not None and doc.python:
            self.schedule_maintainability(doc, delay=0)
        path = doc.path if doc is not None else uri_to_path(uri)
        for listener in list(self.save_listeners):
            try:
                listener(uri, path)
            except Exception:
                log.exception("a save listener failed for %s", uri)

    def close_all(self) -> None:
        """Forget every document and stop background work (on `shutdown`)."""
        for uri in list(self.documents):
            self.close(uri, notify=False)
        self.maintainability.close()

    def close(self, uri: str, notify: bool = True) -> OpenDocument | None:
        doc = self.documents.pop(uri, None)
        if doc is None:
            return None
        for task in (doc._task, doc._mi_task):
            if task is not None:
                task.cancel()
        if notify:
            self.on_closed(doc)
        return doc

    def hook(
        self,
        *,
        before: Callable[[OpenDocument], None] | None = None,
        after: Callable[[OpenDocument, bool], None] | None = None,
        closed: Callable[[OpenDocument], None] | None = None,
    ) -> None:
        """Add a feature's hooks around the reporter's: `before(doc)` runs before `on_analysed` reports an
        analysis, `after(doc, changed)` once it has, `closed(doc)` after `on_closed`; in registration order."""
        if before is not None or after is not None:
            analysed = self.on_analysed

            def on_analysed(doc: OpenDocument, changed: bool) -> None:
                if before is not None:
                    before(doc)
                analysed(doc, changed)
                if after is not None:
                    after(doc, changed)

            self.on_analysed = on_analysed
        if closed is not None:
            closing = self.on_closed

            def on_closed(doc: OpenDocument) -> None:
                closing(doc)
                closed(doc)

            self.on_closed = on_closed

    def set_extra(self, doc: OpenDocument, source: str, findings: list[Finding]) -> bool:
        """Replace the findings `source` contributes to `doc`; when they changed, the document gets a new
        result id and `on_analysed(doc, True)` fires with reason `workspace`. True when they changed."""
        if not self.update_extra(doc, source, findings):
            return False
        if doc._task is None or doc._task.done():  # a pending analysis reports anyway
            doc.reason = "workspace"
            self.on_analysed(doc, True)
        return True

    def transformed(self, doc: OpenDocument, reason: str) -> None:
        """A transform now gives other findings for `doc` (its policy changed): new result id, reported."""
        doc.result_id = str(next(self._result_ids))
        if doc._task is None or doc._task.done():  # a pending analysis reports anyway
            doc.reason = reason
            self.on_analysed(doc, True)

    def update_extra(self, doc: OpenDocument, source: str, findings: list[Finding]) -> bool:
        """`set_extra` without telling anyone: for a feature that runs before the analysis is reported."""
        if doc.extra.get(source, []) == findings:
            return False
        if findings:
            doc.extra[source] = list(findings)
        else:
            doc.extra.pop(source, None)
        doc.result_id = str(next(self._result_ids))
        return True

    # ---- settings ----
    def settings_for(self, doc: OpenDocument) -> Settings:
        return self.settings.settings(doc.root)

    def reanalyse(self, roots: set[Path | None] | None = None, reason: str = "settings") -> None:
        """Analyse open documents again (all, or those under `roots`) after their settings changed."""
        for doc in list(self.documents.values()):
            doc.root = self.settings.project_root(doc.path)
            if doc.python and (roots is None or doc.root in roots):
                self.schedule(doc, reason, delay=0)
                if doc.maintainability is None:
                    self.schedule_maintainability(doc, delay=0)

    # ---- analysis ----
    def schedule(self, doc: OpenDocument, reason: str, delay: float) -> None:
        """Analyse `doc` after `delay`, replacing (cancelling) any analysis still pending for it."""
        if doc._task is not None and not doc._task.done():
            doc._task.cancel()
            if doc.reason in ("open", "edit"):
                reason = doc.reason  # the replaced analysis was owed to the client whatever it finds
        doc.reason = reason
        doc._task = asyncio.get_running_loop().create_task(self._analyse_later(doc, delay))

    async def settled(self, doc: OpenDocument) -> None:
        """Return once the editor's settings are in (waiting at most CONFIGURED_WAIT) and no analysis is
        pending for `doc` (a newer edit may replace the one awaited). Pull clients that cannot be asked to
        pull again would otherwise keep diagnostics made before their own settings arrived."""
        if not self.configured.is_set():
            try:
                await asyncio.wait_for(self.configured.wait(), CONFIGURED_WAIT)
            except asyncio.TimeoutError:
                log.warning("no editor settings after %.0f s; answering with the settings known so far", CONFIGURED_WAIT)
                self.configured.set()
        while doc._task is not None and not doc._task.done():
            await asyncio.wait({doc._task})

    async def _analyse_later(self, doc: OpenDocument, delay: float) -> None:
        await asyncio.sleep(delay)
        if self.documents.get(doc.uri) is not doc:
            return
        try:
            changed = self.refresh(doc)
            self.on_analysed(doc, changed)
        except Exception:
            log.exception("analysing %s failed", doc.uri)

    def refresh(self, doc: OpenDocument) -> bool:
        """Bring `doc.result` up to date with its text and settings, now. True when the findings changed."""
        key = (doc.version, self.settings.generation, doc._mi_generation)
        if doc._analysed == key and doc.result_id:
            return False
        previous = doc.findings
        self._fit_buffer(doc)
        parsed = doc.parsed
        if parsed is None or not doc.python:
            doc.result = None
        else:
            doc.result = analyze(
                parsed, self.settings_for(doc), self.cache, maintainability=doc.maintainability
            )
            self._log_failures(doc)
        doc._analysed = key
        changed = doc.findings != previous
        if changed or not doc.result_id:
            doc.result_id = str(next(self._result_ids))
        return changed

    def _fit_buffer(self, doc: OpenDocument) -> None:
        """Parse the document when it is analysable, keep it as plain text when it is not."""
        reason = self._skip_reason(doc) if doc.python else None
        if doc.python and reason is None:
            if not isinstance(doc.buffer, Document):
                doc.buffer = Document(doc.buffer.source, doc.dialect, version=doc.version)
        elif isinstance(doc.buffer, Document):
            doc.buffer = TextBuffer(doc.buffer.source, doc.version)
        entering = reason is not None and doc.skipped is None
        doc.skipped = reason
        if entering:
            log.warning("%s", reason)
            self.on_skipped(doc, reason)

    def _skip_reason(self, doc: OpenDocument) -> str | None:
        size = len(doc.buffer.source)
        limit = self.settings_for(doc).max_file_size
        if size > limit:
            return (
                f"sophia-artemis: not analysing {doc.name}: it is {_size(size)} ({size} bytes), "
                f"over the max_file_size of {_size(limit)}"
            )
        if doc.has_nul:
            return (
                f"sophia-artemis: not analysing {doc.name} ({_size(size)}): it contains NUL bytes (binary?)"
            )
        return None

    def _log_failures(self, doc: OpenDocument) -> None:
        assert doc.result is not None
        failures = [f"{f.qualname}: {f.error}" for f in doc.result.failures]
        if failures != doc._failures:
            for failure in failures:
                if failure not in doc._failures:
                    log.warning(
                        "%s: metrics failed for %s (the rest of the file is still analysed)", doc.uri, failure
                    )
            doc._failures = failures

    # ---- maintainability (radon MI), off the keystroke path ----
    def schedule_maintainability(self, doc: OpenDocument, delay: float) -> None:
        if doc._mi_task is not None and not doc._mi_task.done():
            doc._mi_task.cancel()
        doc._mi_task = asyncio.get_running_loop().create_task(self._maintainability_later(doc, delay))

    async def _maintainability_later(self, doc: OpenDocument, delay: float) -> None:
        await asyncio.sleep(delay)
        if self.documents.get(doc.uri) is not doc or doc.skipped or not doc.python or doc.dialect != "python":
            return  # radon's maintainability index reads Python only
        if not self.settings_for(doc).enabled("SA202"):
            return
        try:
            mi = await self.maintainability.compute(doc.buffer.text)
        except Exception:
            log.exception("maintainability index of %s failed", doc.uri)
            return
        # None = Python cannot parse this text (mid-typing): keep the last value
        if self.documents.get(doc.uri) is not doc or mi is None or mi == doc.maintainability:
            return
        doc.maintainability = mi
        doc._mi_generation += 1
        self.schedule(doc, "maintainability", delay=0)
