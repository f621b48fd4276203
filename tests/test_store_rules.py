"""The store enforces the rules inside each write: a refusal changes nothing and is audited; undo."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa

from stationmap.accounts import Account
from stationmap.permissions import Forbidden
from stationmap.stations import from_frame
from stationmap.store import Conflict, NotFound, Store
from stationmap.store.register import UndoConflict

OP = Account.operator("root")
XUHUI, PUDONG = "310104", "310115"
XU = Account(2, "xu", "editor", (XUHUI,), source="web", address="10.0.0.7")
BOTH = Account(3, "li", "editor", (XUHUI, PUDONG))
VIEWER = Account(4, "wang", "viewer")


def _frame(ids, adcodes, **more) -> gpd.GeoDataFrame:
    n = len(ids)
    return from_frame(pd.DataFrame({"id": ids, "name": [f"驿站{i}" for i in ids], "lon": [121.45] * n,
                                    "lat": [31.19] * n, "adcode": adcodes, "opening_hours": ["24/7"] * n, **more}))


@pytest.fixture
def store(store_url):
    store = Store.open(store_url, upgrade=True)
    store.seed(_frame(["X-1", "X-2", "P-1"], [XUHUI, XUHUI, PUDONG]), file_name="seed.csv", digest="", who="t")
    yield store
    store.close()


def dump(store: Store) -> list:
    """Every register row (stations, history, imports, the register version): what a refusal must not change."""
    from stationmap.store.schema import history, imports, register, stations

    with store.engine.connect() as c:
        return [sorted(map(repr, c.execute(sa.select(t)).all())) for t in (stations, history, imports, register)]


def refusals(store: Store) -> list[tuple[str, str, str]]:
    return [(e.who, e.action, e.target_id) for e in store.audit(outcome="refused")]


def test_an_editor_changes_their_district_and_the_audit_says_who_from_where(store):
    assert store.update("X-1", {"phone": "021-1"}, expected_version=1, actor=XU, reason="新电话") == 2
    [entry] = store.audit(station_id="X-1")
    assert (entry.who, entry.role, entry.source, entry.address, entry.action, entry.outcome) == (
        "user:xu", "editor", "web", "10.0.0.7", "station.update", "done")
    assert (entry.before, entry.after, entry.reason) == ({"phone": ""}, {"phone": "021-1"}, "新电话")
    assert entry.register_version == store.register_version()
    assert store.history("X-1")[-1].who == "user:xu"


@pytest.mark.parametrize("attempt", ["update", "move", "delete", "create", "create-here-but-taken", "restore"])
def test_an_editor_of_xuhui_cannot_touch_pudong_and_nothing_changes(store, attempt):
    store.delete("P-1", expected_version=1, actor=OP) if attempt == "restore" else None
    before = dump(store)
    with pytest.raises(Forbidden):
        if attempt == "update":
            store.update("P-1", {"phone": "021-9"}, expected_version=1, actor=XU)
        elif attempt == "move":
            store.update("X-1", {"adcode": PUDONG}, expected_version=1, actor=XU)
        elif attempt == "delete":
            store.delete("P-1", expected_version=1, actor=XU)
        elif attempt == "create":
            store.create("P-9", {"name": "新站", "adcode": PUDONG, "lon": 121.5, "lat": 31.2}, actor=XU)
        elif attempt == "create-here-but-taken":
            store.create("P-1", {"name": "抢注", "adcode": XUHUI, "lon": 121.5, "lat": 31.2}, actor=XU)
        else:
            store.restore("P-1", expected_version=2, actor=XU)
    assert dump(store) == before
    [(who, action, target)] = refusals(store)
    assert who == "user:xu" and action.startswith("station.") and target in ("P-1", "X-1", "P-9")


def test_a_move_between_districts_needs_both_and_a_viewer_changes_nothing(store):
    assert store.update("X-1", {"adcode": PUDONG}, expected_version=1, actor=BOTH) == 2
    before = dump(store)
    with pytest.raises(Forbidden):
        store.update("X-2", {"phone": "021-1"}, expected_version=1, actor=VIEWER)
    with pytest.raises(Forbidden):     # an edit that would change nothing is still refused
        store.update("X-2", {}, expected_version=1, actor=VIEWER)
    assert dump(store) == before and len(refusals(store)) == 2


def test_a_disabled_account_object_is_refused_even_if_a_caller_kept_it(store):
    stale = Account(9, "gone", "admin", disabled=True)
    before = dump(store)
    with pytest.raises(Forbidden, match="disabled"):
        store.delete("X-1", expected_version=1, actor=stale)
    assert dump(store) == before and refusals(store) == [("user:gone", "station.delete", "X-1")]


def test_an_editor_s_import_may_only_touch_their_districts_old_and_new(store):
    before = dump(store)
    with pytest.raises(Forbidden):      # adds a Pudong station
        store.apply_import(_frame(["P-2"], [PUDONG]), file_name="pudong.csv", actor=XU)
    with pytest.raises(Forbidden):      # moves a Xuhui station to Pudong
        store.apply_import(_frame(["X-1"], [PUDONG]), file_name="move.csv", actor=XU)
    with pytest.raises(Forbidden):      # replaces an area holding Pudong stations
        store.apply_import(_frame(["X-1"], [XUHUI]), mode="replace-area", adcode="310100", file_name="city.csv",
                           actor=XU)
    assert dump(store) == before
    assert [t for _w, _a, t in refusals(store)] == ["city.csv", "move.csv", "pudong.csv"]
    result = store.apply_import(_frame(["X-1", "X-3"], [XUHUI, XUHUI]), file_name="xuhui.csv", actor=XU)
    assert result.counts["added"] == 1
    entry = store.audit(action="import.apply", outcome="done")[0]
    assert entry.target_id == str(result.import_id) and entry.after["counts"]["added"] == 1


def test_reverting_an_import_needs_the_districts_it_touched(store):
    result = store.apply_import(_frame(["X-1", "P-1"], [XUHUI, PUDONG], phone=["1", "2"]), file_name="two.csv",
                                actor=BOTH)
    before = dump(store)
    with pytest.raises(Forbidden):
        store.revert_import(result.import_id, actor=XU)
    assert dump(store) == before
    store.revert_import(result.import_id, actor=BOTH, reason="wrong file")
    assert store.get("P-1")["phone"] == "" and store.audit(action="import.revert")[0].who == "user:li"


def test_undo_puts_back_the_fields_a_change_altered_as_a_new_version(store):
    store.update("X-1", {"phone": "021-1", "name": "改名"}, expected_version=1, actor=XU)
    store.update("X-1", {"address": "漕溪路 1 号"}, expected_version=2, actor=XU)
    assert store.undo_change("X-1", 2, expected_version=3, actor=XU, reason="写错了") == 4
    now = store.get("X-1")
    assert (now["phone"], now["name"], now["address"]) == ("", "驿站X-1", "漕溪路 1 号")
    last = store.history("X-1")[-1]
    assert last.action == "updated" and last.reason == "undo of version 2: 写错了" and last.who == "user:xu"
    assert last.changes == {"name": ["改名", "驿站X-1"], "phone": ["021-1", ""]}
    assert [c.version for c in store.history("X-1")] == [1, 2, 3, 4]     # history is never rewritten
    assert store.audit(action="change.undo")[0].after["undone_version"] == 2


def test_undo_refuses_when_a_later_change_touched_the_same_field_or_the_version_is_stale(store):
    store.update("X-1", {"phone": "021-1"}, expected_version=1, actor=OP)
    store.update("X-1", {"phone": "021-2"}, expected_version=2, actor=OP)
    before = dump(store)
    with pytest.raises(UndoConflict, match="version 3: phone"):
        store.undo_change("X-1", 2, expected_version=3, actor=OP)
    with pytest.raises(Conflict):
        store.undo_change("X-1", 3, expected_version=2, actor=OP)
    with pytest.raises(NotFound):
        store.undo_change("X-1", 9, expected_version=3, actor=OP)
    assert dump(store) == before


def test_undoing_a_deletion_restores_and_undoing_a_creation_deletes(store):
    store.delete("X-2", expected_version=1, actor=XU)
    assert store.undo_change("X-2", 2, expected_version=2, actor=XU) == 3 and not store.get("X-2")["deleted"]
    store.create("X-9", {"name": "新站", "adcode": XUHUI, "lon": 121.45, "lat": 31.19}, actor=XU)
    store.undo_change("X-9", 1, expected_version=1, actor=XU)
    with pytest.raises(NotFound):
        store.get("X-9")
    assert store.history("X-9")[-1].action == "deleted"


def test_undo_checks_the_districts_before_and_after(store):
    store.update("X-1", {"adcode": PUDONG}, expected_version=1, actor=BOTH)      # moved to Pudong
    before = dump(store)
    with pytest.raises(Forbidden):          # putting it back to Xuhui touches Pudong: XU may not
        store.undo_change("X-1", 2, expected_version=2, actor=XU)
    with pytest.raises(Forbidden):
        store.undo_change("X-1", 2, expected_version=2, actor=VIEWER)
    assert dump(store) == before and [a for _w, a, _t in refusals(store)] == ["change.undo", "change.undo"]
    store.undo_change("X-1", 2, expected_version=2, actor=BOTH)
    assert store.get("X-1")["adcode"] == XUHUI


def test_whether_a_version_or_an_import_exists_is_told_only_to_those_who_may_act_on_it(store):
    # A viewer (or an editor of Xuhui, for Pudong) probing ids and versions gets "you may not",
    # never "no such version" or "that station is at version N".
    with pytest.raises(Forbidden):
        store.undo_change("X-1", 99, expected_version=1, actor=VIEWER)          # no such version
    with pytest.raises(Forbidden):
        store.undo_change("NOPE", 1, expected_version=1, actor=VIEWER)          # no such station
    with pytest.raises(Forbidden):
        store.revert_import(9999, actor=VIEWER)                                  # no such import
    store.update("P-1", {"phone": "1"}, expected_version=1, actor=OP)
    with pytest.raises(Forbidden):                # a stale version of Pudong's station: Forbidden, not Conflict
        store.undo_change("P-1", 2, expected_version=1, actor=XU)
    with pytest.raises(Conflict):                 # the same question from someone who may: Conflict
        store.undo_change("P-1", 2, expected_version=1, actor=BOTH)
    with pytest.raises(NotFound):
        store.undo_change("X-1", 99, expected_version=1, actor=XU)


def test_an_editor_cannot_file_a_station_standing_in_another_district_under_their_own_code(store):
    lujiazui = {"lon": 121.5045, "lat": 31.2397}                       # Pudong, whatever the code says
    before = dump(store)
    with pytest.raises(Forbidden, match="310115"):
        store.create("X-8", {"name": "新站", "adcode": XUHUI, **lujiazui}, actor=XU)
    with pytest.raises(Forbidden, match="310115"):                    # nor move one of theirs there
        store.update("X-1", lujiazui, expected_version=1, actor=XU)
    assert dump(store) == before
    store.create("X-8", {"name": "新站", "adcode": XUHUI, **lujiazui}, actor=BOTH)   # one who has both may
    with pytest.raises(Forbidden):                                     # and then Xuhui alone cannot edit it
        store.update("X-8", {"phone": "1"}, expected_version=1, actor=XU)
    store.update("X-1", {"phone": "2"}, expected_version=1, actor=XU)   # a station standing in Xuhui: yes


def test_an_editor_cannot_move_a_station_out_of_the_city_under_their_code_but_a_pier_on_the_edge_is_theirs(store):
    """Review: a point outside every outline of the code's city was judged by the code alone."""
    before = dump(store)
    for far in ({"lon": 120.96, "lat": 31.38}, {"lon": 121.0, "lat": 29.0}):      # Kunshan; the sea
        with pytest.raises(Forbidden, match="beyond the known district outlines"):
            store.update("X-1", far, expected_version=1, actor=XU)
    assert dump(store) == before
    from stationmap import districts

    assert districts.located(XUHUI, 120.96, 31.38) == districts.OUTSIDE
    xuhui = districts.load_districts().set_index("adcode").geometry[XUHUI]
    edge = xuhui.exterior.coords[0] if xuhui.geom_type == "Polygon" else xuhui.geoms[0].exterior.coords[0]
    assert districts.located(XUHUI, edge[0], edge[1]) in (XUHUI, "")    # on its own outline: Xuhui's
