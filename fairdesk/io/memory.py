"""Will a file fit in memory? A clear message before loading, not a crash during it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import DataError

# Bytes of memory per byte of file, measured on typical score files (numbers and short
# group labels): pandas keeps text columns as Python strings, the analysis adds sorted
# copies. Spreadsheets are compressed, so their factor is larger.
FACTOR = {"text": 6.0, "spreadsheet": 30.0}


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation, or None when it cannot be told."""
    try:
        if sys.platform.startswith("linux"):
            with open("/proc/meminfo", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("MemAvailable:"):
                        return int(line.split()[1]) * 1024
        elif sys.platform == "win32":
            import ctypes

            class MEMORYSTATUSEX(ctypes.Structure):
                _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong),
                            ("ullTotalPhys", ctypes.c_ulonglong), ("ullAvailPhys", ctypes.c_ulonglong),
                            ("ullTotalPageFile", ctypes.c_ulonglong), ("ullAvailPageFile", ctypes.c_ulonglong),
                            ("ullTotalVirtual", ctypes.c_ulonglong), ("ullAvailVirtual", ctypes.c_ulonglong),
                            ("sullAvailExtendedVirtual", ctypes.c_ulonglong)]
            status = MEMORYSTATUSEX()
            status.dwLength = ctypes.sizeof(MEMORYSTATUSEX)
            if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
                return int(status.ullAvailPhys)
        elif hasattr(os, "sysconf"):
            return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (OSError, ValueError, AttributeError):
        return None
    return None


def estimated_memory(path) -> int:
    p = Path(path)
    kind = "spreadsheet" if p.suffix.lower() in (".xlsx", ".xlsm", ".ods", ".xls") else "text"
    return int(p.stat().st_size * FACTOR[kind])


def check_fits(path, available: int | None = None) -> None:
    """Raise DataError when loading ``path`` would need more memory than is available."""
    p = Path(path)
    if not p.is_file():
        return  # the loader gives the precise message
    need = estimated_memory(p)
    free = available_memory() if available is None else available
    if free is not None and need > free:
        gb = 1024 ** 3
        raise DataError(
            f"{p.name} ({p.stat().st_size / gb:.1f} GB) would need about {need / gb:.1f} GB of memory to "
            f"analyse, but this computer has {free / gb:.1f} GB free. Close other programs, or split the "
            "file (for example by year) or keep only the columns FairDesk needs, and open it again.")
