"""The station schema: any supported file in, one validated GeoDataFrame out."""

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from stationmap import coords
from stationmap.errors import DataFileError
from stationmap.stations import COLUMNS, amenity_codes, from_frame, read_stations, write_stations

MINIMAL_CSV = "id,name,lon,lat\nA1,陆家嘴爱心接力站,121.4998,31.2397\nA2,外滩驿站,121.4905,31.2400\n"


def _problems(path_or_frame):
    with pytest.raises(DataFileError) as info:
        if isinstance(path_or_frame, pd.DataFrame):
            from_frame(path_or_frame, source="test")
        else:
            read_stations(path_or_frame)
    return info.value


def _csv(tmp_path, text, name="stations.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_csv_gets_defaults(tmp_path):
    stations = read_stations(_csv(tmp_path, MINIMAL_CSV))
    assert list(stations.columns) == [*COLUMNS, "geometry"]
    assert stations.crs.to_epsg() == 4326
    first = stations.iloc[0]
    assert (first["type"], first["access"], first["status"], first["opening_hours"]) == (
        "outdoor_worker_station", "public", "open", "")
    assert (first.geometry.x, first.geometry.y) == (121.4998, 31.2397)


def test_csv_from_excel_with_bom_and_gcj02_rows(tmp_path):
    gcj = coords.wgs84_to_gcj02(121.4998, 31.2397)
    text = f"id,name,lon,lat,coordsys\nA1,站,{float(gcj[0])!r},{float(gcj[1])!r},GCJ02\n"
    path = tmp_path / "amap.csv"
    path.write_bytes("\ufeff".encode() + text.encode())
    point = read_stations(path).geometry.iloc[0]
    assert abs(point.x - 121.4998) < 1e-9 and abs(point.y - 31.2397) < 1e-9


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".parquet", ".csv"])
def test_round_trip_every_format(tmp_path, suffix, shanghai):
    original = shanghai.stations.head(50)
    path = write_stations(original, tmp_path / f"stations{suffix}")
    again = read_stations(path)
    pd.testing.assert_frame_equal(pd.DataFrame(again.drop(columns="geometry")),
                                  pd.DataFrame(original.drop(columns="geometry")))
    assert shapely.equals_exact(again.geometry.array, original.geometry.array, tolerance=1e-7).all()


def test_write_replaces_atomically_and_leaves_no_temporary_files(tmp_path, shanghai):
    target = tmp_path / "out.geojson"
    write_stations(shanghai.stations.head(3), target)
    write_stations(shanghai.stations.head(5), target)
    assert len(read_stations(target)) == 5
    assert [p.name for p in tmp_path.iterdir()] == ["out.geojson"]


def test_other_crs_is_reprojected(tmp_path):
    frame = gpd.GeoDataFrame({"id": ["a"], "name": ["站"]}, geometry=[shapely.Point(121.5, 31.2)], crs=4326)
    frame.to_crs(3857).to_file(tmp_path / "m.gpkg")
    point = read_stations(tmp_path / "m.gpkg").geometry.iloc[0]
    assert abs(point.x - 121.5) < 1e-9 and abs(point.y - 31.2) < 1e-9


def test_amenity_codes_accepts_the_usual_separators():
    assert amenity_codes("toilet; wifi,microwave，fridge") == ["toilet", "wifi", "microwave", "fridge"]
    assert amenity_codes(["toilet", " wifi "]) == ["toilet", "wifi"]
    assert amenity_codes(None) == [] and amenity_codes(float("nan")) == []


@pytest.mark.parametrize("column, value, field, words", [
    ("type", "canteen", "type", "unknown value 'canteen'"),
    ("access", "everyone", "access", "unknown value 'everyone'"),
    ("status", "maybe", "status", "unknown value 'maybe'"),
    ("amenities", "toilet;sauna", "amenities", "unknown amenity 'sauna'"),
    ("opening_hours", "9 to 5", "opening_hours", "not valid opening_hours"),
    ("adcode", "3101", "adcode", "6-digit"),
    ("last_verified", "yesterday", "last_verified", "not a date"),
])
def test_each_bad_value_is_reported_with_row_and_field(column, value, field, words):
    frame = pd.DataFrame({"id": ["a", "b"], "name": ["一", "二"], "lon": [121.5, 121.6], "lat": [31.2, 31.3],
                          column: ["", value]})
    error = _problems(frame)
    assert len(error.problems) == 1
    problem = error.problems[0]
    assert (problem.row, problem.field) == (2, field)
    assert words in str(error) and "row 2" in str(error)


@pytest.mark.parametrize("lat, words", [("95", "outside -90..90"), ("thirty", "'thirty' is not a number"),
                                        ("nan", "not a finite number")])
def test_bad_coordinates(tmp_path, lat, words):
    error = _problems(_csv(tmp_path, f"id,name,lon,lat\na,站,121.5,31.2\nb,站,121.5,{lat}\n"))
    assert "row 2" in str(error) and "'lat'" in str(error) and words in str(error)


def test_every_problem_is_listed_not_just_the_first(tmp_path):
    text = "id,name,lon,lat,type\na,,121.5,31.2,canteen\na,站,121.5,abc,\n"
    error = _problems(_csv(tmp_path, text))
    assert {(p.row, p.field) for p in error.problems} == {(1, "name"), (1, "type"), (2, "lat"), (2, "id")}
    assert "duplicate id 'a' (first on row 1)" in str(error)


def test_missing_required_columns(tmp_path):
    error = _problems(_csv(tmp_path, "id,name,lat\na,站,31.2\n"))
    assert "required column 'lon' is missing" in str(error)


@pytest.mark.parametrize("name, content, words", [
    ("empty.csv", "id,name,lon,lat\n", "has no stations"),
    ("broken.geojson", "{not json", "cannot be read as GeoJSON"),
    ("stations.xlsx", "x", "unsupported file type '.xlsx'"),
])
def test_unreadable_files(tmp_path, name, content, words):
    assert words in str(_problems(_csv(tmp_path, content, name)))


def test_missing_file(tmp_path):
    assert "no such file" in str(_problems(tmp_path / "nope.geojson"))


def test_non_point_geometry_is_refused(tmp_path):
    feature = {"type": "Feature", "properties": {"id": "a", "name": "站"},
               "geometry": {"type": "LineString", "coordinates": [[121.5, 31.2], [121.6, 31.3]]}}
    path = tmp_path / "line.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    assert "geometry is LineString; stations must be points" in str(_problems(path))


def test_shipped_sample_is_valid_and_synthetic():
    stations = read_stations()
    assert len(stations) > 1300
    assert stations["source"].str.contains("synthetic").all()
