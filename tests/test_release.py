"""Version identity, the pinned versions and the review package (`make release`)."""

import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from importlib import metadata

import pytest

from conftest import ROOT
from fairdesk import __version__, buildinfo, cli


def _load(name):
    """A module of build/ (not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "build" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


versionfile = _load("versionfile")
release = _load("release")


# ------------------------------------------------------------------ version identity

def test_version_tuple():
    assert versionfile.version_tuple("0.1.0") == (0, 1, 0, 0)
    assert versionfile.version_tuple("2.10.3.7") == (2, 10, 3, 7)
    assert versionfile.version_tuple("1.2rc1+local") == (1, 2, 0, 0)
    with pytest.raises(ValueError):
        versionfile.version_tuple("dev")


def _eval_version_file(text):
    """Evaluate a version file as PyInstaller does (eval of a VSVersionInfo expression),
    with each class recording its arguments (PyInstaller's own classes import Windows-only
    modules)."""
    def record(kind):
        return lambda *args, **kwargs: {"kind": kind, "args": args, **kwargs}
    names = ["VSVersionInfo", "FixedFileInfo", "StringFileInfo", "StringTable", "StringStruct",
             "VarFileInfo", "VarStruct"]
    return eval(text, {"__builtins__": {}}, {n: record(n) for n in names})  # noqa: S307


def test_windows_version_resource_from_the_package_version():
    text = versionfile.version_file_text(__version__, "fairdesk-cli", "FairDesk command line")
    info = _eval_version_file(text)
    assert info["kind"] == "VSVersionInfo"
    numbers = versionfile.version_tuple(__version__)
    assert info["ffi"]["filevers"] == numbers and info["ffi"]["prodvers"] == numbers
    table = info["kids"][0]["args"][0][0]
    strings = dict(s["args"] for s in table["args"][1])
    assert strings["ProductName"] == "FairDesk" and strings["CompanyName"] == "FairDesk"
    assert strings["ProductVersion"] == __version__
    assert strings["FileVersion"] == ".".join(map(str, numbers))
    assert strings["FileDescription"] == "FairDesk command line"
    assert strings["OriginalFilename"] == "fairdesk-cli.exe"
    # the spec generates one per program from fairdesk.__version__
    spec = (ROOT / "build" / "fairdesk.spec").read_text(encoding="utf-8")
    assert spec.count('version=VERSION_FILES["') == 2 and "fairdesk.__version__" in spec


def test_build_date_honours_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert buildinfo.build_date() == "2023-11-14T22:13:20Z"
    assert buildinfo.make_build_info()["build_date"] == "2023-11-14T22:13:20Z"
    assert buildinfo.make_build_info()["version"] == __version__


def test_recorded_build_info_wins(tmp_path):
    recorded = {"version": "9.8.7", "build_date": "2026-01-02T03:04:05Z", "commit": "abc123"}
    (tmp_path / "build_info.json").write_text(json.dumps(recorded), encoding="utf-8")
    info = buildinfo.build_info(info_file=tmp_path / "build_info.json")
    assert info == recorded
    assert buildinfo.version_text(info).splitlines() == [
        "FairDesk 9.8.7", "built 2026-01-02T03:04:05Z", "commit abc123"]


def test_version_from_a_source_checkout(capsys):
    assert cli.main(["--version"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [f"FairDesk {__version__}", "not built (source checkout)"]
    git = shutil.which("git") and subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT,
                                                 capture_output=True, text=True)
    if git and git.returncode == 0:
        assert re.fullmatch(rf"commit {git.stdout.strip()}(\+dirty)?", lines[2]), lines[2]
    else:
        assert lines[2] == "commit unknown (no git)"


def test_constraints_pin_every_declared_dependency():
    from packaging.requirements import Requirement

    tomllib = pytest.importorskip("tomllib", reason="Python 3.11+")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = {}
    for line in (ROOT / "build" / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[release.norm(name)] = version.strip()
    declared = list(project["dependencies"])
    for extra in ("test", "build", "release"):
        declared += project["optional-dependencies"][extra]
    for text in declared:
        req = Requirement(text)
        pinned = pins.get(release.norm(req.name))
        assert pinned, f"{req.name} is not pinned in build/constraints.txt"
        assert req.specifier.contains(pinned, prereleases=True), f"{req.name}=={pinned} is outside {req.specifier}"


# ------------------------------------------------------------------ checksums

def test_sums_find_a_changed_or_missing_file(tmp_path):
    (tmp_path / "sub").mkdir()
    a, b = tmp_path / "a.txt", tmp_path / "sub" / "b b.txt"
    a.write_bytes(b"one")
    b.write_bytes(b"two")
    release.write_sums(tmp_path, [a, b])
    lines = (tmp_path / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    assert lines == sorted([f"{hashlib.sha256(b'one').hexdigest()}  a.txt",
                            f"{hashlib.sha256(b'two').hexdigest()}  sub/b b.txt"])
    assert release.verify_sums(tmp_path) == []
    b.write_bytes(b"tampered")
    a.unlink()
    assert sorted(release.verify_sums(tmp_path)) == ["changed: sub/b b.txt", "missing: a.txt"]


# ------------------------------------------------------------------ make release

BUNDLE = ROOT / "dist" / "FairDesk"
REQUIRED = ["PySide6-Essentials", "numpy", "pandas", "scipy", "openpyxl", "pyqtgraph"]


@pytest.mark.bundle
@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="make, tar and sha256sum: the Windows "
                    "workflow runs build/release.py's two steps instead")
def test_make_release():
    """`make release` on the bundle `make bundle-test` built (REUSE_BUNDLE=1: not built twice)."""
    assert (BUNDLE / "fairdesk-cli").exists(), f"build the bundle first (make bundle): {BUNDLE}"
    r = subprocess.run(["make", "release", "REUSE_BUNDLE=1"], cwd=ROOT, capture_output=True,
                       text=True, timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]

    # SBOM: CycloneDX JSON; every required component with its installed version and a licence
    sbom = json.loads((BUNDLE / "SBOM.cdx.json").read_text(encoding="utf-8"))
    assert sbom["bomFormat"] == "CycloneDX" and sbom["specVersion"]
    assert sbom["metadata"]["component"]["name"] == "fairdesk"
    assert sbom["metadata"]["component"]["version"] == __version__
    by_name = {release.norm(c["name"]): c for c in sbom["components"]}
    for name in REQUIRED:
        comp = by_name.get(release.norm(name))
        assert comp, f"{name} missing from the SBOM"
        assert comp["version"] == metadata.version(name)
        lic = comp["licenses"][0]
        assert lic.get("expression") or lic["license"].get("id") or lic["license"].get("name"), comp
    assert "LGPL-3.0-only" in by_name["pyside6-essentials"]["licenses"][0]["expression"]
    assert by_name["cpython"]["version"] == ".".join(map(str, sys.version_info[:3]))
    # development tools are not in the bundle, so not in its SBOM
    for absent in ("pytest", "hypothesis", "pyinstaller", "cyclonedx-bom", "pip-licenses", "lxml"):
        assert release.norm(absent) not in by_name, absent
    # every shared library at the top of _internal is listed with its hash
    hashes = {c["name"]: c["hashes"][0]["content"] for c in sbom["components"] if c.get("hashes")}
    for lib in (BUNDLE / "_internal").glob("*.so*"):
        if not lib.is_symlink() and lib.is_file() and lib.name in hashes:
            assert hashes[lib.name] == release.sha256(lib)

    # notices: the LGPL's text and what it asks for Qt, and each component's licence
    notices = (BUNDLE / "THIRD-PARTY-NOTICES.txt").read_text(encoding="utf-8")
    lgpl = (ROOT / "installer" / "licenses" / "LGPL-3.0.txt").read_text(encoding="utf-8")
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in notices and lgpl.strip() in notices
    assert "GNU GENERAL PUBLIC LICENSE" in notices
    assert "Dynamic linking" in notices and "download.qt.io" in notices
    for name in REQUIRED:
        assert f"\n{metadata.metadata(name)['Name']} {metadata.version(name)}\n" in notices, name
    assert "Copyright (c) 2005-" in notices  # numpy's licence text itself

    assert (BUNDLE / "SECURITY.md").read_text(encoding="utf-8") == \
        (ROOT / "installer" / "SECURITY.md").read_text(encoding="utf-8")

    # SHA256SUMS: every file of the bundle but itself, and they verify
    listed = {line.split("  ", 1)[1] for line in
              (BUNDLE / "SHA256SUMS").read_text(encoding="utf-8").splitlines()}
    files = {p.relative_to(BUNDLE).as_posix() for p in BUNDLE.rglob("*") if p.is_file()}
    assert listed == files - {"SHA256SUMS"}
    assert release.verify_sums(BUNDLE) == []
    if shutil.which("sha256sum"):
        assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=BUNDLE).returncode == 0

    # beside the tarball: copies and the SHA256SUMS of what is shipped
    dist = ROOT / "dist"
    tarball = dist / f"FairDesk-{__version__}-linux.tar.gz"
    outer = (dist / "SHA256SUMS").read_text(encoding="utf-8")
    for name in (tarball.name, f"FairDesk-{__version__}-sbom.cdx.json", "THIRD-PARTY-NOTICES.txt",
                 "SECURITY.md", "FairDesk-bundle.SHA256SUMS"):
        assert f"  {name}\n" in outer, name
    assert release.verify_sums(dist) == []
    with tarfile.open(tarball) as tar:
        members = set(tar.getnames())
    assert {"FairDesk/SBOM.cdx.json", "FairDesk/THIRD-PARTY-NOTICES.txt", "FairDesk/SECURITY.md",
            "FairDesk/SHA256SUMS", "FairDesk/install-linux.sh"} <= members

    # the frozen program says which build it is
    r = subprocess.run([str(BUNDLE / "fairdesk-cli"), "--version"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    recorded = json.loads((BUNDLE / "_internal" / "fairdesk" / "build_info.json").read_text())
    assert r.stdout.splitlines() == [f"FairDesk {__version__}", f"built {recorded['build_date']}",
                                     f"commit {recorded['commit']}"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", recorded["build_date"])
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", recorded["commit"] or "")
