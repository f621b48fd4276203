"""The stations a service answers from, loaded once, with a version people can cite.

The version is a digest of the file's bytes, so a cached page, an API answer and an exported
map can each say exactly which register they came from.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .hours import TIMEZONE
from .index import StationIndex
from .stations import default_path, read_stations


@dataclass(frozen=True)
class Dataset:
    """An indexed station register and where it came from."""

    index: StationIndex
    path: Path
    version: str
    modified: datetime

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "Dataset":
        """Read, validate and index a stations file (``None``: the shipped Shanghai sample)."""
        path = Path(path) if path else default_path()
        stations = read_stations(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        modified = datetime.fromtimestamp(path.stat().st_mtime, TIMEZONE)
        return cls(StationIndex(stations), path, digest, modified)

    @property
    def count(self) -> int:
        return len(self.index)

    @property
    def latest_verified(self) -> str | None:
        """The newest ``last_verified`` date in the register, as text."""
        dates = [d for d in self.index.stations["last_verified"] if d]
        return max(dates) if dates else None
