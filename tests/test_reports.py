"""Coverage exports: the CSV's column order, Chinese Excel headers, gaps as GeoJSON, assumptions in each."""

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from stationmap.coverage import Threshold, coverage_report
from stationmap.districts import load_districts
from stationmap.reports import LEADING, write_coverage


@pytest.fixture(scope="module")
def written(shanghai, tmp_path_factory):
    report = coverage_report(load_districts("310104"), shanghai, Threshold.walking(15), at="2026-11-24T02:00")
    out = tmp_path_factory.mktemp("report")
    write_coverage(report, out, "zh")
    return report, out


def test_csv_starts_with_the_agreed_columns_and_states_assumptions(written):
    report, out = written
    header = (out / "coverage.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:len(LEADING)] == list(LEADING)
    table = pd.read_csv(out / "coverage.csv", dtype={"adcode": str})
    assert table["adcode"].tolist() == ["310104"]
    assert "962" in table.loc[0, "assumptions"] and "02:00" in table.loc[0, "assumptions"]


def test_excel_has_chinese_headers_and_a_notes_sheet(written):
    _, out = written
    sheets = pd.read_excel(out / "coverage.xlsx", sheet_name=None)
    assert list(sheets) == ["覆盖", "说明"]
    assert list(sheets["覆盖"].columns[:3]) == ["行政区划代码", "区", "站点数"]
    assert "1.3" in sheets["说明"].iloc[0, 0]


def test_gaps_are_the_uncovered_cells(written):
    report, out = written
    gaps = gpd.read_file(out / "gaps.geojson")
    assert gaps["adcode"].tolist() == ["310104"] and "assumptions" in gaps.columns
    district = load_districts("310104").geometry.iloc[0]
    row = report.table.iloc[0]
    uncovered_share = 100 - row["area_covered_pct"]
    area = gaps.to_crs("+proj=cea +datum=WGS84").area.iloc[0] / 1e6
    polygon_km2 = gpd.GeoSeries([district], crs=4326).to_crs("+proj=cea +datum=WGS84").area.iloc[0] / 1e6
    assert abs(100 * area / polygon_km2 - uncovered_share) < 3          # hexagons overhang the outline a little
    assert shapely.intersects(gaps.geometry.iloc[0], district)
