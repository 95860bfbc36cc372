"""SA401-SA404, SA406 on strings: each pattern found, and the healthy look-alikes left alone."""

from __future__ import annotations

import json
import textwrap

import pytest
from sophia_artemis.analysis.config import Settings
from sophia_artemis.analysis.document import Document
from sophia_artemis.analysis.engine import analyze
from sophia_artemis.analysis.functions import FunctionCache
from sophia_artemis.analysis.performance_fixes import set_literal_fix
from sophia_artemis.server import cli

SA4 = Settings().with_rules(select=["SA4"])


def found(source: str, rule: str | None = None, cache: FunctionCache | None = None):
    result = analyze(Document(textwrap.dedent(source)), SA4, cache)
    return [f for f in result.findings if rule is None or f.rule == rule]


# ----------------------------------------------------------------------------------------------- SA401


def test_sa401_string_built_in_a_loop():
    (f,) = found(
        """
        def render(rows):
            out = ""
            for row in rows:
                out += f"<td>{row}</td>"
            return out
        """,
        "SA401",
    )
    assert f.range.start.line == 4 and f.data == {"loop_line": 4, "pattern": "out += ...", "target": "out"}
    assert "join" in f.message


def test_sa401_evidence_from_the_right_side_and_attributes():
    assert found("def f(self, xs):\n    for x in xs:\n        self.log += 'x'\n", "SA401")
    assert found("def f(s, xs):\n    for x in xs:\n        s += 'x'\n", "SA401")


@pytest.mark.parametrize(
    "body",
    [
        "total = 0\n    for x in xs:\n        total += x\n",  # numbers
        "acc = []\n    for x in xs:\n        acc += [x]\n",  # lists
        "n = 0\n    for x in xs:\n        n += len(x)\n",
        "for x in xs:\n        s = ''\n        s += 'a'\n        s += 'b'\n",  # rebuilt each iteration
        "for x in xs:\n        a, b = x\n        a += ' '\n",  # bound afresh each iteration
        "s = ''\n    for x in xs:\n        if x:\n            s += 'found'\n            break\n",  # once, then leaves
        "s = ''\n    for x in ('a', 'b', 'c'):\n        s += x\n",  # a literal: three iterations
        "s = ''\n    for i in range(3):\n        s += 'x'\n",
        "s = ''\n    s += 'once'\n",  # no loop
    ],
)
def test_sa401_quiet(body):
    assert not found(f"def f(xs):\n    {body}", "SA401")


# ----------------------------------------------------------------------------------------------- SA402


def test_sa402_literal_list_in_a_loop_and_its_fix():
    src = "def f(xs):\n    for x in xs:\n        if x in ['a', 'b', 'c', 'd', 'e']:\n            pass\n"
    (f,) = found(src, "SA402")
    assert f.data["collection"] == "literal" and f.data["elements"] == 5 and f.data["fixable"] is True
    rng, text = set_literal_fix(Document(src), f)
    assert text == "{'a', 'b', 'c', 'd', 'e'}" and rng == f.range


def test_sa402_list_variable_built_before_the_loop():
    src = """
    def f(xs, ys):
        wanted = [y.id for y in ys]
        return [x for x in xs if x.id in wanted]
    """
    (f,) = found(src, "SA402")
    assert f.data["collection"] == "wanted" and f.data["fixable"] is False
    assert "set" in f.message


def test_sa402_variable_only_tested_gets_the_set_fix():
    src = "def f(xs):\n    names = ['a', 'b', 'c', 'd', 'e']\n    for x in xs:\n        if x not in names:\n            pass\n"
    (f,) = found(src, "SA402")
    rng, text = set_literal_fix(Document(src), f)
    assert rng.start.line == 1 and text == "{'a', 'b', 'c', 'd', 'e'}"


@pytest.mark.parametrize(
    "body",
    [
        "for x in xs:\n        if x in {'a', 'b', 'c', 'd', 'e'}:\n            pass\n",  # a set already
        "for x in xs:\n        if x in ('a', 'b', 'c', 'd', 'e'):\n            pass\n",  # a tuple: not our business
        "for x in xs:\n        if x in ['a', 'b']:\n            pass\n",  # short: scanning is as fast
        "seen = []\n    for x in xs:\n        if x not in seen:\n            seen.append(x)\n",  # built in the loop
        "pat = list(xs)\n    pat.sort()\n    for x in xs:\n        if x in pat:\n            pass\n",  # mutated
        "for x in xs:\n        ys = list(x)\n        if 1 in ys:\n            pass\n",  # made in the loop
        "if 'a' in ['a', 'b', 'c', 'd', 'e']:\n        pass\n",  # no loop
        "for x in xs:\n        if x in [a, b, c, d, e]:\n            pass\n",  # not constants
    ],
)
def test_sa402_quiet(body):
    assert not found(f"def f(xs, a=1, b=2, c=3, d=4, e=5):\n    {body}", "SA402")


# ----------------------------------------------------------------------------------------------- SA403


def test_sa403_queue_on_a_list():
    src = "def bfs(start):\n    queue = [start]\n    while queue:\n        node = queue.pop(0)\n        queue.insert(0, node)\n"
    fs = found(src, "SA403")
    assert [f.data["pattern"] for f in fs] == ["queue.pop(0)", "queue.insert(0, ...)"]
    assert all(f.data["loop_line"] == 3 and "deque" in f.message for f in fs)


@pytest.mark.parametrize(
    "body",
    [
        "stack = [1]\n    while stack:\n        stack.pop()\n",  # a stack
        "stack = [1]\n    while stack:\n        stack.pop(-1)\n",
        "q = deque([1])\n    while q:\n        q.popleft()\n",
        "while items:\n        items.pop(0)\n",  # a parameter: not known to be a list
        "for x in items:\n        parts = [x]\n        parts.insert(0, 'a')\n",  # a fresh list each time
        "d = {}\n    for x in items:\n        d.pop(0)\n",
    ],
)
def test_sa403_quiet(body):
    assert not found(f"def f(items):\n    {body}", "SA403")


# ----------------------------------------------------------------------------------------------- SA404

RE_LOOP = """
import re

def scan(lines):
    for line in lines:
        word = re.compile(r"\\w+")
        for part in line:
            if re.match(r"\\d+", part):
                pass
            if re.match(pattern, part):
                pass
        re.search(r"x", line)
"""


def test_sa404_compile_in_a_loop_and_lookups_in_nested_loops():
    fs = found(RE_LOOP, "SA404")
    assert [(f.data["function"], f.range.start.line) for f in fs] == [("compile", 5), ("match", 7)]
    assert fs[0].data["pattern"] == 'r"\\w+"' and "512" in fs[0].message


def test_sa404_needs_the_re_module():
    assert not found(RE_LOOP.replace("import re\n", "import regex as re\n"), "SA404")


# ----------------------------------------------------------------------------------------------- SA406

DJANGO = """
from django.db import models
from .models import Author, Book

def report(authors):
    for author in authors:
        books = Book.objects.filter(author=author)          # lazy: built, not run
        n = Book.objects.filter(author=author).count()      # runs
        for book in author.book_set.all():                  # runs
            pass
        Book.objects.create(title="x")                      # a write per row
    return [b for b in Book.objects.all()]                  # once
"""


def test_sa406_django_queries_in_a_loop():
    fs = found(DJANGO, "SA406")
    assert [f.data["pattern"] for f in fs] == [
        "Book.objects.filter(...)",
        "author.book_set.all()",
        "Book.objects.create(...)",
    ]
    assert fs[0].data["framework"] == "django" and fs[0].data["loop_line"] == 6
    assert "bulk_create" in fs[2].message


def test_sa406_quiet_without_an_orm_or_with_prefetching():
    assert not found(DJANGO.replace("from django.db import models\nfrom .models import", "from shop import"), "SA406")
    prefetched = """
    from django.db import models

    def titles(qs):
        out = []
        for author in qs.prefetch_related("books"):
            out.append(list(author.books.all()))
        return out
    """
    assert not found(prefetched, "SA406")


def test_sa406_sqlalchemy():
    src = """
    from sqlalchemy import select

    def load(session, ids):
        for i in ids:
            session.execute(select(User).where(User.id == i))
            q = session.query(User)              # lazy
            session.query(User).filter_by(id=i).first()
    """
    fs = found(src, "SA406")
    assert [f.data["pattern"] for f in fs] == ["session.execute(...)", "session.query(...)"]
    assert all(f.data["framework"] == "sqlalchemy" for f in fs)


# ----------------------------------------------------------------------------------------------- engine


def test_nested_functions_and_lambdas_report_once():
    src = """
    def outer(xs):
        def inner(ys):
            s = ""
            for y in ys:
                s += "y"
            return s
        for x in xs:
            key = lambda v: v in ["a", "b", "c", "d", "e"]
        return inner
    """
    assert [f.rule for f in found(src)] == ["SA401"]


def test_cached_hits_equal_fresh_and_follow_moved_functions():
    src = "def f(xs):\n    s = ''\n    for x in xs:\n        s += 'x'\n"
    cache = FunctionCache()
    first = found(src, cache=cache)
    moved = found("\n\n" + src, cache=cache)
    assert [f.range.start.line + 2 for f in first] == [f.range.start.line for f in moved]
    assert moved[0].data["loop_line"] == first[0].data["loop_line"] + 2
    assert cache.misses == 1  # the hits have their own cache: the metrics count is unchanged


def test_suppression_and_selection():
    src = "def f(xs):\n    s = ''\n    for x in xs:\n        s += 'x'  # sophia: ignore[SA401] -- tiny\n"
    assert not found(src)
    result = analyze(Document(src.replace("  # sophia: ignore[SA401] -- tiny", "")), Settings().with_rules(ignore=["SA4"]))
    assert not [f for f in result.findings if f.rule.startswith("SA4")]


def test_check_cli_reports_sa4(tmp_path, monkeypatch, capsys):
    (tmp_path / "slow.py").write_text("def f(xs):\n    s = ''\n    for x in xs:\n        s += 'x'\n    return s\n")
    (tmp_path / "fine.py").write_text("def g(xs):\n    return ''.join(str(x) for x in xs)\n")
    monkeypatch.chdir(tmp_path)
    code = cli.main(["check", ".", "--select", "SA4", "--format", "json", "--no-cache"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [(f["path"], f["rule"], f["severity"], f["data"]["loop_line"]) for f in out["findings"]] == [
        ("slow.py", "SA401", "information", 3)
    ]


def test_sa401_quiet_on_a_search_for_a_free_name():
    src = "def f(taken):\n    name = 'x'\n    while name in taken:\n        name += '_'\n    return name\n"
    assert not found(src, "SA401")
    src = "def f(taken):\n    name = 'x'\n    while True:\n        if name not in taken:\n            break\n        name += '_'\n"
    assert not found(src, "SA401")
