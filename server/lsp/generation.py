"""Generation code actions on the function under the cursor: "Add a docstring" and "Create a test for <name>".

Both are `refactor.rewrite` actions (VS Code's lightbulb shows those for a cursor position), offered when
the cursor is on a function's header (decorators, `def` line, signature). The text comes from
analysis/generate_docstring.py and analysis/generate_tests.py; here it becomes a WorkspaceEdit: a single
minimal TextEdit (the part of the file that changed), or CreateFile plus the whole text for a new test
file when the client supports resource operations.

With codeAction/resolve support the edit is computed only when the user picks the action (see
CodeActions.resolvers). The project's docstring style and test layout are sampled once per project root
and kept for the session.
"""

from __future__ import annotations

import ast
import logging
import os
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer
from sophia_artemis.analysis import Range
from sophia_artemis.analysis.files import discover, read_source
from sophia_artemis.analysis.generate_docstring import (
    DEFAULT_STYLE,
    FunctionFacts,
    add_docstring,
    detect_style,
    docstrings_of,
    facts_of,
    function_at,
)
from sophia_artemis.analysis.generate_tests import (
    TestLayout,
    add_tests,
    detect_layout,
    module_name_of,
    plan_tests,
    where_tests_go,
)
from sophia_artemis.analysis.text import LineIndex, encode

from .code_actions import CodeActions, new_file_edit
from .engine import OpenDocument, WorkspaceEngine

log = logging.getLogger(__name__)

REWRITE = types.CodeActionKind.RefactorRewrite
STYLE_SAMPLE_FILES = 200  # files read at most to find the docstring style
STYLE_SAMPLE_DOCSTRINGS = 50  # docstrings that tell their style, enough to decide
LAYOUT_SAMPLE_FILES = 5000  # paths listed at most to find the test layout
STYLE_FILE_LIMIT = 512 * 1024


class Generation:
    def __init__(self, server: LanguageServer, engine: WorkspaceEngine, actions: CodeActions) -> None:
        self.server = server
        self.engine = engine
        self.actions = actions
        self._styles: dict[Path, str] = {}
        self._layouts: dict[Path, TestLayout] = {}
        self._tree: tuple[str, int, ast.Module | None] | None = (
            None  # (uri, version, tree): cursor moves reparse nothing
        )

    # ---- textDocument/codeAction ----
    def provide(self, doc: OpenDocument, wanted: Range) -> list[types.CodeAction]:
        if doc.dialect != "python" or doc.path is None:
            return []
        tree = self._parse(doc)
        if tree is None:
            return []
        line = wanted.start.line
        node = function_at(tree, line)
        if node is None:
            return []
        facts = facts_of(tree, node)
        base = {"uri": doc.uri, "line": line, "version": doc.version}
        proposals: list[tuple[str, dict[str, Any], str | None]] = []
        if not facts.has_docstring:
            proposals.append(("Add a docstring", {**base, "action": "docstring"}, None))
        test = self._test_proposal(doc, facts)
        if test is not None:
            proposals.append((test[0], {**base, "action": "test"}, test[1]))
        actions = []
        for title, data, disabled in proposals:
            action = types.CodeAction(title=title, kind=REWRITE, data=data)
            if disabled is not None:
                if self._disabled_support():
                    action.disabled = types.CodeActionDisabled(reason=disabled)
                actions.append(action)  # no edit: the title says why
                continue
            if not self.actions.lazy:
                action.edit = self._edit(doc, data)
                if action.edit is None:
                    continue
            actions.append(action)
        return actions

    def _test_proposal(self, doc: OpenDocument, facts: FunctionFacts) -> tuple[str, str | None] | None:
        """(title, why it cannot be applied or None), or None when no test can be made here."""
        if facts.nested or doc.root is None or doc.path is None or _is_test_file(doc.path):
            return None
        subject = f"{facts.class_name}.{facts.name}" if facts.class_name else facts.name
        title = f"Create a test for {subject}"
        target = self._test_path(doc)
        if self._test_text(target) is not None or self.actions.create_files:
            return title, None
        where = _relative(target, doc.root)
        return (
            f"{title} (needs {where}: create it first)",
            f"{where} does not exist and this editor cannot create files",
        )

    # ---- edits (CodeActions.resolvers) ----
    def _edit(self, doc: OpenDocument, data: dict[str, Any]) -> types.WorkspaceEdit | None:
        if data.get("action") == "docstring":
            return self.docstring_edit(doc, data)
        return self.test_edit(doc, data)

    def docstring_edit(self, doc: OpenDocument, data: dict[str, Any]) -> types.WorkspaceEdit | None:
        old = doc.buffer.text
        style = self.style_for(doc.root) if doc.root is not None else DEFAULT_STYLE
        new = add_docstring(old, int(data.get("line", -1)), style)
        if new is None:
            log.info(
                "Add a docstring: no function without one at line %s of %s any more",
                data.get("line"),
                doc.uri,
            )
            return None
        return _minimal_edit(doc.uri, doc.version, old, new, self.actions.document_changes)

    def test_edit(self, doc: OpenDocument, data: dict[str, Any]) -> types.WorkspaceEdit | None:
        if doc.root is None or doc.path is None:
            return None
        settings = self.engine.settings_for(doc)
        module = module_name_of(doc.root, doc.path, settings.import_roots)
        plan = plan_tests(doc.buffer.text, int(data.get("line", -1)), module)
        if plan is None:
            log.info("Create a test: no function at line %s of %s any more", data.get("line"), doc.uri)
            return None
        target = self._test_path(doc)
        uri = target.as_uri()
        found = self._test_text(target)
        if found is not None:
            old, version = found
            return _minimal_edit(uri, version, old, add_tests(old, plan), self.actions.document_changes)
        if not self.actions.create_files:
            return None
        return new_file_edit(uri, add_tests(None, plan))

    # ---- the project: style, layout, files ----
    def style_for(self, root: Path) -> str:
        """The docstring style most of the project's docstrings use (sampled once per root)."""
        if root not in self._styles:
            found: list[str] = []
            settings = self.engine.settings.settings(root)
            files = (p for p in discover([root], settings, root) if p.suffix == ".py")
            for count, path in enumerate(files):
                if count >= STYLE_SAMPLE_FILES or len(found) >= STYLE_SAMPLE_DOCSTRINGS:
                    break
                data, _ = read_source(path, STYLE_FILE_LIMIT)
                if data is not None:
                    found.extend(docstrings_of(data.decode("utf-8", "replace")))
            style = detect_style(found) or DEFAULT_STYLE
            log.info("docstring style of %s: %s (from %d docstrings)", root, style, len(found))
            self._styles[root] = style
        return self._styles[root]

    def layout_for(self, root: Path) -> TestLayout:
        """The project's test layout (sampled once per root)."""
        if root not in self._layouts:
            settings = self.engine.settings.settings(root)
            files = []
            for path in discover([root], settings, root):
                if len(files) >= LAYOUT_SAMPLE_FILES:
                    break
                if path.suffix == ".py":
                    files.append(path)
            layout = detect_layout(root, files, settings.import_roots)
            log.info("test layout of %s: %s", root, layout)
            self._layouts[root] = layout
        return self._layouts[root]

    def _test_path(self, doc: OpenDocument) -> Path:
        assert doc.root is not None and doc.path is not None
        settings = self.engine.settings_for(doc)
        module = module_name_of(doc.root, doc.path, settings.import_roots)
        return where_tests_go(doc.root, doc.path, module, self.layout_for(doc.root))

    def _test_text(self, path: Path) -> tuple[str, int | None] | None:
        """The test file's text and open version (unsaved editor changes win); None when there is none."""
        open_doc = self.engine.get(path.as_uri())
        if open_doc is not None:
            return open_doc.buffer.text, open_doc.version
        if not path.is_file():
            return None
        try:
            return path.read_text(encoding="utf-8"), None
        except (OSError, UnicodeDecodeError):
            return None

    def _parse(self, doc: OpenDocument) -> ast.Module | None:
        if self._tree is None or self._tree[:2] != (doc.uri, doc.version):
            try:
                tree: ast.Module | None = ast.parse(doc.buffer.text)
            except (SyntaxError, ValueError):
                tree = None
            self._tree = (doc.uri, doc.version, tree)
        return self._tree[2]

    def _disabled_support(self) -> bool:
        caps = self.server.client_capabilities
        return bool(get_capability(caps, "text_document.code_action.disabled_support", False))


def _is_test_file(path: Path) -> bool:
    return path.name.startswith("test_") or path.name.endswith("_test.py") or path.name == "conftest.py"


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(os.path.relpath(path, root)).as_posix()
    except ValueError:
        return str(path)


def _minimal_edit(
    uri: str, version: int | None, old: str, new: str, document_changes: bool
) -> types.WorkspaceEdit | None:
    """One TextEdit turning `old` into `new`: the span between their common prefix and suffix."""
    if old == new:
        return None
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    # never split a \r\n pair: LSP positions cannot point between them
    while start > 0 and old[start - 1] == "\r":
        start -= 1
    while 0 < end_old < len(old) and old[end_old - 1] == "\r" and old[end_old] == "\n":
        end_old += 1
        end_new += 1
    index = LineIndex(encode(old))

    def position(offset: int) -> types.Position:
        pos = index.position(len(encode(old[:offset])))
        return types.Position(line=pos.line, character=pos.character)

    edit = types.TextEdit(
        range=types.Range(start=position(start), end=position(end_old)), new_text=new[start:end_new]
    )
    if document_changes:
        identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
        return types.WorkspaceEdit(
            document_changes=[types.TextDocumentEdit(text_document=identifier, edits=[edit])]
        )
    return types.WorkspaceEdit(changes={uri: [edit]})


def setup(server: LanguageServer, engine: WorkspaceEngine, actions: CodeActions) -> Generation:
    """Offer the generation actions through `actions` (a provider, and resolvers for their lazy edits)."""
    feature = Generation(server, engine, actions)
    actions.providers.append(feature.provide)
    actions.resolvers["docstring"] = feature.docstring_edit
    actions.resolvers["test"] = feature.test_edit
    return feature
