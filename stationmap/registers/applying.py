"""Apply an import plan to the store, as the plan says and nothing more.

:func:`stationmap.registers.importing.plan_import` decides what a sheet changes; the store's
``apply_import`` writes a table of stations in one transaction. This module is the bridge, and
it must be faithful to the plan:

- a new row is inserted whole (empty cells take the schema's defaults; no coordinates: the
  station "needs a location");
- a changed station gets exactly the fields the plan lists, over its current record, so an empty
  cell never erases a stored value, a row without coordinates keeps the stored position, and
  ``closed_until`` and the original hours text survive;
- ``replace-area`` also hands over the stations the sheet names unchanged, so that only the ones
  it omits are removed;
- every station the plan touches is sent with the version it was planned from: if someone edited
  one between the dry run and the apply, the store refuses the whole import (``Conflict``)
  instead of overwriting that edit.

The current register is read with the stations that need a location (they are live, and a
sheet may give them one) and with ``opening_hours_text``, so the plan compares against
everything the store holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import sqlalchemy as sa

from ..stations import COLUMNS, CRS
from ..store import records
from ..store.schema import stations

if TYPE_CHECKING:
    from ..accounts import Account
    from ..store import ImportResult, Store
    from .importing import ImportPlan

#: The columns of a register table handed to the plan and to ``apply_import``.
FIELDS: tuple[str, ...] = (*COLUMNS, "opening_hours_text", "closed_until")


def current_register(store: Store) -> gpd.GeoDataFrame:
    """Every live station of the store (with or without a position), with its ``version``."""
    with store.engine.connect() as c:
        rows = c.execute(sa.select(stations).where(~stations.c.deleted).order_by(stations.c.fid)).mappings().all()
    found = [records.from_row(r) for r in rows]
    frame: dict[str, Any] = {name: [r.get(name) or "" for r in found] for name in FIELDS}
    frame["version"] = [int(r["version"]) for r in found]
    geometry = [records.point_of(r["location"]) for r in found]
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs=CRS), crs=CRS)


def _current_records(current: gpd.GeoDataFrame, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The current records of ``ids`` (with ``geometry`` and ``version``), read by position."""
    if not ids or not len(current):
        return {}
    at = {str(sid): i for i, sid in enumerate(current["id"].tolist())}
    names = [*FIELDS, "version", "geometry"]
    columns = {name: _shapes(current) if name == "geometry" else current[name].tolist()
               if name in current.columns else [""] * len(current) for name in names}
    return {sid: {name: columns[name][at[sid]] for name in names} for sid in ids}


def _shapes(frame: gpd.GeoDataFrame) -> list[Any]:
    """``list(frame.geometry)`` from the geometry array itself (iterating a GeoSeries costs a
    pandas call per row: half a second at 186,100 stations).
    """
    return np.asarray(frame.geometry.array, dtype=object).tolist()


def plan_frame(plan: ImportPlan, current: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """The table ``apply_import`` should write for ``plan``, and the version each touched station
    was planned from (0: not a live station).

    The new rows (every row of an import into an empty register) are taken from the plan's
    columns by position, with no per-row record; changed and (``replace-area``) unchanged
    stations start from their current record.
    """
    incoming = plan.rows
    at = {str(sid): i for i, sid in enumerate(incoming["id"].tolist())} if len(incoming) else {}
    added = [at[sid] for sid in plan.add]
    taken = incoming.iloc[added] if added != list(range(len(incoming))) else incoming
    columns: dict[str, Any] = {name: taken[name].fillna("").to_numpy(dtype=object) if name in taken.columns
                               else np.full(len(taken), "", dtype=object) for name in FIELDS}
    columns["closed_until"] = np.full(len(taken), "", dtype=object)
    geometry = _shapes(taken) if len(taken) else []
    expected = dict.fromkeys(plan.add, 0)
    kept = list(plan.leave) if plan.mode == "replace-area" else []
    removed = list(plan.remove) if plan.mode == "replace-area" else []
    now = _current_records(current, [*plan.change, *kept, *removed])
    others: list[dict[str, Any]] = []
    for station_id, changes in plan.change.items():
        values = now[station_id].copy()
        row = at[station_id]
        for change in changes:
            values[change.field] = incoming.geometry.iloc[row] if change.field == "geometry" else (
                incoming[change.field].iloc[row])
        others.append(values)
        expected[station_id] = int(now[station_id]["version"])
    for station_id in kept:
        others.append(now[station_id])
        expected[station_id] = int(now[station_id]["version"])
    for station_id in removed:
        expected[station_id] = int(now[station_id]["version"])
    if others:
        columns = {name: [*columns[name], *(v[name] for v in others)] for name in FIELDS}
        geometry += [v["geometry"] for v in others]
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries(geometry, crs=CRS), crs=CRS), expected


def apply_plan(store: Store, plan: ImportPlan, current: gpd.GeoDataFrame, *, actor: Account,
               reason: str = "") -> ImportResult:
    """Apply ``plan`` (made against ``current``, read from ``store``) in one transaction.

    Raises :class:`~stationmap.errors.DataFileError` if the plan has problems (nothing is
    written), and :class:`~stationmap.store.Conflict` if a station it touches changed since
    ``current`` was read (nothing is written either), and
    :class:`~stationmap.permissions.Forbidden` if ``actor`` may not touch every district it does.
    """
    from pathlib import Path

    from .importing import refuse_if_bad

    refuse_if_bad(plan)
    frame, expected = plan_frame(plan, current)
    return store.apply_import(frame, mode=plan.mode, adcode=plan.adcode, actor=actor, reason=reason,
                              file_name=Path(plan.source).name, digest=plan.digest, fields=plan.fields,
                              expected=expected)
