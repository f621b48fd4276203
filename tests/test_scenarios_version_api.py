"""Today against an earlier register version (``b_version`` on /api/v1/coverage/compare): the
cells gained and lost are the set difference of two coverages computed independently, one on
today's register and one on the register as it was read right after that version's commit."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from stationmap import heavy, scenarios
from stationmap.accounts import Account
from stationmap.coverage import Threshold, coverage_report
from stationmap.districts import load_districts
from stationmap.index import StationIndex
from stationmap.stations import read_stations
from stationmap.store import Store
from stationmap.web import create_app

URL = "/api/v1/coverage/compare"
OP = Account.operator("planner-tests")
AREA = "310101"
RES = 9


@pytest.fixture(scope="module")
def registers(tmp_path_factory):
    """A GeoPackage register: the sample (version 1), then Huangpu loses four stations, gains one
    in a gap and one moves; the stations as read after the seed and now. The questions ask 5
    minutes' walk: at 15, Huangpu is covered whatever four stations do."""
    url = f"sqlite:///{tmp_path_factory.mktemp('register') / 'register.gpkg'}"
    store = Store.open(url, upgrade=True)
    store.seed(read_stations(), file_name="shanghai_stations.geojson", digest="")
    then = store.load()[0]
    huangpu = then[then["adcode"] == AREA]["id"].tolist()
    for station_id in huangpu[:4]:
        store.delete(station_id, expected_version=None, actor=OP, reason="closed")
    store.create("NEW-310101-1", {"name": "新站", "lon": 121.4736, "lat": 31.1955, "adcode": AREA}, actor=OP)
    store.update(huangpu[5], {"lon": 121.50, "lat": 31.245}, expected_version=None, actor=OP)
    now, newest = store.load()
    store.close()
    return url, then, now, newest


@pytest.fixture(scope="module")
def client(registers):
    return create_app({"TESTING": True, "DATABASE_URL": registers[0]}).test_client()


def _covered(report) -> set:
    cells = report.cells
    return set(cells["cell"][cells["distance_m"] <= report.threshold.radius_m].tolist())


def _problem(response, parameter: str) -> str:
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    errors = {e["parameter"]: e["reason"] for e in response.get_json(force=True)["errors"]}
    assert parameter in errors, errors
    return errors[parameter]


def test_the_core_comparison_of_two_registers_is_the_set_difference_of_their_coverages(registers):
    _, then, now, _ = registers
    districts, walk = load_districts(AREA), Threshold.walking(5)
    today, earlier = StationIndex(now), StationIndex(then)
    found = scenarios.compare(districts, today, scenarios.Side(walk), scenarios.Side(walk, register=1),
                              resolution=RES, b_index=earlier)
    a = _covered(coverage_report(districts, today, walk, resolution=RES))
    b = _covered(coverage_report(districts, earlier, walk, resolution=RES))
    cells = found.cells
    changed = {name: set(cells["cell"][cells["change"] == i].tolist()) for i, name in enumerate(scenarios.CHANGES)}
    assert changed["gained"] == b - a and changed["lost"] == a - b and changed["covered"] == a & b
    assert changed["gained"] and changed["lost"]            # four closed, one new and one moved: both ways


def test_b_version_answers_the_same_question_on_the_register_as_it_was(client, registers):
    _, then, now, newest = registers
    body = client.get(URL, query_string={"adcode": AREA, "minutes": 5, "b_version": 1}).json
    districts, walk = load_districts(AREA), Threshold.walking(5)
    found = scenarios.compare(districts, StationIndex(now), scenarios.Side(walk), scenarios.Side(walk),
                              b_index=StationIndex(then), max_cells=400_000)
    a_report = coverage_report(districts, StationIndex(now), walk, max_cells=400_000)
    b_report = coverage_report(districts, StationIndex(then), walk, max_cells=400_000)
    a, b = _covered(a_report), _covered(b_report)
    everything = set(a_report.cells["cell"])
    assert body["totals"]["cells"] == {"gained": len(b - a), "lost": len(a - b), "covered": len(a & b),
                                       "gap": len(everything - a - b)}
    assert body["totals"] == scenarios.totals(found)
    row = body["districts"][0]
    assert row["area_covered_pct_a"] == pytest.approx(a_report.table.iloc[0]["area_covered_pct"], abs=1e-9)
    assert row["area_covered_pct_b"] == pytest.approx(b_report.table.iloc[0]["area_covered_pct"], abs=1e-9)
    assert body["query"]["b_version"] == 1 and body["dataset"]["register_version"] == newest
    assert body["scenarios"]["a"]["register_version"] == newest and body["scenarios"]["b"]["register_version"] == 1
    assert body["scenarios"]["b"]["label"] == "步行 5 分钟内 · 任何时间 · 第 1 版登记册"
    assert body["scenarios"]["a"]["label"].endswith(f"第 {newest} 版登记册")


def test_the_current_version_changes_nothing_and_b_version_combines_with_the_other_b_fields(client, registers):
    newest = registers[3]
    same = client.get(URL, query_string={"adcode": AREA, "minutes": 5, "b_version": newest}).json
    assert same["totals"]["cells"]["gained"] == same["totals"]["cells"]["lost"] == 0
    night = client.get(URL, query_string={"adcode": AREA, "minutes": 5, "b_version": 1, "b_at": "02:00",
                                          "b_minutes": 10, "lang": "en"}).json
    assert night["scenarios"]["b"]["label"] == "10 min by walk · 02:00 · register version 1"
    assert night["scenarios"]["b"]["minutes"] == 10 and night["scenarios"]["b"]["register_version"] == 1


def test_downloads_name_both_register_versions(client, registers):
    newest = registers[3]
    csv = client.get(URL, query_string={"adcode": AREA, "minutes": 5, "b_version": 1, "f": "csv"})
    assert csv.headers["Content-Disposition"] == (
        f'attachment; filename="coverage-compare-{AREA}-walk5-v{newest}-vs-walk5-v1.csv"')
    assert "第 1 版登记册" in csv.data.decode("utf-8-sig")
    xlsx = client.get(URL, query_string={"adcode": AREA, "minutes": 5, "b_version": 2, "f": "xlsx", "lang": "en"})
    assert f"-v{newest}-vs-walk5-v2.xlsx" in xlsx.headers["Content-Disposition"]
    notes = " ".join(str(c.value) for row in openpyxl.load_workbook(io.BytesIO(xlsx.data)).worksheets[-1].iter_rows()
                     for c in row if c.value)
    assert "register version 2" in notes
    geo = client.get(URL, query_string={"adcode": AREA, "minutes": 5, "b_version": 1, "f": "geojson"})
    assert f'filename="coverage-changes-{AREA}-walk5-v{newest}-vs-walk5-v1.geojson"' in \
        geo.headers["Content-Disposition"]


@pytest.mark.parametrize("version", [0, -1, "x", 1.5, "later"])
def test_a_b_version_that_is_no_version_number_is_a_400_naming_the_field(client, version):
    asked = {"adcode": AREA, "minutes": 5, "b_version": version}
    reason = _problem(client.get(URL, query_string=asked), "b_version")
    if version in (0, -1):
        assert "is not a version of this register" in reason and f"登记册没有第 {version} 版" in reason


def test_a_b_version_beyond_the_register_is_a_400_in_chinese_and_english(client, registers):
    newest = registers[3]
    asked = {"adcode": AREA, "minutes": 5, "b_version": newest + 1}
    reason = _problem(client.get(URL, query_string=asked), "b_version")
    assert f"it has versions 1 to {newest}" in reason and f"现有第 1 至第 {newest} 版" in reason


def test_a_server_reading_a_stations_file_has_no_history_to_compare_with(tmp_path):
    path = tmp_path / "stations.csv"
    frame = read_stations()
    pd.DataFrame({"id": frame["id"], "name": frame["name"], "lon": frame.geometry.x, "lat": frame.geometry.y,
                  "adcode": frame["adcode"]}).to_csv(path, index=False)
    client = create_app({"TESTING": True, "STATIONS_PATH": str(path)}).test_client()
    reason = _problem(client.get(URL, query_string={"adcode": AREA, "minutes": 5, "b_version": 1}), "b_version")
    assert "keeps no history" in reason and "没有历史版本" in reason
    assert client.get(URL, query_string={"adcode": AREA, "b_at": "02:00"}).status_code == 200


def test_past_registers_are_kept_per_process_but_only_a_few(client, registers):
    newest = registers[3]
    for version in range(1, newest + 1):
        assert client.get(URL, query_string={"adcode": AREA, "minutes": 5, "b_version": version}).status_code == 200
        assert len(heavy._PAST) <= heavy.PAST_KEPT
    kept = list(heavy._PAST.values())
    assert [d.register_version for d in kept] == [newest - 1, newest]
    client.get(URL, query_string={"adcode": AREA, "minutes": 5, "b_version": newest, "b_minutes": 10})
    assert list(heavy._PAST.values())[-1] is kept[-1]            # the same version again: not rebuilt
