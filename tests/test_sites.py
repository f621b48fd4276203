"""What a planner gets about each recommended site: district, nearest station, links, files."""

import csv
import io
import json

import numpy as np
import pandas as pd
from pyproj import Geod

from stationmap import coords
from stationmap.coverage import Threshold, coverage_report
from stationmap.districts import load_districts
from stationmap.heat import heat_payload, heat_values
from stationmap.index import StationIndex
from stationmap.sites import (
    SITE_COLUMNS,
    site_details,
    sites_csv,
    sites_geojson,
    sites_stem,
    sites_xlsx,
)
from stationmap.stations import from_frame

HOSTILE = '=HYPERLINK("http://evil.example","x")<script>'


def sites_at(points):
    rows = []
    for rank, (lon, lat) in enumerate(points, start=1):
        gx, gy = coords.wgs84_to_gcj02(lon, lat)
        rows.append({"rank": rank, "lon": lon, "lat": lat, "gcj02_lon": round(float(gx), 6),
                     "gcj02_lat": round(float(gy), 6),
                     "gain": 100.0 * rank, "gain_share_of_uncovered_pct": 1.0, "cumulative_gain": 100.0,
                     "method": "greedy"})
    return pd.DataFrame(rows)


def index_of(n=200, seed=4):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(n)],
                          "name": [HOSTILE if i == 0 else f"站{i}" for i in range(n)],
                          "lon": rng.uniform(121.40, 121.55, n), "lat": rng.uniform(31.15, 31.30, n)})
    return StationIndex(from_frame(frame)), frame


def test_the_nearest_station_and_its_distance_are_the_brute_force_geodesic_ones():
    index, frame = index_of()
    points = [(121.47, 31.23), (121.43, 31.18), (121.52, 31.27)]
    table = site_details(sites_at(points), load_districts("310100"), index)
    geod = Geod(ellps="WGS84")
    for (lon, lat), row in zip(points, table.itertuples(), strict=False):
        _, _, metres = geod.inv(np.full(len(frame), lon), np.full(len(frame), lat), frame["lon"], frame["lat"])
        best = int(np.argmin(metres))
        assert row.nearest_station_id == frame["id"][best]
        assert abs(row.nearest_station_m - metres[best]) < 0.1
    assert list(table.columns) == list(SITE_COLUMNS)
    assert table["district"].tolist()[0] == "黄浦区" or table["adcode"].tolist()[0].startswith("3101")
    assert all(link.startswith("https://uri.amap.com/marker?position=") for link in table["amap"])
    gcj = table[["gcj02_lon", "gcj02_lat"]].to_numpy()
    assert f"{gcj[0][0]:.6f}%2C{gcj[0][1]:.6f}" in table["amap"][0]         # AMap gets GCJ-02, not WGS-84


def test_site_files_carry_the_same_fields_and_no_formula_runs():
    index, frame = index_of()
    # The site right on the hostile station: it is the nearest one.
    table = site_details(sites_at([(float(frame["lon"][0]), float(frame["lat"][0]))]), load_districts("310100"), index)
    assert table["nearest_station"][0] == HOSTILE
    rows = list(csv.reader(io.StringIO(sites_csv(table, "说明", "zh").decode("utf-8-sig"))))
    assert rows[0][:2] == ["序号", "新增覆盖人口"] and len(rows[0]) == len(SITE_COLUMNS) + 1
    assert rows[1][rows[0].index("最近现有站点")] == "'" + HOSTILE
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(sites_xlsx(table, "note", "en"))).worksheets[0]
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[0][list(SITE_COLUMNS).index("nearest_station")] == "Nearest existing station"
    assert values[1][list(SITE_COLUMNS).index("nearest_station")] == "'" + HOSTILE
    geojson = json.loads(json.dumps(sites_geojson(table, "note", "gcj02")))
    feature = geojson["features"][0]
    assert feature["geometry"]["coordinates"] == [table["gcj02_lon"][0], table["gcj02_lat"][0]]
    assert set(feature["properties"]) == set(SITE_COLUMNS)
    assert sites_stem("310115", "ebike", 10, 1923.0, None) == "recommended-sites-310115-ebike-10min"


def test_heat_payload_decodes_to_every_cell_and_its_gap_test_is_the_report_s():
    districts = load_districts("310101")
    index, _ = index_of()
    report = coverage_report(districts, index, Threshold.walking(10))
    payload = heat_payload(report, "wgs84")
    flat = np.array(payload["cells"]).reshape(-1, 4)
    assert len(flat) == len(report.cells) == payload["count"]
    x = payload["origin"][0] + np.cumsum(flat[:, 0])
    y = payload["origin"][1] + np.cumsum(flat[:, 1])
    got = sorted(zip(np.round(x * payload["step_deg"], 5), np.round(y * payload["step_deg"], 5), flat[:, 2] > 100,
                     strict=True))
    _values, gap, threshold, unit = heat_values(report)
    expected = sorted(zip(np.round(report.cells["lon"], 5), np.round(report.cells["lat"], 5), gap, strict=False))
    assert unit == "min" and threshold == 10
    assert [g[2] for g in got] == [e[2] for e in expected]                  # a gap on the map is a gap in the table
    assert np.allclose([g[:2] for g in got], [e[:2] for e in expected], atol=1.1e-5)
    assert gap.sum() == (report.cells["distance_m"] > report.threshold.radius_m).sum()
