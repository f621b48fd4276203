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
    def is_sample(self) -> bool:
        """Whether this is the shipped synthetic sample (every map made from it must say so)."""
        try:
            return self.path.resolve() == default_path().resolve()
        except OSError:
            return False

    def caption(self, lang: str = "zh") -> str:
        """Where a map's stations came from: file, version, date, and "synthetic" when it is."""
        day = self.modified.date().isoformat()
        if lang == "zh":
            sample = "（合成示例数据，非真实站点）" if self.is_sample else ""
            return f"数据：{self.path.name}{sample}，版本 {self.version}，{day}"
        sample = " (synthetic sample, not real stations)" if self.is_sample else ""
        return f"Data: {self.path.name}{sample}, version {self.version}, {day}"

    @property
    def latest_verified(self) -> str | None:
        """The newest ``last_verified`` date in the register, as text."""
        dates = [d for d in self.index.stations["last_verified"] if d]
        return max(dates) if dates else None
