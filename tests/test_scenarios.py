"""Scenarios side by side (stationmap.scenarios): the difference is the set difference of two
coverages computed independently by the coverage report, cell by cell and per district."""

import io
import json

import numpy as np
import openpyxl
import pandas as pd
import pytest

from stationmap import scenarios
from stationmap.coverage import Threshold, coverage_report
from stationmap.districts import load_districts
from stationmap.index import StationIndex
from stationmap.planner import parse_at
from stationmap.recommend import recommend
from stationmap.scenarios import Side, compare
from stationmap.stations import from_frame

NIGHT = parse_at("2026-11-24T02:00")
RES = 9


def _covered(report):
    cells = report.cells
    return set(cells["cell"][cells["distance_m"] <= report.threshold.radius_m].tolist())


def _changed(comparison, change):
    cells = comparison.cells
    return set(cells["cell"][cells["change"] == scenarios.CHANGES.index(change)].tolist())


def _assert_is_the_set_difference(comparison, report_a, report_b):
    assert set(comparison.cells["cell"]) == set(report_a.cells["cell"]) == set(report_b.cells["cell"])
    everything = set(comparison.cells["cell"])
    a, b = _covered(report_a), _covered(report_b)
    assert _changed(comparison, "gained") == b - a
    assert _changed(comparison, "lost") == a - b
    assert _changed(comparison, "covered") == a & b
    assert _changed(comparison, "gap") == everything - a - b
    table = comparison.table.set_index("adcode")
    for report, side in ((report_a, "a"), (report_b, "b")):
        for row in report.table.itertuples():
            assert table.loc[row.adcode, f"area_covered_pct_{side}"] == pytest.approx(row.area_covered_pct, abs=1e-9)


def test_day_against_night_loses_exactly_the_cells_only_night_closed_stations_covered(shanghai):
    districts = load_districts("310101")
    walk = Threshold.walking(15)
    comparison = compare(districts, shanghai, Side(walk), Side(walk, at=NIGHT), resolution=RES)
    day = coverage_report(districts, shanghai, walk, resolution=RES)
    night = coverage_report(districts, shanghai, walk, at=NIGHT, resolution=RES)
    _assert_is_the_set_difference(comparison, day, night)
    assert _changed(comparison, "lost") and not _changed(comparison, "gained")


def test_ten_against_fifteen_minutes_gains_the_ring_between_them(shanghai):
    districts = load_districts("310104")
    ten, fifteen = Threshold.walking(10), Threshold.walking(15)
    comparison = compare(districts, shanghai, Side(ten), Side(fifteen), resolution=RES)
    _assert_is_the_set_difference(comparison, coverage_report(districts, shanghai, ten, resolution=RES),
                                  coverage_report(districts, shanghai, fifteen, resolution=RES))
    assert _changed(comparison, "gained") and not _changed(comparison, "lost")


def test_the_recommended_sites_gain_what_a_register_with_them_as_stations_covers(shanghai):
    districts = load_districts("310112")
    walk = Threshold.walking(15)
    today = coverage_report(districts, shanghai, walk, resolution=8)
    sites = recommend(today, districts, 3)
    open_now = shanghai.stations[shanghai.stations["status"] == "open"]
    frame = pd.DataFrame({"id": open_now["id"], "name": open_now["name"],
                          "lon": open_now.geometry.x, "lat": open_now.geometry.y})
    added = pd.DataFrame({"id": [f"new-{r}" for r in sites["rank"]], "name": "新站",
                          "lon": sites["lon"], "lat": sites["lat"]})
    with_sites = coverage_report(districts, StationIndex(from_frame(pd.concat([frame, added]))), walk, resolution=8)
    b = Side(walk, sites_lon=tuple(sites["lon"]), sites_lat=tuple(sites["lat"]))
    comparison = compare(districts, shanghai, Side(walk), b, resolution=8)
    _assert_is_the_set_difference(comparison, today, with_sites)
    row = comparison.table.iloc[0]
    assert row.gained_km2 > 0 and row.lost_km2 == 0 and row.area_covered_pct_delta > 0
    assert "加 3 个建议站点" in comparison.assumptions("zh") and "3 recommended sites" in comparison.assumptions("en")


def test_people_covered_follow_the_share_and_the_totals_add_up(shanghai):
    districts = load_districts("310100").head(3)
    comparison = compare(districts, shanghai, Side(Threshold.walking(10)), Side(Threshold.walking(15)),
                         max_cells=20_000)
    table = comparison.table
    for row in table.itertuples():
        # The share is rounded to 0.01 %; the people are counted from the unrounded share.
        assert row.population_covered_a == pytest.approx(row.population * row.area_covered_pct_a / 100,
                                                         abs=row.population * 0.005 / 100 + 1)
        assert row.population_covered_delta == row.population_covered_b - row.population_covered_a
        assert row.area_covered_pct_delta == pytest.approx(row.area_covered_pct_b - row.area_covered_pct_a, abs=1e-9)
    whole = scenarios.totals(comparison)
    assert whole["population_covered_delta"] == table["population_covered_delta"].sum()
    assert sum(whole["cells"].values()) == len(comparison.cells)
    assert whole["cells"]["lost"] == 0 and whole["km2"]["gained"] == pytest.approx(table["gained_km2"].sum(), abs=0.01)


def test_the_two_sides_are_measured_on_the_finer_of_their_grids(shanghai):
    districts = load_districts("310101")
    comparison = compare(districts, shanghai, Side(Threshold.radius(3000)), Side(Threshold.walking(5)))
    fine = coverage_report(districts, shanghai, Threshold.walking(5))
    assert set(comparison.cells["resolution"]) == set(fine.cells["resolution"])


def test_the_difference_map_decodes_to_one_change_per_cell(shanghai):
    districts = load_districts("310101")
    comparison = compare(districts, shanghai, Side(Threshold.walking(15)), Side(Threshold.walking(15), at=NIGHT),
                         resolution=RES)
    payload = scenarios.difference_payload(comparison, "gcj02")
    values = np.asarray(payload["cells"]).reshape(-1, 4)[:, 2]
    assert payload["count"] == len(comparison.cells) and sorted(set(values)) <= [0, 10, 20, 30]
    expected = np.bincount(comparison.cells["change"], minlength=4).tolist()
    assert np.bincount(values // 10, minlength=4).tolist() == expected
    # The page's bandOf: the last band whose lower edge a value exceeds picks each change's colour.
    for code, name in enumerate(scenarios.CHANGES):
        band = next(b for b in range(len(payload["bands"]) - 1, -1, -1) if b == 0 or code > payload["bands"][b][0])
        assert payload["bands"][band][2] == scenarios.DIFF_COLOURS[name]


def test_exports_say_what_they_hold_and_write_formula_names_as_text(shanghai):
    districts = load_districts("310101")
    districts.loc[districts.index[0], "name"] = '=HYPERLINK("http://evil.example","点我")'
    comparison = compare(districts, shanghai, Side(Threshold.walking(15)), Side(Threshold.walking(15), at=NIGHT),
                         resolution=RES)
    text = scenarios.changes_csv(comparison, "zh").decode("utf-8-sig")
    assert text.splitlines()[0].startswith("行政区划代码,区,覆盖面积占比 A (%),覆盖面积占比 B (%)")
    assert "'=HYPERLINK" in text and "方案 B：步行 15 分钟内 · 02:00" in text
    book = openpyxl.load_workbook(io.BytesIO(scenarios.changes_xlsx(comparison, "en")))
    sheet = book["Scenarios"]
    assert sheet["A1"].value == "Adcode" and sheet["B2"].value.startswith("'=HYPERLINK")
    assert sheet["B2"].data_type == "s"
    geo = json.loads(json.dumps(scenarios.difference_geojson(comparison, "en")))
    lost = [f for f in geo["features"] if f["properties"]["change"] == "lost"]
    assert lost and lost[0]["properties"]["change_label"] == "lost"
    assert lost[0]["properties"]["km2"] == pytest.approx(comparison.table.iloc[0]["lost_km2"], abs=1e-3)


def test_mismatched_sites_are_refused_naming_the_field(shanghai):
    with pytest.raises(Exception) as caught:
        compare(load_districts("310101"), shanghai, Side(Threshold.walking(15)),
                Side(Threshold.walking(15), sites_lon=(121.4,), sites_lat=()))
    assert getattr(caught.value, "field", None) == "sites"
