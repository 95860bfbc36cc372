"""What one file imports, as written: the unit a per-file cache stores."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("import", "function_local", "type_checking")
"""Edge kinds from strongest to weakest. An edge made of several imports gets the strongest kind:

* `import` - runs when the importing module is loaded;
* `function_local` - runs at run time too, but only when the function (or method) holding it is called;
* `type_checking` - never runs (inside `if TYPE_CHECKING:`, or a TypeScript `import type`).
"""

KIND_RANK = {kind: rank for rank, kind in enumerate(KINDS)}


def strongest(a: str, b: str) -> str:
    return a if KIND_RANK[a] <= KIND_RANK[b] else b


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """One imported module, as the source writes it.

    Python
        `import a.b, c` gives two records (`module` "a.b" then "c", `names` ()); `from ..x import a, b`
        gives one (`module` "x", `level` 2, `names` ("a", "b")); `from . import a` has `module` "";
        `from x import *` has `names` ("*",). `names` is empty exactly for plain `import` statements.
    JavaScript / TypeScript
        `module` is the specifier string ("./util", "@scope/pkg/sub", "node:fs"); `level` is 0 and
        `names` is empty.

    `line` is the 1-based line the statement (or the `require(...)` / `import(...)` call) starts on.
    `kind` is one of `KINDS`. `form` says which syntax it came from: "import", "from" (Python
    from-import), "export" (re-export `export ... from`), "require", "dynamic" (`import("x")`).
    """

    module: str
    line: int
    kind: str = "import"
    names: tuple[str, ...] = ()
    level: int = 0
    form: str = "import"
