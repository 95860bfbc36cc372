"""Docstring skeletons in a project's own style: Google, NumPy or reST (Sphinx field lists).

Pure: source text in, source text out. The skeleton is inserted as text right after the `def` line's colon,
so everything else in the file stays byte for byte as it was (quotes and indentation follow the file).
Placeholders follow the autoDocstring convention (`_summary_`, `_description_`, `_type_`) so they are easy
to find and replace.

Parameter types come from annotations: an annotated parameter shows its type where the style has a place
for one (Google `x (int):`, NumPy `x : int`, reST `:type x: int`); an unannotated one shows none.
`self`/`cls` of methods are left out; `*args`/`**kwargs` keep their stars (reST names them bare).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

GOOGLE, NUMPY, REST = "google", "numpy", "rest"
STYLES = (GOOGLE, NUMPY, REST)
DEFAULT_STYLE = GOOGLE

_REST_FIELD = re.compile(
    r"^\s*:(param|parameter|arg|argument|key|keyword|type|returns?|rtype|raises?|except|exception|yields?)\b",
    re.MULTILINE,
)
_NUMPY_SECTION = re.compile(
    r"^\s*(Parameters|Other Parameters|Returns|Yields|Raises|Attributes|Examples|Notes|See Also|Warns)\s*\n"
    r"\s*-{3,}\s*$",
    re.MULTILINE,
)
_GOOGLE_SECTION = re.compile(
    r"^\s*(Args|Arguments|Returns|Return|Yields|Raises|Attributes|Examples|Example|Note|Notes|"
    r"Keyword Args|Keyword Arguments|Todo|Warns|Warning|Parameters)\s*:\s*\n[ \t]+\S",
    re.MULTILINE,
)

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


# ---------------------------------------------------------------------------------------- style detection


def docstring_style(docstring: str) -> str | None:
    """The style one docstring is written in, or None when it has no section that tells."""
    if _NUMPY_SECTION.search(docstring):
        return NUMPY
    if _REST_FIELD.search(docstring):
        return REST
    if _GOOGLE_SECTION.search(docstring):
        return GOOGLE
    return None


def docstrings_of(source: str) -> list[str]:
    """The module, class and function docstrings of `source` (none when it does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            text = ast.get_docstring(node, clean=True)
            if text:
                found.append(text)
    return found


def detect_style(docstrings: Iterable[str]) -> str | None:
    """The style most of `docstrings` use (None when none of them tells). Ties go Google, NumPy, reST."""
    votes = Counter(style for text in docstrings if (style := docstring_style(text)) is not None)
    if not votes:
        return None
    return max(STYLES, key=lambda s: (votes[s], -STYLES.index(s)))


# ---------------------------------------------------------------------------------------- the function


@dataclass(frozen=True)
class Parameter:
    name: str  # with its stars: "*args", "**kwargs"
    annotation: str | None
    required: bool
    kind: str  # "positional_only", "positional", "var_positional", "keyword_only", "var_keyword"

    @property
    def bare(self) -> str:
        return self.name.lstrip("*")


@dataclass(frozen=True)
class FunctionFacts:
    """What a docstring or a test needs to know of one function."""

    name: str
    class_name: str | None  # the class it is defined in, directly
    nested: bool  # inside another function (or a class inside one): not importable
    is_async: bool
    kind: str  # "function", "method", "staticmethod", "classmethod"
    parameters: list[Parameter]
    returns_value: bool
    return_annotation: str | None
    yields: bool
    raises: list[str]
    has_docstring: bool
    node: FunctionNode = field(repr=False, compare=False)


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _signature_lines(node: FunctionNode) -> tuple[int, int]:
    """First and last (1-based) line of the function's header: decorators to the line before the body."""
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    body_line = node.body[0].lineno
    # a docstring or statement on the `def` line itself: the header is that line alone
    last = body_line - 1 if body_line > node.lineno else node.lineno
    return first, max(first, last)


def function_at(tree: ast.Module, line: int) -> FunctionNode | None:
    """The function whose header (decorators, `def` line, signature) holds 0-based `line`."""
    best: FunctionNode | None = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first, last = _signature_lines(node)
            if first <= line + 1 <= last and (best is None or node.lineno > best.lineno):
                best = node
    return best


def _own_nodes(node: FunctionNode) -> Iterable[ast.AST]:
    """The nodes of the function's body, not descending into nested functions, classes or lambdas."""
    stack: list[ast.AST] = list(node.body)
    while stack:
        current = stack.pop()
        if isinstance(current, _SCOPES):
            continue
        yield current
        stack.extend(ast.iter_child_nodes(current))


def _exception_name(expr: ast.expr | None) -> str | None:
    if isinstance(expr, ast.Call):
        expr = expr.func
    if isinstance(expr, (ast.Name, ast.Attribute)):
        text = ast.unparse(expr)
        # `raise err` re-raises a variable; exception classes are capitalised by convention
        if text.rsplit(".", 1)[-1][:1].isupper():
            return text
    return None


def facts_of(tree: ast.Module, node: FunctionNode) -> FunctionFacts:
    parents = _parents(tree)
    parent = parents.get(node)
    class_name = parent.name if isinstance(parent, ast.ClassDef) else None
    nested = False
    walker: ast.AST | None = parent
    while walker is not None:
        if isinstance(walker, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            nested = True
        walker = parents.get(walker)
    if isinstance(parent, ast.ClassDef) and parents.get(parent) is not tree:
        nested = True  # a method of a class that is not at module level
    decorators = {ast.unparse(d) for d in node.decorator_list}
    if class_name is None:
        kind = "function"
    elif "staticmethod" in decorators:
        kind = "staticmethod"
    elif "classmethod" in decorators:
        kind = "classmethod"
    else:
        kind = "method"

    args = node.args
    params: list[Parameter] = []
    positional = [*args.posonlyargs, *args.args]
    first_default = len(positional) - len(args.defaults)
    for i, arg in enumerate(positional):
        params.append(
            Parameter(
                arg.arg,
                _annotation(arg),
                i < first_default,
                "positional_only" if i < len(args.posonlyargs) else "positional",
            )
        )
    if kind in ("method", "classmethod") and params:
        params = params[1:]  # self / cls
    if args.vararg is not None:
        params.append(Parameter("*" + args.vararg.arg, _annotation(args.vararg), False, "var_positional"))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        params.append(Parameter(arg.arg, _annotation(arg), default is None, "keyword_only"))
    if args.kwarg is not None:
        params.append(Parameter("**" + args.kwarg.arg, _annotation(args.kwarg), False, "var_keyword"))

    own = list(_own_nodes(node))
    returns_value = any(
        isinstance(n, ast.Return)
        and n.value is not None
        and not (isinstance(n.value, ast.Constant) and n.value.value is None)
        for n in own
    )
    annotation = ast.unparse(node.returns) if node.returns is not None else None
    if annotation is not None and annotation != "None" and not returns_value:
        returns_value = not any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own)  # abstract, stubs
    if annotation == "None":
        returns_value = False
    raises: list[str] = []
    for n in sorted((n for n in own if isinstance(n, ast.Raise)), key=lambda n: (n.lineno, n.col_offset)):
        name = _exception_name(n.exc)
        if name is not None and name not in raises:
            raises.append(name)
    return FunctionFacts(
        name=node.name,
        class_name=class_name,
        nested=nested,
        is_async=isinstance(node, ast.AsyncFunctionDef),
        kind=kind,
        parameters=params,
        returns_value=returns_value,
        return_annotation=annotation,
        yields=any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own),
        raises=raises,
        has_docstring=ast.get_docstring(node, clean=False) is not None,
        node=node,
    )


def _annotation(arg: ast.arg) -> str | None:
    return ast.unparse(arg.annotation) if arg.annotation is not None else None


# ---------------------------------------------------------------------------------------- rendering

SUMMARY = "_summary_"
DESCRIPTION = "_description_"
TYPE = "_type_"


def _returned_type(facts: FunctionFacts) -> str | None:
    return facts.return_annotation


def render_docstring(facts: FunctionFacts, style: str) -> list[str]:
    """The docstring's lines, without quotes or indentation (the first is the summary)."""
    sections: list[list[str]] = []
    params = facts.parameters
    rtype = _returned_type(facts)
    returns = facts.returns_value and not facts.yields
    if style == NUMPY:
        if params:
            lines = ["Parameters", "----------"]
            for p in params:
                lines += [f"{p.name} : {p.annotation}" if p.annotation else p.name, f"    {DESCRIPTION}"]
            sections.append(lines)
        if returns or facts.yields:
            title = "Yields" if facts.yields else "Returns"
            sections.append([title, "-" * len(title), rtype or TYPE, f"    {DESCRIPTION}"])
        if facts.raises:
            lines = ["Raises", "------"]
            for name in facts.raises:
                lines += [name, f"    {DESCRIPTION}"]
            sections.append(lines)
    elif style == REST:
        lines = []
        for p in params:
            lines.append(f":param {p.bare}: {DESCRIPTION}")
            if p.annotation:
                lines.append(f":type {p.bare}: {p.annotation}")
        if returns or facts.yields:
            lines.append(f":{'yield' if facts.yields else 'return'}: {DESCRIPTION}")
            if rtype and returns:
                lines.append(f":rtype: {rtype}")
        lines += [f":raises {name}: {DESCRIPTION}" for name in facts.raises]
        if lines:
            sections.append(lines)
    else:
        if params:
            lines = ["Args:"]
            for p in params:
                typed = f" ({p.annotation})" if p.annotation else ""
                lines.append(f"    {p.name}{typed}: {DESCRIPTION}")
            sections.append(lines)
        if returns or facts.yields:
            title = "Yields:" if facts.yields else "Returns:"
            sections.append([title, f"    {rtype}: {DESCRIPTION}" if rtype else f"    {DESCRIPTION}"])
        if facts.raises:
            sections.append(["Raises:", *(f"    {name}: {DESCRIPTION}" for name in facts.raises)])
    out = [SUMMARY]
    for section in sections:
        out += ["", *section]
    return out


# ---------------------------------------------------------------------------------------- the edit


def _quote(tree: ast.Module, source_lines: list[str]) -> str:
    """The triple quote the file's docstrings use most (`\"\"\"` when it has none)."""
    votes: Counter[str] = Counter()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                text = (
                    source_lines[first.lineno - 1]
                    .encode("utf-8")[first.col_offset :]
                    .decode("utf-8", "replace")
                )
                text = text.lstrip("rRuU")
                if text.startswith(("'''", '"""')):
                    votes[text[:3]] += 1
    return "'''" if votes["'''"] > votes['"""'] else '"""'


def _indent_unit(source: str) -> str:
    """The file's first indentation step (four spaces when it has none)."""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.INDENT:
                return tok.string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return "    "


def _colon_after_signature(source: str, node: FunctionNode) -> tuple[int, int, bool]:
    """(1-based line, character column just after the header's `:`, whether the body starts on a new line)."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    depth = 0
    started = False
    colon: tuple[int, int] | None = None
    for tok in tokens:
        if not started:
            if tok.start[0] == node.lineno and tok.type == tokenize.NAME and tok.string == "def":
                started = True
            continue
        if colon is not None:
            if tok.type == tokenize.COMMENT or tok.type == tokenize.NL:
                continue
            return colon[0], colon[1], tok.type == tokenize.NEWLINE
        if tok.type == tokenize.OP:
            if tok.string in "([{":
                depth += 1
            elif tok.string in ")]}":
                depth -= 1
            elif tok.string == ":" and depth == 0:
                colon = tok.end
    raise ValueError("no colon after the signature")


def parse_function(source: str, line: int) -> tuple[ast.Module, FunctionNode, FunctionFacts] | None:
    """(tree, function node, facts) of the function whose header holds 0-based `line`; None when the file does
    not parse or no function is there."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    node = function_at(tree, line)
    if node is None:
        return None
    return tree, node, facts_of(tree, node)


def add_docstring(source: str, line: int, style: str = DEFAULT_STYLE) -> str | None:
    """`source` with a docstring skeleton added to the function whose header holds 0-based `line`;
    None when there is no such function, it has a docstring already, or the file does not parse."""
    parsed = parse_function(source, line)
    if parsed is None:
        return None
    tree, node, facts = parsed
    if facts.has_docstring:
        return None
    lines = source.splitlines(keepends=True)
    quote = _quote(tree, [ln.rstrip("\r\n") for ln in lines])
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    colon_line, colon_col, body_below = _colon_after_signature(source, node)
    def_line = lines[node.lineno - 1]
    if body_below:
        first = lines[node.body[0].lineno - 1]
        indent = first[: len(first) - len(first.lstrip())]
    else:
        indent = def_line[: len(def_line) - len(def_line.lstrip())] + _indent_unit(source)
    text_lines = render_docstring(facts, style)
    if len(text_lines) == 1:
        block = f"{indent}{quote}{text_lines[0]}{quote}"
    else:
        body = [f"{indent}{t}" if t else "" for t in text_lines[1:]]
        block = newline.join([f"{indent}{quote}{text_lines[0]}", *body, f"{indent}{quote}"])
    if body_below:
        insert_at = colon_line  # the line after the header: before comments and the body
        return "".join(lines[:insert_at]) + block + newline + "".join(lines[insert_at:])
    # `def f(x): return x`: the body moves to its own line below the docstring
    header = lines[colon_line - 1]
    rest = header[colon_col:].lstrip(" \t")
    new_header = header[:colon_col] + newline + block + newline + indent + rest
    return "".join(lines[: colon_line - 1]) + new_header + "".join(lines[colon_line:])
