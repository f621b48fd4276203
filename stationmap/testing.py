"""Reference answers for tests and benchmarks: slow, obvious, and independent of the index.

Examples
--------
>>> from stationmap.index import StationIndex
>>> from stationmap.stations import read_stations
>>> index = StationIndex(read_stations())
>>> positions, distances = brute_force_nearest(index, 121.4998, 31.2397, k=3)
>>> found = index.nearest(121.4998, 31.2397, k=3)
>>> positions.tolist() == found.positions.tolist()
True
"""

from __future__ import annotations

import numpy as np

from .filters import Filters
from .geodesy import geodesic_m
from .index import StationIndex


def brute_force_nearest(index: StationIndex, lon: float, lat: float, *, k: int = 5,
                        radius_m: float | None = None, filters: Filters = Filters()
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Rank every station by Karney geodesic distance (pyproj) and keep the first ``k``.

    Ties keep file order, as the index does.
    """
    n = len(index)
    distance = geodesic_m(np.full(n, lon), np.full(n, lat), index.lon, index.lat)
    admitted = index.admitted(np.arange(n), filters)
    distance = np.where(admitted, distance, np.inf)
    if radius_m is not None:
        distance = np.where(distance <= radius_m, distance, np.inf)
    order = np.argsort(distance, kind="stable")[:k]
    order = order[np.isfinite(distance[order])]
    return order, distance[order]


def random_points_in_china(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points over China's extent, Kashgar (76°E) to Harbin (126°E) and beyond."""
    rng = np.random.default_rng(seed)
    return rng.uniform(73.5, 134.8, n), rng.uniform(18.2, 53.5, n)
