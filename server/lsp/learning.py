"""Learning from the team in the editor: record what happens to each suggestion, show findings as learned.

Recording (the project memory's feedback table and the global statistics, through the root's
IntelligenceEngine that memory_features opened; the policy's names are memory/learning.py's):
- A quick fix resolved (codeAction/resolve, clients that resolve lazily): *suppress on this line* / *for the
  project* -> `suppressed` (`how`), *insert missing token* -> `applied`. Clients that take edits inline are
  covered by the saves below. `sophia.recordFeedback` records an event for a client or extension that knows
  more (e.g. an action applied from a menu that does not resolve).
- Saves: an open document's findings are compared from one save to the next (the text it was opened with is
  the first). A finding gone at the next save is `suppressed` when a `# sophia: ignore` comment now covers
  it (with the comment's ` -- reason`, also kept as the suppression's reason), `suppressed` (project) when
  its rule is now ignored in the settings (once per rule), nothing when our quick fix already said, and
  `fixed` otherwise. A finding still there after IGNORED_AFTER saves that changed the text is `ignored` (once
  while the document is open). A save with a syntax error, or after the settings changed, records nothing.
Each record is keyed by rule, file, qualname and the file's context (memory.learning.context_of).

Applying (setting `learning`, on by default; off = record only): `WorkspaceEngine.transforms` gives open
documents' findings the learned severity, and the workspace diagnostics of unopened files get the same
(ProjectFeature.unopened is wrapped). Hover on a finding whose severity was changed says why, with counts.
`sophia.resetLearning` ({"uri"?, "rule"?}) makes earlier records stop counting - the records themselves are
kept (they are the team's history; `memory clear` wipes them) - and `sophia.learning` shows the policy.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from sophia_artemis.analysis import RULES, Finding, Position, Range
from sophia_artemis.memory.learning import (
    IGNORED_AFTER,
    RESET,
    LearningPolicy,
    context_of,
    feedback_detail,
)
from sophia_artemis.memory.project import Feedback

from . import convert
from .engine import OpenDocument, WorkspaceEngine, uri_to_path

log = logging.getLogger(__name__)

RECORD, RESET_LEARNING, SHOW_LEARNING = "sophia.recordFeedback", "sophia.resetLearning", "sophia.learning"
RECORD_LIMIT = 100_000  # records read per root (newest first)
# code_actions.py's own quick fixes (data["action"]) -> what applying one says about the finding
QUICK_FIXES = {"line": "suppressed", "project": "suppressed", "insert": "applied"}
EVENTS = ("applied", "fixed", "suppressed", "ignored", "invoked")

Key = tuple[str, str, str, int]  # rule, qualname, anchor, occurrence


@dataclass
class Track:
    """One open document's findings at its last save (or at open)."""

    live: dict[Key, Finding]
    suppressed: dict[Key, str | None]  # -> the comment's reason
    text: int  # hash of the text
    generation: int  # settings generation
    streak: dict[Key, int] = field(default_factory=dict)  # saves that changed the text with the finding there
    reported: set[Key] = field(default_factory=set)  # `ignored` already recorded


def relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def qualname_of(doc: OpenDocument, finding: Finding) -> str | None:
    """The finding's function: `data.qualname`, else the innermost function around its start."""
    q = finding.data.get("qualname")
    if isinstance(q, str) and q:
        return q
    best = None
    line = finding.range.start.line
    for info in doc.result.functions if doc.result is not None else []:
        if info.range.start.line <= line <= info.range.end.line and (
                best is None or info.range.start.line >= best.range.start.line):
            best = info
    return best.qualname if best is not None else None


def keyed(doc: OpenDocument, findings: list[Finding]) -> dict[Key, Finding]:
    """Findings by an identity that survives edits elsewhere in the file: rule, function, and for rules
    without a figure the message with its numbers blanked (the figure of a metric changes as one edits)."""
    out: dict[Key, Finding] = {}
    seen: dict[tuple[str, str, str], int] = {}
    for f in findings:
        if f.rule == "SA001":
            continue
        rule = RULES.get(f.rule)
        anchor = "" if rule is not None and rule.metric else re.sub(r"\d+", "#", f.message)
        base = (f.rule, qualname_of(doc, f) or "", anchor)
        n = seen[base] = seen.get(base, -1) + 1
        out[(*base, n)] = f
    return out


class Learning:
    def __init__(self, server: LanguageServer, engine: WorkspaceEngine, memory: Any, whole: Any = None) -> None:
        self.server = server
        self.engine = engine
        self.memory = memory  # memory_features.MemoryFeatures: one IntelligenceEngine per root
        self.whole = whole  # project.ProjectFeature (workspace diagnostics), optional
        self.records: dict[Path, list[Feedback]] = {}
        self.policies: dict[Path, LearningPolicy] = {}
        self.tracks: dict[str, Track] = {}
        self.marked: set[tuple[str, Key]] = set()  # (uri, key) our quick fix already recorded
        self.project_rules: set[tuple[Path, str]] = set()  # (root, rule) project suppressions recorded
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------------------------------ records

    def _records(self, root: Path) -> list[Feedback]:
        records = self.records.get(root)
        if records is None:
            try:
                stored = self.memory.memory_for(root).memory.project.feedback(limit=RECORD_LIMIT)
            except Exception:
                log.exception("reading the feedback of %s failed; learning starts empty", root)
                stored = []
            records = self.records[root] = [Feedback(f.id, f.target, f.rule, f.action, f.detail, f.created)
                                            for f in stored]
            self._ids = itertools.count(max([r.id for r in records] + [next(self._ids)]) + 1)
        return records

    def policy(self, root: Path) -> LearningPolicy:
        policy = self.policies.get(root)
        if policy is None:
            policy = self.policies[root] = LearningPolicy.from_records(self._records(root))
        return policy

    def record(self, root: Path, rel: str, qualname: str | None, action: str, rule: str | None,
               finding: Finding | None = None, **more: Any) -> None:
        """One event: kept in memory at once (the policy follows), written to the memory in the background."""
        detail = feedback_detail(context=context_of(rel), severity=finding.severity if finding else None,
                                 data=finding.data if finding else None, rule=rule, **more)
        records = self._records(root)
        target = f"{rel}::{qualname}" if qualname else rel
        records.append(Feedback(next(self._ids), target, rule, action, detail, time.time()))
        log.info("learning: %s %s in %s (%s)", action, rule, target, detail)
        rm = self.memory.memory_for(root)
        if action == RESET:
            self._background(rm.memory.project.record_feedback, rel, qualname, action, rule=rule, detail=detail)
        else:
            self._background(rm.memory.feedback, rel, qualname, action, rule=rule, detail=detail)
        self._relearn(root)

    def _background(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        def run() -> None:
            try:
                fn(*args, **kwargs)
            except Exception:
                log.exception("learning: writing feedback failed")

        self.memory.pool.submit(run)

    def _relearn(self, root: Path) -> None:
        before = self.policies.get(root)
        after = self.policies[root] = LearningPolicy.from_records(self._records(root))
        if before is None or before.decisions != after.decisions:
            for d in after.decisions.values():
                if before is None or before.decisions.get((d.rule, d.context)) != d:
                    log.info("learning: %s %s in %s: %s", d.direction, d.rule, d.context, d.why())
            self._republish(root)

    def _republish(self, root: Path) -> None:
        for doc in list(self.engine.documents.values()):
            if doc.root == root and doc.python:
                self.engine.transformed(doc, "learning")
        if self.whole is not None:
            for state in list(getattr(self.whole, "folders", {}).values()):
                if state.ready.is_set():
                    try:
                        self.whole.publish(state)
                    except Exception:
                        log.exception("republishing the workspace diagnostics of %s failed", state.folder)

    # ------------------------------------------------------------------------------------------ applying

    def _enabled(self, root: Path) -> bool:
        return bool(getattr(self.engine.settings.settings(root), "learning", True))

    def adjust(self, root: Path | None, rel: str, findings: list[Finding]) -> list[Finding]:
        if root is None or not findings or not self._enabled(root):
            return findings
        policy = self.policy(root)
        if not policy.decisions:
            return findings
        context = context_of(rel)
        out = []
        for f in findings:
            severity = f.severity if f.rule == "SA001" else policy.severity(f.rule, context, f.severity, f.data)
            out.append(f if severity == f.severity else dataclasses.replace(f, severity=severity))
        return out

    def transform(self, doc: OpenDocument, findings: list[Finding]) -> list[Finding]:
        if doc.root is None or doc.path is None:
            return findings
        try:
            return self.adjust(doc.root, relative(doc.path, doc.root), findings)
        except Exception:
            log.exception("learning: adjusting the findings of %s failed", doc.uri)
            return findings

    def wrap_unopened(self, original: Callable[[Any], dict[str, list[Finding]]]) -> Callable[[Any], dict[str, list[Finding]]]:
        def unopened(state: Any) -> dict[str, list[Finding]]:
            found = original(state)
            out = {}
            for uri, findings in found.items():
                path = uri_to_path(uri)
                root = self.engine.settings.project_root(path) if path is not None else None
                try:
                    out[uri] = self.adjust(root, relative(path, root), findings) if path and root else findings
                except Exception:
                    log.exception("learning: adjusting the findings of %s failed", uri)
                    out[uri] = findings
            return out

        return unopened

    def explanations(self, doc: OpenDocument, pos: Position) -> list[str]:
        if doc.root is None or doc.path is None or not self._enabled(doc.root):
            return []
        policy = self.policy(doc.root)
        if not policy.decisions:
            return []
        context = context_of(relative(doc.path, doc.root))
        at = Range(pos, pos)
        out = []
        for f in doc.raw_findings:
            if f.rule != "SA001" and convert.overlaps(f.range, at):
                text = policy.explain(f.rule, context, f.severity, f.data)
                if text and f"{f.rule}: {text}" not in out:
                    out.append(f"{f.rule}: {text}")
        return out

    def hover_section(self, doc: OpenDocument, pos: Position, markdown: bool) -> str | None:
        lines = self.explanations(doc, pos)
        if not lines:
            return None
        head = "**Learned from your team**" if markdown else "Learned from your team"
        tail = f"(`{RESET_LEARNING}` undoes this)" if markdown else f"({RESET_LEARNING} undoes this)"
        return "\n".join([head, *[f"- {line}" for line in lines], tail])

    # ------------------------------------------------------------------------------------------ observing

    def _snapshot(self, doc: OpenDocument) -> Track | None:
        result = doc.result
        if result is None or any(f.rule == "SA001" for f in result.findings):
            return None  # half-typed code: nothing to conclude from what disappeared
        reasons: dict[int, str | None] = {s.line: s.reason for s in result.suppressions}
        suppressed = {k: reasons.get(f.range.start.line) for k, f in keyed(doc, result.suppressed).items()}
        return Track(live=keyed(doc, result.findings), suppressed=suppressed, text=hash(doc.buffer.source),
                     generation=self.engine.settings.generation)

    def on_analysed(self, doc: OpenDocument, changed: bool) -> None:
        if doc.uri not in self.tracks and doc.python and doc.root is not None and doc.path is not None:
            snap = self._snapshot(doc)
            if snap is not None:
                self.tracks[doc.uri] = snap

    def on_closed(self, doc: OpenDocument) -> None:
        self.tracks.pop(doc.uri, None)
        self.marked = {m for m in self.marked if m[0] != doc.uri}

    def on_saved(self, uri: str) -> None:
        doc = self.engine.get(uri)
        if doc is None or not doc.python or doc.root is None or doc.path is None:
            return
        try:
            self.engine.refresh(doc)
            self._compare(doc)
        except Exception:
            log.exception("learning: comparing %s with its last save failed", uri)

    def _compare(self, doc: OpenDocument) -> None:
        assert doc.root is not None and doc.path is not None
        now = self._snapshot(doc)
        if now is None:
            return
        before = self.tracks.get(doc.uri)
        self.tracks[doc.uri] = now
        if before is None:
            return
        root, rel = doc.root, relative(doc.path, doc.root)
        settings = self.engine.settings_for(doc)
        if before.generation != now.generation:  # the settings changed: only a rule turned off says something
            now.reported = set(before.reported)
            for key, f in before.live.items():
                if key not in now.live and not settings.enabled(f.rule):
                    self._project_suppressed(root, rel, key, f)
            return
        edited = now.text != before.text
        now.reported = set(before.reported)
        for key, f in before.live.items():
            if key in now.live:
                streak = now.streak[key] = before.streak.get(key, 0) + (1 if edited else 0)
                if streak >= IGNORED_AFTER and key not in now.reported:
                    now.reported.add(key)
                    self.record(root, rel, key[1] or None, "ignored", f.rule, now.live[key], saves=streak)
                continue
            qualname = key[1] or None
            if (doc.uri, key) in self.marked:
                self.marked.discard((doc.uri, key))
            elif key in now.suppressed:
                reason = now.suppressed[key]
                self.record(root, rel, qualname, "suppressed", f.rule, f, how="line", reason=reason)
            elif not settings.enabled(f.rule):
                self._project_suppressed(root, rel, key, f)
            else:
                self.record(root, rel, qualname, "fixed", f.rule, f)
        for key, reason in now.suppressed.items():
            if reason and before.suppressed.get(key) != reason:
                rm = self.memory.memory_for(root)
                self._background(rm.memory.project.set_suppression_reason, rel, key[1] or None, key[0], reason)

    def _project_suppressed(self, root: Path, rel: str, key: Key, f: Finding) -> None:
        """A rule turned off for the project counts once (not once per finding it silenced)."""
        if (root, f.rule) not in self.project_rules:
            self.project_rules.add((root, f.rule))
            self.record(root, rel, key[1] or None, "suppressed", f.rule, f, how="project")

    # ------------------------------------------------------------------------------------------ code actions

    def on_resolved(self, action: Any) -> Any:
        """A quick fix of ours resolved with an edit: the user picked it (see the module docstring)."""
        data = action.data if isinstance(action, types.CodeAction) and isinstance(action.data, dict) else {}
        if action.edit is not None and data.get("action") in QUICK_FIXES and data.get("rule") and data.get("uri"):
            try:
                self.record_command({k: data.get(k) for k in ("uri", "rule", "range", "action")})
            except Exception:
                log.exception("learning: recording a resolved code action failed")
        return action

    def wrap_resolve(self, server: LanguageServer) -> None:
        """Watch codeAction/resolve (code_actions.py registered it; its handler is replaced by one that calls it
        and then records). A command on the action would be the other way, but lsprotocol's own clients read
        any code action that has one as a bare Command."""
        features = server.protocol.fm.features
        original = features.get(types.CODE_ACTION_RESOLVE)
        if original is None:
            log.warning("learning: no codeAction/resolve handler to watch")
            return
        if asyncio.iscoroutinefunction(original):
            async def handle_async(params: Any) -> Any:
                return self.on_resolved(await original(params))

            features[types.CODE_ACTION_RESOLVE] = handle_async
        else:
            def handle(params: Any) -> Any:
                return self.on_resolved(original(params))

            features[types.CODE_ACTION_RESOLVE] = handle

    # ------------------------------------------------------------------------------------------ commands

    def record_command(self, arg: dict[str, Any]) -> dict[str, Any]:
        """`sophia.recordFeedback {"uri", "rule", "range"?, "action"?, "event"?, "reason"?}`."""
        uri, rule = arg.get("uri"), arg.get("rule")
        if not isinstance(uri, str) or not isinstance(rule, str):
            return {"version": 1, "error": "expected {\"uri\", \"rule\", \"range\"?, \"action\"? or \"event\"?}"}
        kind = arg.get("action")
        event = arg.get("event") or QUICK_FIXES.get(str(kind), "invoked")
        if event not in EVENTS:
            return {"version": 1, "error": f"'event' must be one of {', '.join(EVENTS)}"}
        path = uri_to_path(uri)
        doc = self.engine.get(uri)
        root = doc.root if doc is not None else (self.engine.settings.project_root(path) if path else None)
        if path is None or root is None:
            return {"version": 1, "error": f"not a file of the workspace: {uri}"}
        rel = relative(path, root)
        finding, key = self._finding(doc, rule, convert.range_from_json(arg.get("range")))
        if key is not None and doc is not None:
            self.marked.add((doc.uri, key))
        if kind == "project":
            self.project_rules.add((root, rule))
        how = {"line": "line", "project": "project"}.get(str(kind))
        qualname = (key[1] or None) if key is not None else None
        self.record(root, rel, qualname, event, rule, finding, how=how, reason=arg.get("reason"), via="action")
        return {"version": 1, "recorded": event, "rule": rule, "path": rel, "qualname": qualname}

    def _finding(self, doc: OpenDocument | None, rule: str, rng: Range | None) -> tuple[Finding | None, Key | None]:
        """The finding an action was for: in the findings or (the edit already applied) the suppressed ones."""
        if doc is None or doc.result is None:
            return None, None
        for group in (doc.raw_findings, doc.result.suppressed):
            found = keyed(doc, [f for f in group if f.rule == rule])
            for exact in (True, False):
                for key, f in found.items():
                    if rng is None or (f.range == rng if exact else f.range.start.line == rng.start.line):
                        return f, key
        return None, None

    def roots(self, uri: Any) -> list[Path]:
        if isinstance(uri, str):
            path = uri_to_path(uri)
            if path is None:
                return []
            root = self.memory.root_of(path, folder=path.is_dir())
            return [root] if root is not None else []
        folders = list(self.engine.settings.folders)
        found = [self.memory.root_of(f, folder=True) for f in folders] or [self.memory.root_of(None)]
        return list(dict.fromkeys([r for r in [*found, *self.records] if r is not None]))

    def reset_command(self, arg: dict[str, Any]) -> dict[str, Any]:
        """`sophia.resetLearning {"uri"?, "rule"?}`: earlier records stop counting (they are kept)."""
        rule = arg.get("rule")
        if rule is not None and (not isinstance(rule, str) or rule.upper() not in RULES):
            return {"version": 1, "error": f"unknown rule {rule!r}"}
        rule = rule.upper() if isinstance(rule, str) else None
        roots = self.roots(arg.get("uri"))
        if not roots:
            return {"version": 1, "error": "no workspace folder is open"}
        out = []
        for root in roots:
            before = self.policy(root)
            cleared = [d.to_json() for (r, _), d in before.decisions.items() if rule is None or r == rule]
            kept = len(self._records(root))
            self.record(root, "", None, RESET, rule)
            out.append({"root": str(root), "cleared": cleared, "records_kept": kept})
        return {"version": 1, "rule": rule, "roots": out}

    def show_command(self, arg: dict[str, Any]) -> dict[str, Any]:
        """`sophia.learning {"uri"?}`: what was learned, per root."""
        out = []
        for root in self.roots(arg.get("uri")):
            out.append({"root": str(root), "enabled": self._enabled(root), **self.policy(root).to_json()})
        return {"version": 1, "roots": out}


def setup(server: LanguageServer, engine: WorkspaceEngine, *, memory: Any, view: Any = None, whole: Any = None) -> Learning:
    """Hook learning into the engine (transforms, analyses, saves, closes), the hover of `view`, the code
    actions registered on `server`, and the workspace diagnostics of `whole`. Call after code_actions.setup."""
    learning = Learning(server, engine, memory, whole)
    engine.transforms.append(learning.transform)
    engine.hook(after=learning.on_analysed, closed=learning.on_closed)
    engine.save_listeners.append(lambda uri, path: learning.on_saved(uri))
    if view is not None:
        view.hover_sections.append(learning.hover_section)
    if whole is not None:
        whole.unopened = learning.wrap_unopened(whole.unopened)
    learning.wrap_resolve(server)

    for name, handler in ((RECORD, learning.record_command), (RESET_LEARNING, learning.reset_command),
                          (SHOW_LEARNING, learning.show_command)):
        server.command(name)(_command(name, handler))
    return learning


def _command(name: str, handler: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[..., Any]:
    def run(*args: Any) -> dict[str, Any]:
        arg = args[0] if len(args) == 1 and isinstance(args[0], dict) else {} if not args else None
        if arg is None:
            return {"version": 1, "error": "expected one argument, a JSON object"}
        try:
            return handler(arg)
        except Exception as exc:
            log.exception("%s failed", name)
            return {"version": 1, "error": f"{name} failed: {exc.__class__.__name__}: {exc}"}

    return run
