"""The Windows version resource of FairDesk.exe and fairdesk-cli.exe, generated from the
package version (PyInstaller's version-file format; build/fairdesk.spec writes one per
program into the work folder). Importable without Windows: tests/test_release.py parses it back.
"""

from __future__ import annotations

import re

COMPANY = "FairDesk"
PRODUCT = "FairDesk"
COPYRIGHT = "FairDesk contributors"


def version_tuple(version: str) -> tuple[int, int, int, int]:
    """'1.2.3' -> (1, 2, 3, 0); pre-release or local parts are dropped (a Windows file
    version is four 16-bit numbers)."""
    release = re.match(r"\d+(?:\.\d+)*", version.strip())
    if not release:
        raise ValueError(f"no version number in {version!r}")
    numbers = [int(n) for n in release.group(0).split(".")[:4]]
    return tuple((numbers + [0, 0, 0, 0])[:4])


def version_file_text(version: str, exe_name: str, description: str) -> str:
    """The text of a PyInstaller version file (a VSVersionInfo expression)."""
    nums = version_tuple(version)
    dotted = ".".join(str(n) for n in nums)
    strings = [("CompanyName", COMPANY), ("FileDescription", description),
               ("FileVersion", dotted), ("InternalName", exe_name),
               ("LegalCopyright", COPYRIGHT), ("OriginalFilename", f"{exe_name}.exe"),
               ("ProductName", PRODUCT), ("ProductVersion", version)]
    string_structs = ",\n".join(f"          StringStruct({k!r}, {v!r})" for k, v in strings)
    return f"""# UTF-8
VSVersionInfo(
  ffi=FixedFileInfo(filevers={nums!r}, prodvers={nums!r}, mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([
      StringTable('040904B0', [
{string_structs}
      ])
    ]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""
