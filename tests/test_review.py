"""`review` (findings on changed lines), `baseline`, and the baseline in `check`, on real git repositories made
in temp dirs (a local identity, no global or system git config; the project's own repository is never used)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sophia_artemis.server.cli import main
from sophia_artemis.server.review_commands import parse_diff

OLD = """\
# TODO: old debt
def wide(a, b, c, d, e, f, g, h, i):
    return a


def deep(x):
    if x:
        if x:
            if x:
                if x:
                    if x:
                        if x:
                            return 1
    return 2


def small(y):
    return y
"""


@pytest.fixture(autouse=True)
def _no_outer_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing from a surrounding git (a hook's GIT_DIR, GIT_INDEX_FILE...) reaches the repos made here."""
    for name in list(os.environ):
        if name.startswith("GIT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)


def git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def commit(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def make_repo(root: Path, branch: str = "main") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", branch)
    git(root, "config", "user.name", "Ada")
    git(root, "config", "user.email", "ada@example.com")
    git(root, "config", "commit.gpgsign", "false")
    (root / "pyproject.toml").write_text("[project]\nname = 'demo'\n", encoding="utf-8")
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (root / "pkg" / "mod.py").write_text(OLD, encoding="utf-8")
    commit(root, "initial")
    return root


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo")
    monkeypatch.chdir(root)
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "-j", "1"] if args[0] in ("review", "check", "baseline") else list(args))
    out, err = capsys.readouterr()
    return code, out, err


def review_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code, out, err = run(capsys, "review", ".", "--format", "json", *args)
    assert code in (0, 1), err
    return code, json.loads(out)


def found(data: dict) -> list[tuple[str, str, int]]:
    return sorted((f["path"], f["rule"], f["range"]["start"]["line"]) for f in data["findings"])


# --------------------------------------------------------------------------------------------- review


def test_only_findings_on_changed_lines(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    with open(repo / "pkg" / "mod.py", "a", encoding="utf-8") as fh:
        fh.write("# TODO: new debt\n")
    commit(repo, "more debt")
    code, data = review_json(capsys)
    assert code == 1
    # the old TODO, wide() and deep() are untouched: only the new line's finding
    assert found(data) == [("pkg/mod.py", "SA201", 18)]
    assert data["version"] == 1 and data["base"]["merge_base"] is True and data["base"]["rev"] == "main"
    assert data["base"]["commit"] == git(repo, "rev-parse", "main")
    assert set(data["stats"]) >= {"files", "seconds", "skipped"}


def test_a_changed_line_inside_a_function_brings_its_complexity_findings(repo, capsys) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    edit(repo / "pkg" / "mod.py", "                            return 1", "                            return 3")
    commit(repo, "touch deep()")
    _, data = review_json(capsys)
    assert found(data) == [("pkg/mod.py", "SA102", 5), ("pkg/mod.py", "SA105", 5)]
    # a change in another function does not bring deep()'s findings
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-q", "-b", "other")
    edit(repo / "pkg" / "mod.py", "    return y", "    return y + 1")
    commit(repo, "touch small()")
    code, data = review_json(capsys)
    assert code == 0 and data["findings"] == []


def test_deleting_lines_inside_a_function_touches_it(repo, capsys) -> None:
    edit(repo / "pkg" / "mod.py", "                            return 1\n    return 2\n", "                            return 1\n")
    _, data = review_json(capsys, "--base", "HEAD")
    assert ("pkg/mod.py", "SA102", 5) in found(data)


def test_uncommitted_staged_and_untracked_changes_count(repo, capsys) -> None:
    edit(repo / "pkg" / "mod.py", "def small(y):", "def small(y):  # FIXME staged")
    git(repo, "add", "pkg/mod.py")
    with open(repo / "pkg" / "mod.py", "a", encoding="utf-8") as fh:
        fh.write("# HACK unstaged\n")
    (repo / "pkg" / "fresh.py").write_text("x = 1\n# XXX untracked\n", encoding="utf-8")
    (repo / "newdir").mkdir()
    (repo / "newdir" / "inner.py").write_text("# TODO in an untracked folder\n", encoding="utf-8")
    (repo / ".gitignore").write_text("ignored.py\n", encoding="utf-8")
    (repo / "ignored.py").write_text("# TODO ignored by git\n", encoding="utf-8")
    index_before = (repo / ".git" / "index").read_bytes()
    code, data = review_json(capsys)  # on main itself: the merge base is HEAD
    assert code == 1
    assert found(data) == [
        ("newdir/inner.py", "SA201", 0),
        ("pkg/fresh.py", "SA201", 1),
        ("pkg/mod.py", "SA201", 16),
        ("pkg/mod.py", "SA201", 18),
        ("pkg/mod.py", "SA303", 16),  # small() is unused, and its def line changed
    ]
    assert (repo / ".git" / "index").read_bytes() == index_before  # the user's index is never written
    assert git(repo, "status", "--porcelain", "--", "pkg/mod.py") == "MM pkg/mod.py"


def test_explicit_base(repo, capsys) -> None:
    first = git(repo, "rev-parse", "HEAD")
    with open(repo / "pkg" / "mod.py", "a", encoding="utf-8") as fh:
        fh.write("# TODO: second\n")
    second = commit(repo, "second")
    with open(repo / "pkg" / "mod.py", "a", encoding="utf-8") as fh:
        fh.write("# TODO: third\n")
    commit(repo, "third")
    _, data = review_json(capsys, "--base", "HEAD~1")
    assert found(data) == [("pkg/mod.py", "SA201", 19)]
    assert data["base"] == {
        "rev": "HEAD~1",
        "commit": second,
        "merge_base": False,
        "description": f"HEAD~1 ({second[:12]})",
    }
    _, data = review_json(capsys, "--base", first)
    assert found(data) == [("pkg/mod.py", "SA201", 18), ("pkg/mod.py", "SA201", 19)]
    code, data = review_json(capsys, "--base", "HEAD")
    assert code == 0 and data["findings"] == []


def test_default_base_is_master_then_origin_head(tmp_path, monkeypatch, capsys) -> None:
    root = make_repo(tmp_path / "old-style", branch="master")
    monkeypatch.chdir(root)
    git(root, "checkout", "-q", "-b", "topic")
    with open(root / "pkg" / "mod.py", "a", encoding="utf-8") as fh:
        fh.write("# TODO: topic\n")
    commit(root, "topic")
    _, data = review_json(capsys)
    assert data["base"]["rev"] == "master" and data["base"]["commit"] == git(root, "rev-parse", "master")
    assert found(data) == [("pkg/mod.py", "SA201", 18)]
    # a clone's origin/HEAD wins over local branches: here it points at the topic branch itself
    git(root, "update-ref", "refs/remotes/origin/trunk", git(root, "rev-parse", "HEAD"))
    git(root, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk")
    code, data = review_json(capsys)
    assert data["base"]["rev"] == "origin/trunk" and code == 0 and data["findings"] == []


def test_no_main_branch_and_no_commits(tmp_path, monkeypatch, capsys) -> None:
    root = make_repo(tmp_path / "odd", branch="trunk")
    monkeypatch.chdir(root)
    code, out, err = run(capsys, "review", ".")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "pass --base REV" in err and "Traceback" not in err
    assert run(capsys, "review", ".", "--base", "HEAD")[0] == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q", "-b", "main")
    (empty / "a.py").write_text("# TODO first\n", encoding="utf-8")
    monkeypatch.chdir(empty)
    code, data = review_json(capsys)
    assert code == 1 and found(data) == [("a.py", "SA201", 0)]
    assert data["base"]["commit"] is None and data["base"]["rev"] is None


def test_usage_errors_exit_2(tmp_path, repo, capsys) -> None:
    for args in (("review", "nowhere"), ("review", ".", "--base", "no-such-rev"), ("review", str(tmp_path / "x"))):
        code, out, err = run(capsys, *args)
        assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err, args
    outside = tmp_path / "plain"
    outside.mkdir()
    code, _, err = run(capsys, "review", str(outside))
    assert code == 2 and "not in a git repository" in err


def test_text_and_sarif_name_the_base(repo, capsys) -> None:
    with open(repo / "pkg" / "mod.py", "a", encoding="utf-8") as fh:
        fh.write("# TODO: new\n")
    code, out, err = run(capsys, "review", ".", "--base", "HEAD")
    assert code == 1
    assert out == "pkg/mod.py:19:3: SA201 TODO: new\n"
    assert "reviewing the changes since HEAD (" in err
    code, out, _ = run(capsys, "review", ".", "--base", "HEAD", "--format", "sarif")
    sarif = json.loads(out)
    assert code == 1 and sarif["version"] == "2.1.0"
    [result] = sarif["runs"][0]["results"]
    assert result["ruleId"] == "SA201" and result["locations"][0]["physicalLocation"]["region"]["startLine"] == 19
    assert sarif["runs"][0]["properties"]["base"]["commit"] == git(repo, "rev-parse", "HEAD")


def test_review_of_a_subfolder_and_select(repo, capsys) -> None:
    (repo / "other").mkdir()
    (repo / "other" / "x.py").write_text("# TODO elsewhere\n", encoding="utf-8")
    with open(repo / "pkg" / "mod.py", "a", encoding="utf-8") as fh:
        fh.write("# TODO: in pkg\n")
    code, out, _ = run(capsys, "review", "pkg", "--base", "HEAD", "--format", "json")
    assert [f["path"] for f in json.loads(out)["findings"]] == ["pkg/mod.py"]
    code, out, _ = run(capsys, "review", ".", "--base", "HEAD", "--format", "json", "--select", "SA1")
    assert code == 0 and json.loads(out)["findings"] == []


# --------------------------------------------------------------------------------------------- baseline


def test_baseline_hides_old_findings_even_after_lines_move(repo, capsys) -> None:
    code, out, err = run(capsys, "baseline", ".")
    assert code == 0 and out == "" and "wrote 7 findings" in err
    data = json.loads((repo / ".sophia-baseline.json").read_text(encoding="utf-8"))
    assert data["version"] == 1
    assert {(e["rule"], e["path"], e["anchor"]) for e in data["findings"]} >= {
        ("SA104", "pkg/mod.py", "def:wide"),
        ("SA102", "pkg/mod.py", "def:deep"),
    }
    assert all("line" not in e for e in data["findings"])
    code, out, err = run(capsys, "check", ".")
    assert code == 0 and out == "" and "7 findings hidden by the baseline" in err
    # lines inserted above everything, a new finding below: only the new one shows
    mod = repo / "pkg" / "mod.py"
    mod.write_text("import os\n\n\n" + mod.read_text(encoding="utf-8") + "# TODO: new debt\n", encoding="utf-8")
    code, out, err = run(capsys, "check", ".", "--format", "json")
    assert code == 1 and "7 findings hidden by the baseline" in err
    assert found(json.loads(out)) == [("pkg/mod.py", "SA201", 21)]
    code, out, _ = run(capsys, "check", ".", "--format", "json", "--no-baseline")
    assert code == 1 and len(json.loads(out)["findings"]) == 8


def test_baseline_counts_repeated_findings_by_occurrence(repo, capsys) -> None:
    mod = repo / "pkg" / "mod.py"
    mod.write_text("# TODO same\n# TODO same\n", encoding="utf-8")
    run(capsys, "baseline", ".")
    mod.write_text("\n# TODO same\n# TODO same\n# TODO same\n", encoding="utf-8")
    code, out, err = run(capsys, "check", ".", "--format", "json")
    assert code == 1 and "2 findings hidden" in err
    assert found(json.loads(out)) == [("pkg/mod.py", "SA201", 3)]


def test_review_hides_baselined_findings_of_touched_functions(repo, capsys) -> None:
    run(capsys, "baseline", ".")
    commit(repo, "add the baseline")
    edit(repo / "pkg" / "mod.py", "                            return 1", "                            return 3")
    code, out, err = run(capsys, "review", ".", "--base", "HEAD", "--format", "json")
    assert code == 0 and json.loads(out)["findings"] == [] and "2 findings hidden by the baseline" in err
    code, data = review_json(capsys, "--base", "HEAD", "--no-baseline")
    assert code == 1 and found(data) == [("pkg/mod.py", "SA102", 5), ("pkg/mod.py", "SA105", 5)]


def test_baseline_setting_and_output_file(repo, capsys) -> None:
    (repo / "pyproject.toml").write_text(
        "[project]\nname = 'demo'\n[tool.sophia-artemis]\nbaseline = 'ci/baseline.json'\n", encoding="utf-8"
    )
    (repo / "ci").mkdir()
    code, _, err = run(capsys, "check", ".")
    assert code == 1 and "setting 'baseline'" in err  # configured but missing: said, nothing hidden
    assert run(capsys, "baseline", ".")[0] == 0
    assert (repo / "ci" / "baseline.json").is_file() and not (repo / ".sophia-baseline.json").exists()
    assert run(capsys, "check", ".")[0] == 0
    code, _, err = run(capsys, "baseline", ".", "-o", "elsewhere.json")
    assert code == 0 and (repo / "elsewhere.json").is_file()
    (repo / "ci" / "baseline.json").write_text("{not json", encoding="utf-8")
    code, _, err = run(capsys, "check", ".")
    assert code == 1 and "cannot read the baseline" in err and "Traceback" not in err


def test_bad_baseline_setting_is_a_warning(repo, capsys) -> None:
    (repo / "pyproject.toml").write_text("[tool.sophia-artemis]\nbaseline = 3\n", encoding="utf-8")
    code, _, err = run(capsys, "check", ".")
    assert code == 1 and "setting 'baseline' must be a file path" in err


def test_baseline_usage_errors(repo, capsys) -> None:
    for args in (("baseline", "nowhere"), ("baseline", "pkg/mod.py")):
        code, out, err = run(capsys, *args)
        assert code == 2 and out == "" and err.count("\n") == 1


# --------------------------------------------------------------------------------------------- diff parsing


def test_parse_diff_counts_hunk_bodies() -> None:
    patch = (
        b"diff --git a/a.py b/a.py\n"
        b"--- a/a.py\n+++ b/a.py\n"
        b"@@ -3 +3 @@\n-old\n+++ looks like a header\n"
        b"@@ -10,2 +9,0 @@\n-gone\n-gone too\n"
        b"@@ -20,0 +19,2 @@\n+new\n+@@ -1 +1 @@ not a hunk\n"
        b'diff --git "a/sp ace\\tq.py" "b/sp ace\\tq.py"\n'
        b'--- "a/sp ace\\tq.py"\n+++ "b/sp ace\\tq.py"\n'
        b"@@ -0,0 +1 @@\n+x\n"
        b"\\ No newline at end of file\n"
        b"diff --git a/del.py b/del.py\n--- a/del.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
    )
    changes = parse_diff(patch)
    assert set(changes) == {"a.py", "sp ace\tq.py"}
    assert changes["a.py"].lines == {2, 18, 19} and changes["a.py"].points == {8}
    assert changes["sp ace\tq.py"].lines == {0}


def test_help_lists_the_commands(capsys) -> None:
    for command in ("review", "baseline"):
        code = main([command, "--help"])
        out, _ = capsys.readouterr()
        assert code == 0 and "usage:" in out
    main(["check", "--help"])
    assert "--no-baseline" in capsys.readouterr().out
