"""Coverage against answers known in closed form, and the H3 grid against exact geometry."""

import math

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from stationmap.coverage import (
    Threshold,
    coverage_by_district,
    coverage_report,
    exact_covered_share,
    plan_resolutions,
    resolution_for,
)
from stationmap.districts import load_districts
from stationmap.errors import InputError
from stationmap.index import Filters, StationIndex
from stationmap.stations import from_frame

CENTRE = (121.5, 31.2)
SIDE_M = 10_000.0


def square_district(side_m=SIDE_M):
    """A square of side ``side_m`` metres (drawn in an equal-area projection) around CENTRE."""
    laea = f"+proj=laea +lat_0={CENTRE[1]} +lon_0={CENTRE[0]} +datum=WGS84 +units=m"
    back = Transformer.from_crs(laea, "EPSG:4326", always_xy=True)
    half = side_m / 2
    square = shapely.segmentize(shapely.box(-half, -half, half, half), 100)
    polygon = shapely.transform(square, lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1])))
    return gpd.GeoDataFrame({"adcode": ["000001"], "name": ["方块区"], "population": [100_000],
                             "land_area_km2": [side_m ** 2 / 1e6]}, geometry=[polygon], crs="EPSG:4326")


def one_station(hours="24/7"):
    frame = pd.DataFrame({"id": ["c"], "name": ["中心站"], "lon": [CENTRE[0]], "lat": [CENTRE[1]],
                          "opening_hours": [hours]})
    return StationIndex(from_frame(frame))


def test_one_central_station_covers_pi_r_squared_over_the_area():
    threshold = Threshold.radius(1500)
    row = coverage_by_district(square_district(), one_station(), threshold, resolution=10).iloc[0]
    expected = 100 * math.pi * 1500 ** 2 / SIDE_M ** 2                     # 7.07 %
    assert abs(row["area_covered_pct"] - expected) < 0.3
    assert row["population_covered_pct"] == row["area_covered_pct"]
    assert row["stations"] == 1 and row["stations_per_km2"] == pytest.approx(0.01)
    assert row["stations_per_10k"] == pytest.approx(0.1)


def test_mean_distance_to_the_centre_of_a_square():
    row = coverage_by_district(square_district(), one_station(), Threshold.radius(1000), resolution=10).iloc[0]
    expected = SIDE_M * (math.sqrt(2) + math.log(1 + math.sqrt(2))) / 6      # 3,826 m
    assert abs(row["mean_dist_m"] - expected) / expected < 0.005
    assert row["p90_dist_m"] < SIDE_M / math.sqrt(2)                        # the corners are farthest


def test_largest_gap_is_everything_outside_the_disc():
    row = coverage_by_district(square_district(), one_station(), Threshold.radius(1500), resolution=10).iloc[0]
    uncovered_km2 = (SIDE_M ** 2 - math.pi * 1500 ** 2) / 1e6
    assert abs(row["largest_gap_km2"] - uncovered_km2) / uncovered_km2 < 0.01


def test_exact_share_matches_the_closed_form():
    polygon = square_district().geometry.iloc[0]
    share = exact_covered_share(polygon, np.array([CENTRE[0]]), np.array([CENTRE[1]]), 1500)
    assert abs(share - 100 * math.pi * 1500 ** 2 / SIDE_M ** 2) < 0.01


def test_time_of_day_keeps_only_stations_open_then():
    index = one_station("08:00-18:00")
    day = coverage_by_district(square_district(), index, Threshold.radius(1500), at="2026-11-24T10:00").iloc[0]
    night = coverage_by_district(square_district(), index, Threshold.radius(1500), at="2026-11-24T02:00").iloc[0]
    assert day["area_covered_pct"] > 5 and day["stations"] == 1
    assert night["area_covered_pct"] == 0 and night["stations"] == 0 and night["mean_dist_m"] is None
    assert night["largest_gap_km2"] == pytest.approx(SIDE_M ** 2 / 1e6, rel=0.02)


def test_h3_agrees_with_exact_geometry_in_every_shanghai_district(shanghai):
    threshold = Threshold.walking(15)
    table = coverage_by_district(load_districts(), shanghai, threshold).set_index("adcode")
    open_ = shanghai.admitted(np.arange(len(shanghai)), Filters())
    for district in load_districts().itertuples():
        exact = exact_covered_share(district.geometry, shanghai.lon[open_], shanghai.lat[open_], threshold.radius_m)
        assert abs(table.loc[district.adcode, "area_covered_pct"] - exact) < 1.0, district.name


def test_threshold_states_its_assumptions():
    walk = Threshold.walking(15)
    assert round(walk.radius_m) == 962 and "1.3" in walk.describe("zh") and "5 km/h" in walk.describe("en")
    assert round(Threshold.walking(15, "ebike").radius_m) == 2885
    assert resolution_for(962) == 9


@pytest.mark.parametrize("make, field", [(lambda: Threshold.radius(0), "radius_m"),
                                         (lambda: Threshold.radius(-5), "radius_m"),
                                         (lambda: Threshold.walking(0), "minutes"),
                                         (lambda: Threshold.walking(15, "car"), "mode")])
def test_bad_thresholds(make, field):
    with pytest.raises(InputError) as info:
        make()
    assert info.value.field == field


def test_empty_districts_and_unknown_adcode():
    with pytest.raises(InputError, match="no districts"):
        coverage_by_district(square_district().iloc[0:0], one_station(), Threshold.radius(100))
    with pytest.raises(InputError, match="unknown adcode"):
        load_districts("999999")


def test_the_largest_gap_is_the_larger_of_two_separate_ones():
    """A wall of stations 2 km west of the centre splits the square's uncovered area in two:
    1.5 km wide to the west, 5.5 km wide to the east."""
    laea = f"+proj=laea +lat_0={CENTRE[1]} +lon_0={CENTRE[0]} +datum=WGS84 +units=m"
    back = Transformer.from_crs(laea, "EPSG:4326", always_xy=True)
    y = np.arange(-6000, 6001, 100.0)
    lon, lat = back.transform(np.full(len(y), -2000.0), y)
    index = StationIndex(from_frame(pd.DataFrame({"id": [f"w{i}" for i in range(len(y))], "name": "墙",
                                                  "lon": lon, "lat": lat, "opening_hours": "24/7"})))
    row = coverage_by_district(square_district(), index, Threshold.radius(1500), resolution=10).iloc[0]
    assert row["largest_gap_km2"] == pytest.approx(5.5 * 10, rel=0.02)
    assert row["largest_gap_lon"] > CENTRE[0]


def test_the_cell_budget_coarsens_only_the_largest_districts():
    plan = plan_resolutions(np.array([5.0, 50.0, 100_000.0]), 9, 200_000)
    assert plan.tolist()[:2] == [9, 9] and plan[2] < 9
    cells_km2 = np.array([h3.average_hexagon_area(r, unit="km^2") for r in plan])
    assert (np.array([5.0, 50.0, 100_000.0]) / cells_km2).sum() <= 200_000
    report = coverage_report(square_district(), one_station(), Threshold.radius(1500), max_cells=300)
    assert report.table.loc[0, "h3_resolution"] < resolution_for(1500) and report.table.loc[0, "cells"] <= 400


def test_an_explicit_resolution_beyond_the_budget_is_refused():
    with pytest.raises(InputError, match="coarser") as info:
        coverage_report(square_district(), one_station(), Threshold.radius(1500), resolution=12, max_cells=10_000)
    assert info.value.field == "resolution"
