"""Compare two one-folder bundles of the same commit (issue 19, reproducible builds):

    python build/compare_builds.py dist-a/FairDesk dist-b/FairDesk

Prints the files whose SHA-256 differ, by kind (Python code and data, binaries), and, for
each executable that differs, which of its embedded entries differ (the PYZ's modules
compared one by one). Exit 0 when every Python code and data file is identical.
Run with the venv's python (it reads PyInstaller archives).
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

BINARY_SUFFIXES = (".so", ".dll", ".pyd", ".exe", ".dylib")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha(p.read_bytes())
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def is_binary(name: str, root: Path) -> bool:
    base = name.rsplit("/", 1)[-1]
    if any(s in base for s in BINARY_SUFFIXES):
        return True
    head = (root / name).read_bytes()[:4]
    return head == b"\x7fELF" or head[:2] == b"MZ"


def archive_entries(exe: Path) -> dict[str, str]:
    """The executable's embedded entries (PKG) and the PYZ's modules, each with its hash."""
    from PyInstaller.archive.readers import CArchiveReader, ZlibArchiveReader

    out = {}
    pkg = CArchiveReader(str(exe))
    for name in pkg.toc:
        data = pkg.extract(name)
        if data is None:
            continue
        out[name] = sha(data)
        if name.endswith(".pyz"):
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "x.pyz"
                path.write_bytes(data)
                pyz = ZlibArchiveReader(str(path))
                for module in pyz.toc:
                    code = pyz.extract(module, raw=True)
                    out[f"{name}:{module}"] = sha(code if isinstance(code, bytes) else repr(code).encode())
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__)
        return 2
    a, b = Path(argv[0]), Path(argv[1])
    fa, fb = files(a), files(b)
    only = sorted(set(fa) ^ set(fb))
    differ = sorted(n for n in set(fa) & set(fb) if fa[n] != fb[n])
    binaries = [n for n in differ if is_binary(n, a)]
    other = [n for n in differ if n not in binaries]
    print(f"{len(fa)} files; {len(differ)} differ: {len(other)} Python code/data, {len(binaries)} binary; "
          f"{len(only)} in one build only")
    for n in only:
        print(f"  only in one: {n}")
    for n in other:
        print(f"  code/data differs: {n}")
    for n in binaries:
        print(f"  binary differs: {n}")
        try:
            ea, eb = archive_entries(a / n), archive_entries(b / n)
        except Exception as err:  # noqa: BLE001 - not a PyInstaller executable
            print(f"    (not a PyInstaller archive: {type(err).__name__})")
            continue
        inner = sorted(k for k in set(ea) | set(eb) if ea.get(k) != eb.get(k))
        print(f"    {len(ea)} embedded entries; differing: {inner or 'none (only the outer file)'}")
    return 0 if not other and not only else 1


if __name__ == "__main__":
    raise SystemExit(main())
