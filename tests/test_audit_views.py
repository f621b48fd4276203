"""Who reads what of the audit, checked against a brute-force reading of the rule; on a GeoPackage
file and on a real PostgreSQL + PostGIS."""

from __future__ import annotations

import pytest

from stationmap.accounts import Account
from stationmap.permissions import Forbidden
from stationmap.stations import read_stations
from stationmap.store import Store, audit_views

OPERATOR = Account.operator("tester")
PASSWORD = "correct horse battery"


@pytest.fixture
def store(store_url):
    opened = Store.open(store_url, upgrade=True)
    opened.seed(read_stations(), file_name="shanghai_stations.geojson", digest="")
    yield opened
    opened.close()


@pytest.fixture
def people(store):
    return {role: store.add_account(name, role, codes, password=PASSWORD, actor=OPERATOR)
            for role, name, codes in (("admin", "city", ()), ("editor", "xuhui", ("310104",)),
                                      ("viewer", "auditor", ()))} | {
        "pudong": store.add_account("pudong", "editor", ("310115",), password=PASSWORD, actor=OPERATOR)}


def _history(store, people):
    city, xuhui, pudong = people["admin"], people["editor"], people["pudong"]
    store.update("SH-310104-0001", {"phone": "1"}, expected_version=None, actor=xuhui, reason="电话")
    store.update("SH-310115-0001", {"phone": "2"}, expected_version=None, actor=pudong)
    store.update("SH-310104-0002", {"adcode": "310115"}, expected_version=None, actor=city, reason="划区")
    with pytest.raises(Forbidden):
        store.update("SH-310115-0002", {"phone": "3"}, expected_version=None, actor=xuhui)
    with pytest.raises(Forbidden):
        store.update("SH-310104-0003", {"phone": "4"}, expected_version=None, actor=pudong)


def test_admins_and_viewers_read_everything_and_editors_their_districts_and_their_own_acts(store, people):
    _history(store, people)
    everything = store.audit(limit=1000)
    assert {e.outcome for e in everything} == {"done", "refused"}
    for role in ("admin", "viewer"):
        assert audit_views.everything(store, people[role], most=1000) == everything
    xuhui = people["editor"]
    seen = audit_views.everything(store, xuhui, most=1000)
    districts = audit_views.station_districts(store, (e.target_id for e in everything if e.target_kind == "station"))
    assert seen == [e for e in everything if audit_views.visible(xuhui, e, districts)]
    shown = {(e.target_id, e.outcome, e.who) for e in seen}
    assert ("SH-310104-0001", "done", "user:xuhui") in shown
    assert ("SH-310104-0002", "done", "user:city") in shown              # moved out of Xuhui: still visible
    assert ("SH-310115-0002", "refused", "user:xuhui") in shown          # their own refusal
    assert ("SH-310104-0003", "refused", "user:pudong") in shown         # someone else's try on their station
    assert ("SH-310115-0001", "done", "user:pudong") not in shown
    assert {e.target_id for e in seen if e.target_kind == "account"} == {"xuhui"}    # not colleagues' accounts


def test_an_editors_pages_follow_each_other_without_gaps_or_repeats(store, people):
    _history(store, people)
    for i in range(5):
        store.update("SH-310104-0005", {"phone": str(i)}, expected_version=None, actor=people["editor"])
    xuhui = people["editor"]
    whole = audit_views.everything(store, xuhui, most=1000)
    first, more = audit_views.page(store, xuhui, limit=3)
    second, _ = audit_views.page(store, xuhui, limit=3, offset=3)
    assert more and first + second == whole[:6]
    last, more_after = audit_views.page(store, xuhui, limit=3, offset=len(whole) - 2)
    assert last == whole[-2:] and not more_after


def test_a_station_change_in_the_audit_finds_its_station_version(store, people):
    _history(store, people)
    entries = store.audit(station_id="SH-310104-0001", outcome="done")
    versions = audit_views.station_versions(store, entries)
    assert versions == {("SH-310104-0001", entries[0].register_version): 2}
    result = store.undo_change("SH-310104-0001", 2, expected_version=2, actor=people["editor"], reason="撤回")
    assert result == 3 and store.get("SH-310104-0001")["phone"] == store.history("SH-310104-0001")[0].changes.get(
        "phone", ["", ""])[1]
