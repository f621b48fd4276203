"""The heat layer: minutes (or metres) from every sampled H3 cell to the nearest open station.

A coverage report already holds every cell's distance (:attr:`CoverageReport.cells`); this
module turns it into what a map draws. :func:`heat_values` gives each cell's value in the
threshold's unit, with the gap test made on metres (``distance_m > radius_m``), the same test
the report's shares use, so a cell is drawn as a gap exactly when it is counted as one.

:func:`heat_payload` is the page's compact answer (``GET /api/v1/coverage?f=cells``): a
city has tens of thousands of cells, so positions go as integer steps of 10⁻⁵° (about 1 m)
from the previous cell, values as tenths, and each cell's hexagon as one of a few shapes (one
per district: H3 hexagons of one resolution are near-identical within a district), which the
page offsets to each centre. Positions are in the base map's system (GCJ-02 for AMap).
"""

from __future__ import annotations

import h3.api.numpy_int as h3i
import numpy as np
import pandas as pd

from . import coords, travel
from .coverage import CoverageReport
from .maps.style import heat_bands

#: Positions are sent as integer steps of this many degrees.
STEP_DEG = 1e-5


def heat_values(report: CoverageReport) -> tuple[np.ndarray, np.ndarray, float, str]:
    """``(values, gap, threshold, unit)``: each cell's minutes (by the threshold's mode) or
    metres (a radius threshold), whether it is beyond the threshold, and the threshold.
    """
    distance = report.cells["distance_m"].to_numpy(dtype=float)
    gap = ~(distance <= report.threshold.radius_m)              # inf and NaN are gaps
    threshold = report.threshold
    if threshold.minutes is not None and threshold.mode is not None:
        return np.asarray(travel.minutes(distance, threshold.mode)), gap, float(threshold.minutes), "min"
    return distance, gap, float(threshold.radius_m), "m"


def heat_payload(report: CoverageReport, coordsys: str = "wgs84") -> dict:
    """The heat layer for the page, compact (see the module's notes).

    ``cells`` is flat: per cell ``dx, dy, value, shape``: ``dx, dy`` integer steps from the
    previous cell's centre (the first from ``origin``), ``value`` in tenths of the unit, ``-1``
    where no station is admitted at all; ``shape`` indexes ``shapes``, each six (or five)
    vertex offsets in steps. A value above ``threshold`` is a gap: values are rounded so that
    holds exactly when the cell is uncovered.
    """
    cells = report.cells
    values, gap, threshold, unit = heat_values(report)
    tenths = np.where(gap, np.ceil(np.nan_to_num(values, nan=0, posinf=0) * 10), np.floor(values * 10 + 1e-9))
    tenths = np.where(gap, np.maximum(tenths, round(threshold * 10) + 1), np.minimum(tenths, round(threshold * 10)))
    tenths = np.where(np.isfinite(values), tenths, -1).astype(np.int64)
    return {"unit": unit, "threshold": threshold,
            "bands": [[round(lo, 3), None if hi is None else round(hi, 3), colour]
                      for lo, hi, colour in heat_bands(threshold)],
            **compact_cells(cells, tenths, coordsys)}


def compact_cells(cells: pd.DataFrame, tenths: np.ndarray, coordsys: str = "wgs84") -> dict:
    """``cells`` (``cell``, ``adcode``, ``lon``, ``lat``, ``resolution``) with one integer value
    each (``tenths``) in the compact form the page's heat layer decodes (see :func:`heat_payload`):
    shared by the heat layer and the scenarios' difference map (:mod:`stationmap.scenarios`).
    """
    lon, lat = coords.from_wgs84(cells["lon"].to_numpy(dtype=float), cells["lat"].to_numpy(dtype=float), coordsys)
    x = np.round(np.asarray(lon) / STEP_DEG).astype(np.int64)
    y = np.round(np.asarray(lat) / STEP_DEG).astype(np.int64)
    tenths = np.asarray(tenths, dtype=np.int64)
    shapes, shape_of = [], np.zeros(len(cells), dtype=np.int64)
    for i, (_, group) in enumerate(cells.groupby(["adcode", "resolution"], sort=False).groups.items()):
        rows = np.asarray(group)
        middle = rows[len(rows) // 2]
        cell = int(cells["cell"].iloc[middle])
        boundary = np.asarray(h3i.cell_to_boundary(cell))            # (lat, lon) pairs
        bx, by = coords.from_wgs84(boundary[:, 1], boundary[:, 0], coordsys)
        cy, cx = h3i.cell_to_latlng(cell)
        ox, oy = coords.from_wgs84(np.array([cx]), np.array([cy]), coordsys)
        shapes.append([[round((a - float(ox[0])) / STEP_DEG), round((b - float(oy[0])) / STEP_DEG)]
                       for a, b in zip(np.asarray(bx), np.asarray(by), strict=False)])
        shape_of[rows] = i
    order = np.lexsort((x, y // 500))                                # rows of about 5 km, west to east
    x, y, tenths, shape_of = x[order], y[order], tenths[order], shape_of[order]
    origin = [int(x[0]), int(y[0])] if len(x) else [0, 0]
    dx, dy = np.diff(x, prepend=origin[0]), np.diff(y, prepend=origin[1])
    flat = np.column_stack([dx, dy, tenths, shape_of]).ravel().tolist()
    return {"coordsys": coordsys, "step_deg": STEP_DEG, "origin": origin, "shapes": shapes, "count": len(x),
            "cells": flat}
