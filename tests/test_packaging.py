"""Packaging: the wheel holds the three subpackages under one namespace; the layer contract holds."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_wheel_contains_the_namespace_and_three_subpackages(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("sophia_artemis-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "sophia_artemis/__init__.py",
        "sophia_artemis/__main__.py",
        "sophia_artemis/server/__init__.py",
        "sophia_artemis/server/cli.py",
        "sophia_artemis/analysis/__init__.py",
        "sophia_artemis/analysis/engine.py",
        "sophia_artemis/memory/__init__.py",
    ):
        assert required in names, required
    # every subpackage on disk is in the wheel (pyproject lists them explicitly)
    for layer in ("analysis", "memory", "server"):
        for init in (REPO / layer).rglob("__init__.py"):
            assert f"sophia_artemis/{init.relative_to(REPO).as_posix()}" in names, init
    # never a top-level `server`/`memory`/`analysis` package, and no tests or fixtures in the wheel
    tops = {n.split("/", 1)[0] for n in names}
    assert not tops & {"server", "memory", "analysis", "tests", "fixtures", "bench"}
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "sophia-artemis = sophia_artemis.server.cli:run" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_import_linter_contracts_are_kept():
    # the venv's own lint-imports (the dev extra installs it), whether or not the venv is activated
    lint = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run([str(lint if lint.exists() else shutil.which("lint-imports"))], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_python_dash_m_runs_the_cli():
    proc = subprocess.run([sys.executable, "-m", "sophia_artemis", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert "check" in proc.stdout and "serve" in proc.stdout
