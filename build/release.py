"""The review package of a built bundle (``make release``; the Windows workflow runs the same
two steps with the venv's python):

    python build/release.py bundle dist/FairDesk   # into the bundle: SBOM, notices, SECURITY.md, SHA256SUMS
    python build/release.py outer dist             # beside the tarball/installer: copies and SHA256SUMS
    python build/release.py tool-requirements      # what the tools' venv (.venv-release) installs

What is in the bundle is read from the bundle itself: the folders and files under
``_internal`` and the modules of the PYZ archive inside the executable. Each installed
distribution with a top-level name among them is a component. The SBOM comes from
``cyclonedx-py environment`` (filtered to those components), the licence texts from
``pip-licenses``, both run from their own venv (``TOOLS``) on this one, offline. Run with
the project venv's python.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# cyclonedx-bom and pip-licenses (pyproject's `release` extra) live in a venv of their own
# (`make release` makes .venv-release): installed in the project's venv they would bring lxml,
# which openpyxl then uses, changing the workbooks the tests compare and the bundle's content.
TOOLS = Path(os.environ.get("FAIRDESK_RELEASE_TOOLS") or
             ROOT / ".venv-release" / ("Scripts" if os.name == "nt" else "bin"))
LICENSES = ROOT / "installer" / "licenses"
SECURITY = ROOT / "installer" / "SECURITY.md"
SBOM_NAME = "SBOM.cdx.json"
NOTICES_NAME = "THIRD-PARTY-NOTICES.txt"
SUMS_NAME = "SHA256SUMS"
# files release.py writes into the bundle (the SBOM, notices and checksums never describe them)
OWN_FILES = {SBOM_NAME, NOTICES_NAME, "SECURITY.md", SUMS_NAME}


def tool(name: str) -> str:
    found = shutil.which(name, path=str(TOOLS))
    if not found:
        raise SystemExit(f"{name} is not in {TOOLS} (make release installs it; or set FAIRDESK_RELEASE_TOOLS)")
    return found


def tool_requirements() -> list[str]:
    """The `release` extra of pyproject.toml: what the tools' venv installs."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return list(project["optional-dependencies"]["release"])


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# ---------------------------------------------------------------- what the bundle holds

def _executables(bundle: Path) -> list[Path]:
    return [p for p in sorted(bundle.iterdir())
            if p.is_file() and (p.suffix.lower() == ".exe" or (p.suffix == "" and os.access(p, os.X_OK)))]


def pyz_modules(bundle: Path) -> set[str]:
    """Module names in the PYZ archive embedded in the bundle's executables."""
    from PyInstaller.archive.readers import CArchiveReader, ZlibArchiveReader

    names: set[str] = set()
    for exe in _executables(bundle):
        try:
            pkg = CArchiveReader(str(exe))
        except Exception:  # noqa: BLE001 - not a PyInstaller executable
            continue
        for entry in pkg.toc:
            if not entry.endswith(".pyz"):
                continue
            with tempfile.TemporaryDirectory() as tmp:
                pyz = Path(tmp) / "x.pyz"
                pyz.write_bytes(pkg.extract(entry))
                names.update(ZlibArchiveReader(str(pyz)).toc)
    if not names:
        raise SystemExit(f"no PYZ archive found in the executables of {bundle}")
    return names


def bundle_top_names(bundle: Path) -> set[str]:
    """Top-level import names (and .libs folders) present in the bundle."""
    internal = bundle / "_internal"
    tops = {m.split(".")[0] for m in pyz_modules(bundle)}
    for p in internal.iterdir():
        tops.add(p.name.split(".")[0] if p.is_file() else p.name)
        if p.name.endswith(".libs"):
            tops.add(p.name)
    return tops


def _dist_tops(dist: metadata.Distribution) -> set[str]:
    tops = set()
    for f in dist.files or ():
        first = f.parts[0]
        if first.endswith((".dist-info", ".egg-info", ".data")) or first in ("..", "__pycache__"):
            continue
        if len(f.parts) == 1:
            if f.suffix in (".py", ".so", ".pyd") or ".cpython-" in first:
                tops.add(first.split(".")[0])
        else:
            tops.add(first)
    top_level = dist.read_text("top_level.txt") or ""
    tops.update(t.strip() for t in top_level.split() if t.strip())
    return tops


def bundled_distributions(bundle: Path) -> list[metadata.Distribution]:
    """The installed distributions some of whose top-level names are in the bundle."""
    present = bundle_top_names(bundle)
    found = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name or norm(name) in found:
            continue
        if norm(name) == "fairdesk" or _dist_tops(dist) & present:
            found[norm(name)] = dist
    return [found[k] for k in sorted(found)]


def _owned_files(dists) -> set[str]:
    return {Path(f).name for d in dists for f in (d.files or ())}


def system_libraries(bundle: Path, dists) -> list[dict]:
    """Shared libraries at the top of ``_internal`` that no Python distribution installed:
    PyInstaller copied them from the build machine (Linux: the OS packages Qt's plugins and
    Python's modules link to; Windows: the DLLs of the Python installation). Each with its
    SHA-256 and, where dpkg knows the file, its package, version and copyright file."""
    owned = _owned_files(dists)
    libs = []
    for p in sorted((bundle / "_internal").iterdir()):
        if p.is_symlink() or not p.is_file() or p.name in owned:
            continue
        if not (".so" in p.name or p.suffix.lower() in (".dll", ".pyd", ".dylib")):
            continue
        digest = sha256(p)
        origin = None
        for folder in (Path(sys.base_prefix), Path(sys.base_prefix) / "DLLs",
                       Path(sys.base_prefix) / "lib", Path("/lib/x86_64-linux-gnu"),
                       Path("/usr/lib/x86_64-linux-gnu"), Path("/lib64"), Path("/usr/lib64"),
                       Path("/usr/lib"), Path("/lib")):
            cand = folder / p.name
            if cand.is_file() and sha256(cand) == digest:
                origin = cand
                break
        libs.append({"file": p.name, "sha256": digest, "origin": origin})
    _dpkg_owners(libs)
    return libs


def _dpkg_owners(libs: list[dict]) -> None:
    """Fill ``package``, ``version`` and ``copyright`` from dpkg where it is there."""
    def usr(origin: Path) -> str:  # merged /usr: dpkg knows /usr/lib/... for /lib/...
        return str(Path("/usr") / origin.relative_to("/")) if origin.is_absolute() else str(origin)

    paths = sorted({p for lib in libs if lib["origin"] is not None
                    for p in (str(lib["origin"]), usr(lib["origin"]))})
    if not paths or not shutil.which("dpkg-query"):
        return
    r = subprocess.run(["dpkg-query", "-S", *paths], capture_output=True, text=True)
    owner = {}
    for line in r.stdout.splitlines():
        pkg, _, path = line.partition(": ")
        owner[path.strip()] = pkg.split(",")[0].strip()
    for lib in libs:
        origin = lib["origin"]
        if origin is None:
            continue
        pkg = owner.get(str(origin)) or owner.get(usr(origin))
        if not pkg:
            continue
        v = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
        lib["package"], lib["version"] = pkg, v.stdout.strip() or None
        copyright_file = Path("/usr/share/doc") / pkg.split(":")[0] / "copyright"
        lib["copyright"] = copyright_file if copyright_file.is_file() else None


def _library_component(lib: dict) -> dict:
    comp = {"type": "library", "bom-ref": f"file:{lib['file']}", "name": lib["file"],
            "hashes": [{"alg": "SHA-256", "content": lib["sha256"]}]}
    if lib.get("package"):
        comp["version"] = lib.get("version") or ""
        comp["description"] = f"from the Debian/Ubuntu package {lib['package']} of the build machine"
        comp["purl"] = f"pkg:deb/{lib['package'].split(':')[0]}@{lib.get('version') or ''}"
        comp["licenses"] = [{"license": {"name": f"see /usr/share/doc/{lib['package'].split(':')[0]}/copyright "
                                                 "(in THIRD-PARTY-NOTICES.txt)"}}]
    elif lib["file"].lower().startswith(("libpython", "python")) or (
            lib["origin"] is not None and str(lib["origin"]).startswith(sys.base_prefix)):
        comp["description"] = "from the Python installation (CPython)"
        comp["licenses"] = [{"license": {"id": "PSF-2.0"}}]
    else:
        comp["description"] = "copied by PyInstaller from the build machine; origin not identified"
        comp["licenses"] = [{"license": {"name": "UNKNOWN"}}]
    return comp


# ---------------------------------------------------------------- SBOM

def _python_component() -> dict:
    version = platform.python_version()
    return {"type": "application", "bom-ref": f"cpython=={version}", "name": "CPython",
            "version": version, "licenses": [{"license": {"id": "PSF-2.0"}}],
            "purl": f"pkg:generic/cpython@{version}",
            "description": "The Python interpreter and standard library the bundle carries",
            "externalReferences": [{"type": "website", "url": "https://www.python.org/"}]}


def make_sbom(dists: list[metadata.Distribution], licenses: dict[str, dict], libs=()) -> dict:
    """cyclonedx-py's SBOM of this environment, kept to the bundled distributions."""
    wanted = {norm(d.metadata["Name"]) for d in dists}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "env.cdx.json"
        subprocess.run([tool("cyclonedx-py"), "environment", "--of", "JSON",
                        "--output-reproducible", "--mc-type", "application",
                        "--pyproject", str(ROOT / "pyproject.toml"), "-o", str(out), sys.executable],
                       check=True)
        bom = json.loads(out.read_text(encoding="utf-8"))
    kept, refs = [], set()
    for comp in bom.get("components", []):
        if norm(comp["name"]) in wanted:
            if not comp.get("licenses"):  # no licence in the metadata: pip-licenses' reading
                lic = licenses.get(norm(comp["name"]), {}).get("License", "UNKNOWN")
                comp["licenses"] = [{"license": {"name": lic}}]
            kept.append(comp)
            refs.add(comp.get("bom-ref"))
    missing = wanted - {norm(c["name"]) for c in kept} - {"fairdesk"}
    if missing:
        raise SystemExit(f"cyclonedx-py did not list {sorted(missing)}")
    kept.append(_python_component())
    refs.add(kept[-1]["bom-ref"])
    bom["components"] = sorted(kept, key=lambda c: norm(c["name"]))
    bom["components"] += [_library_component(lib) for lib in libs]
    from fairdesk import __version__  # pyproject's version is dynamic: cyclonedx-py leaves it out
    root = bom.setdefault("metadata", {}).setdefault("component", {"type": "application", "name": "fairdesk"})
    root["version"] = __version__
    root_ref = root.get("bom-ref")
    deps = []
    for dep in bom.get("dependencies", []):
        if dep["ref"] in refs or dep["ref"] == root_ref:
            dep = {**dep, "dependsOn": sorted(d for d in dep.get("dependsOn", []) if d in refs)}
            deps.append(dep)
    bom["dependencies"] = sorted(deps, key=lambda d: d["ref"])
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        bom.setdefault("metadata", {})["timestamp"] = time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))
    return bom


# ---------------------------------------------------------------- licence texts

def licence_texts(dists: list[metadata.Distribution]) -> dict[str, dict]:
    names = [d.metadata["Name"] for d in dists if norm(d.metadata["Name"]) != "fairdesk"]
    r = subprocess.run([tool("pip-licenses"), "--python", sys.executable, "--format=json", "--with-urls",
                        "--with-license-file", "--with-notice-file", "--no-license-path",
                        "--packages", *names], check=True, capture_output=True, text=True)
    return {norm(e["Name"]): e for e in json.loads(r.stdout)}


def _python_licence_text() -> str:
    for base in (sys.base_prefix, sysconfig.get_paths()["stdlib"]):
        for name in ("LICENSE.txt", "LICENSE"):
            p = Path(base) / name
            if p.is_file():
                return p.read_text(encoding="utf-8", errors="replace")
    raise SystemExit("the Python licence (LICENSE.txt) was not found beside this interpreter")


def make_notices(dists, licenses: dict[str, dict], libs=()) -> str:
    pyside = next((d.version for d in dists if norm(d.metadata["Name"]) == "pyside6-essentials"), None)
    if pyside is None:
        raise SystemExit("PySide6-Essentials is not in the bundle")
    minor = ".".join(pyside.split(".")[:2])
    rule = "=" * 78
    parts = [
        "FairDesk: third-party notices",
        "",
        "FairDesk's bundle contains the components listed below, each under its own licence,",
        "whose text follows. SBOM.cdx.json lists the same components (CycloneDX).",
        "",
        rule,
        f"Qt for Python (PySide6-Essentials {pyside}, shiboken6) and the Qt {minor} libraries",
        rule,
        "",
        "FairDesk uses Qt and PySide6 under the GNU Lesser General Public License version 3",
        "(LGPL-3.0-only), whose text and that of the GNU General Public License version 3 it",
        "supplements follow below.",
        "",
        "- Dynamic linking: the Qt and PySide6 libraries are separate shared libraries in the",
        "  bundle (_internal/PySide6, _internal/shiboken6: Qt6*.dll / libQt6*.so.6, the PySide6",
        "  and shiboken6 modules). FairDesk's own code does not contain them and is not linked",
        "  statically to them; they are loaded at run time.",
        "- Replacing them: you may replace those files with a modified build of the same",
        "  versions (same ABI) and FairDesk will use it. Nothing in FairDesk prevents this",
        "  (no signature check on these libraries).",
        "- Source code: Qt for Python",
        f"  https://download.qt.io/official_releases/QtForPython/pyside6/ (PySide6-{pyside}-src),",
        f"  git: https://code.qt.io/cgit/pyside/pyside-setup.git (tag v{pyside});",
        f"  Qt: https://download.qt.io/official_releases/qt/{minor}/ and https://code.qt.io/",
        "  (the wheels on PyPI are built from these unmodified sources). On request, whoever",
        "  gave you FairDesk provides a copy of that source for at least three years.",
        "",
        "-" * 78,
        (LICENSES / "LGPL-3.0.txt").read_text(encoding="utf-8"),
        "-" * 78,
        (LICENSES / "GPL-3.0.txt").read_text(encoding="utf-8"),
        "",
        rule,
        f"CPython {platform.python_version()} (the Python interpreter and standard library)",
        rule,
        "",
        _python_licence_text(),
    ]
    for dist in dists:
        key = norm(dist.metadata["Name"])
        if key == "fairdesk":
            continue
        info = licenses.get(key, {})
        text = info.get("LicenseText", "UNKNOWN")
        notice = info.get("NoticeText", "UNKNOWN")
        parts += ["", rule, f"{dist.metadata['Name']} {dist.version}", rule,
                  f"Licence: {info.get('License', 'UNKNOWN')}",
                  f"Home page: {info.get('URL', 'UNKNOWN')}", ""]
        if text in ("", "UNKNOWN"):
            parts.append("(The distribution carries no licence file; its licence is named above.)")
        else:
            parts.append(text.rstrip())
        if notice not in ("", "UNKNOWN"):
            parts += ["", "NOTICE:", notice.rstrip()]
    packages = {}
    for lib in libs:
        if lib.get("package"):
            packages.setdefault((lib["package"], lib.get("version"), lib.get("copyright")), []).append(lib["file"])
    others = [lib["file"] for lib in libs if not lib.get("package")]
    if libs:
        parts += ["", rule, "System libraries copied into the bundle by PyInstaller", rule, "",
                  "Shared libraries that Qt's plugins and Python's modules link to, copied from",
                  "the build machine (SBOM.cdx.json lists each file with its SHA-256)."]
        if others:
            parts += ["", "From the Python installation or not identified by a package manager "
                      "(the CPython licence above covers the Python installation's files):",
                      *[f"  {name}" for name in others]]
    for (pkg, version, copyright_file), files in sorted(packages.items(), key=lambda kv: kv[0][0]):
        parts += ["", "-" * 78, f"{pkg} {version or ''}: {', '.join(files)}", "-" * 78, ""]
        parts.append(copyright_file.read_text(encoding="utf-8", errors="replace").rstrip()
                     if copyright_file else "(no copyright file found for this package)")
    return "\n".join(parts).replace("\r\n", "\n") + "\n"


# ---------------------------------------------------------------- checksums

def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_sums(folder: Path, files: list[Path]) -> Path:
    """``SHA256SUMS`` in ``sha256sum`` format (``<hash>  <path>``, '/' separators), sorted."""
    lines = sorted(f"{sha256(f)}  {f.relative_to(folder).as_posix()}" for f in files)
    out = folder / SUMS_NAME
    out.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
    return out


def verify_sums(folder: Path) -> list[str]:
    """The problems found checking ``folder/SHA256SUMS`` (empty when every file matches)."""
    problems = []
    for line in (folder / SUMS_NAME).read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        path = folder / name
        if not path.is_file():
            problems.append(f"missing: {name}")
        elif sha256(path) != digest:
            problems.append(f"changed: {name}")
    return problems


# ---------------------------------------------------------------- the two steps

def package_bundle(bundle: Path) -> None:
    if not (bundle / "_internal").is_dir():
        raise SystemExit(f"{bundle} is not a one-folder bundle (make bundle)")
    dists = bundled_distributions(bundle)
    licenses = licence_texts(dists)
    libs = system_libraries(bundle, dists)
    sbom = make_sbom(dists, licenses, libs)
    (bundle / SBOM_NAME).write_text(json.dumps(sbom, indent=2, sort_keys=True) + "\n",
                                    encoding="utf-8", newline="\n")
    (bundle / NOTICES_NAME).write_text(make_notices(dists, licenses, libs), encoding="utf-8", newline="\n")
    shutil.copyfile(SECURITY, bundle / "SECURITY.md")
    files = [p for p in bundle.rglob("*") if p.is_file() and p.relative_to(bundle).as_posix() != SUMS_NAME]
    write_sums(bundle, files)
    print(f"{bundle}: {len(sbom['components'])} components in {SBOM_NAME}, {len(files)} files in {SUMS_NAME}")


def package_outer(dist: Path) -> None:
    """Copies of the SBOM, notices and SECURITY.md beside the tarball/installer, and a
    SHA256SUMS of everything shipped there."""
    bundle = dist / "FairDesk"
    from fairdesk import __version__
    copies = {SBOM_NAME: f"FairDesk-{__version__}-sbom.cdx.json", NOTICES_NAME: NOTICES_NAME,
              "SECURITY.md": "SECURITY.md", SUMS_NAME: "FairDesk-bundle.SHA256SUMS"}
    for src, dst in copies.items():
        shutil.copyfile(bundle / src, dist / dst)
    shipped = [dist / d for d in copies.values()]
    shipped += sorted(p for p in dist.iterdir() if p.is_file() and re.fullmatch(
        r"FairDesk-.*-(linux\.tar\.gz|setup\.exe)", p.name))
    write_sums(dist, shipped)
    print(f"{dist / SUMS_NAME}: " + ", ".join(p.name for p in sorted(shipped)))


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["tool-requirements"]:
        print("\n".join(tool_requirements()))
        return 0
    if len(argv) != 2 or argv[0] not in ("bundle", "outer"):
        print(__doc__)
        return 2
    sys.path.insert(0, str(ROOT))
    (package_bundle if argv[0] == "bundle" else package_outer)(Path(argv[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
