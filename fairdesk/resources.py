"""Files shipped with FairDesk (the sample data, the icon), found from source or a bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def resource_root() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)  # PyInstaller unpacks data files here
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


def resource_path(*parts: str) -> Path:
    return resource_root().joinpath(*parts)


def sample_data() -> Path:
    return resource_path("sample", "sample_scores.csv")
