"""Quick fixes for findings: suppress on the line, suppress for the project, and real fixes where mechanical.

Actions are found from our own stored findings at the requested range, not from the diagnostics the
client echoes back (neovim 0.7 sends odd extra fields there). When the client can resolve code actions
lazily (`codeAction.resolveSupport` lists `edit`), actions go out without edits, carrying `data`, and the
edit is computed in `codeAction/resolve` (editing pyproject.toml means reading and re-rendering it, which
is wasted work for the actions a user never picks); otherwise edits are computed inline.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer
from sophia_artemis.analysis import Finding, Range
from sophia_artemis.analysis.text import LineIndex, encode

from . import convert
from .engine import OpenDocument, WorkspaceEngine
from .guard import guarded
from .suppressions import ProjectEditError, add_project_ignore, line_suppression

log = logging.getLogger(__name__)

QUICKFIX = types.CodeActionKind.QuickFix
# the kinds offered: quick fixes for findings, rewrites from providers (generation.py)
KINDS = (QUICKFIX, types.CodeActionKind.RefactorRewrite)
# tokens tree-sitter reports MISSING that can simply be typed in (not identifiers or expressions)
_INSERTABLE = re.compile(r"[^\w\s]+")


class CodeActions:
    def __init__(self, server: LanguageServer, engine: WorkspaceEngine) -> None:
        self.server = server
        self.engine = engine
        self.lazy = False
        self.document_changes = False
        self.create_files = False
        # other features' actions: called with (document, requested range), each isolated (a failure is logged)
        self.providers: list[Callable[[OpenDocument, Range], list[types.CodeAction]]] = []
        # providers' lazy edits: data["action"] -> edit, called by codeAction/resolve
        self.resolvers: dict[str, Callable[[OpenDocument, dict[str, Any]], types.WorkspaceEdit | None]] = {}

    def configure(self, capabilities: types.ClientCapabilities) -> None:
        properties = (
            get_capability(capabilities, "text_document.code_action.resolve_support.properties", []) or []
        )
        self.lazy = "edit" in properties
        self.document_changes = bool(
            get_capability(capabilities, "workspace.workspace_edit.document_changes", False)
        )
        operations = get_capability(capabilities, "workspace.workspace_edit.resource_operations", []) or []
        self.create_files = self.document_changes and types.ResourceOperationKind.Create in operations

    # ---- textDocument/codeAction ----
    def code_action(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        only = params.context.only
        if only and not any(_asked(kind, only) for kind in KINDS):
            return []
        doc = self.engine.get(params.text_document.uri)
        if doc is None or doc.parsed is None:
            return []
        self.engine.refresh(doc)
        wanted = convert.range_(params.range)
        actions: list[types.CodeAction] = []
        for finding in doc.findings:
            if convert.overlaps(finding.range, wanted):
                actions.extend(self._actions_for(doc, finding))
        for provider in self.providers:
            try:
                actions.extend(provider(doc, wanted))
            except Exception:
                log.exception("code action provider %r failed", provider)
        if only:
            actions = [a for a in actions if a.kind is not None and _asked(a.kind, only)]
        return actions

    def _actions_for(self, doc: OpenDocument, finding: Finding) -> list[types.CodeAction]:
        diagnostic = convert.diagnostic(finding, doc.uri, doc.root)
        rule = finding.rule
        base = {
            "uri": doc.uri,
            "rule": rule,
            "range": convert.json_range(finding.range),
            "version": doc.version,
        }
        proposals: list[tuple[str, dict[str, Any], bool]] = []
        if rule == "SA001":
            # Syntax errors get no suppression actions: a file that does not parse cannot be trusted to say
            # what to ignore (the analysis never suppresses SA001), and ignoring them project-wide would
            # hide broken files. Only a mechanical fix is offered, when tree-sitter knows the missing token.
            token = finding.data.get("missing")
            if isinstance(token, str) and _INSERTABLE.fullmatch(token):
                proposals.append(
                    (f"Insert missing '{token}'", {**base, "action": "insert", "token": token}, True)
                )
        else:
            proposals.append((f"Suppress {rule} on this line", {**base, "action": "line"}, False))
            if doc.root is not None:
                proposals.append((f"Suppress {rule} for the project", {**base, "action": "project"}, False))
        actions = []
        for title, data, preferred in proposals:
            action = types.CodeAction(
                title=title,
                kind=QUICKFIX,
                diagnostics=[diagnostic],
                is_preferred=preferred or None,
                data=data,
            )
            if not self.lazy:
                try:
                    action.edit = self._edit(doc, data)
                except ProjectEditError as exc:
                    log.info("not offering '%s': %s", title, exc)
                    continue
                if action.edit is None:
                    continue
            actions.append(action)
        return actions

    # ---- codeAction/resolve ----
    def resolve(self, action: types.CodeAction) -> types.CodeAction:
        """The action with its edit; on any failure the action as it came (so the client applies nothing)."""
        data = action.data if isinstance(action.data, dict) else {}
        doc = self.engine.get(str(data.get("uri", "")))
        if doc is None or doc.parsed is None:
            log.info("codeAction/resolve: %s is not open any more", data.get("uri"))
            return action
        try:
            self.engine.refresh(doc)
            action.edit = self._edit(doc, data)
        except ProjectEditError as exc:
            self.server.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=f"sophia-artemis: {exc}")
            )
        except Exception:
            log.exception("codeAction/resolve failed for %r", data)
        return action

    # ---- edits ----
    def _edit(self, doc: OpenDocument, data: dict[str, Any]) -> types.WorkspaceEdit | None:
        kind = data.get("action")
        resolver = self.resolvers.get(str(kind))
        if resolver is not None:
            return resolver(doc, data)
        if kind == "project":
            return self._project_edit(doc, str(data.get("rule", "")))
        finding = self._find(doc, data)
        if finding is None:
            log.info(
                "code action for %s on %s: the finding is gone (the text changed)", data.get("rule"), doc.uri
            )
            return None
        if kind == "insert":
            at = convert.lsp_position(finding.range.start)
            return self._text_edit(
                doc, types.TextEdit(range=types.Range(start=at, end=at), new_text=str(data["token"]))
            )
        if kind == "line":
            assert doc.parsed is not None and doc.result is not None
            found = line_suppression(doc.parsed, doc.result, finding)
            if found is None:
                return None
            rng, text = found
            return self._text_edit(doc, types.TextEdit(range=convert.lsp_range(rng), new_text=text))
        return None

    @staticmethod
    def _find(doc: OpenDocument, data: dict[str, Any]) -> Finding | None:
        rule, rng = data.get("rule"), convert.range_from_json(data.get("range"))
        same_rule = [f for f in doc.findings if f.rule == rule]
        for f in same_rule:
            if f.range == rng:
                return f
        # the text moved since the action was offered: the same rule on the same line will do
        return next((f for f in same_rule if rng is not None and f.range.start.line == rng.start.line), None)

    def _text_edit(self, doc: OpenDocument, edit: types.TextEdit) -> types.WorkspaceEdit:
        if self.document_changes:
            identifier = types.OptionalVersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version)
            return types.WorkspaceEdit(
                document_changes=[types.TextDocumentEdit(text_document=identifier, edits=[edit])]
            )
        return types.WorkspaceEdit(changes={doc.uri: [edit]})

    def _project_edit(self, doc: OpenDocument, rule: str) -> types.WorkspaceEdit:
        if doc.root is None:
            raise ProjectEditError("this document belongs to no project folder")
        path: Path = doc.root / "pyproject.toml"
        uri = path.as_uri()
        open_doc = self.engine.get(uri)
        version: int | None = None
        if open_doc is not None:  # unsaved editor changes win over the file on disk
            old: str | None = open_doc.buffer.text
            version = open_doc.version
        elif path.is_file():
            try:
                old = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ProjectEditError(f"cannot read {path}: {exc}") from exc
        elif path.exists():
            raise ProjectEditError(f"{path} is not a file")
        else:
            old = None
        new = add_project_ignore(old or "", rule)
        if old is not None:
            source = encode(old)
            end = convert.lsp_position(LineIndex(source).position(len(source)))
            whole = types.Range(start=types.Position(line=0, character=0), end=end)
            edit = types.TextEdit(range=whole, new_text=new)
            if self.document_changes:
                identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
                return types.WorkspaceEdit(
                    document_changes=[types.TextDocumentEdit(text_document=identifier, edits=[edit])]
                )
            return types.WorkspaceEdit(changes={uri: [edit]})
        if self.create_files:
            return new_file_edit(uri, new)
        # no resource operations: most clients create the buffer for an edit to a file that is not there
        start = types.Position(line=0, character=0)
        return types.WorkspaceEdit(changes={uri: [types.TextEdit(range=types.Range(start=start, end=start), new_text=new)]})


def new_file_edit(uri: str, text: str) -> types.WorkspaceEdit:
    """Create the file at `uri` (unless it exists) and write `text` into it: for clients with resource
    operations (`create_files`)."""
    start = types.Position(line=0, character=0)
    return types.WorkspaceEdit(
        document_changes=[
            types.CreateFile(uri=uri, options=types.CreateFileOptions(ignore_if_exists=True)),
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                edits=[types.TextEdit(range=types.Range(start=start, end=start), new_text=text)],
            ),
        ]
    )


def _asked(kind: str, only: list[str]) -> bool:
    """Whether `kind` is among the kinds the client asked for (`refactor` asks for `refactor.rewrite` too)."""
    return any(not o or kind == o or kind.startswith(o + ".") for o in only)


def setup(server: LanguageServer, engine: WorkspaceEngine) -> CodeActions:
    feature = CodeActions(server, engine)
    # pygls does not set resolve_provider by itself
    options = types.CodeActionOptions(code_action_kinds=list(KINDS), resolve_provider=True)
    server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)(
        guarded(types.TEXT_DOCUMENT_CODE_ACTION, list)(feature.code_action)
    )

    @server.feature(types.CODE_ACTION_RESOLVE)
    def resolve(params: types.CodeAction) -> types.CodeAction:
        return feature.resolve(params)  # isolates its own failures: answers with the action as it came

    return feature
