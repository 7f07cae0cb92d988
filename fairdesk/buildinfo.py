"""Which FairDesk this is: version, build date and git commit (``fairdesk-cli --version``).

A bundle carries ``build_info.json`` beside this module, written by build/fairdesk.spec at
build time (its date is ``SOURCE_DATE_EPOCH`` when set, so that two builds of one commit
agree). From a source checkout the commit is read from git when git is there; there is no
build date then. No network, no Qt.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from . import __version__

INFO_FILE = Path(__file__).with_name("build_info.json")
ROOT = Path(__file__).resolve().parent.parent


def git_commit(root: Path = ROOT) -> str | None:
    """The checkout's commit (``+dirty`` when tracked files were changed), or None without git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = head.stdout.strip()
    return commit + ("+dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")


def build_date(epoch: str | None = None) -> str:
    """The build's date (UTC, ISO 8601): ``SOURCE_DATE_EPOCH`` when set, else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH") if epoch is None else epoch
    seconds = int(epoch) if epoch and epoch.strip().isdigit() else int(time.time())
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def make_build_info(root: Path = ROOT) -> dict:
    """What the spec writes into the bundle."""
    return {"version": __version__, "build_date": build_date(), "commit": git_commit(root)}


def build_info(info_file: Path = INFO_FILE, root: Path = ROOT) -> dict:
    """The bundle's recorded identity, or (source checkout) the version and git's commit."""
    try:
        recorded = json.loads(info_file.read_text(encoding="utf-8"))
        return {"version": str(recorded["version"]), "build_date": recorded.get("build_date"),
                "commit": recorded.get("commit")}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return {"version": __version__, "build_date": None, "commit": git_commit(root)}


def version_text(info: dict | None = None) -> str:
    info = build_info() if info is None else info
    built = f"built {info['build_date']}" if info.get("build_date") else "not built (source checkout)"
    commit = f"commit {info['commit']}" if info.get("commit") else "commit unknown (no git)"
    return f"FairDesk {info['version']}\n{built}\n{commit}"
