"""JavaScript / TypeScript metrics: ESLint 9 `complexity`, SonarJS cognitive complexity, qualnames, length,
parameters, depth; suppressions, discovery of JS/TS files, incremental re-parsing, and `check` end to end.

Expected figures are worked out by hand in the comments, construct by construct, from ESLint's
lib/rules/complexity.js (v9) and eslint-plugin-sonarjs' cognitive-complexity.ts.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sophia_artemis.analysis.config import Settings
from sophia_artemis.analysis.document import Document, dialect_for
from sophia_artemis.analysis.engine import analyze
from sophia_artemis.analysis.files import analyze_path, discover
from sophia_artemis.analysis.functions import FunctionCache
from sophia_artemis.analysis.model import Range


def measure(source: str, dialect: str = "typescript") -> dict:
    doc = Document(textwrap.dedent(source), dialect)
    return {f.qualname: f for f in analyze(doc, Settings()).functions}


def metric(source: str, attr: str, dialect: str = "typescript") -> dict[str, int]:
    return {q: getattr(f.metrics, attr) for q, f in measure(source, dialect).items()}


# ------------------------------------------------------------------------------------------- cyclomatic


@pytest.mark.parametrize("dialect", ["javascript", "typescript", "tsx"])
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # 1 + if + (else) if
        ("function a(x) { if (x) { return 1; } else if (x > 2) { return 2; } return 3; }", 3),
        # 1 + defaults: b = 1, {c = 2} = {} (the parameter and c inside it) + ?. ?. ?.[ + ?? ??
        ("function b(a, b = 1, {c = 2} = {}) { return a?.b?.c ?? a?.[0] ?? b; }", 9),
        # optional call: 1 + f?.()
        ("function oc(f) { return f?.(); }", 2),
        # 1 + two `case x:` (default adds nothing)
        ("function c(x) { switch (x) { case 1: case 2: return 1; default: return 0; } }", 3),
        # 1 + for-of, for, while, do-while, for-in + catch (try and finally add nothing)
        (
            (
                "function d(xs, o) { for (const x of xs) {} for (let i = 0; i < 1; i++) {} while (xs) {}"
                " do {} while (o); for (const k in o) {} try {} catch (e) {} finally {} }"
            ),
            7,
        ),
        # 1 + ||= &&= ??= (+= adds nothing)
        ("function e(o) { o.a ||= 1; o.b &&= 2; o.c ??= 3; o.d += 1; }", 4),
        # 1 + && + ternary
        ("const t = (a, b) => (a && b ? 1 : 2);", 3),
        # a destructuring default in the body counts too: 1 + `y = 0` + `z = 1`
        ("function g(o) { const { y = 0 } = o; const [z = 1] = o; return y + z; }", 3),
    ],
)
def test_cyclomatic_counts_what_eslint_9_counts(source, expected, dialect):
    found = metric(source, "cyclomatic", dialect)
    assert next(iter(found.values())) == expected, found


def test_nested_functions_and_class_code_paths_are_their_own():
    found = metric(
        """
        function f(x) {
          const g = () => (x ? 1 : 2);
          class K {
            y = x || 1;
            static { if (x) {} }
            m() { return x && 1; }
          }
          return g;
        }
        """,
        "cyclomatic",
    )
    # ESLint: functions, class field initializers and static blocks are separate code paths
    assert found == {"f": 1, "f.<locals>.g": 2, "f.<locals>.K.m": 2}


# ------------------------------------------------------------------------------------------- cognitive


def test_cognitive_white_paper_examples():
    found = metric(
        """
        function sumOfPrimes(max) {
          let total = 0;
          OUT: for (let i = 1; i <= max; ++i) {  // +1
            for (let j = 2; j < i; ++j) {        // +2 (nesting 1)
              if (i % j === 0) {                 // +3 (nesting 2)
                continue OUT;                    // +1 (labelled jump)
              }
            }
            total += i;
          }
          return total;
        }

        function getWords(number) {
          switch (number) {                      // +1
            case 1: return "one";
            case 2: return "a couple";
            case 3: return "a few";
            default: return "lots";
          }
        }
        """,
        "cognitive",
        "javascript",
    )
    assert found == {"sumOfPrimes": 7, "getWords": 1}
    cyclomatic = metric("function getWords(n) { switch (n) { case 1: case 2: case 3: return 1; default: return 0; } }", "cyclomatic")
    assert cyclomatic == {"getWords": 4}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # if +1; runs of like operators: && && | || || | && -> +3
        ("function m(a, b, c, d, e, f) { if (a && b && c || d || e && f) {} }", 4),
        # parentheses are transparent (ESTree has none): one run
        ("function p(a, b, c) { return a && (b && c); }", 1),
        # `!` starts a new chain: +1 (a && ...) +1 (b && c)
        ("function u(a, b, c) { return a && !(b && c); }", 2),
        # if +1, else if +1, else +1, while in the else +2
        ("function g(a) { if (a > 1) {} else if (a > 0) {} else { while (a) {} } }", 5),
        # ternary +1, the nested one +2
        ("function n(a, b) { return a ? (b ? 1 : 2) : 3; }", 3),
        # if in try +1 (try does not nest), catch +1, if in catch +2
        ("function t(a, b) { try { if (a) {} } catch (e) { if (b) {} } finally {} }", 4),
        # logical assignment and optional chaining are not cognitive increments; `??` is a logical run
        ("function q(o) { o.a ??= 1; return o?.b ?? 2; }", 1),
    ],
)
def test_cognitive_increments(source, expected):
    assert next(iter(metric(source, "cognitive").values())) == expected


def test_nested_functions_fold_only_into_functions_with_structural_complexity():
    found = metric(
        """
        function outer(xs) {
          if (xs) {                                     // +1
            return xs.map((y) => (y ? 1 : 2));          // ternary inside if + arrow: +3
          }
        }
        function wrap(a) {
          return () => { if (a) { return 1; } };        // wrap has no structural complexity of its own
        }
        """,
        "cognitive",
    )
    assert found == {"outer": 4, "outer.<locals>.<anonymous:4>": 1, "wrap": 0, "wrap.<locals>.<anonymous:8>": 1}


def test_react_components_do_not_fold_their_handlers():
    source = """
        function Button(props) {
          if (props.hidden) { return null; }           // +1
          const onClick = () => { if (props.a) {} };   // +2 if folded
          return (<button onClick={onClick}>{props.label}</button>);
        }
        """
    assert metric(source, "cognitive", "javascript")["Button"] == 1
    assert metric(source.replace("Button", "button"), "cognitive", "javascript")["button"] == 3
    assert metric(source, "cognitive", "tsx")["Button"] == 1


# ------------------------------------------------------------------------------------------- names


def test_qualnames_follow_python():
    source = textwrap.dedent(
        """
        class Shop {
          @log
          static async price(item, qty = 1) { return qty; }
          get total() { return 1; }
          set total(v) {}
          #secret() {}
          *items() {}
          handle = () => 1;
        }
        export default function () {}
        const api = { get(a) { return a; }, put: function (b) {}, nested: { deep() {} } };
        function outer() {
          function inner() {}
          [1].map((x) => x * 2);
          const K = class { m() {} };
        }
        module.exports.foo = (a, b) => a && b;
        async function* gen() {}
        const named = function realName() {};
        """
    )
    functions = analyze(Document(source, "javascript"), Settings()).functions
    assert [f.qualname for f in functions] == [
        "Shop.price",
        "Shop.total",
        "Shop.total",
        "Shop.#secret",
        "Shop.items",
        "Shop.handle",
        "default",
        "api.get",
        "api.put",
        "api.nested.deep",
        "outer",
        "outer.<locals>.inner",
        "outer.<locals>.<anonymous:15>",
        "outer.<locals>.K.m",
        "foo",
        "gen",
        "realName",
    ]
    price = functions[0]
    assert price.def_line == 4  # the decorator's line is not the definition's
    assert price.name == "price"
    assert (price.name_range.start.line, price.name_range.start.character) == (3, 15)


def test_anonymous_function_findings_sit_on_the_arrow():
    doc = Document("run(() => { if (a) {} });\n", "typescript")
    (info,) = analyze(doc, Settings()).functions
    assert info.qualname == "<anonymous:1>"
    assert (info.name_range.start.character, info.name_range.end.character) == (7, 9)


# ------------------------------------------------------------------------------------------- loc, params, depth


def test_loc_params_depth():
    found = measure(
        """
        function dd(this: Window, a: number, b?: string, ...rest: number[]) {
          if (a) {
            for (;;) {
              try {
                x();
              } catch (e) {
                y();
              }
            }
          } else if (b) {
            z();
          } else {
            switch (a) { case 1: w(); }
          }
        }
        const one = x => x;
        const destructured = ({ a, b }) => a;
        """
    )
    dd = found["dd"]
    assert dd.metrics.loc == 15
    assert dd.metrics.params == 3  # `this` is not a parameter
    assert dd.metrics.depth == 3  # if > for > try (catch on the same level)
    assert dd.metrics.deepest == (4, 8)  # `x();`
    assert found["one"].metrics.params == 1
    assert found["destructured"].metrics.params == 1
    assert found["one"].metrics.loc == 1


def test_sa105_points_at_the_deepest_statement_and_sa101_at_the_name():
    body = "if (a) { " * 7 + "x();" + " }" * 7
    source = f"export function deep(a) {{\n  {body}\n}}\n"
    result = analyze(Document(source, "typescript"), Settings())
    rules = {f.rule: f for f in result.findings}
    assert rules["SA105"].data["depth"] == 7
    assert rules["SA105"].related[0].range.start.line == 1
    assert rules["SA105"].range == Range.of(0, 16, 0, 20)
    assert "SA101" not in rules  # 1 + 7 ifs = 8


# ------------------------------------------------------------------------------------------- parsing, comments


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("a.jsx", "export const A = ({ items }) => <ul>{items.map((i) => <li key={i}>{i}</li>)}</ul>;\n"),
        ("a.tsx", "export function L<T,>({ xs }: { xs: T[] }): JSX.Element { return <>{xs.length}</>; }\n"),
        ("a.ts", "const h = (v: unknown) => <number>v; enum E { A } type F<T> = T extends string ? 1 : 2;\n"),
        ("a.mjs", "export default async function* g() { for await (const x of y) yield x ?? 1; }\n"),
        ("a.ts", "class C { constructor(private readonly a: number, public b?: string) {} declare x: number; }\n"),
    ],
)
def test_modern_syntax_parses_without_errors(name, source):
    doc = Document(source, dialect_for(name))
    assert not doc.tree.root_node.has_error
    assert analyze(doc, Settings()).functions


def test_no_sa001_for_javascript():
    result = analyze(Document("function f( {\n", "javascript"), Settings())
    assert [f.rule for f in result.findings if f.rule == "SA001"] == []


def test_js_comments_suppress_and_carry_debt_markers():
    source = textwrap.dedent(
        """
        function tooComplex(a, b, c) { // sophia: ignore[SA101] -- generated table
          return a && b && c && a || b || c && a ? (a ? b ? c : a : b) : c || a && b;
        }
        function alsoComplex(a, b, c) { /* sophia: ignore */
          return a && b && c && a || b || c && a ? (a ? b ? c : a : b) : c || a && b;
        }
        function stillReported(a, b, c) {
          return a && b && c && a || b || c && a ? (a ? b ? c : a : b) : c || a && b;
        }
        // TODO: split these
        """
    )
    settings = Settings()
    result = analyze(Document(source, "javascript"), settings)
    assert [(f.rule, f.data.get("qualname")) for f in result.findings] == [
        ("SA101", "stillReported"),
        ("SA201", None),
    ]
    assert {(f.rule, f.data["qualname"]) for f in result.suppressed} >= {("SA101", "tooComplex"), ("SA101", "alsoComplex")}
    assert result.suppressions[0].reason == "generated table"
    assert result.file.language == "javascript"
    assert result.file.maintainability is None


def test_dialects_from_names_and_language_ids():
    assert dialect_for("x.js") == dialect_for("x.cjs") == dialect_for("x.jsx") == "javascript"
    assert dialect_for("x.ts") == dialect_for("x.mts") == "typescript"
    assert dialect_for("x.tsx") == "tsx"
    assert dialect_for("/p/x", "typescriptreact") == "tsx"
    assert dialect_for("/p/x", "javascriptreact") == "javascript"
    assert dialect_for("/p/x.tsx", "typescript") == "tsx"
    assert dialect_for("x.md") is None
    assert Document("x", "tsx").language == "typescript"


# ------------------------------------------------------------------------------------------- incremental


TS_TEXT = textwrap.dedent(
    """
    import { a } from "./a";

    export class Store<T> {
      private items: T[] = [];
      add(item: T, force = false): void {
        if (force || !this.items.includes(item)) {
          this.items.push(item);
        }
      }
      find(pred: (t: T) => boolean): T | undefined {
        for (const it of this.items) {
          if (pred(it)) return it; // TODO: index
        }
        return undefined;
      }
    }

    export const total = (xs: number[]) => xs.reduce((s, x) => s + (x > 0 ? x : 0), 0);
    """
)
TS_SNIPPETS = ["x", " ", "\n", "{", "}", "(", ")", "if (a && b) {\n", "=> ", "é", "/* c */", "// sophia: ignore\n", "?."]


def _fingerprint(result):
    return (
        [(f.rule, f.range, f.message, tuple(sorted(f.data.items()))) for f in result.findings],
        [(f.qualname, f.def_line, f.range, f.name_range, f.metrics) for f in result.functions],
        result.file,
    )


def _offset_to_position(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    line = before.count("\n")
    col = len(before) - (before.rfind("\n") + 1)
    return line, len(before[len(before) - col:].encode("utf-16-le")) // 2


def test_typescript_incremental_equals_fresh():
    rng = random.Random(4)
    for _ in range(15):
        text = TS_TEXT
        doc = Document(text, "typescript", version=1)
        cache = FunctionCache()
        analyze(doc, Settings(), cache)
        for version in range(2, 10):
            start = rng.randrange(len(text) + 1)
            end = min(len(text), start + rng.choice([0, 0, 1, 3, 12]))
            insert = rng.choice(TS_SNIPPETS)
            sl, sc = _offset_to_position(text, start)
            el, ec = _offset_to_position(text, end)
            text = text[:start] + insert + text[end:]
            doc.apply_change(Range.of(sl, sc, el, ec), insert, version)
            assert doc.source == text.encode("utf-8")
            assert _fingerprint(analyze(doc, Settings(), cache)) == _fingerprint(
                analyze(Document(text, "typescript"), Settings(), None)
            )


# ------------------------------------------------------------------------------------------- files and CLI


COMPLEX_TS = """\
export function route(req: Req, res: Res): void {
  if (req.a) { res.x(); }
  if (req.b) { res.x(); }
  if (req.c && req.d) { res.x(); }
  for (const h of req.hs ?? []) {
    if (h.ok || h.retry) { res.y(h); }
  }
  switch (req.kind) { case "a": break; case "b": break; case "c": break; }
  return req?.done ? res.end() : undefined;
}
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


def test_discover_takes_js_and_ts_and_skips_built_files(tmp_path):
    _write(
        tmp_path,
        {
            "src/app.ts": "export const a = 1;\n",
            "src/view.tsx": "export const V = () => <div/>;\n",
            "src/old.cjs": "module.exports = {};\n",
            "src/vendor.min.js": "var a=1;\n",
            "node_modules/dep/index.js": "x\n",
            "bower_components/dep/index.js": "x\n",
            "src/huge.js": "var a = [" + "1," * 4000 + "];\n",
            "src/gen.js": "// @generated by protoc\nexport const x = 1;\n",
            "src/mapped.js": "export const y = 1;\n//# sourceMappingURL=mapped.js.map\n",
            "tool.py": "x = 1\n",
        },
    )
    skipped: list[tuple[str, str]] = []
    found = [
        p.relative_to(tmp_path).as_posix()
        for p in discover([tmp_path], Settings(), tmp_path, on_skip=lambda p, r: skipped.append((p.name, r)))
    ]
    assert found == ["src/app.ts", "src/gen.js", "src/huge.js", "src/mapped.js", "src/old.cjs", "src/view.tsx", "tool.py"]
    assert [name for name, _ in skipped] == ["vendor.min.js"]
    reasons = {p: analyze_path(tmp_path / p, Settings()).skip_reason for p in found}
    assert reasons["src/app.ts"] is None and reasons["src/view.tsx"] is None and reasons["tool.py"] is None
    assert reasons["src/huge.js"].startswith("minified")
    assert "@generated" in reasons["src/gen.js"]
    assert "sourceMappingURL" in reasons["src/mapped.js"]


def _cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "HOME": str(cwd)}
    env.pop("SOPHIA_ARTEMIS_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "sophia_artemis", *argv], cwd=cwd, capture_output=True, text=True, timeout=120, env=env, check=False
    )


def test_check_and_metrics_on_a_typescript_project(tmp_path):
    _write(tmp_path, {"web/route.ts": COMPLEX_TS, "web/vendor.min.js": "var a=1;\n", "web/ok.jsx": "export const A = () => <a/>;\n"})
    proc = _cli("check", "--format", "json", ".", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    sa101 = [f for f in doc["findings"] if f["rule"] == "SA101"]
    # 1 + if + if + if + && + for + ?? + if + || + 3 cases + ?. + ternary = 14
    assert sa101 == [
        {
            "path": "web/route.ts",
            "rule": "SA101",
            "severity": "warning",
            "message": "Cyclomatic complexity of 'route' is 14 (threshold 10)",
            "range": {"start": {"line": 0, "character": 16}, "end": {"line": 0, "character": 21}},
            "data": {"cyclomatic": 14, "threshold": 10, "qualname": "route"},
        }
    ]
    assert {"path": "web/vendor.min.js", "reason": "minified JavaScript (by its name); analyse the sources it was built from"} in doc["stats"]["skipped"]

    proc = _cli("metrics", "--format", "json", "web", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(proc.stdout)
    languages = {f["path"]: f["language"] for f in metrics["files"]}
    assert languages == {"web/ok.jsx": "javascript", "web/route.ts": "typescript"}
    route = next(f for f in metrics["functions"] if f["qualname"] == "route")
    assert set(route) == {"path", "qualname", "name", "def_line", "range", "cyclomatic", "cognitive", "loc", "params"}
    assert (route["def_line"], route["cyclomatic"], route["loc"], route["params"]) == (1, 14, 10, 2)


def test_a_bare_return_does_not_lose_the_function():
    # tree-sitter 0.26 raises IndexError for named_child(0) of a node without named children
    source = "function f(a) {\n  if (a) { return; }\n  return (a && <b/>);\n}\n"
    doc = Document(source, "javascript")
    result = analyze(doc, Settings())
    assert not result.failures
    assert [f.qualname for f in result.functions] == ["f"]
