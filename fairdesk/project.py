"""Project files (``.fairdesk``): an analysis saved as JSON so that it can be reopened.

A project records the input file's path and SHA-256, the sheet, the column mapping, every
page's settings and every seed. Reopening with the same input reproduces the same numbers;
a changed input (another hash) is reported, never silently used.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import __version__
from .errors import DataError, FairDeskError

FORMAT = "fairdesk-project"
FORMAT_VERSION = 1


@dataclass
class Project:
    input_path: str
    input_sha256: str
    mapping: dict
    sheet: str | int | None = None
    invalid_scores: str = "exclude"
    min_group_size: int = 30
    settings: dict = field(default_factory=dict)  # page key -> that page's settings
    seeds: dict = field(default_factory=dict)
    scenarios: list = field(default_factory=list)
    notes: str = ""
    app_version: str = __version__

    def to_json(self) -> dict:
        d = asdict(self)
        d["format"] = FORMAT
        d["format_version"] = FORMAT_VERSION
        return d


def save_project(project: Project, path) -> Path:
    """Write atomically (temporary file, then rename); the input file is never the target."""
    path = Path(path)
    if path.suffix.lower() != ".fairdesk":
        path = path.with_suffix(path.suffix + ".fairdesk") if path.suffix else path.with_suffix(".fairdesk")
    if Path(project.input_path).exists() and path.exists() and os.path.samefile(path, project.input_path):
        raise FairDeskError("FairDesk never overwrites its input file; choose another name.")
    d = project.to_json()
    d["input_relative"] = os.path.relpath(project.input_path, path.resolve().parent) \
        if os.path.isabs(project.input_path) else project.input_path
    text = json.dumps(d, indent=2, ensure_ascii=False, default=_jsonable)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.resolve().parent, prefix=".~", suffix=".fairdesk")
    except OSError as err:
        raise FairDeskError(f"Cannot write in the folder of {path.name}: {err.strerror}.") from err
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except PermissionError as err:
        _remove(tmp)
        raise FairDeskError(f"{path.name} is read-only or open in another program; "
                            "close it or choose another name.") from err
    except BaseException:
        _remove(tmp)
        raise
    return path


def _remove(p):
    try:
        os.remove(p)
    except OSError:
        pass


def _jsonable(x):
    if hasattr(x, "item"):
        return x.item()
    if hasattr(x, "tolist"):
        return x.tolist()
    raise TypeError(f"cannot save {type(x).__name__} in a project")


def load_project(path) -> Project:
    path = Path(path)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise DataError(f"The project {path.name} does not exist.") from err
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"{path.name} is not a readable FairDesk project ({err}).") from err
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise DataError(f"{path.name} is not a FairDesk project file.")
    if int(d.get("format_version", 0)) > FORMAT_VERSION:
        raise DataError(f"{path.name} was saved by a newer FairDesk ({d.get('app_version')}); "
                        "update FairDesk to open it.")
    fields = Project.__dataclass_fields__
    p = Project(**{k: v for k, v in d.items() if k in fields})
    # The input may have moved together with the project: try the relative path too.
    if not Path(p.input_path).exists() and d.get("input_relative"):
        candidate = (path.resolve().parent / d["input_relative"]).resolve()
        if candidate.exists():
            p.input_path = str(candidate)
    return p


def check_input(project: Project) -> str | None:
    """None when the input file is there and unchanged; otherwise what is wrong."""
    from .io.loading import file_sha256

    src = Path(project.input_path)
    if not src.exists():
        return (f"The project's input file {src} is not there. Locate it (File ▸ Open) or put "
                "it back where it was.")
    digest = file_sha256(src)
    if digest != project.input_sha256:
        return (f"The input file {src.name} has changed since the project was saved (its SHA-256 "
                f"was {project.input_sha256[:12]}…, now {digest[:12]}…). The numbers would differ "
                "from the saved analysis.")
    return None
