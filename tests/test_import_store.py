"""`stationmap import` applies a union sheet to the store as its dry run said, all or nothing, and
`--revert` undoes it; on a GeoPackage file and on a real PostgreSQL + PostGIS."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from stationmap.accounts import Account
from stationmap.cli import main
from stationmap.registers.applying import apply_plan, current_register
from stationmap.registers.importing import plan_import
from stationmap.stations import read_stations
from stationmap.store import Conflict, Store

OP = Account.operator("tester")

DATA = Path(__file__).parent / "data" / "registers"
PUDONG = DATA / "pudong_titles.xlsx"
CHANGED = "SH-310115-0001"


@pytest.fixture
def store(store_url):
    opened = Store.open(store_url, upgrade=True)
    opened.seed(read_stations(), file_name="shanghai_stations.geojson", digest="")
    yield opened
    opened.close()


def dump(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table, as the database holds it."""
    tables = {}
    with store.engine.connect() as c:
        for name in ("stations", "station_history", "imports", "register"):
            tables[name] = [tuple(r) for r in c.execute(sa.text(f"SELECT * FROM {name} ORDER BY 1"))]
    return tables


def test_applying_a_sheet_changes_exactly_the_planned_fields_and_keeps_the_rest(store):
    store.update(CHANGED, {"status": "temporarily_closed", "closed_until": "2027-01-31"}, expected_version=None,
                 reason="装修", actor=OP)
    before = store.get(CHANGED)
    assert main(["import", str(PUDONG), "--reason", "浦东台账 2026-11", "--database", store.engine.url
                 .render_as_string(hide_password=False)]) == 0
    after = store.get(CHANGED)
    assert after["phone"] == "021-58880001" and after["opening_hours"] == "Mo-Fr 09:00-17:00; PH off"
    assert after["opening_hours_text"] == "周一至周五 9:00-17:00，节假日休息"
    for kept in ("name", "address", "amenities", "operator", "status", "closed_until", "location", "type"):
        assert after[kept] == before[kept], kept
    assert after["version"] == before["version"] + 1
    added = {s["id"] for s in store.needs_location()} | set(store.load()[0]["id"])
    assert {"PD-NEW-001", "PD-NEW-002", "PD-NEW-003", "PD-NEW-004", "PD-NEW-005"} <= added
    assert len(store.needs_location()) == 1            # the row without coordinates: kept, needs a location
    record = store.imports()[0]
    assert record["file_name"] == "pudong_titles.xlsx" and record["reason"] == "浦东台账 2026-11"
    assert record["sha256"] == plan_import(PUDONG, current_register(store)).digest
    assert record["counts"]["added"] == 5 and record["counts"]["changed"] == 1 and record["who"]
    assert store.history(CHANGED)[-1].import_id == record["id"]
    assert store.get("SH-310115-0002")["version"] == 1           # left alone: same as the sheet


def test_an_empty_cell_never_erases_a_stored_value(store, tmp_path):
    sheet = tmp_path / "partial.csv"
    sheet.write_text(f"站点编号,站点名称,联系电话,经度,纬度\n{CHANGED},新名字,,,\n", encoding="utf-8")
    before = store.get(CHANGED)
    plan = plan_import(sheet, current_register(store))
    assert [c.field for c in plan.change[CHANGED]] == ["name"]
    apply_plan(store, plan, current_register(store), actor=Account.operator("tester"))
    after = store.get(CHANGED)
    assert after["name"] == "新名字" and after["phone"] == before["phone"] and before["phone"]
    assert after["location"] == before["location"]


def test_a_station_without_a_location_is_compared_not_added_twice(store, tmp_path):
    store.update(CHANGED, {"location": None}, expected_version=None, reason="moved, place unknown", actor=OP)
    sheet = tmp_path / "place.csv"
    name = store.get(CHANGED)["name"]
    sheet.write_text(f"站点编号,站点名称,经度,纬度,坐标系\n{CHANGED},{name},121.55,31.22,wgs84\n", encoding="utf-8")
    plan = plan_import(sheet, current_register(store))
    assert not plan.add and [c.field for c in plan.change[CHANGED]] == ["geometry"]
    apply_plan(store, plan, current_register(store), actor=OP)
    assert store.get(CHANGED)["location"] == [121.55, 31.22] and not store.needs_location()


def test_a_bad_file_changes_nothing_row_for_row(store, capsys):
    before = dump(store)
    url = store.engine.url.render_as_string(hide_password=False)
    assert main(["import", str(DATA / "bad_register.csv"), "--database", url]) == 2
    assert "row 3" in capsys.readouterr().err
    assert dump(store) == before


def test_an_import_planned_before_an_edit_is_refused_whole(store):
    current = current_register(store)
    plan = plan_import(PUDONG, current)
    store.update(CHANGED, {"phone": "021-11111111"}, expected_version=None, reason="meanwhile", actor=OP)
    before = dump(store)
    with pytest.raises(Conflict, match=CHANGED):
        apply_plan(store, plan, current, actor=OP)
    assert dump(store) == before


def test_replace_area_removes_what_the_plan_removes_and_revert_brings_it_back(store, capsys):
    url = store.engine.url.render_as_string(hide_password=False)
    live_before = current_register(store).drop(columns=["version"]).sort_values("id").reset_index(drop=True)
    plan = plan_import(PUDONG, current_register(store), mode="replace-area", adcode="310115")
    assert main(["import", str(PUDONG), "--mode", "replace-area", "--adcode", "310115", "--database", url]) == 0
    out = capsys.readouterr().out
    import_id = store.imports()[0]["id"]
    assert f"import {import_id}:" in out and f"removed {len(plan.remove)}" in out
    live = set(current_register(store)["id"])
    assert not live & set(plan.remove) and "SH-310115-0002" in live
    assert main(["import", "--revert", str(import_id), "--reason", "wrong sheet", "--database", url]) == 0
    restored = current_register(store).drop(columns=["version"]).sort_values("id").reset_index(drop=True)
    assert restored.drop(columns="geometry").equals(live_before.drop(columns="geometry"))
    assert restored.geometry.geom_equals_exact(live_before.geometry, tolerance=1e-9).all()
    assert store.history(CHANGED)[-1].reason == f"revert of import {import_id}: wrong sheet"


def test_the_dry_run_compares_with_the_store_and_writes_nothing(store, capsys):
    url = store.engine.url.render_as_string(hide_password=False)
    store.update("SH-310115-0002", {"phone": "021-00000000"}, expected_version=None, reason="differs from sheet",
                 actor=OP)
    before = dump(store)
    assert main(["import", str(PUDONG), "--dry-run", "--lang", "en", "--database", url]) == 0
    assert "to change 2" in capsys.readouterr().out
    assert dump(store) == before


def test_file_mode_is_for_dry_runs_only(capsys):
    assert main(["import", str(PUDONG), "--stations", "data/shanghai_stations.geojson"]) == 2
    assert "--dry-run" in capsys.readouterr().err
    assert main(["import", "--revert", "1", str(PUDONG)]) == 2
