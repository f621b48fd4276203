"""The column lists of a new index made from its predecessor's (:attr:`StationIndex.columns`).

After a swap, the first answer in each request worker would otherwise read every column of every
station again (0.6 s at 186,100). Two ways, both equal to a fresh read value for value:

- :func:`by_version`: a station with the same id and store ``version`` is the same row, so its
  values are copied (C speed, by ``itemgetter``); only the other rows are read from the frame.
- :func:`in_place`: when the new frame is the old one with a few rows replaced
  (:mod:`stationmap.row_patch`), the lists of the columns it kept are the old index's own
  objects (a memo's lists are never changed) and only the others are copied with those rows put
  in: proportional to the columns a commit touched, not to the register's.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .index import IntArray, StationIndex

#: The lists :attr:`StationIndex.columns` adds to the frame's own: the points in GCJ-02 and BD-09.
DERIVED = frozenset(f"{system}_{axis}" for system in ("gcj02", "bd09") for axis in ("lon", "lat"))


def by_version(index: StationIndex, old: dict[str, list]) -> dict[str, list]:
    """``index``'s lists from ``old`` (an earlier index's) by station id and version; a register
    without versions (a file) is read whole.
    """
    if "version" not in old or "version" not in index.stations.columns or len(index) < 2:
        return index._column_lists()
    at = {key: j for j, key in enumerate(zip(old["id"], old["version"], strict=True))}
    ids, versions = index.stations["id"].tolist(), index.stations["version"].tolist()
    source = np.array([at.get(key, -1) for key in zip(ids, versions, strict=True)], dtype=np.int64)
    fresh = np.flatnonzero(source < 0)
    if len(fresh) * 4 > len(index):
        return index._column_lists()
    pick = operator.itemgetter(*np.where(source < 0, 0, source).tolist())
    changed = index._column_lists(fresh)
    if set(changed) != set(old):
        return index._column_lists()
    table = {}
    for name, values in old.items():
        column = list(pick(values))
        for p, value in zip(fresh.tolist(), changed[name], strict=True):
            column[p] = value
        table[name] = column
    return table


def in_place(index: StationIndex, old: dict[str, list], rows: IntArray, kept: frozenset[str]) -> dict[str, list] | None:
    """``index``'s lists from ``old``, its predecessor's, when only ``rows`` were replaced and
    the columns ``kept`` are the predecessor's own (``None``: not the same columns).
    """
    geometry = index.stations.geometry.name
    labels = [str(c) for c in index.stations.columns if c != geometry]
    if set(old) != set(labels) | DERIVED:
        return None
    fresh = index._column_lists(rows)
    at = rows.tolist()
    table = {}
    for name, values in old.items():
        if name in kept or (name in DERIVED and geometry in kept):
            table[name] = values
        else:
            column = list(values)
            for p, value in zip(at, fresh[name], strict=True):
                column[p] = value
            table[name] = column
    return table
