"""The analysis engine on strings: findings, thresholds, suppressions, debt markers, syntax errors."""

from __future__ import annotations

import logging
import textwrap

from sophia_artemis.analysis import python_metrics
from sophia_artemis.analysis.config import Settings, build_settings
from sophia_artemis.analysis.document import Document
from sophia_artemis.analysis.engine import analyze
from sophia_artemis.analysis.model import Position

COMPLEX = textwrap.dedent(
    """\
    def tangled(a, b, c, d):
        if a:
            if b:
                if c:
                    if d:
                        if a and b:
                            return 1
        for i in range(a):
            if i % 2 or i % 3:
                continue
            elif i > 10:
                break
        while b:
            b -= 1
        return 0 if c else 2
    """
)


def run(source: str, settings: Settings | None = None, **kwargs):
    return analyze(Document(source), settings or Settings(), **kwargs)


def rules(result) -> list[str]:
    return [f.rule for f in result.findings]


def test_complex_function_reports_on_its_name_with_figures_and_threshold():
    result = run(COMPLEX)
    sa101 = next(f for f in result.findings if f.rule == "SA101")
    assert sa101.range.start == Position(0, 4) and sa101.range.end == Position(0, 11)
    assert sa101.data["cyclomatic"] == result.functions[0].metrics.cyclomatic > 10
    assert sa101.data["threshold"] == 10
    assert sa101.severity == "warning"
    assert "tangled" in sa101.message


def test_nesting_finding_points_at_the_deepest_block():
    result = run(COMPLEX, build_settings([("test", {"thresholds": {"nesting": 4}})])[0])
    sa105 = next(f for f in result.findings if f.rule == "SA105")
    assert sa105.data["depth"] == 5
    (related,) = sa105.related
    assert related.range.start.line == 6  # `return 1` sits inside five nested blocks


def test_thresholds_from_settings():
    settings, problems = build_settings([("test", {"thresholds": {"cyclomatic": 50, "nesting": 9}})])
    assert problems == []
    assert "SA101" not in rules(run(COMPLEX, settings))
    assert "SA105" not in rules(run(COMPLEX, settings))


def test_select_and_ignore_prefixes():
    settings, _ = build_settings([("test", {"select": ["SA1"], "ignore": ["SA105"]})])
    found = set(rules(run(COMPLEX + "# TODO: x\n", settings)))
    assert "SA201" not in found and "SA105" not in found and "SA101" in found


def test_suppression_on_the_line_with_rule_and_reason():
    source = COMPLEX.replace("def tangled(a, b, c, d):", "def tangled(a, b, c, d):  # sophia: ignore[SA101, SA105] -- legacy")
    result = run(source, build_settings([("test", {"thresholds": {"nesting": 4}})])[0])
    assert "SA101" not in rules(result) and "SA105" not in rules(result)
    assert {f.rule for f in result.suppressed} == {"SA101", "SA105"}
    (s,) = result.suppressions
    assert s.reason == "legacy" and s.rules == frozenset({"SA101", "SA105"})


def test_bare_suppression_silences_every_rule_on_the_line_but_not_syntax_errors():
    source = COMPLEX.replace("def tangled(a, b, c, d):", "def tangled(a, b, c, d):  # sophia: ignore")
    assert not {"SA101", "SA102"} & set(rules(run(source)))
    assert {"SA101", "SA102"} <= set(rules(run(COMPLEX)))
    broken = "x = (1,  # sophia: ignore\n"
    assert "SA001" in rules(run(broken))


def test_debt_markers_are_information_with_their_text():
    result = run("x = 1  # TODO: handle the empty case\n# FIXME(bob) broken\n# not a todo: TODOS\ns = '# TODO in a string'\n")
    markers = [f for f in result.findings if f.rule == "SA201"]
    assert [(f.data["marker"], f.data["text"]) for f in markers] == [
        ("TODO", "handle the empty case"),
        ("FIXME", "broken"),
    ]
    assert all(f.severity == "information" for f in markers)
    assert markers[0].range.start == Position(0, 9)
    assert result.file.debt_markers == 2


def test_syntax_error_still_analyses_the_rest():
    source = "def broken(:\n    pass\n\n" + COMPLEX
    result = run(source)
    assert "SA001" in rules(result)
    assert "SA101" in rules(result)
    sa001 = next(f for f in result.findings if f.rule == "SA001")
    assert sa001.severity == "error" and sa001.range.start.line == 0


def test_missing_token_is_named_for_a_mechanical_fix():
    result = run("def f(x)\n    return x\n")
    sa001 = [f for f in result.findings if f.rule == "SA001"]
    assert any(f.data.get("missing") == ":" for f in sa001)


def test_maintainability_only_from_a_supplied_value():
    assert "SA202" not in rules(run("x = 1\n"))
    result = run("x = 1\n", maintainability=3.5)
    (sa202,) = [f for f in result.findings if f.rule == "SA202"]
    assert sa202.data == {"maintainability": 3.5, "threshold": 10}
    assert result.file.maintainability == 3.5


def test_one_failing_function_is_logged_and_the_others_still_report(monkeypatch, caplog):
    real = python_metrics.compute_metrics

    def flaky(node, events=None):
        if node.child_by_field_name("name").text == b"boom":
            raise RuntimeError("analyser bug")
        return real(node, events)

    monkeypatch.setattr(python_metrics, "compute_metrics", flaky)
    with caplog.at_level(logging.ERROR):
        result = run("def boom():\n    pass\n\n" + COMPLEX)
    assert [f.qualname for f in result.failures] == ["boom"]
    assert "SA101" in rules(result)
    assert "boom" in caplog.text and "Traceback" in caplog.text


def test_qualnames_and_def_lines():
    source = textwrap.dedent(
        """\
        class A:
            @property
            def m(self):
                def inner():
                    pass
                return inner

        async def top():
            pass
        """
    )
    result = run(source)
    assert [(f.qualname, f.def_line) for f in result.functions] == [
        ("A.m", 3),
        ("A.m.<locals>.inner", 4),
        ("top", 8),
    ]
