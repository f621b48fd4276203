"""Uploads waiting for their apply: kept privately and briefly, and only the plan shown is applied."""

from __future__ import annotations

import os
import stat
import time

import pytest

from stationmap.accounts import Account
from stationmap.errors import InputError
from stationmap.registers import staging
from stationmap.registers.applying import current_register
from stationmap.registers.importing import plan_rows
from stationmap.registers.sheets import read_table_bytes
from stationmap.stations import read_stations
from stationmap.store import Store

OPERATOR = Account.operator("tester")
SHEET = ("站点编号,站点名称,详细地址,所属区,联系电话\n"
         "SH-310104-0001,徐汇区新华路爱心接力站（1号）,新华路1号,310104,021-64000001\n"
         "XH-NEW-1,徐汇区新站,漕溪路2号,310104,\n").encode()


@pytest.fixture
def store(tmp_path):
    opened = Store.open(f"sqlite:///{tmp_path / 'register.gpkg'}", upgrade=True)
    opened.seed(read_stations(), file_name="shanghai_stations.geojson", digest="")
    yield opened
    opened.close()


def _plan(store):
    current = current_register(store)
    plan = plan_rows(read_table_bytes(SHEET, "徐汇.csv"), current)
    return plan, current


def test_an_upload_is_kept_privately_and_only_its_uploader_may_fetch_it(tmp_path):
    area = staging.Staging(tmp_path / "uploads")
    staged = area.put(SHEET, "../../etc/徐汇.csv", who="user:xuhui", mode="upsert")
    path = tmp_path / "uploads" / staged.token / "upload.csv"
    assert staged.path == str(path) and path.read_bytes() == SHEET and staged.name == "徐汇.csv"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert area.get(staged.token, who="user:xuhui").name == "徐汇.csv"
    for token, who in ((staged.token, "user:pudong"), ("../" + staged.token, "user:xuhui"), ("x", "user:xuhui")):
        with pytest.raises(InputError, match="upload"):
            area.get(token, who=who)
    area.discard(staged.token)
    assert not path.parent.exists()
    with pytest.raises(InputError):
        area.get(staged.token, who="user:xuhui")


def test_uploads_older_than_the_limit_are_swept_and_refused(tmp_path):
    area = staging.Staging(tmp_path / "uploads", keep_s=60)
    old = area.put(SHEET, "a.csv", who="user:a")
    os.utime(tmp_path / "uploads" / old.token, (time.time() - 120, time.time() - 120))
    fresh = area.put(SHEET, "b.csv", who="user:a")           # every upload sweeps
    assert not (tmp_path / "uploads" / old.token).exists()
    assert area.get(fresh.token, who="user:a").name == "b.csv"
    record = area.get(fresh.token, who="user:a")
    record.created -= 120
    area.save(record)
    with pytest.raises(InputError):
        area.get(fresh.token, who="user:a")


def test_the_fingerprint_stays_while_the_register_stands_still_and_moves_with_any_station_it_read(store):
    plan, current = _plan(store)
    versions = staging.planned_versions(plan, current)
    assert versions == {"XH-NEW-1": 0, "SH-310104-0001": 1}
    first = staging.fingerprint(plan, versions)
    again, current_again = _plan(store)
    assert staging.fingerprint(again, staging.planned_versions(again, current_again)) == first
    store.update("SH-310104-0002", {"phone": "1"}, expected_version=None, actor=OPERATOR)     # not in the sheet
    unrelated, current_unrelated = _plan(store)
    assert staging.fingerprint(unrelated, staging.planned_versions(unrelated, current_unrelated)) == first
    store.update("SH-310104-0001", {"operator": "新华街道"}, expected_version=None, actor=OPERATOR)
    moved, current_moved = _plan(store)
    assert staging.fingerprint(moved, staging.planned_versions(moved, current_moved)) != first


def test_a_station_the_plan_leaves_alone_is_still_held_to_its_version(store):
    same = ("站点编号,站点名称\nSH-310104-0001,徐汇区新华路爱心接力站（1号）\n").encode()
    current = current_register(store)
    plan = plan_rows(read_table_bytes(same, "same.csv"), current)
    assert plan.leave == ["SH-310104-0001"] and plan.nothing_to_do
    assert staging.planned_versions(plan, current) == {"SH-310104-0001": 1}


def test_the_districts_an_import_touches_are_named_with_their_stations(store):
    moving = ("站点编号,站点名称,所属区,经度,纬度,坐标系\n"
              "SH-310104-0001,徐汇区新华路爱心接力站（1号）,310115,121.60,31.20,wgs84\n").encode()
    current = current_register(store)
    plan = plan_rows(read_table_bytes(moving, "move.csv"), current)
    touched = staging.touched_adcodes(plan, current)
    assert touched == {"310104": {"SH-310104-0001"}, "310115": {"SH-310104-0001"}}
    plan, current = _plan(store)
    assert staging.touched_adcodes(plan, current) == {"310104": {"SH-310104-0001", "XH-NEW-1"}}
