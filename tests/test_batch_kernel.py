"""Review of the compiled batch kernel (stationmap.batch): what numba's on-disk cache and the
Karney pass around the kernel do, beyond the answers test_batch.py checks against brute force."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stationmap import batch, geodesy
from stationmap.index import Filters, StationIndex
from stationmap.stations import from_frame
from stationmap.testing import brute_force_nearest, random_points_in_china

_ONE_BATCH = """
import pandas as pd
from stationmap.index import StationIndex
from stationmap.stations import from_frame
frame = pd.DataFrame({"id": ["a"], "name": ["甲"], "lon": [121.5], "lat": [31.2]})
print(repr(float(StationIndex(from_frame(frame)).nearest_batch([121.51], [31.2], k=1)[1][0, 0])))
"""


def test_the_cached_batch_kernel_follows_an_edit_of_geodesy(tmp_path):
    """numba's cache of ``_rank_rows`` is keyed on batch.py alone, yet the kernel has
    geodesy.py's functions compiled into it: after geodesy.py changes (a git pull, a merge, an
    upgrade that leaves batch.py as it was) the batch must measure with the new formula, as the
    single query does, not with the one cached from before."""
    shutil.copytree(Path(batch.__file__).parent, tmp_path / "stationmap",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}

    def batch_metres() -> float:
        done = subprocess.run([sys.executable, "-c", _ONE_BATCH], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=300, check=True)
        return float(done.stdout.strip().splitlines()[-1])

    before = batch_metres()                                 # compiles, and fills the cache
    source = tmp_path / "stationmap" / "geodesy.py"
    formula = "\n    return 2.0 * math.asin(min(0.5 * math.sqrt(chord2) * curvature, 1.0)) / curvature"
    text = source.read_text(encoding="utf-8")
    assert text.count(formula) == 1                         # near_arc's (NearPoint's copy is indented deeper)
    source.write_text(text.replace(formula, formula.replace("return 2.0 *", "return 4.0 *")), encoding="utf-8")
    assert batch_metres() == pytest.approx(2 * before, rel=1e-12)


def test_the_batch_measures_by_karney_only_stations_the_filters_admit(china, monkeypatch):
    """Karney's algorithm (pyproj, about a microsecond a line) is for candidates past 100 km that
    can be the answer. Measuring every candidate the tree returns, admitted or not, made a
    filtered batch with no radius (coverage, sites and scenarios with filters) several times
    slower than the NumPy batch it replaced (3,000 points, 1 % of 20,000 stations admitted:
    1.06 s against 0.29 s)."""
    filters = Filters(types=["driver_home"], amenities=["microwave"], access=["public"])
    admitted = china.admitted(np.arange(len(china)), filters)
    admitted_places = set(zip(china.lon[admitted].tolist(), china.lat[admitted].tolist(), strict=True))
    measured: list[tuple[float, float]] = []
    karney = geodesy.geodesic_m

    def counted(lon1, lat1, lon2, lat2):
        measured.extend(zip(np.atleast_1d(lon2).tolist(), np.atleast_1d(lat2).tolist(), strict=True))
        return karney(lon1, lat1, lon2, lat2)

    monkeypatch.setattr(geodesy, "geodesic_m", counted)
    lon, lat = random_points_in_china(200, seed=21)
    positions, distances = china.nearest_batch(lon, lat, k=1, filters=filters)
    monkeypatch.undo()
    for i in range(0, 200, 20):
        expected, metres = brute_force_nearest(china, lon[i], lat[i], k=1, filters=filters)
        assert positions[i].tolist() == expected.tolist()
    assert measured                                         # the Karney pass did run
    dropped = [place for place in measured if place not in admitted_places]
    assert not dropped, f"{len(dropped)} of {len(measured)} Karney lines went to stations the filters drop"


def test_a_batch_over_stations_the_filters_mostly_drop_equals_brute_force(china):
    """The same search, for its answers."""
    filters = Filters(types=["driver_home"], amenities=["microwave"], access=["public"])
    lon, lat = random_points_in_china(40, seed=22)
    positions, distances = china.nearest_batch(lon, lat, k=3, filters=filters)
    for i in range(len(lon)):
        expected, metres = brute_force_nearest(china, lon[i], lat[i], k=3, filters=filters)
        assert positions[i].tolist() == expected.tolist()
        np.testing.assert_allclose(distances[i], metres, rtol=0, atol=1e-6)


def test_stations_read_like_a_store_load_give_the_kernel_the_types_it_was_compiled_for():
    """The kernel's signature is fixed (numba raises TypeError on any other dtype): the open
    mask of a register read from the store (lists of text, as Store.load builds them) must be
    a NumPy bool array."""
    frame = pd.DataFrame({"id": ["a", "b"], "name": ["甲", "乙"], "lon": [121.5, 121.6], "lat": [31.2, 31.2],
                          "status": ["open", "closed"]})
    index = StationIndex(from_frame(frame))
    assert index._masks.active.dtype == np.bool_
    assert index.nearest_batch([121.55], [31.2], k=2)[0].tolist() == [[0, -1]]


def test_a_numba_cache_that_cannot_be_read_or_written_does_not_stop_stationmap_importing(tmp_path):
    """batch._compiled promises that without a usable cache the kernel is compiled at every start
    "instead of failing to import", but it only catches numba's RuntimeError for "no locator":
    an OSError from the cache once a locator is found (a full disk when the index is written,
    an index file that cannot be opened; here each index file replaced by a folder) escapes
    from ``import stationmap.index``, and with it every command and the service fail to start."""
    shutil.copytree(Path(batch.__file__).parent, tmp_path / "stationmap",
                    ignore=shutil.ignore_patterns("__pycache__"))
    cache = tmp_path / "numba-cache"
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "NUMBA_CACHE_DIR": str(cache)}
    subprocess.run([sys.executable, "-c", "import stationmap.batch"], env=env, cwd=tmp_path, timeout=300, check=True)
    indexes = sorted(cache.rglob("*.nbi"))
    assert indexes
    for path in indexes:
        path.unlink()
        path.mkdir()
    done = subprocess.run([sys.executable, "-c", _ONE_BATCH], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-600:]
    assert float(done.stdout.strip().splitlines()[-1]) == pytest.approx(953.04357, abs=1e-3)
