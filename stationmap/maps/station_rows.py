"""What an embedded map needs, in as few bytes as possible.

A news article may bring thousands of readers in a minute, many on phones: the embeddable map
carries its stations as one compact array (no keys repeated per station) inside the page, so a
view costs one page request plus cached static files.

Examples
--------
>>> from stationmap.dataset import Dataset
>>> data = Dataset.load()
>>> from stationmap.districts import load_districts
>>> rows = station_rows(data.index, area_positions(data.index, load_districts("310101")), "wgs84", "zh")
>>> len(rows[0]), rows[0][3] in range(len(TYPE_CODES))
(5, True)
"""

from __future__ import annotations

from collections import Counter

import geopandas as gpd
import numpy as np

from .. import coords, vocab
from ..districts import district_of
from ..filters import Filters
from ..index import StationIndex

#: Station types in the order their index appears in a row.
TYPE_CODES: tuple[str, ...] = tuple(vocab.STATION_TYPES)
#: What each row holds, in order.
ROW_FIELDS = ("lon", "lat", "name", "type", "address")


def area_positions(index: StationIndex, districts: gpd.GeoDataFrame, filters: Filters = Filters()) -> np.ndarray:
    """Positions of the admitted stations inside ``districts`` (the served area, or one district).

    Membership is by the station's coordinates, as on every other map and in the coverage
    report: a register row needs no ``adcode``, and a mis-coded one is still drawn where it is.
    """
    positions = np.flatnonzero(index.admitted(np.arange(len(index), dtype=np.int64), filters))
    return positions[district_of(districts, index.lon[positions], index.lat[positions]) >= 0]


def station_rows(index: StationIndex, positions: np.ndarray, coordsys: str = "wgs84",
                 lang: str = "zh") -> list[list]:
    """``[lon, lat, name, type index, address]`` per station, coordinates in ``coordsys``
    (the base map's) rounded to 6 decimals (about 0.1 m).
    """
    columns = index.columns
    if coordsys == "wgs84":
        xs, ys = index.lon[positions], index.lat[positions]
    else:
        xs, ys = coords.from_wgs84(index.lon[positions], index.lat[positions], coordsys)
    type_index = {code: i for i, code in enumerate(TYPE_CODES)}
    rows = []
    for p, x, y in zip(positions.tolist(), np.round(xs, 6).tolist(), np.round(ys, 6).tolist(), strict=True):
        name = columns["name"][p]
        if lang == "en" and columns["name_en"][p]:
            name = columns["name_en"][p]
        rows.append([x, y, name, type_index.get(columns["type"][p], 0), columns["address"][p] or ""])
    return rows


def sources(index: StationIndex, most: int = 2) -> list[str]:
    """The register's most common ``source`` values, for a caption that says where data came from."""
    counts = Counter(s for s in index.columns["source"] if s)
    return [s for s, _ in counts.most_common(most)]
