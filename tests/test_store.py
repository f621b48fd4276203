"""The store of record, on both backends: a GeoPackage file and a real PostgreSQL + PostGIS."""

from __future__ import annotations

import threading

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa

from stationmap.accounts import Account
from stationmap.errors import DataFileError, InputError
from stationmap.stations import COLUMNS, from_frame
from stationmap.store import Conflict, NotFound, SchemaError, Store

OP = Account.operator("tester")


def _frame(n: int = 5, **overrides) -> gpd.GeoDataFrame:
    frame = pd.DataFrame({"id": [f"T-{i}" for i in range(n)], "name": [f"驿站{i}" for i in range(n)],
                          "lon": [121.40 + i / 100 for i in range(n)], "lat": [31.20] * n,
                          "adcode": ["310101"] * n, "opening_hours": ["24/7"] * n})
    for column, values in overrides.items():
        frame[column] = values
    return from_frame(frame)


@pytest.fixture
def store(store_url):
    store = Store.open(store_url, upgrade=True)
    store.seed(_frame(), file_name="seed.csv", digest="0" * 64, who="tester")
    yield store
    store.close()


def _snapshot(store: Store) -> list[tuple]:
    """Every row of every register table, to compare before and after a failed change."""
    from stationmap.store.schema import history, imports, register, stations

    with store.engine.connect() as c:
        return [sorted(map(tuple, c.execute(sa.select(t)).all()), key=repr)
                for t in (stations, history, imports, register)]


def test_a_new_store_is_seeded_once_and_answers_with_its_register_version(store):
    frame, version = store.load()
    assert len(frame) == 5 and version == 1 and set(COLUMNS) | {"version"} <= set(frame.columns)
    assert frame["version"].tolist() == [1] * 5 and frame.crs.to_epsg() == 4326
    assert frame.geometry.x.round(6).tolist() == [121.40, 121.41, 121.42, 121.43, 121.44]
    with pytest.raises(InputError, match="already holds 5 stations"):
        store.seed(_frame(), file_name="again.csv", digest="")


def test_create_update_delete_restore_keep_versions_and_history(store):
    assert store.create("T-new", {"name": "新站", "lon": 121.5, "lat": 31.3}, actor=Account.operator("ann"),
                        reason="opened") == 1
    assert store.update("T-new", {"phone": "021-1234", "amenities": "microwave, toilet"}, expected_version=1,
                        actor=Account.operator("bob"), reason="new phone") == 2
    assert store.get("T-new")["amenities"] == "microwave;toilet"
    assert store.delete("T-new", expected_version=2, actor=Account.operator("cat"), reason="closed for good") == 3
    with pytest.raises(NotFound):
        store.get("T-new")
    assert "T-new" not in store.load()[0]["id"].tolist()
    assert store.get("T-new", include_deleted=True)["deleted"]
    assert store.restore("T-new", expected_version=3, actor=Account.operator("dan"), reason="reopened") == 4
    changes = store.history("T-new")
    assert [(c.version, c.action, c.who, c.reason) for c in changes] == [
        (1, "created", "cli:ann", "opened"), (2, "updated", "cli:bob", "new phone"),
        (3, "deleted", "cli:cat", "closed for good"), (4, "restored", "cli:dan", "reopened")]
    assert changes[1].changes == {"phone": ["", "021-1234"], "amenities": ["", "microwave;toilet"]}
    assert [c.register_version for c in changes] == [2, 3, 4, 5] and store.register_version() == 5
    assert all(c.at.tzinfo is not None for c in changes)
    assert [c.station_id for c in store.changes(since=3)] == ["T-new", "T-new"]


def test_a_station_without_a_location_is_kept_and_listed_but_never_indexed(store):
    store.update("T-2", {"lon": "", "lat": ""}, expected_version=1, reason="wrong place", actor=OP)
    frame, _ = store.load()
    assert "T-2" not in frame["id"].tolist() and len(frame) == 4
    assert [s["id"] for s in store.needs_location()] == ["T-2"]
    store.update("T-2", {"lon": 121.4737, "lat": 31.2304, "coordsys": "gcj02"}, expected_version=2, actor=OP)
    lon, lat = store.get("T-2")["location"]
    assert abs(lon - 121.4737) > 1e-3 and 121.46 < lon < 121.47      # moved out of GCJ-02 into WGS-84


def test_a_bad_edit_names_every_bad_field_and_changes_nothing(store):
    before = _snapshot(store)
    with pytest.raises(DataFileError) as error:
        store.update("T-1", {"type": "castle", "lat": 95, "lon": 121, "colour": "red"}, expected_version=1, actor=OP)
    fields = {p.field for p in error.value.problems}
    assert fields == {"type", "lat", "colour"}
    assert _snapshot(store) == before


def test_a_stale_version_is_a_conflict_and_two_clients_from_the_same_version_make_one_change(store):
    barrier, outcomes = threading.Barrier(2), []

    def client(phone: str) -> None:
        barrier.wait(timeout=10)
        try:
            outcomes.append(store.update("T-3", {"phone": phone}, expected_version=1, actor=Account.operator(phone)))
        except Conflict as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=client, args=(p,)) for p in ("021-1", "021-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "int"]
    history = store.history("T-3")
    assert [c.action for c in history] == ["created", "updated"]
    winner = next(o for o in outcomes if isinstance(o, int))
    assert winner == 2 and "cli:" + store.get("T-3")["phone"] == history[1].who


def test_an_import_is_all_or_nothing(store):
    before = _snapshot(store)
    frame = _frame(6, name=["甲", "乙", "丙", "丁", "戊", "己"])
    frame.loc[3, "type"] = "castle"          # a bad row in the middle
    with pytest.raises(DataFileError, match="row 4"):
        store.apply_import(frame, file_name="bad.xlsx", digest="1" * 64, actor=Account.operator("ann"))
    assert _snapshot(store) == before


def test_an_import_upserts_replaces_an_area_and_is_reverted_exactly(store):
    before = _snapshot(store)
    frame = _frame(3, name=["甲", "驿站1", "丙"])
    frame.loc[2, "geometry"] = None              # needs a location
    frame = pd.concat([frame, _frame(1, id=["T-9"], name=["新"])], ignore_index=True)
    result = store.apply_import(frame, mode="replace-area", adcode="310100", file_name="sheet.xlsx",
                                digest="2" * 64, actor=Account.operator("ann"), reason="2026 register")
    assert result.counts == {"rows": 4, "added": 1, "changed": 2, "unchanged": 1, "removed": 2, "restored": 0,
                             "needs_location": 1}
    assert sorted(store.load()[0]["id"]) == ["T-0", "T-1", "T-9"]
    assert store.register_version() == 2
    record = store.imports()[0]
    assert (record["file_name"], record["who"], record["reason"], record["reverted"]) == (
        "sheet.xlsx", "cli:ann", "2026 register", False)
    store.revert_import(result.import_id, actor=Account.operator("bob"), reason="wrong file")
    after = {r["id"]: r for r in (store.get(i, include_deleted=True) for i in ("T-0", "T-1", "T-2", "T-3", "T-4"))}
    assert sorted(store.load()[0]["id"]) == [f"T-{i}" for i in range(5)]
    assert after["T-0"]["name"] == "驿站0" and after["T-2"]["location"] is not None
    assert store.get("T-9", include_deleted=True)["deleted"]
    with pytest.raises(InputError, match="already reverted"):
        store.revert_import(result.import_id, actor=OP)
    assert len(_snapshot(store)[0]) == len(before[0]) + 1      # T-9 stays, deleted, with its history


def test_a_revert_is_refused_when_a_station_changed_since_the_import(store):
    result = store.apply_import(_frame(1, name=["改名"]), file_name="one.csv", digest="3" * 64, actor=OP)
    store.update("T-0", {"phone": "021-9"}, expected_version=2, actor=OP)
    with pytest.raises(Conflict, match="T-0"):
        store.revert_import(result.import_id, actor=OP)
    assert store.get("T-0")["name"] == "改名"


def test_opening_a_store_without_the_schema_says_to_upgrade(tmp_path):
    with pytest.raises(SchemaError, match="stationmap db upgrade"):
        Store.open(f"sqlite:///{tmp_path / 'empty.gpkg'}")


def test_the_sqlite_store_is_a_geopackage_that_gdal_reads(tmp_path):
    import pyogrio

    path = tmp_path / "register.gpkg"
    store = Store.open(f"sqlite:///{path}", upgrade=True)
    store.seed(_frame(), file_name="seed.csv", digest="")
    store.create("T-x", {"name": "无坐标"}, actor=OP)
    store.close()
    assert path.read_bytes()[68:72] == b"GPKG"                    # application_id in the header
    info = pyogrio.read_info(path, layer="stations")
    assert info["geometry_type"] == "Point" and info["crs"] == "EPSG:4326" and info["features"] == 6
    read = gpd.read_file(path, layer="stations").set_index("id")
    assert read.loc["T-1", "name"] == "驿站1" and read.loc["T-1"].geometry.x == pytest.approx(121.41)
    assert read.loc["T-x"].geometry is None


def test_postgis_holds_a_real_point_geometry(postgres):
    url = postgres.database()
    store = Store.open(url, upgrade=True)
    store.seed(_frame(), file_name="seed.csv", digest="")
    with store.engine.connect() as c:
        kind, srid, text = c.execute(sa.text(
            "SELECT GeometryType(location), ST_SRID(location), ST_AsText(location) "
            "FROM stations WHERE id = 'T-0'")).one()
    store.close()
    assert (kind, srid, text) == ("POINT", 4326, "POINT(121.4 31.2)")


def test_an_import_writes_only_the_fields_its_file_carries(store):
    store.update("T-1", {"phone": "021-5555"}, expected_version=1, actor=OP)
    sheet = _frame(2, name=["改名0", "改名1"])
    sheet["geometry"] = None                           # a sheet without coordinates
    result = store.apply_import(sheet, file_name="three-columns.xlsx", fields=("id", "name"), actor=OP)
    kept = store.get("T-1")
    assert result.counts["changed"] == 2 and result.counts["needs_location"] == 0
    assert kept["name"] == "改名1" and kept["phone"] == "021-5555" and kept["location"] == [121.41, 31.2]
    assert store.history("T-1")[-1].changes == {"name": ["驿站1", "改名1"]}
