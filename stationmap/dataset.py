"""The stations a service answers from, loaded once, with a version people can cite.

The version is a digest of the file's bytes, so a cached page, an API answer and an exported
map can each say exactly which register they came from.
"""

from __future__ import annotations

import hashlib
import os
import threading
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
    def load(cls, path: str | os.PathLike | None = None) -> Dataset:
        """Read, validate and index a stations file (``None``: the shipped Shanghai sample)."""
        path = Path(path) if path else default_path()
        stations = read_stations(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        modified = datetime.fromtimestamp(path.stat().st_mtime, TIMEZONE)
        return cls(StationIndex(stations), path, digest, modified)

    @property
    def count(self) -> int:
        """How many stations the register holds."""
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


class LiveDataset:
    """The register a service answers from now, replaced whole when a new one is ready.

    The living register rebuilds a :class:`Dataset` off the request path (reading and indexing
    take seconds) and then hands it to :meth:`swap`: one reference assignment, so a reader sees the
    old register or the new one, never a mix. A web request reads :attr:`current` once and keeps
    that object to its end (``stationmap.web._common.current_dataset``).

    Examples
    --------
    >>> first = Dataset.load()
    >>> live = LiveDataset(first)
    >>> live.current is first
    True
    >>> second = Dataset.load()
    >>> live.swap(second) is first, live.current is second
    (True, True)
    """

    def __init__(self, dataset: Dataset):
        self._current = dataset
        self._lock = threading.Lock()

    @property
    def current(self) -> Dataset:
        """The register to answer from (take it once per request or job, then keep it)."""
        return self._current

    def swap(self, new: Dataset) -> Dataset:
        """Make ``new`` the current register; returns the one it replaces.

        Swaps are serialised (two reloads finishing together cannot lose one); readers never
        wait: reading :attr:`current` is one attribute load.
        """
        if not isinstance(new, Dataset):
            raise TypeError(f"a Dataset, not {type(new).__name__}")
        with self._lock:
            old, self._current = self._current, new
        return old
