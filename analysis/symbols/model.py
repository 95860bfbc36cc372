"""Plain data for the workspace symbol index. Picklable, so a cache keyed by content hash can store it.

Positions: a `Span` is `(start_line, start_character, end_line, end_character)`, 0-based with the
character in UTF-16 code units exactly as LSP counts (the contract's ranges); `span_range` turns it into
an `analysis.model.Range`. Calls keep spans (tuples are cheap in bulk); definitions carry both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model import Position, Range

Span = tuple[int, int, int, int]

CONFIDENCES = ("exact", "likely", "name-only")
"""How sure a resolved call is, strongest first:

* `exact` - resolved through definitions, imports (re-exports followed), `self`/`cls`/`super()` in a
  class whose bases are known, or a class/module named in the call;
* `likely` - resolved through an inferred type (`x = Session()` then `x.send()`, `self.a = A()` then
  `self.a.run()`), a star import, or dynamic dispatch (`self.m()` in a base class reaching a
  subclass's override of `m`);
* `name-only` - an attribute call on a receiver of unknown type (`obj.m()`) matched to every workspace
  method named `m`.
"""
CONFIDENCE_RANK = {c: i for i, c in enumerate(CONFIDENCES)}


def span_range(span: Span) -> Range:
    return Range(Position(span[0], span[1]), Position(span[2], span[3]))


@dataclass(frozen=True, slots=True)
class Definition:
    """A `def`/`class` of a file, at any depth.

    `kind`: "function", "class" or "method" (a function directly in a class body). `local`: inside a
    function at some depth (`f.<locals>.g`, the methods of a class defined in a function); module-level
    definitions include those inside module-level `if`/`try` blocks. `parent`: index in
    `FileSymbols.definitions` of the enclosing definition, -1 at module level. `decorators`: dotted
    text of each decorator without its call arguments (`app.route`, `pytest.fixture`, `property`),
    outermost first. `bases`: a class's positional base expressions as written (`Base`, `mod.Base`;
    `Generic[T]` as `Generic`). `self_name`: a method's first parameter (`self`, `cls`), None for
    static methods and non-methods. `in_all`: a module-level name listed in the module's `__all__`.
    `returns`: the dotted class a function's return annotation names (`-> Session`, `-> "Session"`,
    `-> Session | None`, `-> t.Optional[Session]`), else None.
    """

    qualname: str
    name: str
    kind: str
    span: Span  # of the name
    line: int  # 1-based line of the `def`/`class` keyword
    parent: int
    decorators: tuple[str, ...] = ()
    bases: tuple[str, ...] = ()
    self_name: str | None = None
    in_all: bool = False
    local: bool = False
    returns: str | None = None  # a function's return annotation when it names one class (`-> Session`)

    @property
    def range(self) -> Range:
        """The LSP range of the name."""
        return span_range(self.span)

    @property
    def dunder(self) -> bool:
        return len(self.name) > 4 and self.name.startswith("__") and self.name.endswith("__")

    def __reduce__(self) -> tuple[Any, ...]:  # positional: smaller and faster to pickle than the slots state
        return (
            Definition,
            (
                self.qualname,
                self.name,
                self.kind,
                self.span,
                self.line,
                self.parent,
                self.decorators,
                self.bases,
                self.self_name,
                self.in_all,
                self.local,
                self.returns,
            ),
        )


@dataclass(frozen=True, slots=True)
class ImportBinding:
    """A name an import statement binds.

    `import a.b.c` binds `local` "a" to `module` "a" (`imported` "a.b.c"); `import a.b as x` binds "x"
    to "a.b"; `from ..m import f as g` binds "g" to (`module` "pkg.m", `name` "f") with the relative
    module made absolute; `from m import *` has `local` "*" and `name` "*". `module` is "" when a
    relative import climbs above the top-level package. `scope`: index of the enclosing definition
    (-1 = module level), so function-local imports resolve only inside their function.
    """

    local: str
    module: str
    name: str | None
    line: int
    scope: int = -1
    imported: str = ""  # the module the statement loads: "a.b.c" for `import a.b.c`, the `from` module

    @property
    def star(self) -> bool:
        return self.name == "*"

    def __reduce__(self) -> tuple[Any, ...]:  # positional: smaller and faster to pickle than the slots state
        return (ImportBinding, (self.local, self.module, self.name, self.line, self.scope, self.imported))


@dataclass(slots=True)
class Call:
    """One call site: `foo(...)`, `x.y.foo(...)`, or a decorator used without arguments (`@foo`).

    `name` is the called name (`foo`); `receiver` the text before the last dot, whitespace removed:
    a dotted name (`x.y`, `self`), `super()`, a constructor call (`Session()`), or `<expr>` for any
    other expression (`<literal>` for a literal); None for a bare name. `span` covers the called name.
    `scope`: index in `FileSymbols.definitions` of the innermost enclosing `def`/`class`, -1 = module.
    """

    name: str
    receiver: str | None
    span: Span
    scope: int
    decorator: bool = False

    @property
    def callee(self) -> str:
        return self.name if self.receiver is None else f"{self.receiver}.{self.name}"

    @property
    def range(self) -> Range:
        return span_range(self.span)

    def __reduce__(self) -> tuple[Any, ...]:  # positional: smaller and faster to pickle than the slots state
        return (Call, (self.name, self.receiver, self.span, self.scope, self.decorator))


@dataclass(slots=True)
class Assignment:
    """`target = dotted(...)` or `with dotted(...) as target`: a hint at `target`'s type."""

    target: str  # "s", "self.session"
    value: str  # the called dotted name: "Session", "requests.Session"
    scope: int
    line: int = 0  # 0-based line of the statement, so a use takes the assignment before it

    def __reduce__(self) -> tuple[Any, ...]:  # positional: smaller and faster to pickle than the slots state
        return (Assignment, (self.target, self.value, self.scope, self.line))


@dataclass(frozen=True, slots=True)
class FileSymbols:
    """Everything the index needs from one file. Depends only on `file_symbols`' inputs.

    References are kept as name sets (what dead-code analysis needs) plus the resolved-on-demand
    `calls`: `name_refs` are bare identifiers used anywhere in the file (the names of its own
    definitions, attribute names and keyword-argument names excluded; imported names included),
    `attr_refs` every `x.name` attribute name, `string_refs` the string literals that are an
    identifier, a dotted path (`app.models.Model`, kept whole and as its last part) or an entry-point
    style `mod:attr` (kept as `attr`): weak references. `dynamic` says why names in this module may be
    looked up in ways the index cannot see (a module `__getattr__`, `globals()`, `getattr` with a
    computed name).
    """

    module: str
    path: str
    is_package: bool
    is_test: bool
    definitions: tuple[Definition, ...]
    imports: tuple[ImportBinding, ...]
    calls: tuple[Call, ...]
    assignments: tuple[Assignment, ...]
    name_refs: frozenset[str]
    attr_refs: frozenset[str]
    string_refs: frozenset[str]
    all_names: tuple[str, ...] | None = None
    dynamic: tuple[str, ...] = ()

    def scope_qualname(self, scope: int) -> str:
        return self.definitions[scope].qualname if scope >= 0 else "<module>"


@dataclass(frozen=True, slots=True)
class Caller:
    """A call site of a target. `qualname` is the enclosing function's (or class body's) qualname,
    `<module>` at module level; `path` is relative to the index root, with "/"."""

    path: str
    range: Range
    qualname: str
    confidence: str
    module: str = ""
    callee: str = ""

    def to_json(self) -> dict[str, Any]:
        """The contract's `impact.callers` item."""
        return {"path": self.path, "range": self.range.to_json(), "qualname": self.qualname}
