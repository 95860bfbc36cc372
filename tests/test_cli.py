"""The command line: `check` (text, JSON, SARIF), `metrics`, exit codes, skipped files, parallel runs, `serve` wiring.

Most tests call `main([...])` in-process; a few run `python -m sophia_artemis` as a real subprocess to prove
the entry point, the exit codes and a clean stderr.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sophia_artemis.server import cli

PROJECT_FINDINGS = {
    ("pkg/broken.py", "SA001"),
    ("pkg/complex.py", "SA101"),
    ("pkg/complex.py", "SA102"),
    ("pkg/moderate.py", "SA101"),  # cyclomatic 9 > the project's threshold 8
    ("pkg/todo.py", "SA201"),
}


@pytest.fixture
def project(fixture_copy, monkeypatch):
    """fixtures/cli_project in a temp dir, with its git-ignored generated/ folder, as the current directory."""
    root = fixture_copy("cli_project")
    (root / "generated").mkdir()
    shutil.copy(root / "pkg" / "complex.py", root / "generated" / "complex.py")
    (root / "pkg" / "scratch.tmp.py").write_text(
        "def f(a, b, c, d, e, f, g, h, i):\n    pass\n"
    )  # ignored: *.tmp.py
    monkeypatch.chdir(root)
    return root


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str) -> tuple[int, dict, str]:
    code, out, err = run(capsys, *argv, "--format", "json")
    return code, json.loads(out), err


def subprocess_cli(*argv: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("SOPHIA_ARTEMIS_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "sophia_artemis", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def pairs(doc: dict) -> set[tuple[str, str]]:
    return {(f["path"], f["rule"]) for f in doc["findings"]}


# --------------------------------------------------------------------------------------------- check: formats


def test_text_format_lists_findings_like_ruff_with_a_summary_on_stderr(project, capsys):
    code, out, err = run(capsys, "check", ".")
    assert code == 1
    lines = out.splitlines()
    assert "pkg/complex.py:4:5: SA101 Cyclomatic complexity of 'tangled' is 13 (threshold 8)" in lines
    assert "pkg/moderate.py:4:5: SA101 Cyclomatic complexity of 'pick' is 9 (threshold 8)" in lines
    # the TODO follows an emoji: one character but two UTF-16 units, so the text column is the character's
    assert "pkg/todo.py:3:15: SA201 TODO: pick a better face" in lines
    assert {(line.split(":")[0], line.split(" ")[1]) for line in lines} == PROJECT_FINDINGS
    # ignored (generated/, *.tmp.py), excluded (legacy/) and suppressed (dispatch) are not reported
    assert not any(
        line.startswith(("generated/", "legacy/", "pkg/suppressed.py", "pkg/scratch")) for line in lines
    )
    err_lines = err.splitlines()
    assert (
        "sophia-artemis: skipped legacy/: excluded by the configuration's exclude pattern 'legacy/'"
        in err_lines
    )
    assert err_lines[-1].startswith(
        "Found 6 findings (1 error, 3 warnings, 2 information) in 7 files, 1 skipped"
    )
    assert "\r" not in err  # no progress line when stderr is not a terminal


def test_json_format_matches_the_contract(project, capsys):
    code, doc, err = run_json(capsys, "check", ".")
    assert code == 1
    assert list(doc) == ["version", "findings", "stats"] and doc["version"] == 1
    assert pairs(doc) == PROJECT_FINDINGS
    for finding in doc["findings"]:
        assert list(finding) == ["path", "rule", "severity", "message", "range", "data"]
        assert finding["severity"] in ("error", "warning", "information", "hint")
        assert set(finding["range"]) == {"start", "end"} and set(finding["range"]["start"]) == {
            "line",
            "character",
        }
    sa101 = next(f for f in doc["findings"] if f["path"] == "pkg/complex.py" and f["rule"] == "SA101")
    assert sa101["range"] == {"start": {"line": 3, "character": 4}, "end": {"line": 3, "character": 11}}
    assert sa101["data"] == {"cyclomatic": 13, "threshold": 8, "qualname": "tangled"}
    todo = next(f for f in doc["findings"] if f["path"] == "pkg/todo.py" and f["data"]["marker"] == "TODO")
    assert todo["range"]["start"] == {"line": 2, "character": 15}  # UTF-16: the emoji counts two
    assert todo["severity"] == "information"
    stats = doc["stats"]
    assert stats["files"] == 7 and isinstance(stats["seconds"], float)
    assert stats["skipped"] == [
        {"path": "legacy/", "reason": "excluded by the configuration's exclude pattern 'legacy/'"}
    ]
    assert "Found" not in err  # the summary line belongs to the text format only


def test_findings_are_sorted_by_path_then_position(project, capsys):
    _, doc, _ = run_json(capsys, "check", ".")
    keys = [
        (f["path"], f["range"]["start"]["line"], f["range"]["start"]["character"]) for f in doc["findings"]
    ]
    assert keys == sorted(keys)


def test_paths_are_relative_to_the_current_directory(project, capsys, monkeypatch):
    monkeypatch.chdir(project.parent)
    _, doc, _ = run_json(capsys, "check", "cli_project")
    assert {f["path"] for f in doc["findings"]} == {f"cli_project/{p}" for p, _ in PROJECT_FINDINGS}
    monkeypatch.chdir(project / "pkg")
    _, doc, _ = run_json(capsys, "check", str(project / "pkg" / "moderate.py"), "../pkg/complex.py")
    assert {f["path"] for f in doc["findings"]} == {"moderate.py", "complex.py"}


def test_sarif_has_the_schema_required_fields(project, capsys):
    code, out, _ = run(capsys, "check", ".", "--format", "sarif")
    assert code == 1
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0" and sarif["$schema"].startswith("https://")
    (run_,) = sarif["runs"]
    driver = run_["tool"]["driver"]
    assert (
        driver["name"] == "sophia-artemis"
        and driver["version"]
        and driver["informationUri"].startswith("https://")
    )
    rule_ids = [r["id"] for r in driver["rules"]]
    assert {"SA001", "SA101", "SA102", "SA201", "SA202"} <= set(rule_ids)
    for rule in driver["rules"]:
        assert rule["name"] and rule["shortDescription"]["text"] and rule["helpUri"].startswith("https://")
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note", "none")
    assert run_["columnKind"] == "utf16CodeUnits"
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file://")
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")
    results = run_["results"]
    assert {
        (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"]) for r in results
    } == PROJECT_FINDINGS
    for result in results:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note", "none")
        assert result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        region = location["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert (region["endLine"], region["endColumn"]) >= (region["startLine"], region["startColumn"])
    sa101 = next(r for r in results if r["ruleId"] == "SA101" and "tangled" in r["message"]["text"])
    assert sa101["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 4,
        "startColumn": 5,
        "endLine": 4,
        "endColumn": 12,
    }
    assert sa101["properties"] == {"cyclomatic": 13, "threshold": 8, "qualname": "tangled"}
    todo = next(r for r in results if r["ruleId"] == "SA201" and r["message"]["text"].startswith("TODO"))
    assert todo["level"] == "note"  # information maps to note
    assert todo["locations"][0]["physicalLocation"]["region"]["startColumn"] == 16  # UTF-16 units + 1
    syntax = next(r for r in results if r["ruleId"] == "SA001")
    assert syntax["level"] == "error"
    notes = run_["invocations"][0]["toolExecutionNotifications"]
    assert [n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in notes] == ["legacy/"]


def test_output_file_gets_the_results_and_stdout_stays_empty(project, capsys, tmp_path):
    target = tmp_path / "out" / "report.json"
    target.parent.mkdir()
    code, out, _ = run(capsys, "check", ".", "--format", "json", "--output-file", str(target))
    assert code == 1 and out == ""
    assert pairs(json.loads(target.read_text(encoding="utf-8"))) == PROJECT_FINDINGS


# --------------------------------------------------------------------------------------------- exit codes


def test_exit_0_and_nothing_on_stdout_when_there_is_nothing_to_report(project, capsys):
    code, out, err = run(capsys, "check", "pkg/clean.py", "pkg/suppressed.py")
    assert code == 0 and out == ""
    assert err.startswith("No findings in 2 files")
    code, doc, _ = run_json(capsys, "check", "pkg/clean.py")
    assert code == 0 and doc["findings"] == [] and doc["stats"]["files"] == 1


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["check", "does-not-exist"], "does-not-exist: no such file or directory"),
        (["check", ".", "--select", "XY1"], "invalid rule selector 'XY1'"),
        (["check", ".", "--ignore", "SA1234"], "invalid rule selector 'SA1234'"),
        (["check", ".", "--select", ","], "expected comma-separated rule ids"),
        (["check", ".", "--format", "xml"], "invalid choice: 'xml'"),
        (["metrics", ".", "--format", "sarif"], "invalid choice: 'sarif'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["check", "--jobs", "-1", "."], "expected 0 (one per CPU) or more"),
    ],
)
def test_usage_errors_exit_2_with_one_line(project, capsys, argv, expected):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith("sophia-artemis: error: ") and expected in err


def test_help_and_version(capsys):
    for argv in (["--help"], ["check", "--help"], ["metrics", "--help"], ["serve", "--help"]):
        code, out, _ = run(capsys, *argv)
        assert code == 0 and "usage:" in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == "sophia-artemis 0.1.0"


def test_an_unexpected_exception_is_one_line_and_exit_2(project, capsys, monkeypatch):
    def boom(args):
        raise RuntimeError("something\nbroke")

    monkeypatch.setitem(cli.COMMANDS, "check", boom)
    monkeypatch.delenv("SOPHIA_ARTEMIS_DEBUG", raising=False)
    code, out, err = run(capsys, "check", ".")
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "sophia-artemis: error: internal error: RuntimeError: something broke (set SOPHIA_ARTEMIS_DEBUG=1 for the traceback)"
    ]
    monkeypatch.setenv("SOPHIA_ARTEMIS_DEBUG", "1")
    code, _, err = run(capsys, "check", ".")
    assert code == 2 and "Traceback" in err


def test_one_file_failing_inside_the_analysis_does_not_lose_the_others(project, capsys, monkeypatch):
    from sophia_artemis.analysis import files

    real = files.analyze_path

    def flaky(path, settings, root=None, **kwargs):
        if Path(path).name == "moderate.py":
            raise ValueError("analyser bug")
        return real(path, settings, root, **kwargs)

    monkeypatch.setattr(files, "analyze_path", flaky)
    monkeypatch.delenv("SOPHIA_ARTEMIS_DEBUG", raising=False)
    code, doc, err = run_json(capsys, "check", ".", "--jobs", "1")
    assert code == 2  # the run is incomplete: CI must not pass on it
    assert pairs(doc) == PROJECT_FINDINGS - {("pkg/moderate.py", "SA101")}
    assert {"path": "pkg/moderate.py", "reason": "internal error: ValueError: analyser bug"} in doc["stats"][
        "skipped"
    ]
    assert "Traceback" not in err
    assert (
        "sophia-artemis: error: analysis failed on pkg/moderate.py: ValueError: analyser bug"
        in err.splitlines()
    )


# --------------------------------------------------------------------------------------------- rules and config


def test_select_and_ignore(project, capsys):
    _, doc, _ = run_json(capsys, "check", ".", "--select", "SA2")
    assert pairs(doc) == {("pkg/todo.py", "SA201")}
    _, doc, _ = run_json(capsys, "check", ".", "--select", "sa101,SA001")  # case-insensitive, comma-separated
    assert pairs(doc) == {
        ("pkg/broken.py", "SA001"),
        ("pkg/complex.py", "SA101"),
        ("pkg/moderate.py", "SA101"),
    }
    _, doc, _ = run_json(capsys, "check", ".", "--ignore", "SA1", "--ignore", "SA201")
    assert pairs(doc) == {("pkg/broken.py", "SA001")}
    code, doc, err = run_json(capsys, "check", "pkg/clean.py", "--select", "SA9")
    assert code == 0 and "sophia-artemis: warning: --select SA9 matches no rule" in err.splitlines()


def test_a_broken_pyproject_warns_in_one_line_and_uses_the_defaults(project, capsys):
    (project / "pyproject.toml").write_text("[tool.sophia-artemis\nexclude = [")
    code, doc, err = run_json(capsys, "check", ".")
    assert code == 1
    warnings = [line for line in err.splitlines() if line.startswith("sophia-artemis: warning:")]
    assert len(warnings) == 1 and "cannot parse" in warnings[0] and "using default settings" in warnings[0]
    found = pairs(doc)
    assert ("pkg/moderate.py", "SA101") not in found  # default threshold 10 again
    assert ("legacy/old.py", "SA101") in found  # no exclude any more
    assert ("generated/complex.py", "SA101") not in found  # .gitignore still applies


def test_bad_config_values_are_warnings_naming_the_key_and_the_default(project, capsys):
    (project / "pyproject.toml").write_text(
        '[tool.sophia-artemis]\nmax_file_size = "big"\nfrobnicate = 1\n[tool.sophia-artemis.thresholds]\ncyclomatic = -3\n'
    )
    code, doc, err = run_json(capsys, "check", ".")
    assert code == 1
    warnings = [line for line in err.splitlines() if line.startswith("sophia-artemis: warning:")]
    assert any("'max_file_size'" in w and "2000000" in w for w in warnings)
    assert any("'thresholds.cyclomatic'" in w and "using 10" in w for w in warnings)
    assert any("unknown setting 'frobnicate'" in w for w in warnings)
    assert ("pkg/complex.py", "SA101") in pairs(doc)


def test_an_explicitly_named_ignored_file_is_checked(project, capsys):
    _, doc, _ = run_json(capsys, "check", "generated/complex.py", "legacy")
    assert pairs(doc) == {
        ("generated/complex.py", "SA101"),
        ("generated/complex.py", "SA102"),
        ("legacy/old.py", "SA101"),
        ("legacy/old.py", "SA102"),
    }


# --------------------------------------------------------------------------------------------- skipped files


@pytest.fixture
def nasty(project):
    """The project plus every kind of file `check` must skip with a reason, and nothing may crash on."""
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('exclude = ["legacy/"]', 'exclude = ["legacy/"]\nmax_file_size = 4000')
    )
    odd = project / "odd"
    odd.mkdir()
    (odd / "image.py").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (odd / "nul.py").write_bytes(b"x = 1\n\x00\ny = 2\n")
    (odd / "latin1.py").write_bytes(b"name = 'Jos\xe9'\n")
    (odd / "huge.py").write_text("x = 1\n" * 1000)
    (odd / "dangling.py").symlink_to(odd / "missing.py")
    (odd / "x.py").mkdir()  # a folder that looks like a module: walked like any folder
    (odd / "bom.py").write_bytes(b"\xef\xbb\xbf# TODO: after a BOM\n")
    (odd / "declared.py").write_bytes(b"# -*- coding: latin-1 -*-\n# TODO: caf\xe9\n")
    if hasattr(os, "mkfifo"):
        os.mkfifo(odd / "pipe.py")
    return project


EXPECTED_SKIPS = {
    "odd/image.py": "binary (contains NUL bytes)",
    "odd/nul.py": "binary (contains NUL bytes)",
    "odd/latin1.py": "not valid UTF-8 (byte 0xe9 at offset 11)",
    "odd/huge.py": "too large (6000 bytes; max_file_size is 4000)",
    "odd/dangling.py": "broken symbolic link",
    "odd/pipe.py": "not a regular file (a FIFO)",
    "legacy/": "excluded by the configuration's exclude pattern 'legacy/'",
}


def test_unreadable_files_are_skipped_with_reasons(nasty, capsys):
    code, doc, err = run_json(capsys, "check", ".", "--jobs", "1")
    assert code == 1
    skipped = {s["path"]: s["reason"] for s in doc["stats"]["skipped"]}
    expected = {p: r for p, r in EXPECTED_SKIPS.items() if p != "odd/pipe.py" or hasattr(os, "mkfifo")}
    assert skipped == expected
    for path, reason in expected.items():
        assert f"sophia-artemis: skipped {path}: {reason}" in err.splitlines()
    # the BOM and the declared latin-1 files are analysed; the BOM is not a character of the text
    markers = {f["path"]: f for f in doc["findings"] if f["rule"] == "SA201" and f["path"].startswith("odd/")}
    assert markers["odd/bom.py"]["range"]["start"] == {"line": 0, "character": 2}
    assert markers["odd/declared.py"]["message"] == "TODO: café"
    assert doc["stats"]["files"] == 7 + 2


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_named_like_a_module_never_blocks_a_real_run(nasty):
    # also named explicitly: a FIFO must be refused from its metadata, never opened for a blocking read
    proc = subprocess_cli("check", "--format", "json", ".", "odd/pipe.py", cwd=nasty, timeout=120)
    assert proc.returncode == 1, proc.stderr
    skipped = {s["path"]: s["reason"] for s in json.loads(proc.stdout)["stats"]["skipped"]}
    assert skipped["odd/pipe.py"] == "not a regular file (a FIFO)"
    assert "Traceback" not in proc.stderr


def test_explicit_non_python_files_are_skipped_with_a_reason(project, capsys):
    (project / "README.md").write_text("# hi\n")
    code, doc, _ = run_json(capsys, "check", "README.md", "pkg/clean.py")
    assert code == 0
    assert doc["stats"]["skipped"] == [{"path": "README.md", "reason": "not a Python, JavaScript or TypeScript file"}]


# --------------------------------------------------------------------------------------------- parallel


@pytest.fixture
def many_files(project):
    """40 files (more than the parallel threshold) with varied findings."""
    src = (project / "pkg" / "complex.py").read_text(encoding="utf-8")
    todo = (project / "pkg" / "todo.py").read_text(encoding="utf-8")
    bulk = project / "bulk"
    bulk.mkdir()
    for i in range(40):
        text = src.replace("tangled", f"tangled_{i}") if i % 3 else todo + f"\n# XXX: number {i}\n"
        if i % 7 == 0:
            text += "\ndef broken(:\n"
        (bulk / f"m{i:02d}.py").write_text(text, encoding="utf-8")
    return project


def test_parallel_run_gives_the_same_findings_as_sequential(many_files, capsys, monkeypatch):
    from sophia_artemis.memory import workspace_index

    used = []
    real = workspace_index.run_parallel

    def spy(todo, workers, *args, **kwargs):
        used.append((len(todo), workers))
        return real(todo, workers, *args, **kwargs)

    monkeypatch.setattr(workspace_index, "run_parallel", spy)
    code_seq, sequential, _ = run_json(capsys, "check", ".", "--jobs", "1", "--no-cache")
    assert used == []
    code_par, parallel, _ = run_json(capsys, "check", ".", "--jobs", "2", "--no-cache")
    assert used == [(47, 2)]
    assert code_seq == code_par == 1
    assert parallel["findings"] == sequential["findings"]
    assert parallel["stats"]["skipped"] == sequential["stats"]["skipped"]
    assert parallel["stats"]["files"] == sequential["stats"]["files"] == 47
    assert len(sequential["findings"]) > 60


def test_parallel_run_as_a_real_process(many_files, capsys):
    _, sequential, _ = run_json(capsys, "check", ".", "--jobs", "1")
    proc = subprocess_cli("check", ".", "--format", "json", "--jobs", "2", cwd=many_files)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["findings"] == sequential["findings"]
    assert proc.stderr.splitlines() == [
        "sophia-artemis: skipped legacy/: excluded by the configuration's exclude pattern 'legacy/'"
    ]


def test_progress_line_only_on_a_terminal(many_files, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_isatty", lambda stream: True)
    code, out, err = run(capsys, "check", ".", "--jobs", "1", "--format", "json")
    assert code == 1 and json.loads(out)
    assert "\r\x1b[K checked 47/47 files" in err  # each redraw clears what the last one left
    assert err.rindex("\r\x1b[K") > err.index("47/47")  # the line is cleared at the end


def test_long_runs_report_progress_in_plain_lines_when_not_on_a_terminal(many_files, capsys, monkeypatch):
    monkeypatch.setattr(cli._Progress, "PLAIN_EVERY", 0.0)  # every file counts as "a while"
    code, out, err = run(capsys, "check", ".", "--jobs", "1", "--format", "json")
    assert code == 1 and json.loads(out)
    progress = [line for line in err.splitlines() if line.startswith("sophia-artemis: checked ")]
    assert progress[0] == "sophia-artemis: checked 1/47 files" and len(progress) == 46
    assert "\r" not in err


# --------------------------------------------------------------------------------------------- metrics


def test_metrics_json_matches_the_contract(project, capsys):
    code, out, err = run(capsys, "metrics", "pkg", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["version"] == 1 and {"functions", "files"} <= set(doc)
    functions = {(f["path"], f["qualname"]): f for f in doc["functions"]}
    for f in doc["functions"]:
        assert list(f) == [
            "path",
            "qualname",
            "name",
            "def_line",
            "range",
            "cyclomatic",
            "cognitive",
            "loc",
            "params",
        ]
    assert set(functions) == {
        ("pkg/broken.py", "fine"),
        ("pkg/clean.py", "add"),
        ("pkg/complex.py", "tangled"),
        ("pkg/complex.py", "Greeter.greet"),
        ("pkg/complex.py", "Greeter.agreet"),  # async def
        ("pkg/complex.py", "Greeter.shout"),
        ("pkg/complex.py", "outer"),
        ("pkg/complex.py", "outer.<locals>.inner"),
        ("pkg/moderate.py", "pick"),
        ("pkg/suppressed.py", "dispatch"),
        ("pkg/todo.py", "total"),
    }  # no lambda
    tangled = functions[("pkg/complex.py", "tangled")]
    assert tangled["def_line"] == 4 and tangled["name"] == "tangled" and tangled["cyclomatic"] == 13
    assert tangled["range"]["start"] == {"line": 3, "character": 0}
    assert functions[("pkg/complex.py", "Greeter.shout")]["def_line"] == 31  # the `def`, not the decorator
    assert functions[("pkg/complex.py", "outer.<locals>.inner")]["name"] == "inner"
    files = {f["path"]: f for f in doc["files"]}
    for f in doc["files"]:
        assert list(f) == ["path", "language", "loc", "sloc", "maintainability", "debt_markers"]
    assert files["pkg/todo.py"]["debt_markers"] == 2 and files["pkg/todo.py"]["language"] == "python"
    assert files["pkg/broken.py"]["maintainability"] is None  # Python cannot parse it
    assert 0 < files["pkg/complex.py"]["maintainability"] <= 100


def test_metrics_text_is_a_table(project, capsys):
    code, out, _ = run(capsys, "metrics", "pkg/complex.py")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["location", "qualname", "cc", "cog", "loc", "params"]
    assert lines[1].split() == ["pkg/complex.py:4", "tangled", "13", "23", "15", "4"]
    assert any(line.split()[:2] == ["pkg/complex.py:36", "outer.<locals>.inner"] for line in lines)


def _radon_functions(blocks, out=None):
    """Every function radon reports (methods and closures included) by def line."""
    out = {} if out is None else out
    for block in blocks:
        if hasattr(block, "methods"):  # a class
            _radon_functions(block.methods, out)
            _radon_functions(getattr(block, "inner_classes", []), out)
        else:
            out[block.lineno] = (block.name, block.complexity)
            _radon_functions(block.closures, out)
    return out


@pytest.mark.parametrize("module", ["argparse", "difflib", "tarfile"])
def test_metrics_cyclomatic_equals_radon_on_stdlib_modules(module, capsys, tmp_path, monkeypatch):
    from radon.complexity import cc_visit

    path = Path(__import__(module).__file__)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "metrics", str(path), "--format", "json")
    assert code == 0
    ours = {f["def_line"]: (f["name"], f["cyclomatic"]) for f in json.loads(out)["functions"]}
    theirs = _radon_functions(cc_visit(path.read_text(encoding="utf-8")))
    assert len(theirs) > 20
    assert {line: ours[line] for line in theirs} == theirs
    # one entry per def/async def at any depth, each at the line Python's ast gives
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defs = sorted(n.lineno for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    assert sorted(f["def_line"] for f in json.loads(out)["functions"]) == defs


# --------------------------------------------------------------------------------------------- subprocess


def test_real_process_check_json_exit_code_and_clean_stderr(project):
    proc = subprocess_cli("check", "--format", "json", ".", cwd=project)
    assert proc.returncode == 1
    assert pairs(json.loads(proc.stdout)) == PROJECT_FINDINGS
    assert proc.stderr.splitlines() == [
        "sophia-artemis: skipped legacy/: excluded by the configuration's exclude pattern 'legacy/'"
    ]


def test_real_process_exit_codes_0_and_2(project):
    clean = subprocess_cli("check", "pkg/clean.py", cwd=project)
    assert clean.returncode == 0 and clean.stdout == ""
    assert clean.stderr.startswith("No findings in 1 file ")
    bad = subprocess_cli("check", "--select", "nope", ".", cwd=project)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("sophia-artemis: error: ")
    missing = subprocess_cli("check", "missing.py", cwd=project)
    assert (
        missing.returncode == 2
        and missing.stderr == "sophia-artemis: error: missing.py: no such file or directory\n"
    )
    version = subprocess_cli("--version", cwd=project)
    assert version.returncode == 0 and version.stdout.strip() == "sophia-artemis 0.1.0"


def test_real_process_metrics_json(project):
    proc = subprocess_cli("metrics", "pkg/complex.py", "--format", "json", cwd=project)
    assert proc.returncode == 0 and proc.stderr == ""
    doc = json.loads(proc.stdout)
    assert [f["qualname"] for f in doc["functions"]] == [
        "tangled",
        "Greeter.greet",
        "Greeter.agreet",
        "Greeter.shout",
        "outer",
        "outer.<locals>.inner",
    ]


# --------------------------------------------------------------------------------------------- serve


@pytest.fixture
def serve_calls(monkeypatch):
    from sophia_artemis.server.lsp import app

    calls = []
    monkeypatch.setattr(app, "run", lambda **kwargs: calls.append(kwargs) or 0)
    return calls


def test_no_command_means_serve_on_stdio(serve_calls, capsys):
    assert cli.main([]) == 0
    assert cli.main(["--stdio"]) == 0  # what editors pass
    assert cli.main(["serve", "--stdio", "--log-level", "debug", "--log-file", "x.log"]) == 0
    assert serve_calls[0] == {
        "transport": "stdio",
        "host": "127.0.0.1",
        "port": 2087,
        "log_file": None,
        "log_level": "INFO",
    }
    assert serve_calls[1]["transport"] == "stdio"
    assert serve_calls[2]["log_level"] == "DEBUG" and serve_calls[2]["log_file"] == "x.log"
    assert capsys.readouterr().out == ""  # serve writes nothing but protocol to stdout


def test_serve_over_tcp(serve_calls):
    assert cli.main(["serve", "--tcp", "--host", "0.0.0.0", "--port", "9999"]) == 0
    assert serve_calls == [
        {"transport": "tcp", "host": "0.0.0.0", "port": 9999, "log_file": None, "log_level": "INFO"}
    ]
    assert cli.main(["serve", "--tcp", "--stdio"]) == 2  # not both


def test_no_python_files_is_a_warning_not_an_error(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("hi\n")
    code, doc, err = run_json(capsys, "check", ".")
    assert code == 0 and doc["findings"] == [] and doc["stats"]["files"] == 0
    assert err.splitlines() == ["sophia-artemis: warning: no Python, JavaScript or TypeScript files found under ."]


def test_python_dash_m_never_imports_the_projects_own_modules(tmp_path):
    """`python -m` puts the current folder on sys.path; modules there that shadow our imports must not run."""
    (tmp_path / "django").mkdir()
    (tmp_path / "django" / "__init__.py").write_text('raise SystemExit("the project\'s django was imported")\n')
    (tmp_path / "pathspec.py").write_text('raise SystemExit("the project\'s pathspec was imported")\n')
    (tmp_path / "app.py").write_text("x = 1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "sophia_artemis", "check", "app.py", "--format", "json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "was imported" not in proc.stderr + proc.stdout
