"""Output files never destroy data.

FairDesk replaces an existing file only when it is a file FairDesk wrote (a workbook with
FairDesk's About sheet and creator mark, a CSV starting with the same header FairDesk
writes, a FairDesk project) or when the analyst said so: ``--force`` on the command line,
the overwrite question of the window's save dialog. An output is never one of the inputs,
however the path is spelled (links included). Qt-free and without openpyxl: the command
line checks its outputs before any computation starts.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import threading
import zipfile
from pathlib import Path

from ..errors import FairDeskError

WORKBOOK_CREATOR = "FairDesk"
ABOUT_SHEET = "About this workbook"
_MARK_BYTES = 1 << 20  # the parts that carry the mark are a few KB
_PROJECT_MAX_BYTES = 50 * 1024 * 1024

# What each kind of output may be called.
EXTENSIONS = {
    "workbook": (".xlsx",),
    "csv": (".csv",),
    "rows": (".csv", ".xlsx"),
    "project": (".fairdesk",),
}
_KIND_NAMES = {"workbook": "an Excel workbook (.xlsx)", "csv": "a CSV file (.csv)",
               "rows": "a CSV file (.csv) or an Excel workbook (.xlsx)",
               "project": "a FairDesk project (.fairdesk)"}

_confirmed: set[str] = set()
_confirmed_lock = threading.Lock()


def _key(path) -> str:
    return os.path.normcase(os.path.realpath(os.path.abspath(os.fspath(path))))


def confirm_replace(path) -> None:
    """The analyst agreed to replace ``path`` (``--force``, or the save dialog's question)."""
    with _confirmed_lock:
        _confirmed.add(_key(path))


def replace_confirmed(path) -> bool:
    with _confirmed_lock:
        return _key(path) in _confirmed


def forget_confirmation(path) -> None:
    with _confirmed_lock:
        _confirmed.discard(_key(path))


def same_file(a, b) -> bool:
    """Whether two paths name the same file: the same inode (hard links), the same target
    (symbolic links), or the same spelling once normalised (for files not there yet)."""
    a, b = Path(os.fspath(a)), Path(os.fspath(b))
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return _key(a) == _key(b)


def check_extension(path, kind: str, option: str | None = None) -> None:
    suffix = Path(os.fspath(path)).suffix.lower()
    if suffix not in EXTENSIONS[kind]:
        what = f"{option} '{path}'" if option else f"“{path}”"
        wanted = " or ".join(EXTENSIONS[kind])
        raise FairDeskError(f"{what}: FairDesk writes {_KIND_NAMES[kind]} here, so the name must "
                            f"end in {wanted}. Choose a name ending in {wanted}.")


def too_long(path) -> bool:
    """Whether the operating system refuses the path (or one of its names) as too long."""
    try:
        os.stat(os.fspath(path))
    except OSError as err:
        return err.errno == errno.ENAMETOOLONG or getattr(err, "winerror", None) == 206
    return False


def write_error_message(err: OSError, target) -> str:
    """A message for an OSError raised while writing ``target``."""
    if isinstance(err, PermissionError):
        return (f"“{target}” is open in another program (Excel?) or read-only, or the folder "
                "may not be written to; close the file or choose another name or folder.")
    if err.errno == errno.ENOSPC or getattr(err, "winerror", None) == 112:
        return (f"Could not write “{target}”: the disk is full. Free some space or choose "
                "another drive; the previous file, if any, is unchanged.")
    if err.errno == errno.ENAMETOOLONG or getattr(err, "winerror", None) == 206:
        return (f"Could not write “{target}”: the path is too long for this computer. Choose "
                "a shorter file name or a folder nearer the top of the drive.")
    if err.errno == errno.EROFS:
        return f"Could not write “{target}”: the drive is read-only; choose another folder."
    return f"Could not write “{target}”: {err.strerror or err}."


def is_fairdesk_workbook(path) -> bool:
    """A workbook FairDesk wrote: FairDesk as creator and the About sheet."""
    try:
        with zipfile.ZipFile(os.fspath(path)) as archive:
            core = _member(archive, "docProps/core.xml")
            book = _member(archive, "xl/workbook.xml")
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return False
    # openpyxl writes the namespace on the element or on the root, depending on whether
    # lxml is installed: accept both
    creator = re.search(rb"<dc:creator(?:\s[^>]*)?>" + WORKBOOK_CREATOR.encode() + rb"</dc:creator>",
                        core)
    return creator is not None and f'name="{ABOUT_SHEET}"'.encode() in book


def _member(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return b""
    if info.file_size > _MARK_BYTES:
        return b""
    with archive.open(info) as part:
        return part.read(_MARK_BYTES)


def is_fairdesk_csv(path, header_line: str) -> bool:
    """A CSV FairDesk wrote: UTF-8 with BOM, and exactly the header FairDesk writes now."""
    expected = ("\ufeff" + header_line).encode("utf-8")
    try:
        with open(os.fspath(path), "rb") as fh:
            head = fh.read(len(expected) + 2)
    except OSError:
        return False
    return head.startswith(expected) and head[len(expected):len(expected) + 1] in (b"\r", b"\n")


def is_fairdesk_project(path) -> bool:
    """A FairDesk project: a JSON object whose "format" is "fairdesk-project"."""
    try:
        if os.path.getsize(path) > _PROJECT_MAX_BYTES:
            return False
        with open(os.fspath(path), "rb") as fh:
            d = json.loads(fh.read().decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(d, dict) and d.get("format") == "fairdesk-project"


def check_replace(target, ours, *, force: bool = False, option: str | None = None) -> None:
    """Refuse to replace an existing ``target`` that ``ours(target)`` does not recognise as a
    file FairDesk wrote, unless the analyst confirmed it."""
    target = Path(os.fspath(target))
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return  # not there (or not reachable): nothing to replace; the writer reports the rest
    if stat.S_ISDIR(mode):
        return  # the writers say "is a folder"
    if not stat.S_ISREG(mode):  # a pipe or device: never opened to look, never replaced
        raise FairDeskError(f"“{target}” is not an ordinary file (a pipe or device), so FairDesk "
                            "does not write there. Choose a file name in a folder.")
    if force or replace_confirmed(target) or ours(target):
        return
    what = f"{option} “{target}”" if option else f"“{target}”"
    raise FairDeskError(
        f"{what} already exists and is not a file FairDesk wrote, so FairDesk does not replace "
        "it. Choose another name; or, if that file may be lost, give --force on the command "
        "line (the window asks first).")
