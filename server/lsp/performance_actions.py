"""Quick fixes for the performance rules (SA4xx) whose fix is mechanical: SA402's list literal of constants
becomes a set literal. Registered with `CodeActions.providers`; the edit is small, so it goes out inline."""

from __future__ import annotations

from collections.abc import Callable

from lsprotocol import types
from sophia_artemis.analysis import Range
from sophia_artemis.analysis.performance_fixes import set_literal_fix

from . import convert
from .code_actions import QUICKFIX, CodeActions
from .engine import OpenDocument


def performance_actions(actions: CodeActions) -> Callable[[OpenDocument, Range], list[types.CodeAction]]:
    """The provider: a set-literal fix for each fixable SA402 finding at the requested range."""
    def provide(doc: OpenDocument, wanted: Range) -> list[types.CodeAction]:
        parsed = doc.parsed
        if parsed is None:
            return []
        out = []
        for finding in doc.findings:
            if finding.rule != "SA402" or not convert.overlaps(finding.range, wanted):
                continue
            fix = set_literal_fix(parsed, finding)
            if fix is None:
                continue
            rng, new_text = fix
            edit = types.TextEdit(range=convert.lsp_range(rng), new_text=new_text)
            if actions.document_changes:
                identifier = types.OptionalVersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version)
                workspace_edit = types.WorkspaceEdit(
                    document_changes=[types.TextDocumentEdit(text_document=identifier, edits=[edit])]
                )
            else:
                workspace_edit = types.WorkspaceEdit(changes={doc.uri: [edit]})
            collection = finding.data.get("collection")
            title = "Use a set literal for the membership test" if collection == "literal" else f"Make '{collection}' a set"
            out.append(types.CodeAction(
                title=title,
                kind=QUICKFIX,
                diagnostics=[convert.diagnostic(finding, doc.uri, doc.root)],
                is_preferred=True,
                edit=workspace_edit,
            ))
        return out

    return provide


def setup(actions: CodeActions) -> None:
    actions.providers.append(performance_actions(actions))
