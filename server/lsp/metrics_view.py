"""Per-function metrics in the editor: a code lens on each function and a hover on its name or `def` line.

The lens runs command `sophia.showMetrics` (registered here, so clicking it never errors), which returns
that function's metrics in the `metrics` command's JSON shape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer
from sophia_artemis.analysis import RULES, Finding, FunctionInfo, Position, Settings

from . import convert
from .engine import OpenDocument, WorkspaceEngine
from .guard import guarded

log = logging.getLogger(__name__)

SHOW_METRICS = "sophia.showMetrics"

# metric attribute -> (label, rule judging it)
_METRICS = [
    (attr, label, next((r for r in RULES.values() if r.metric == attr), None))
    for attr, label in (
        ("cyclomatic", "cyclomatic complexity"),
        ("cognitive", "cognitive complexity"),
        ("loc", "lines"),
        ("params", "parameters"),
        ("depth", "nesting depth"),
    )
]


def lens_title(info: FunctionInfo) -> str:
    return f"cyclomatic {info.metrics.cyclomatic} · cognitive {info.metrics.cognitive}"


def function_at(functions: list[FunctionInfo], pos: Position) -> FunctionInfo | None:
    """The innermost function whose name is under `pos`, or whose `def` line `pos` is on."""
    best = None
    for info in functions:
        on_name = info.name_range.contains(pos)
        on_def_line = info.range.start.line <= pos.line <= info.name_range.start.line
        later = best is None or (info.range.start.line, info.range.start.character) >= (
            best.range.start.line,
            best.range.start.character,
        )
        if (on_name or on_def_line) and later:
            best = info
    return best


def hover_text(info: FunctionInfo, findings: list[Finding], settings: Settings, markdown: bool) -> str:
    rows = []
    for attr, label, rule in _METRICS:
        value = getattr(info.metrics, attr)
        threshold = (
            settings.threshold(rule.threshold_key) if rule is not None and rule.threshold_key else None
        )
        rows.append((label, value, threshold))
    reasons = []
    for f in findings:
        rule = RULES.get(f.rule)
        metric = rule.metric if rule is not None else None
        value, threshold = f.data.get(metric) if metric else None, f.data.get("threshold")
        name = f"{f.rule} {rule.name}" if rule is not None else f.rule
        why = f"{metric} {value} is over the threshold of {threshold}" if value is not None else f.message
        link = rule.docs_url if rule is not None else None
        reasons.append((name, why, link))
    if not markdown:
        lines = [info.qualname, ""]
        lines += [
            f"{label}: {value}" + (f" (threshold {t})" if t is not None else "") for label, value, t in rows
        ]
        lines += [""] + [f"{name}: {why} ({link})" for name, why, link in reasons] if reasons else []
        return "\n".join(lines)
    lines = [f"**`{info.qualname}`**", "", "| metric | value | threshold |", "| --- | ---: | ---: |"]
    for label, value, t in rows:
        over = t is not None and value > t
        shown = f"**{value}**" if over else str(value)
        lines.append(f"| {label} | {shown} | {t if t is not None else ''} |")
    if reasons:
        lines += ["", "Why it is flagged:"]
        lines += [f"- [{name}]({link}): {why}" if link else f"- {name}: {why}" for name, why, link in reasons]
    return "\n".join(lines)


class MetricsView:
    def __init__(self, engine: WorkspaceEngine) -> None:
        self.engine = engine
        self.markdown = True
        # more hover text from other features: (document, position, markdown?) -> a section or None, appended
        # after the metrics; each isolated (a failure is logged)
        self.hover_sections: list[Callable[[OpenDocument, Position, bool], str | None]] = []
        # more code lenses: (document, its functions) -> lenses; a lens without a command carries
        # `data = {"provider": name, ...}` and is completed by `lens_resolvers[name]` on codeLens/resolve
        self.lens_providers: list[Callable[[OpenDocument, list[FunctionInfo]], list[types.CodeLens]]] = []
        self.lens_resolvers: dict[str, Callable[[types.CodeLens], types.CodeLens]] = {}

    def configure(self, capabilities: types.ClientCapabilities) -> None:
        formats = get_capability(capabilities, "text_document.hover.content_format", None)
        self.markdown = formats is None or types.MarkupKind.Markdown in formats

    def _functions(self, uri: str) -> tuple[OpenDocument | None, list[FunctionInfo]]:
        doc = self.engine.get(uri)
        if doc is None or doc.parsed is None:
            return None, []
        self.engine.refresh(doc)
        return doc, doc.result.functions if doc.result is not None else []

    def code_lens(self, params: types.CodeLensParams) -> list[types.CodeLens]:
        doc, functions = self._functions(params.text_document.uri)
        if doc is None:
            return []
        more: list[types.CodeLens] = []
        for provider in self.lens_providers:
            try:
                more.extend(provider(doc, functions))
            except Exception:
                log.exception("code lens provider %r failed", provider)
        return more + [
            types.CodeLens(
                range=convert.lsp_range(info.name_range),
                command=types.Command(
                    title=lens_title(info),
                    command=SHOW_METRICS,
                    arguments=[doc.uri, info.qualname, info.def_line],
                ),
            )
            for info in functions
        ]

    def resolve_lens(self, lens: types.CodeLens) -> types.CodeLens:
        data = lens.data if isinstance(lens.data, dict) else {}
        resolver = self.lens_resolvers.get(data.get("provider", ""))
        if resolver is None or lens.command is not None:
            return lens
        try:
            return resolver(lens)
        except Exception:  # a lens must come back with a command, whatever failed
            log.exception("resolving code lens %r failed", data)
            lens.command = types.Command(title="(unavailable: see the log)", command="")
            return lens

    def hover(self, params: types.HoverParams) -> types.Hover | None:
        doc, functions = self._functions(params.text_document.uri)
        if doc is None:
            return None
        position = convert.position(params.position)
        info = function_at(functions, position)
        parts = []
        if info is not None:
            findings = [f for f in doc.findings if f.data.get("qualname") == info.qualname]
            parts.append(hover_text(info, findings, self.engine.settings_for(doc), self.markdown))
        for section in self.hover_sections:
            try:
                extra = section(doc, position, self.markdown)
            except Exception:
                log.exception("hover section %r failed", section)
                continue
            if extra:
                parts.append(extra)
        if not parts:
            return None
        kind = types.MarkupKind.Markdown if self.markdown else types.MarkupKind.PlainText
        return types.Hover(
            contents=types.MarkupContent(kind=kind, value="\n\n".join(parts)),
            range=convert.lsp_range(info.name_range) if info is not None else None,
        )

    def show_metrics(self, *args: Any) -> dict[str, Any] | None:
        """`sophia.showMetrics(uri, qualname[, def_line])`: that function's metrics (None if it is gone)."""
        if len(args) < 2 or not isinstance(args[0], str):
            log.info("%s called with %r; expected (uri, qualname[, def_line])", SHOW_METRICS, args)
            return None
        uri, qualname = args[0], args[1]
        def_line = args[2] if len(args) > 2 else None
        doc, functions = self._functions(uri)
        candidates = [f for f in functions if f.qualname == qualname]
        if not candidates or doc is None:
            return None
        best = min(candidates, key=lambda f: abs(f.def_line - def_line) if isinstance(def_line, int) else 0)
        return best.to_json(str(doc.path) if doc.path is not None else doc.uri)


def setup(server: LanguageServer, engine: WorkspaceEngine) -> MetricsView:
    view = MetricsView(engine)
    server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=True))(
        guarded(types.TEXT_DOCUMENT_CODE_LENS, list)(view.code_lens)
    )
    server.feature(types.CODE_LENS_RESOLVE)(lambda lens: view.resolve_lens(lens))
    server.feature(types.TEXT_DOCUMENT_HOVER)(guarded(types.TEXT_DOCUMENT_HOVER)(view.hover))

    @server.command(SHOW_METRICS)
    def show_metrics(*args: Any) -> dict[str, Any] | None:
        try:
            return view.show_metrics(*args)
        except Exception:
            log.exception("%s failed", SHOW_METRICS)
            return None

    return view
