"""Project files (``.fairdesk``): an analysis saved as JSON so that it can be reopened.

A project records the input file's path and SHA-256, the sheet, the column mapping, every
page's settings and every seed. Reopening with the same input reproduces the same numbers;
a changed input (another hash) is reported, never silently used.
"""

from __future__ import annotations

import errno
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
    invalid_scores: str = "auto"
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


def save_project(project: Project, path, *, force: bool = False) -> Path:
    """Write atomically (temporary file, then rename); the input file is never the target.

    An existing file that is not a FairDesk project is replaced only with ``force`` (the
    window's save dialog has asked). Every failure is a FairDeskError whose message says
    what to do; the previous file stays as it was.
    """
    from .io.outputs import check_replace, is_fairdesk_project, same_file, too_long, \
        write_error_message

    path = Path(path)
    if path.suffix.lower() != ".fairdesk":
        path = path.with_suffix(path.suffix + ".fairdesk") if path.suffix else path.with_suffix(".fairdesk")
    if too_long(path):
        raise FairDeskError(write_error_message(OSError(errno.ENAMETOOLONG, "too long"), path))
    if project.input_path and same_file(path, project.input_path):
        raise FairDeskError("FairDesk never overwrites its input file; choose another name.")
    if path.is_dir():
        raise FairDeskError(f"“{path}” is a folder; choose a file name for the project.")
    if not path.absolute().parent.is_dir():
        raise FairDeskError(f"The folder “{path.absolute().parent}” does not exist; choose another "
                            "folder.")
    check_replace(path, is_fairdesk_project, force=force)
    d = project.to_json()
    try:
        d["input_relative"] = os.path.relpath(project.input_path, path.resolve().parent) \
            if os.path.isabs(project.input_path) else project.input_path
    except ValueError:  # Windows: the input is on another drive
        d["input_relative"] = None
    try:
        text = json.dumps(_finite(d), indent=2, ensure_ascii=False, default=_jsonable,
                          allow_nan=False)
    except (TypeError, ValueError) as err:  # a setting no project can hold: a bug, explained
        import logging
        logging.getLogger("fairdesk").error("a project setting could not be written",
                                            exc_info=True)
        raise FairDeskError(f"The project could not be saved: a setting cannot be written "
                            f"({type(err).__name__}). The previous file, if any, is unchanged; "
                            "the details are in the log.") from err
    try:
        fd, tmp = tempfile.mkstemp(dir=path.absolute().parent, prefix=".~", suffix=".fairdesk")
    except OSError as err:
        raise FairDeskError(write_error_message(err, path)) from None
    try:
        handle = os.fdopen(fd, "w", encoding="utf-8")
        try:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            try:
                handle.close()
            except OSError:  # the write's own error is the one reported
                pass
        os.replace(tmp, path)
    except OSError as err:
        _remove(tmp)
        raise FairDeskError(write_error_message(err, path)) from None
    except BaseException:
        _remove(tmp)
        raise
    return path


def _remove(p):
    try:
        os.remove(p)
    except OSError:
        pass


def _finite(x):
    """The project's settings with NaN and infinities as null (JSON has no such numbers, and
    a project holding them would be refused when opened)."""
    import math

    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    if hasattr(x, "tolist") and not isinstance(x, (str, bytes)):
        return _finite(x.tolist())
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _jsonable(x):
    if hasattr(x, "item"):
        return x.item()
    if hasattr(x, "tolist"):
        return x.tolist()
    raise TypeError(f"cannot save {type(x).__name__} in a project")


# ----------------------------------------------------------------------------- reading

MAX_BYTES = 50 * 1024 * 1024  # a project holds settings, never data: a few KB to a few MB
MAX_DEPTH = 32  # nesting of lists and objects
MAX_INT_DIGITS = 19  # |n| < 2**63
DATA_EXTENSIONS = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".ods", ".xls")
INVALID_SCORE_POLICIES = ("auto", "exclude", "refuse")


class _Refused(Exception):
    """A value the project schema does not allow (the message says where and why)."""


def _where(path: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p))
                   for i, p in enumerate(path)) or "the file"


def _no_constant(name: str):
    raise _Refused(f"it contains {name}, which is not a number a project can hold")


def _checked_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"it contains a whole number with {len(text.lstrip('-'))} digits, far "
                       "larger than any setting")
    return int(text)


def _checked_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Refused(f"it contains the number {text[:30]}, too large for a computer to hold")
    return value


def _check_depth(value, path=(), depth=0) -> None:
    if depth > MAX_DEPTH:
        raise _Refused(f"{_where(path)} is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_depth(v, path + (k,), depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_depth(v, path + (i,), depth + 1)


def _expect(value, types, path, what, *, none=False):
    if value is None and none:
        return value
    if isinstance(value, bool) and bool not in types:
        raise _Refused(f"{_where(path)} must be {what}, not true/false")
    if not isinstance(value, types):
        raise _Refused(f"{_where(path)} must be {what}, not {_json_type(value)}")
    return value


def _json_type(value) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _text(value, path, *, none=False, limit=32_767):
    _expect(value, (str,), path, "text", none=none)
    if value is not None and len(value) > limit:
        raise _Refused(f"{_where(path)} is {len(value):,} characters long (at most {limit:,})")
    return value


def _int(value, path, lo, hi, *, none=False):
    _expect(value, (int,), path, "a whole number", none=none)
    if value is not None and not lo <= value <= hi:
        raise _Refused(f"{_where(path)} is {value:,}; it must be from {lo:,} to {hi:,}")
    return value


def _mapping(d, path) -> None:
    from .schema import ColumnMapping

    _expect(d, (dict,), path, "an object (the column mapping)")
    known = ColumnMapping.__dataclass_fields__
    unknown = [k for k in d if k not in known]
    if unknown:
        raise _Refused(f"{_where(path)} has unknown entries ({', '.join(map(str, unknown[:5]))})")
    for key in ("score", "label", "id", "household", "weight", "split"):
        if key in d:
            _text(d[key], path + (key,), none=True)
    for key in ("groups", "extras"):
        if key in d and d[key] is not None:
            for i, v in enumerate(_expect(d[key], (list,), path + (key,), "a list of column names")):
                _text(v, path + (key, i))
    if d.get("group_merges") is not None:
        merges = _expect(d["group_merges"], (dict,), path + ("group_merges",), "an object")
        for k, v in merges.items():
            _text(v, path + ("group_merges", k))
    if "higher_is_positive" in d:
        _expect(d["higher_is_positive"], (bool,), path + ("higher_is_positive",), "true or false")
    if d.get("positive_label") is not None:
        _expect(d["positive_label"], (str, int, float, bool), path + ("positive_label",),
                "a label value")


def _scenarios(items, path) -> None:
    import math

    from .scenarios import KINDS

    _expect(items, (list,), path, "a list of scenarios")
    for i, sc in enumerate(items):
        here = path + (i,)
        _expect(sc, (dict,), here, "an object (a scenario)")
        for key in ("name", "kind"):
            if key not in sc:
                raise _Refused(f"{_where(here)} has no '{key}'")
        _text(sc["name"], here + ("name",), limit=1000)
        if sc["kind"] not in KINDS:
            raise _Refused(f"{_where(here + ('kind',))} is not one of {', '.join(KINDS)}")
        params = _expect(sc.get("params", {}), (dict,), here + ("params",), "an object")
        _expect(sc.get("origin", {}), (dict,), here + ("origin",), "an object")
        _text(sc.get("notes", ""), here + ("notes",))
        values = params.get("values")
        if sc["kind"] == "thresholds":
            vals = _expect(values, (list,), here + ("params", "values"), "a list of thresholds")
            groups = {None: vals}
        elif sc["kind"] == "group_thresholds":
            groups = _expect(values, (dict,), here + ("params", "values"),
                             "an object of thresholds per group")
        else:
            continue
        for g, vals in groups.items():
            where = here + ("params", "values") + ((g,) if g is not None else ())
            _expect(vals, (list,), where, "a list of thresholds")
            for j, v in enumerate(vals):
                _expect(v, (int, float), where + (j,), "a number")
                if not math.isfinite(v):
                    raise _Refused(f"{_where(where + (j,))} is not a finite number")


# The declared schema: every key a project may hold, and how its value is checked.
_SCHEMA = {
    "format": lambda v, p: _text(v, p),
    "format_version": lambda v, p: _int(v, p, 1, FORMAT_VERSION),
    "input_path": lambda v, p: _text(v, p),
    "input_sha256": lambda v, p: _text(v, p, limit=64),
    "input_relative": lambda v, p: _text(v, p, none=True),
    "mapping": _mapping,
    "sheet": lambda v, p: (_int(v, p, 0, 100_000) if isinstance(v, int) and not isinstance(v, bool)
                           else _text(v, p, none=True, limit=255)),
    "invalid_scores": lambda v, p: _choice(v, p, INVALID_SCORE_POLICIES),
    "min_group_size": lambda v, p: _int(v, p, 0, 10_000_000),
    "settings": lambda v, p: _expect(v, (dict,), p, "an object (page settings)"),
    "seeds": lambda v, p: _seeds(v, p),
    "scenarios": _scenarios,
    "notes": lambda v, p: _text(v, p, limit=1_000_000),
    "app_version": lambda v, p: _text(v, p, limit=100),
}
_REQUIRED = ("format", "format_version", "input_path", "input_sha256", "mapping")


def _choice(value, path, choices):
    _text(value, path)
    if value not in choices:
        raise _Refused(f"{_where(path)} is '{value[:40]}'; it must be one of "
                       + ", ".join(f"'{c}'" for c in choices))
    return value


def _seeds(value, path):
    _expect(value, (dict,), path, "an object (seeds)")
    for k, v in value.items():
        _int(v, path + (k,), 0, 2**63 - 1, none=True)


def validate_project_json(d, name: str = "the project") -> None:
    """Check a parsed project against the declared schema; DataError says what is wrong."""
    try:
        if not isinstance(d, dict):
            raise _Refused(f"it holds {_json_type(d)} instead of a project's settings")
        if d.get("format") != FORMAT:
            raise DataError(f"{name} is not a FairDesk project file (FairDesk projects are "
                            "saved with File ▸ Save project).")
        version = d.get("format_version")
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
            raise DataError(f"{name} was saved by a newer FairDesk ({str(d.get('app_version'))[:20]}); "
                            "update FairDesk to open it.")
        missing = [k for k in _REQUIRED if k not in d]
        if missing:
            raise _Refused("it has no " + ", ".join(f"'{k}'" for k in missing))
        unknown = [k for k in d if k not in _SCHEMA]
        if unknown:
            raise _Refused("it has unknown entries (" + ", ".join(str(k)[:40] for k in unknown[:5])
                           + ")")
        _check_depth(d)
        for key, check in _SCHEMA.items():
            if key in d:
                check(d[key], (key,))
        if not d["input_path"].strip():
            raise _Refused("input_path is empty")
        sha = d["input_sha256"]
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise _Refused("input_sha256 is not a SHA-256 checksum (64 hexadecimal digits)")
    except _Refused as err:
        raise DataError(_tampered(name, str(err))) from None


def _tampered(name: str, reason: str) -> str:
    return (f"{name} is not a readable FairDesk project: {reason}. The file was changed "
            "outside FairDesk or is damaged. Open the data file itself and map it again, or use "
            "an earlier copy of the project.")


def load_project(path) -> Project:
    """Read and validate a project file; every problem is a DataError naming the file."""
    path = Path(path)
    name = path.name
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise DataError(f"The project {path} does not exist.") from None
    except OSError as err:
        raise DataError(f"The project {path} cannot be read: {err.strerror or err}.") from None
    import stat as _stat
    if not _stat.S_ISREG(st.st_mode):
        raise DataError(f"{path} is not a project file (it is a folder, pipe or device). Choose "
                        "a .fairdesk file.")
    if st.st_size > MAX_BYTES:
        raise DataError(_tampered(name, f"it is {st.st_size / 1e6:,.0f} MB, far larger than any "
                                        f"project (at most {MAX_BYTES // 2**20} MB)"))
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise DataError(f"The project {path} cannot be read: {err.strerror or err}.") from None
    try:
        d = json.loads(raw.decode("utf-8-sig"), parse_constant=_no_constant,
                       parse_int=_checked_int, parse_float=_checked_float)
    except _Refused as err:
        raise DataError(_tampered(name, str(err))) from None
    except UnicodeDecodeError as err:
        raise DataError(_tampered(name, f"byte {err.start + 1} is not UTF-8 text")) from None
    except json.JSONDecodeError as err:
        raise DataError(_tampered(name, f"it is not valid JSON (line {err.lineno}, column "
                                        f"{err.colno}: {err.msg})")) from None
    except (RecursionError, ValueError):
        raise DataError(_tampered(name, f"it is nested too deeply or holds numbers too large "
                                        "to read")) from None
    validate_project_json(d, name)
    fields = Project.__dataclass_fields__
    p = Project(**{k: v for k, v in d.items() if k in fields})
    # The input may have moved together with the project: try the relative path too.
    if not Path(p.input_path).exists() and d.get("input_relative"):
        candidate = (path.resolve().parent / d["input_relative"]).resolve()
        if candidate.exists():
            p.input_path = str(candidate)
    return p


def check_input_file(project: Project) -> None:
    """The project's data path must be a regular file with a data extension (DataError)."""
    src = Path(project.input_path)
    ext = src.suffix.lower()
    if ext not in DATA_EXTENSIONS:
        raise DataError(f"The project's data file {src} is not a data file FairDesk reads (its "
                        f"type is {ext or 'unknown'}; FairDesk reads "
                        + ", ".join(DATA_EXTENSIONS) + "). The project was changed outside "
                        "FairDesk or is damaged: open the data file itself instead.")
    try:
        mode = os.stat(src).st_mode
    except FileNotFoundError:
        return  # check_input says where it should be
    except OSError as err:
        raise DataError(f"The project's data file {src} cannot be read: "
                        f"{err.strerror or err}.") from None
    import stat as _stat
    if not _stat.S_ISREG(mode):
        kind = "a folder" if _stat.S_ISDIR(mode) else "not an ordinary file (a pipe or device)"
        raise DataError(f"The project's data file {src} is {kind}. The project was changed "
                        "outside FairDesk or is damaged: open the data file itself instead.")


def check_input(project: Project) -> str | None:
    """None when the input file is there and unchanged; otherwise what is wrong. Raises
    DataError when the project's data path is not a regular data file at all."""
    from .io.loading import file_sha256

    check_input_file(project)
    src = Path(project.input_path)
    if not src.exists():
        return (f"The project's input file {src} is not there. Locate it (File ▸ Open) or put "
                "it back where it was.")
    digest = file_sha256(src)
    if digest != project.input_sha256:
        return (f"The input file {src} has changed since the project was saved (its SHA-256 "
                f"was {project.input_sha256[:12]}…, now {digest[:12]}…). The numbers would differ "
                "from the saved analysis.")
    return None
