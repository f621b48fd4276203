"""A register's frame brought up to date by replacing changed stations' rows where they stand.

The common commit (a phone, opening hours, a status; an import changing a few stations) changes
some values of a few rows and leaves which stations there are, and their order, alone. Every
server process takes in every commit, so concatenating, sorting and building a GeoDataFrame again
(tens of milliseconds, whatever the size of the change) is paid by each process at each commit.
Here only the columns the commit touched are made again, each from the old column's values with
the changed rows put in; every other column is the old frame's own array, shared (a frame is never
changed once an index holds it). The result equals the frame a full load gives, dtype for dtype
and row for row; :func:`patched` returns ``None`` when stations come, go or move in the order, and
the caller takes the general way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    from .index import StationIndex
    from .store.reading import Rows


#: Above this many changed rows (plus one in :data:`_SHARE` of the register) replacing them costs
#: more than building the frame again (measured crossover: about 6 % of the stations).
_MOST = 256
_SHARE = 16


@dataclass(frozen=True)
class Patch:
    """A frame with some rows replaced, and what an index built from it may take over."""

    #: The new frame (positional index, the old frame's columns in the old order).
    frame: gpd.GeoDataFrame
    #: The rows that were replaced (ascending).
    rows: np.ndarray
    #: The columns whose array is the old frame's own (unchanged in every row).
    kept: frozenset[str]
    #: Each column of ``frame`` but the geometry, as the frame holds it (see
    #: :attr:`stationmap.index.StationIndex.arrays`).
    arrays: dict[str, Any]
    #: The first day a station of the new frame closed "until D" reopens (see :func:`reopening`).
    next_reopening: date | None


def patched(index: StationIndex, fids: np.ndarray, changed: Rows, today: date,
            next_reopening: date | None) -> Patch | None:
    """``index``'s stations with the ``changed`` rows (the store's, all fields) put in place of
    theirs, or ``None`` when that would not give what a full load gives: a changed station that
    is new, deleted, unlocated or at another row number (``fids``: the row number of each of
    ``index``'s stations). ``today`` reopens a changed station closed until a date that has
    come, as a full load does; ``next_reopening`` is ``index``'s register's.
    """
    values = changed.values
    old = index.stations
    if not len(changed):                # a commit that changed no station (the version moves on)
        return Patch(old, np.zeros(0, dtype=np.int64), frozenset(old.columns), index.arrays, next_reopening)
    if len(changed) > _MOST + len(old) // _SHARE:
        # Replacing costs ~80 µs a row in Python (each value compared and put in one by one),
        # the general way ~10 µs a station whatever changed: an import or its undo touching many
        # stations is taken the general way (101,220 stations, a quarter changed: 2.1 s against 0.6 s).
        return None
    at = _positions(index, fids, values)
    if at is None:
        return None
    status = list(values["status"])
    due, waiting = reopening(np.array(status, dtype=object), _texts(values["closed_until"]), today)
    for i in np.flatnonzero(due).tolist():
        status[i] = "open"
    values = {**values, "status": status}
    geometry = old.geometry.name
    columns: dict[str, Any] = {}
    kept = set()
    for name, array in index.arrays.items():
        new = values[name]
        if all(_same(array[p], v) for p, v in zip(at, new, strict=True)):
            columns[name] = array
            kept.add(name)
        else:
            columns[name] = _replaced(array, at, new)
    arrays = dict(columns)
    points = old.geometry.array
    if np.array_equal(index.lon[at], changed.lon) and np.array_equal(index.lat[at], changed.lat):
        kept.add(geometry)
    else:
        points = points.copy()
        points[at] = shapely.points(changed.lon, changed.lat)
    columns[geometry] = points
    frame = gpd.GeoDataFrame(columns, geometry=geometry, crs=old.crs, copy=False)
    rows = np.array(at, dtype=np.int64)
    order = np.argsort(rows)
    if next_reopening is not None and _waited_for(old, at, next_reopening, today):
        # A changed station was the one the register waited for: see which one it waits for now.
        first = reopening(frame["status"].to_numpy(dtype=object), _texts(frame["closed_until"].tolist()), today)[1]
    else:
        first = min(filter(None, (next_reopening, waiting)), default=None)
    return Patch(frame, rows[order], frozenset(kept), arrays, first)


def _positions(index: StationIndex, fids: np.ndarray, values: dict[str, list]) -> list[int] | None:
    """The rows of ``index`` the changed stations hold, or ``None`` if one is not there to replace
    (new, at another row number) or leaves the answers (deleted, unlocated).
    """
    if not all(values["live"]):
        return None
    at = []
    for station_id, fid in zip(values["id"], values["fid"], strict=True):
        p = index.position(station_id)
        if p is None or int(fids[p]) != fid:
            return None
        at.append(p)
    return at


def reopening(status: np.ndarray, until: np.ndarray, today: date) -> tuple[np.ndarray, date | None]:
    """Which stations (``status``, ``closed_until`` as text, ``""`` for none) are temporarily
    closed until a date that has come by ``today`` (they reopen on that day), and the earliest
    such date still to come (``None``: none is waiting).
    """
    closed = (status == "temporarily_closed") & (until != "")
    if not closed.any():
        return np.zeros(len(status), dtype=bool), None
    due = closed & (until <= today.isoformat())
    waiting = []
    for text in until[closed & ~due]:
        try:
            waiting.append(date.fromisoformat(text))
        except ValueError:           # not a date (the store checks edits; be safe with old rows)
            continue
    return due, min(waiting, default=None)


def _texts(values: list) -> np.ndarray:
    """``closed_until`` values as text, missing ones as ``""`` (as :func:`reopening` takes them)."""
    return np.array(["" if _missing(v) else str(v) for v in values], dtype=object)


def _waited_for(old: gpd.GeoDataFrame, at: list[int], day: date, today: date) -> bool:
    """Whether one of the rows ``at`` of ``old`` is a station waiting to reopen on ``day``."""
    status = old["status"].array
    until = old["closed_until"].array if "closed_until" in old.columns else None
    if until is None:
        return False
    _, first = reopening(np.array([status[p] for p in at], dtype=object),
                           _texts([until[p] for p in at]), today)
    return first is not None and first <= day


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _same(old: Any, new: Any) -> bool:
    """Whether a value of the old frame is the one read from the store (missing is missing)."""
    if _missing(new) or _missing(old):
        return _missing(new) and _missing(old)
    return type(old) is type(new) and old == new if isinstance(new, str) else bool(old == new)


def _replaced(array: Any, at: list[int], new: list) -> Any:
    """``array``'s values with ``new`` at rows ``at``, of the dtype a full load would infer."""
    if isinstance(array, np.ndarray) and array.dtype.kind in "iu":
        numbers = array.copy()
        numbers[at] = new
        return numbers
    values = array.copy() if isinstance(array, np.ndarray) else array.to_numpy(dtype=object, na_value=None)
    for p, v in zip(at, new, strict=True):
        values[p] = v
    # As a full load makes it: from a list of values (pandas infers "str" or "object" from them).
    return pd.Series(values.tolist()).array
