"""Split source files into the pieces that semantic memory indexes, and say what each piece is "about".

Pure: text in, plain dataclasses out.

Python (`python_chunks`)
    * every `def`/`async def` at any depth: kind "method" when its nearest enclosing definition is a class,
      else "function"; qualname as Python's `__qualname__` (`Class.method`, `outer.<locals>.inner`);
    * every class: its signature, docstring and the names of its methods (not the whole body);
    * the module docstring, when there is one: kind "module", qualname `<module>`.
Markdown (`markdown_chunks`)
    one chunk per section (a heading up to the next heading): kind "doc-section", qualname the heading path
    (`Install > From source`); text before the first heading is `<preamble>`.

Each chunk carries `path` (as given, `/`-separated), `qualname`, `kind`, `range` (0-based LSP range, UTF-16
columns; for functions and classes the definition itself, decorators excluded, as `metrics` reports them),
`text` (at most `TEXT_LIMIT` characters, except that the whole signature and docstring are always kept), and
`hash` (of what would be embedded, so moving a function does not change it but editing it does). `key` is
`path::qualname`, made unique within a file with a `#2`, `#3`... suffix (a property getter and its setter share
a qualname).

`redact`, when given, is applied to every piece of text before it is hashed or stored, so a secret never
reaches an index (see `analysis.redact`).

`embedding_text(chunk)` builds the text given to the embedding model; `tokens(text)` the terms a lexical
(BM25) index uses. Both split identifiers into words (`get_user_by_id` -> get user by id, `HTTPAdapter` ->
http adapter) so natural-language queries meet code names.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from .model import Position, Range
from .text import LineIndex, encode, utf16_len

TEXT_LIMIT = 2000
EMBED_VERSION = "e6"  # part of every hash: bump when embedding_text changes, so everything is re-embedded
BODY_HEAD_CHARS = 200
DOC_CHARS = 600
MODULE_KIND = "module"
MODULE_QUALNAME = "<module>"
PREAMBLE_QUALNAME = "<preamble>"
KINDS = ("function", "method", "class", "module", "doc-section")
MARKDOWN_SUFFIXES = (".md", ".markdown")
PYTHON_SUFFIXES = (".py", ".pyi")

Redactor = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Chunk:
    path: str
    qualname: str
    kind: str
    range: Range
    text: str
    hash: str = ""
    signature: str = ""
    docstring: str = ""
    key: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "qualname": self.qualname,
            "kind": self.kind,
            "range": self.range.to_json(),
            "hash": self.hash,
        }


# --------------------------------------------------------------------------------------------- words

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z]|[0-9]|$)|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

# Python keywords, builtins too common to tell code apart, and English function words.
STOPWORDS = frozenset(
    ["and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "none", "true", "false", "self", "cls", "the", "an", "of", "to", "on", "at", "by", "be", "it", "its", "this", "that", "these", "those", "there", "their", "them", "they", "we", "you", "your", "our", "are", "was", "were", "been", "being", "has", "have", "had", "do", "does", "did", "can", "could", "should", "would", "will", "shall", "may", "might", "must", "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "all", "any", "some", "no", "yes", "than", "then", "so", "such", "via", "into", "onto", "about", "over", "under", "out", "up", "down", "off", "also", "just", "only", "very"]
)


def split_identifier(word: str) -> list[str]:
    """`get_user_by_id` -> [get, user, by, id]; `HTTPAdapter` -> [HTTP, Adapter]; `parse2x` -> [parse, 2, x]."""
    out: list[str] = []
    for part in word.split("_"):
        if part:
            out.extend(_CAMEL.findall(part) or [part])
    return out


def words(text: str) -> list[str]:
    """Every identifier and number in `text` split into lower-case words, in order."""
    out: list[str] = []
    for ident in _IDENT.findall(text):
        out.extend(w.lower() for w in split_identifier(ident))
    return out


def stem(word: str) -> str:
    """A deliberately small suffix stripper: plural and -ing/-ed forms meet their base
    (`cookies`/`cookie`, `redirected`/`redirects`/`redirect`, `encoding`/`encode`). Applied the same way to
    documents and queries, so it only has to be consistent, not linguistically right."""
    w = word
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "i"
    elif len(w) > 6 and w.endswith("ation"):
        w = w[:-5]
    elif len(w) > 5 and w.endswith("ing"):
        w = w[:-3]
    elif len(w) > 4 and w.endswith("ed") or len(w) > 4 and w.endswith(("ses", "xes", "zes", "ches", "shes")):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    if len(w) > 3 and w.endswith("y"):
        w = w[:-1] + "i"
    return w


def tokens(text: str) -> list[str]:
    """Terms for a lexical index: identifiers split on `_` and case changes, lower-cased, stemmed; words of
    one character, numbers and the very common words in `STOPWORDS` are dropped."""
    out: list[str] = []
    for w in words(text):
        if len(w) < 2 or w.isdigit() or w in STOPWORDS:
            continue
        out.append(stem(w))
    return out


def module_name(path: str) -> str:
    """`src/requests/sessions.py` -> `requests.sessions`; `pkg/__init__.py` -> `pkg`; `docs/a.md` -> `docs.a`."""
    p = path.replace("\\", "/").lstrip("./")
    for suffix in (*PYTHON_SUFFIXES, *MARKDOWN_SUFFIXES):
        if p.endswith(suffix):
            p = p[: -len(suffix)]
            break
    parts = [x for x in p.split("/") if x and x != "."]
    if parts and parts[0] in ("src", "lib") and len(parts) > 1:
        parts = parts[1:]
    if len(parts) > 1 and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def qualname_words(qualname: str) -> str:
    parts = [p for p in re.split(r"[.>]", qualname) if p.strip() and p.strip() not in ("<locals>", MODULE_QUALNAME)]
    return " ".join(" ".join(w.lower() for w in split_identifier(p.strip())) or p.strip() for p in parts)


# --------------------------------------------------------------------------------------------- embedding


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


_DOC_STOP = re.compile(
    r"^\s*(?::(?:param|parameter|arg|argument|key|keyword|type|return|returns|rtype|raise|raises|except|var|ivar|cvar)\b"
    r"|\.\. |>>> |(?:Args|Arguments|Parameters|Returns|Return|Yields|Raises|Example|Examples|Note|Notes|See Also):?\s*$)"
)
_ROLE = re.compile(r":[a-zA-Z]+(?::[a-zA-Z]+)?:`~?([^`<]*?)(?:\s*<[^>]*>)?`")


def clean_docstring(doc: str) -> str:
    """The prose of a docstring: up to its first field list, directive, doctest or section header, with
    Sphinx roles reduced to their text (`:class:`~a.b.Thing`` -> Thing) and literals unquoted."""
    kept: list[str] = []
    for line in doc.splitlines():
        if _DOC_STOP.match(line):
            break
        kept.append(line)
    text = " ".join(kept) if kept else doc
    text = _ROLE.sub(lambda m: m.group(1).rsplit(".", 1)[-1].strip() or m.group(1), text)
    text = text.replace("``", "").replace("`", "")
    return _collapse(text)


def body_head(chunk: Chunk, limit: int = BODY_HEAD_CHARS) -> str:
    """The first lines of code after the signature and docstring (functions), or after the heading (docs)."""
    text = chunk.text
    if chunk.kind in ("function", "method"):
        rest = text
        if chunk.signature and chunk.signature in rest:
            rest = rest.split(chunk.signature, 1)[1]
        if chunk.docstring:
            # drop the docstring literal itself: up to the first line after the closing quotes
            m = re.search(r'("""|\'\'\'|"|\')', rest)
            if m:
                end = rest.find(m.group(1), m.end())
                if end >= 0:
                    rest = rest[end + len(m.group(1)):]
        lines = [ln.strip() for ln in rest.splitlines() if ln.strip() and not ln.strip().startswith("#")]
        return _collapse(" ".join(lines))[:limit]
    if chunk.kind == "doc-section":
        return _collapse(text.split("\n", 1)[1] if "\n" in text else "")[:limit]
    return ""


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0] if text else ""


def embedding_text(chunk: Chunk) -> str:
    """What the embedding model sees: the name in words with what and where it is, the signature, the first
    sentence of the docstring (its prose, Sphinx markup removed) and the head of the body. Short on purpose:
    the model reads 128 word pieces, and on the evaluation set (bench/semantic_eval.py) the first sentence
    beat the whole docstring, the docstring first, and no body."""
    module = module_name(chunk.path)
    mod_words = " ".join(w.lower() for w in split_identifier(module.replace(".", "_"))) if module else ""
    if chunk.kind == "doc-section":
        head = f"{chunk.qualname.replace(' > ', ': ')} ({mod_words} documentation)"
        return f"{head}\n{body_head(chunk, DOC_CHARS)}".strip()
    if chunk.kind == "module":
        return f"module {module} ({mod_words})\n{clean_docstring(chunk.docstring)[:DOC_CHARS]}".strip()
    parts = [f"{qualname_words(chunk.qualname)} ({chunk.kind} in {module})", _collapse(chunk.signature)]
    doc = first_sentence(clean_docstring(chunk.docstring))[:DOC_CHARS]
    if doc:
        parts.append(doc)
    if chunk.kind != "class":
        head = body_head(chunk)
        if head:
            parts.append(head)
    return "\n".join(p for p in parts if p)


def lexical_text(chunk: Chunk) -> str:
    """What the lexical index reads: the name three times (names matter most), the module, the signature and
    the docstring; the code itself only when there is no docstring (on the evaluation set, body identifiers
    drowned the documented words)."""
    name = qualname_words(chunk.qualname)
    module = module_name(chunk.path).replace(".", " ")
    if chunk.kind in ("module", "doc-section"):
        return f"{name} {module} {chunk.text}"
    if chunk.docstring:
        return f"{name} {name} {name} {module} {chunk.signature} {chunk.docstring}"
    return f"{name} {name} {name} {module} {chunk.text}"


def content_hash(*parts: str) -> str:
    h = hashlib.blake2b(digest_size=16, person=EMBED_VERSION.encode())
    for part in parts:
        h.update(part.encode("utf-8", "replace"))
        h.update(b"\x00")
    return h.hexdigest()


def _finish(chunks: Iterable[Chunk]) -> list[Chunk]:
    """Unique keys and hashes."""
    out: list[Chunk] = []
    seen: dict[str, int] = {}
    for c in chunks:
        base = f"{c.path}::{c.qualname}"
        n = seen.get(base, 0) + 1
        seen[base] = n
        key = base if n == 1 else f"{base}#{n}"
        c = replace(c, key=key)
        out.append(replace(c, hash=content_hash(c.kind, c.qualname, embedding_text(c), c.text)))
    return out


def _cap(text: str, keep: int) -> str:
    """At most TEXT_LIMIT characters, but never fewer than `keep` (signature + docstring stay whole)."""
    limit = max(TEXT_LIMIT, keep)
    return text if len(text) <= limit else text[:limit]


# --------------------------------------------------------------------------------------------- python


def _docstring_node(body: Any) -> Any:
    if body is None:
        return None
    for child in body.named_children:
        if child.type == "comment":
            continue
        if child.type == "expression_statement" and child.named_child_count == 1:
            inner = child.named_children[0]
            if inner.type == "string":
                return inner
        return None
    return None


def _string_value(node: Any) -> str:
    raw = node.text.decode("utf-8", "replace")
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        value = raw.strip("\"'rRbBuUfF")
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return inspect.cleandoc(str(value)) if isinstance(value, str) else ""


def _signature(source: bytes, node: Any) -> str:
    body = node.child_by_field_name("body")
    end = body.start_byte if body is not None else node.end_byte
    text = source[node.start_byte:end].decode("utf-8", "replace").rstrip()
    # a trailing comment on the `def` line is not part of the signature
    lines = text.splitlines()
    while lines and lines[-1].strip().startswith("#"):
        lines.pop()
    text = "\n".join(lines).rstrip()
    if "#" in text.rsplit("\n", 1)[-1] and not text.endswith(":"):
        head, _, _ = text.rpartition("#")
        text = head.rstrip()
    return text


def _decorators(source: bytes, node: Any) -> str:
    parent = node.parent
    if parent is None or parent.type != "decorated_definition":
        return ""
    return "\n".join(
        d.text.decode("utf-8", "replace") for d in parent.named_children if d.type == "decorator"
    )


def _qualname(node: Any, name: str) -> str:
    parts = [name]
    cur = node.parent
    while cur is not None:
        if cur.type in ("function_definition", "class_definition"):
            n = cur.child_by_field_name("name")
            owner = n.text.decode("utf-8", "replace") if n is not None else "?"
            parts.append(f"{owner}.<locals>" if cur.type == "function_definition" else owner)
        cur = cur.parent
    return ".".join(reversed(parts))


def _enclosing_kind(node: Any) -> str | None:
    cur = node.parent
    while cur is not None:
        if cur.type in ("function_definition", "class_definition"):
            return cur.type
        cur = cur.parent
    return None


def _walk_defs(root: Any) -> Iterable[Any]:
    """function_definition and class_definition nodes in document order, at any depth."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type in ("function_definition", "class_definition"):
            yield node
        stack.extend(reversed(node.named_children))


def python_chunks(path: str, source: bytes | str, tree: Any = None, *, redact: Redactor | None = None) -> list[Chunk]:
    """Chunks of one Python file. `tree` (a tree-sitter tree of `source`) is parsed when not given."""
    data = source if isinstance(source, bytes) else encode(source)
    if tree is None:
        from .document import _parser

        tree = _parser("python").parse(data)
    index = LineIndex(data)
    red: Redactor = redact or (lambda s: s)
    out: list[Chunk] = []

    mod_doc = _docstring_node(tree.root_node)
    if mod_doc is not None:
        doc = red(_string_value(mod_doc))
        if doc.strip():
            out.append(
                Chunk(path, MODULE_QUALNAME, MODULE_KIND, index.range(mod_doc.start_byte, mod_doc.end_byte),
                      _cap(doc, len(doc)), docstring=doc)
            )

    for node in _walk_defs(tree.root_node):
        name_node = node.child_by_field_name("name")
        if name_node is None:
            continue
        name = name_node.text.decode("utf-8", "replace")
        qn = _qualname(node, name)
        body = node.child_by_field_name("body")
        doc_node = _docstring_node(body)
        doc = red(_string_value(doc_node)) if doc_node is not None else ""
        signature = red(_signature(data, node))
        decorators = red(_decorators(data, node))
        rng = index.range(node.start_byte, node.end_byte)
        if node.type == "class_definition":
            methods = [
                c.child_by_field_name("name").text.decode("utf-8", "replace")
                for c in _class_methods(body)
            ]
            head = "\n".join(x for x in (decorators, signature) if x)
            text = head
            if doc:
                text += '\n    """' + doc + '"""'
            keep = len(text)
            if methods:
                text += "\n# methods: " + ", ".join(methods)
            out.append(Chunk(path, qn, "class", rng, _cap(text, keep), signature=signature, docstring=doc))
        else:
            kind = "method" if _enclosing_kind(node) == "class_definition" else "function"
            full = red(data[node.start_byte:node.end_byte].decode("utf-8", "replace"))
            text = f"{decorators}\n{full}" if decorators else full
            # the signature and the whole docstring always stay; the body fills up to TEXT_LIMIT
            head_end = doc_node.end_byte if doc_node is not None else (body.start_byte if body is not None else node.end_byte)
            keep = len(red(data[node.start_byte:head_end].decode("utf-8", "replace")))
            text = _cap(text, keep + (len(decorators) + 1 if decorators else 0))
            out.append(Chunk(path, qn, kind, rng, text, signature=signature, docstring=doc))
    return _finish(out)


def _class_methods(body: Any) -> list[Any]:
    if body is None:
        return []
    found = []
    for child in body.named_children:
        node = child
        if node.type == "decorated_definition":
            node = node.child_by_field_name("definition") or node.named_children[-1]
        if node.type == "function_definition" and node.child_by_field_name("name") is not None:
            found.append(node)
    return found


# --------------------------------------------------------------------------------------------- markdown

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def markdown_chunks(path: str, text: str, *, redact: Redactor | None = None) -> list[Chunk]:
    """One chunk per section; fenced code blocks never start a section."""
    red: Redactor = redact or (lambda s: s)
    lines = text.splitlines()
    heads: list[tuple[int, int, str]] = []  # (first line of section, level, title)
    fence: str | None = None
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if m:
            mark = m.group(1)
            if fence is None:
                fence = mark[0] * len(mark)
            elif mark.startswith(fence):
                fence = None
            continue
        if fence is not None:
            continue
        m = _ATX.match(line)
        if m:
            heads.append((i, len(m.group(1)), (m.group(2) or "").strip()))
            continue
        if i > 0 and _SETEXT.match(line) and lines[i - 1].strip() and not _ATX.match(lines[i - 1]):
            if not (heads and heads[-1][0] == i - 1):
                level = 1 if line.strip().startswith("=") else 2
                if not line.strip().startswith("-") or not lines[i - 1].lstrip().startswith(("-", "*", "+")):
                    heads.append((i - 1, level, lines[i - 1].strip()))
    out: list[Chunk] = []
    starts = [h[0] for h in heads]
    if not heads or starts[0] > 0:
        end = (starts[0] if heads else len(lines)) - 1
        body = "\n".join(lines[: end + 1]).strip()
        if body:
            out.append(_section(path, PREAMBLE_QUALNAME, lines, 0, end, red))
    stack: list[tuple[int, str]] = []
    for n, (start, level, title) in enumerate(heads):
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title or "(untitled)"))
        end = (heads[n + 1][0] if n + 1 < len(heads) else len(lines)) - 1
        while end > start and not lines[end].strip():
            end -= 1
        qn = " > ".join(t for _, t in stack)
        out.append(_section(path, qn, lines, start, end, red))
    return _finish(out)


def _section(path: str, qualname: str, lines: list[str], start: int, end: int, red: Redactor) -> Chunk:
    end = max(start, min(end, len(lines) - 1)) if lines else start
    body = red("\n".join(lines[start:end + 1]))
    last = lines[end] if lines else ""
    rng = Range(Position(start, 0), Position(end, utf16_len(last)))
    return Chunk(path, red(qualname), "doc-section", rng, _cap(body, 0))


# --------------------------------------------------------------------------------------------- files


def is_chunkable(path: str) -> bool:
    return path.endswith(PYTHON_SUFFIXES) or path.lower().endswith(MARKDOWN_SUFFIXES)


def chunk_file(path: str, source: bytes | str, *, redact: Redactor | None = None) -> list[Chunk]:
    """Chunks of a Python or Markdown file (by suffix); [] for anything else."""
    if path.endswith(PYTHON_SUFFIXES):
        return python_chunks(path, source, redact=redact)
    if path.lower().endswith(MARKDOWN_SUFFIXES):
        text = source.decode("utf-8", "replace") if isinstance(source, bytes) else source
        return markdown_chunks(path, text, redact=redact)
    return []
