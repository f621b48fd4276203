"""A demand layer: read with clear errors, and used for population coverage and new sites."""

import json

import pandas as pd
import pytest
from pyproj import Geod
from test_coverage import CENTRE, one_station, square_district

from stationmap.coverage import Threshold, coverage_report
from stationmap.demand import read_demand
from stationmap.errors import DataFileError
from stationmap.recommend import recommend

GEOD = Geod(ellps="WGS84")


def at(distance_m, azimuth=90.0):
    lon, lat, _ = GEOD.fwd(CENTRE[0], CENTRE[1], azimuth, distance_m)
    return lon, lat


def test_population_coverage_is_measured_on_the_demand(tmp_path):
    rows = [(*at(300), 10), (*at(600, 0), 10), (*at(900, 180), 10), (*at(3000), 70)]
    path = tmp_path / "riders.csv"
    pd.DataFrame(rows, columns=["lon", "lat", "weight"]).to_csv(path, index=False)
    demand = read_demand(path)
    report = coverage_report(square_district(), one_station(), Threshold.radius(1000), demand=demand)
    assert report.table.loc[0, "population_covered_pct"] == pytest.approx(30.0)
    assert report.table.loc[0, "area_covered_pct"] != pytest.approx(30.0)
    assert "demand" in report.assumptions("en")


def test_new_sites_go_where_the_uncovered_demand_is(tmp_path):
    heavy = at(3500)
    path = tmp_path / "hexagons.geojson"
    lon, lat = heavy
    hexagon = [[lon - 0.002, lat], [lon - 0.001, lat + 0.0017], [lon + 0.001, lat + 0.0017], [lon + 0.002, lat],
               [lon + 0.001, lat - 0.0017], [lon - 0.001, lat - 0.0017], [lon - 0.002, lat]]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"weight": 500}, "geometry": {"type": "Polygon", "coordinates": [hexagon]}},
        {"type": "Feature", "properties": {"weight": 5},
         "geometry": {"type": "Point", "coordinates": list(at(3000, 270))}}]}))
    demand = read_demand(path)
    index = one_station()
    report = coverage_report(square_district(), index, Threshold.radius(1000), demand=demand)
    sites = recommend(report, square_district(), 1, demand=demand, index=index)
    distance = GEOD.inv(sites["lon"].iloc[0], sites["lat"].iloc[0], lon, lat)[2]
    assert distance <= 1000 and sites["gain"].iloc[0] == pytest.approx(500)


@pytest.mark.parametrize("content, words", [
    ("lon,lat\n121.5,31.2\n", "required column 'weight'"),
    ("lon,lat,weight\n121.5,31.2,-3\n", "row 1, field 'weight'"),
    ("lon,lat,weight\n121.5,north,3\n", "row 1, field 'lat'"),
    ("lon,lat,weight\n", "has no demand"),
])
def test_bad_demand_files(tmp_path, content, words):
    path = tmp_path / "d.csv"
    path.write_text(content)
    with pytest.raises(DataFileError, match=words):
        read_demand(path)


def test_demand_rows_read_coordsys_as_station_files_do(tmp_path):
    from stationmap import coords

    gx, gy = coords.from_wgs84(121.4998, 31.2397, "gcj02")
    path = tmp_path / "d.csv"
    path.write_text(f"lon,lat,weight,coordsys\n{float(gx)!r},{float(gy)!r},1, gcj02 \n121.5,31.2,1,\n")
    demand = read_demand(path)
    assert demand.geometry.x.tolist() == pytest.approx([121.4998, 121.5], abs=1e-9)
    assert demand.geometry.y.tolist() == pytest.approx([31.2397, 31.2], abs=1e-9)


def test_a_bad_coordsys_in_demand_names_its_row(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("lon,lat,weight,coordsys\n121.5,31.2,1,wgs84\n121.5,31.2,1,mars\n")
    with pytest.raises(DataFileError, match="row 2, field 'coordsys': unknown coordinate system 'mars'"):
        read_demand(path)


@pytest.mark.parametrize("reader", ["stations", "demand", "queries"])
def test_every_file_of_points_explains_a_bad_row_the_same_way(tmp_path, reader):
    from stationmap.cli import _read_queries
    from stationmap.stations import read_stations

    path = tmp_path / "points.csv"
    path.write_text("id,name,weight,lon,lat,coordsys\n"
                    "a,A,1,121.5,31.2, GCJ02 \nb,B,1,121.5,north,\nc,C,1,121.5,31.2,baidu\n")
    read = {"stations": read_stations, "demand": read_demand, "queries": _read_queries}[reader]
    with pytest.raises(DataFileError) as caught:
        read(path)
    assert [(p.row, p.field, p.reason) for p in caught.value.problems] == [
        (2, "lat", "'north' is not a number"),
        (3, "coordsys", "unknown coordinate system 'baidu'; use one of wgs84, gcj02, bd09")]
