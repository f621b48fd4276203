"""The register as it stood at an earlier register version, rebuilt from today's rows and their history.

A planner compares today's coverage with the coverage at an earlier register version ("what
did last month's edits change?"). The store never rewrites history: each change of a station
is a ``station_history`` entry ``{field: [old, new]}`` at the register version that made it,
and each row's ``changed_in`` is the register version of its last change. So the register at
version *V* is today's register with every change made after *V* taken back, newest first:

- a station whose ``changed_in`` is at most *V* has not changed since: it is as it is today;
- every other station is today's row with the old values of its entries after *V* put back,
  the newest entry first (:func:`stationmap.store.undo.before`, the same reading of an entry the
  undo uses); a station created after *V* did not exist, one deleted after *V* was live, one
  restored after *V* was deleted; its ``version`` is one less than the oldest entry taken back,
  its ``changed_in`` that of its last entry at or before *V*.

The work is proportional to what changed after *V*, not to the register: given a frame of the
live stations at a version at or after *V* (a server's current dataset, ``base``), only the
changed rows and their entries are read. Everything is read in one snapshot
(:func:`stationmap.store.engine.snapshot`: a ``BEGIN`` on the GeoPackage, ``REPEATABLE READ`` on
PostgreSQL), so a change committed meanwhile is seen in all of it or none — the register's
:class:`~stationmap.store.register_reads.RegisterInfo` too, which labels a dataset made from the frame
(its sample flag, and its date when no station change dates the version).

Positions come back as history recorded them: an entry's old position was written rounded to
1e-9 degrees (0.1 mm), so a moved station's earlier position is that close to the one the
store held then, not bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..errors import InputError
from ..stations import COLUMNS, CRS
from .engine import snapshot
from .reading import read_rows, rows_frame
from .register import Store
from .register_reads import RegisterInfo, read_info
from .schema import history, stations
from .undo import before

#: The text fields of a loaded station besides ``id`` (what :meth:`Store.load` returns).
_FIELDS: tuple[str, ...] = tuple(c for c in COLUMNS if c != "id") + ("closed_until",)


def below_one(version: int) -> str:
    """Why ``version`` (below 1) is no register version, in English and Chinese."""
    return (f"{version} is not a version of this register: register versions are numbered from 1. "
            f"登记册没有第 {version} 版：版本从第 1 版起编号。")


def check_version(version: int, newest: int | None, field: str = "version") -> None:
    """Refuse a ``version`` that is not one of this register's (:class:`InputError` naming
    ``field``, in English and Chinese); ``newest=None``: a stations file, which has no history.
    """
    if version < 1:
        raise InputError(below_one(version), field=field)
    if newest is None:
        raise InputError("this server reads a stations file (--stations), which keeps no history: there are no "
                         "earlier register versions to compare with (serve a register, `stationmap db init`, for "
                         "that). 本服务读取的是站点文件，没有历史版本，无法与较早版本对比。", field=field)
    if version > newest:
        raise InputError(f"{version} is not a version of this register: it has versions 1 to {newest}. "
                         f"登记册没有第 {version} 版（现有第 1 至第 {newest} 版）。", field=field)


@dataclass(frozen=True)
class PastRegister:
    """The register at :attr:`version`: its live, located stations as :meth:`Store.load`
    (``with_fid=True``) gave them then, and when that version's last station change was made.
    """

    frame: gpd.GeoDataFrame
    version: int
    #: The register as it stood when this was read (its newest version, date and sample flag),
    #: read in the same snapshot as :attr:`frame`: what labels a dataset made from it.
    info: RegisterInfo
    #: When the last station change at or before :attr:`version` was made (``None``: none was).
    at: datetime | None

    @property
    def newest(self) -> int:
        """The register's version when this was read."""
        return self.info.version


def as_of(store: Store, version: int, *, field: str = "version", base: gpd.GeoDataFrame | None = None,
          base_version: int | None = None) -> PastRegister:
    """The register as it stood at register version ``version`` (see the module's description).

    ``base``: the live, located stations (with ``fid``) of register version ``base_version``,
    as :meth:`Store.load` gives them; used when ``base_version >= version``, to read only what
    changed after ``version``. A ``version`` that is not one of the register's raises
    :class:`InputError` naming ``field``.
    """
    use_base = base is not None and base_version is not None and base_version >= version
    with snapshot(store.engine) as c:
        info = read_info(c)
        check_version(version, info.version, field)
        rows = c.execute(sa.select(stations).where(stations.c.changed_in > version)
                         .order_by(stations.c.fid)).mappings().all()
        later = c.execute(sa.select(history.c.station_id, history.c.version, history.c.action, history.c.changes)
                          .where(history.c.register_version > version)
                          .order_by(history.c.station_id, history.c.version.desc())).mappings().all()
        changed_ids = sa.select(stations.c.id).where(stations.c.changed_in > version)
        then = {station_id: int(number) for station_id, number in c.execute(
            sa.select(history.c.station_id, sa.func.max(history.c.register_version))
            .where(history.c.register_version <= version, history.c.station_id.in_(changed_ids))
            .group_by(history.c.station_id))}
        at = c.execute(sa.select(history.c.at).where(history.c.register_version <= version)
                       .order_by(history.c.register_version.desc()).limit(1)).scalar()
        if use_base:
            assert base is not None
            kept = base[~base["id"].isin([r["id"] for r in rows])]
        else:
            live = sa.and_(~stations.c.deleted, stations.c.location.is_not(None))
            kept = rows_frame(read_rows(c, store.backend, sa.and_(stations.c.changed_in <= version, live),
                                        sa.true())).drop(columns="live")
    entries = {key: list(group) for key, group in groupby(later, key=lambda e: e["station_id"])}
    taken_back = [_taken_back(row, entries.get(row["id"], []), then) for row in rows]
    frame = _frame([r for r in taken_back if r is not None], kept)
    if at is not None and at.tzinfo is None:
        from datetime import UTC

        at = at.replace(tzinfo=UTC)
    return PastRegister(frame, version, info, at)


def _taken_back(row: Mapping[Any, Any], entries: Sequence[Mapping[Any, Any]],
                then: Mapping[str, int]) -> dict[str, Any] | None:
    """``row`` with ``entries`` (its changes after the version, newest first) taken back; ``None``
    when the station was not live and located then.
    """
    state: dict[str, Any] = {name: row[name] for name in _FIELDS}
    point = row["location"]
    state["location"] = None if point is None or point.is_empty else (point.x, point.y)
    deleted, version = bool(row["deleted"]), int(row["version"])
    for entry in entries:
        if entry["version"] > row["version"]:
            continue                 # committed after the row was read (cannot happen in one snapshot)
        if entry["action"] == "created":
            return None
        fields, was_deleted = before(entry)
        for name, old in fields.items():
            if name == "location":
                state["location"] = None if old is None else (float(old[0]), float(old[1]))
            elif name in state:
                state[name] = old or ""
        if was_deleted is None:      # a restore by creating the same id again names no "deleted"
            was_deleted = {"restored": True, "deleted": False}.get(entry["action"])
        if was_deleted is not None:
            deleted = was_deleted
        version = int(entry["version"]) - 1
    if deleted or state["location"] is None:
        return None
    return {**state, "id": row["id"], "version": version, "changed_in": int(then.get(row["id"], 0)),
            "fid": int(row["fid"])}


def _frame(taken_back: list[dict[str, Any]], kept: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The stations taken back and the unchanged ones, in row (``fid``) order, shaped as
    :meth:`Store.load`'s frame: the few taken back are built from plain lists as a load builds
    them and given the unchanged ones' column types, then the two are put together column by
    column (a national register's unchanged rows never pass through Python objects).
    """
    names = [*COLUMNS, "closed_until", "version", "changed_in", "fid"]
    columns: dict[str, Any] = {name: [r[name] for r in taken_back] for name in names}
    for name in ("version", "changed_in", "fid"):
        columns[name] = np.asarray(columns[name], dtype="int64")
    lon = np.array([r["location"][0] for r in taken_back], dtype=float)
    lat = np.array([r["location"][1] for r in taken_back], dtype=float)
    back = gpd.GeoDataFrame(columns, geometry=gpd.points_from_xy(lon, lat), crs=CRS)
    if not len(kept):
        return back.sort_values("fid", kind="stable").reset_index(drop=True)
    kept = gpd.GeoDataFrame({**{name: kept[name] for name in names}, "geometry": kept.geometry.to_crs(CRS)},
                            geometry="geometry", crs=CRS)
    if len(back):
        back = back.astype({name: kept[name].dtype for name in names})
        kept = pd.concat([kept, back], ignore_index=True)
    return kept.sort_values("fid", kind="stable").reset_index(drop=True)
