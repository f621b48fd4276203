"""The stations a service answers from, with a version people can cite.

From a file, the version is a digest of its bytes; from the store of record, it is the register
version (``r`` and the number, zero-padded so versions sort as text), so a cached page, an API
answer and an exported map can each say exactly which register they came from. A
:class:`LiveDataset` holds the current one and is swapped whole when the register changes.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from .hours import TIMEZONE
from .index import StationIndex
from .row_patch import patched, reopening
from .stations import default_path, read_stations

if TYPE_CHECKING:
    from .store import RegisterInfo


@dataclass(frozen=True)
class Dataset:
    """An indexed station register and where it came from."""

    index: StationIndex
    path: Path
    version: str
    modified: datetime
    #: The store's register version (``None`` for a file).
    register_version: int | None = None
    #: Whether a store was seeded from the shipped synthetic sample (``None``: judge by the path).
    sample: bool | None = None
    #: The store's row number (``fid``) of each station, in index order (``None`` for a file):
    #: what lets :meth:`updated` put changed stations where a full load would.
    fids: np.ndarray | None = field(default=None, compare=False, repr=False)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> Dataset:
        """Read, validate and index a stations file (``None``: the shipped Shanghai sample)."""
        path = Path(path) if path else default_path()
        stations = read_stations(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        modified = datetime.fromtimestamp(path.stat().st_mtime, TIMEZONE)
        return cls(StationIndex(stations), path, digest, modified)

    #: The first day a station closed "until D" reopens by itself (``None``: none is waiting):
    #: on that day the register is read again, so the station is answered as open from then on.
    next_reopening: date | None = field(default=None, compare=False)

    @classmethod
    def from_store(cls, store, *, today: date | None = None) -> Dataset:
        """Index the live, located stations of a :class:`~stationmap.store.Store` (``today``:
        the date in China that decides which temporarily closed stations have reopened; default
        now).
        """
        from .store.reading import rows_frame

        rows, info = store.read()            # the stations and the version and date they are of: one snapshot
        return cls._indexed(store, rows_frame(rows).drop(columns="live"), info, today=today)

    @classmethod
    def as_of(cls, store, version: int, *, current: Dataset | None = None, field: str = "version",
              today: date | None = None) -> Dataset:
        """The register as it stood at register ``version`` (:func:`stationmap.store.past.as_of`),
        indexed like the current one: a station closed until a date that has come by ``today``
        is open, as today's register answers it, so only the edits differ.

        ``current``: the dataset in memory; when it is at ``version`` or later, only the stations
        changed since ``version`` are read. The index is built afresh, not from ``current``'s:
        an index made from another takes over its memo values, which would keep a swapped-out
        register's search alive as long as this one is kept. A ``version`` that is not one of
        the register's raises :class:`~stationmap.errors.InputError` naming ``field``.
        """
        from .store.past import as_of

        base = None
        if current is not None and current.fids is not None and current.register_version is not None:
            base = current.index.stations.assign(fid=current.fids)
        past = as_of(store, version, field=field, base=base,
                     base_version=None if current is None else current.register_version)
        # Labelled from the snapshot the frame was read in: its sample flag, and its date when no
        # station change dates the version (read apart, both could be of a later commit).
        data = cls._indexed(store, past.frame, replace(past.info, version=version), today=today)
        return replace(data, modified=past.at.astimezone(TIMEZONE) if past.at is not None else data.modified)

    def reopening_due(self, today: date | None = None) -> bool:
        """Whether a station closed until a date has reached it since this dataset was built."""
        return self.next_reopening is not None and (today or china_today()) >= self.next_reopening

    def updated(self, store, *, today: date | None = None) -> Dataset:
        """The register brought up to the store's version by reading only what changed.

        The stations changed since :attr:`register_version` (one indexed query on
        ``changed_in``) replace their old rows; deleted and unlocated ones drop out; the rows are
        put in the store's row order, so the result is the dataset a full load
        (:meth:`from_store`) gives, row for row — and every answer from it the same. A dataset
        not read from a store is read whole.

        The common commit changes a few stations' values and no station comes or goes: their
        rows are replaced where they stand (:func:`stationmap.row_patch.patched`), the columns
        the commit did not touch are shared with this dataset's frame, and the new index takes
        over what those columns alone decide (places, filters, the search, column lists).
        """
        from .store.reading import rows_frame

        today = today or china_today()
        if self.register_version is None or self.fids is None or self.reopening_due(today):
            return Dataset.from_store(store, today=today)
        rows, info = store.read(self.register_version)      # one snapshot, as from_store
        number = info.version
        if number == self.register_version:
            return self
        patch = patched(self.index, self.fids, rows, today, self.next_reopening)
        if patch is not None:
            index = StationIndex(patch.frame, previous=self.index, replaced=patch)
            return replace(self, index=index, version=register_label(number),
                           modified=info.changed.astimezone(TIMEZONE), register_version=number,
                           sample=info.is_sample, next_reopening=patch.next_reopening)
        changed = rows_frame(rows)
        old = self.index.stations
        keep = ~old["id"].isin(set(changed["id"])).to_numpy()
        fresh = changed[changed["live"].to_numpy()].drop(columns="live")
        kept = old[keep].copy()
        kept["fid"] = self.fids[keep]
        frame = pd.concat([kept, fresh], ignore_index=True) if len(fresh) else kept
        frame = frame.sort_values("fid", kind="stable")
        frame = gpd.GeoDataFrame(frame, geometry=frame.geometry.name, crs=old.crs)
        return Dataset._indexed(store, frame, info, previous=self, today=today)

    @classmethod
    def _indexed(cls, store, frame: gpd.GeoDataFrame, info: RegisterInfo, previous: Dataset | None = None,
                 today: date | None = None) -> Dataset:
        """The dataset of ``frame`` (with ``fid``), labelled with ``info``: the version, date and
        sample flag of the snapshot it was read in (read apart, they could be of a later commit).
        """
        fids = frame.pop("fid").to_numpy(dtype="int64")
        next_reopening = reopen(frame, today or china_today())
        number = info.version
        where = Path(store.engine.url.database) if store.backend == "sqlite" else Path(store.label)
        index = StationIndex(frame.reset_index(drop=True), previous=None if previous is None else previous.index)
        return cls(index, where, register_label(number), info.changed.astimezone(TIMEZONE),
                   register_version=number, sample=info.is_sample, fids=fids, next_reopening=next_reopening)

    @property
    def count(self) -> int:
        """How many stations the register holds."""
        return len(self.index)

    @property
    def is_sample(self) -> bool:
        """Whether this is the shipped synthetic sample (every map made from it must say so)."""
        if self.sample is not None:
            return self.sample
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


def china_today() -> date:
    """Today's date in China (the day a "closed until" date is read in)."""
    return datetime.now(TIMEZONE).date()


def reopen(frame: gpd.GeoDataFrame, today: date) -> date | None:
    """Mark open, in place, every temporarily closed station whose ``closed_until`` date has
    come (it reopens on that day, with no one editing it); returns the earliest such date still
    to come, when the register must be read again.
    """
    if "closed_until" not in frame.columns or not len(frame):
        return None
    until = frame["closed_until"].fillna("").astype(str).to_numpy(dtype=object)
    due, waiting = reopening(frame["status"].to_numpy(dtype=object), until, today)
    if due.any():
        frame.loc[due, "status"] = "open"
    return waiting


def register_label(number: int) -> str:
    """A register version as text: ``r00000000042`` (sorts as text; the same length as a file digest)."""
    return f"r{number:011d}"


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
        self._prepare: list[Callable[[Dataset], object]] = []

    def before_swap(self, prepare: Callable[[Dataset], object]) -> None:
        """Run ``prepare(new)`` on every new register before it is swapped in (off the request
        path): what the first request would otherwise build while riders wait, such as the
        search over names and addresses.
        """
        self._prepare.append(prepare)

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
        for prepare in self._prepare:
            prepare(new)
        with self._lock:
            old, self._current = self._current, new
        return old
