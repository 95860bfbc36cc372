"""textDocument/documentSymbol: classes -> methods -> nested functions, with metrics in `detail`."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import tree_sitter
from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer
from sophia_artemis.analysis import Document, FunctionInfo, Range
from sophia_artemis.analysis.document import language

from . import convert
from .engine import WorkspaceEngine
from .guard import guarded


@cache
def _class_query(lang: str) -> tree_sitter.Query:
    return tree_sitter.Query(language(lang), "(class_definition name: (identifier) @name) @class")


def function_detail(info: FunctionInfo) -> str:
    m = info.metrics
    return f"cc {m.cyclomatic} · cog {m.cognitive} · {m.loc} lines"


@dataclass
class _Node:
    name: str
    kind: types.SymbolKind
    range: Range
    selection: Range
    detail: str | None
    start: int  # sort keys: document order, outer before inner
    end: int
    children: list[_Node] = field(default_factory=list)

    def contains(self, other: _Node) -> bool:
        return self.start <= other.start and other.end <= self.end

    def to_lsp(self) -> types.DocumentSymbol:
        return types.DocumentSymbol(
            name=self.name,
            kind=self.kind,
            range=convert.lsp_range(self.range),
            selection_range=convert.lsp_range(self.selection),
            detail=self.detail,
            children=[c.to_lsp() for c in self.children],
        )


def _classes(doc: Document) -> list[_Node]:
    cursor = tree_sitter.QueryCursor(_class_query(doc.language))
    out = []
    for _, caps in cursor.matches(doc.tree.root_node):
        node, name = caps["class"][0], caps["name"][0]
        out.append(
            _Node(
                name=name.text.decode("utf-8", "replace"),
                kind=types.SymbolKind.Class,
                range=doc.range_of(node),
                selection=doc.range_of(name),
                detail=None,
                start=node.start_byte,
                end=node.end_byte,
            )
        )
    return out


def symbol_tree(doc: Document, functions: list[FunctionInfo]) -> list[_Node]:
    nodes = _classes(doc)
    index = doc.index
    for info in functions:
        start, end = index.offset(info.range.start), index.offset(info.range.end)
        nodes.append(
            _Node(
                info.name,
                types.SymbolKind.Function,
                info.range,
                info.name_range,
                function_detail(info),
                start,
                end,
            )
        )
    nodes.sort(key=lambda n: (n.start, -n.end))
    roots: list[_Node] = []
    stack: list[_Node] = []
    for node in nodes:
        while stack and not stack[-1].contains(node):
            stack.pop()
        if stack:
            parent = stack[-1]
            if parent.kind == types.SymbolKind.Class and node.kind == types.SymbolKind.Function:
                node.kind = types.SymbolKind.Method
            parent.children.append(node)
        else:
            roots.append(node)
        stack.append(node)
    return roots


def _flatten(nodes: list[_Node], uri: str, container: str | None = None) -> list[types.SymbolInformation]:
    out = []
    for n in nodes:
        out.append(
            types.SymbolInformation(
                name=n.name,
                kind=n.kind,
                location=types.Location(uri=uri, range=convert.lsp_range(n.range)),
                container_name=container,
            )
        )
        out.extend(_flatten(n.children, uri, n.name))
    return out


class DocumentSymbols:
    def __init__(self, engine: WorkspaceEngine) -> None:
        self.engine = engine
        self.hierarchical = True

    def configure(self, capabilities: types.ClientCapabilities) -> None:
        self.hierarchical = bool(
            get_capability(
                capabilities, "text_document.document_symbol.hierarchical_document_symbol_support", False
            )
        )

    def document_symbol(
        self, params: types.DocumentSymbolParams
    ) -> list[types.DocumentSymbol] | list[types.SymbolInformation]:
        doc = self.engine.get(params.text_document.uri)
        if doc is None or doc.parsed is None:
            return []
        self.engine.refresh(doc)
        functions = doc.result.functions if doc.result is not None else []
        tree = symbol_tree(doc.parsed, functions)
        if self.hierarchical:
            return [n.to_lsp() for n in tree]
        return _flatten(tree, doc.uri)


def setup(server: LanguageServer, engine: WorkspaceEngine) -> DocumentSymbols:
    feature = DocumentSymbols(engine)
    server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)(
        guarded(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL, list)(feature.document_symbol)
    )
    return feature
