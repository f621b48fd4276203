"""The bulk path of an import (column-wise checks, SQLite executemany, PostgreSQL COPY) against
plain references: every row checked as the station rules check one row, every value read back
as written, and a failure inside the bulk write leaving nothing behind.
"""

from __future__ import annotations

import random

import pandas as pd
import pytest
import sqlalchemy as sa

from stationmap.accounts import Account
from stationmap.errors import DataFileError
from stationmap.stations import COLUMNS, _check_row, from_frame
from stationmap.store import Store
from stationmap.store import bulk as bulk_module
from stationmap.store.schema import history

OP = Account.operator("tester")

#: Texts that a COPY stream or a driver could mangle: its escapes, separators and end marker,
#: quotes, a formula, Chinese, an emoji, a tab (allowed in any text).
AWKWARD = ["\\", "\\N", "\\.", "a\tb", "C:\\路径\\站", "'引号' \"双引号\"", "=1+1", "逗号,分号;", "🚲 驿站",
           "NULL", "", "  空格  "]


def _station_frame(n: int, seed: int = 10) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        rows.append({
            "id": f"B-{i}", "name": f"驿站{i}{rng.choice(AWKWARD)}".strip() or f"驿站{i}",
            "address": rng.choice(AWKWARD + ["第一行\n第二行"]), "operator": rng.choice(AWKWARD),
            "phone": rng.choice(["021-5555", "", "+86 21 1234"]), "type": rng.choice(["", "outdoor_worker_station"]),
            "amenities": rng.choice(["", "drinking_water", "microwave;drinking_water"]),
            "opening_hours": rng.choice(["", "24/7", "Mo-Fr 09:00-17:00"]),
            "adcode": rng.choice(["310101", "310104", ""]),
            "lon": f"{121.3 + rng.random() / 3:.9f}", "lat": f"{31.1 + rng.random() / 5:.9f}"})
    table = from_frame(pd.DataFrame(rows))
    table.loc[table.index % 7 == 0, "geometry"] = None           # these need a location
    return table


def test_every_row_is_checked_as_the_station_rules_check_one_row():
    """Column-wise checks give the problems of a per-row ``_check_row``, in the same order."""
    rng = random.Random(3)
    good = {"id": "X", "name": "驿站", "type": "outdoor_worker_station", "access": "public", "status": "open",
            "amenities": "drinking_water", "opening_hours": "24/7", "adcode": "310101", "last_verified": "2025-01-01"}
    bad = {"id": "", "name": "坏\x07名", "type": "castle", "access": "secret", "status": "gone",
           "amenities": "toilet;jacuzzi", "opening_hours": "whenever", "adcode": "31", "last_verified": "yesterday",
           "address": "地址\u202e", "phone": "\x1b[2J", "operator": "", "source": "\x00"}
    rows = []
    for i in range(600):
        row = {c: good.get(c, "") for c in COLUMNS} | {"id": f"R-{i}"}
        for field in rng.sample(sorted(bad), rng.choice([0, 0, 0, 1, 2])):
            row[field] = bad[field]
        rows.append(row)
    frame = pd.DataFrame(rows)
    incoming, problems = bulk_module._incoming(frame, "sheet.csv")
    reference = [p for i, row in enumerate(rows, start=1) for p in _check_row(
        {c: incoming.ids[i - 1] if c == "id" else incoming.columns[c][i - 1] for c in COLUMNS}, i, "sheet.csv")]
    assert [(p.row, p.field, p.reason) for p in problems] == [(p.row, p.field, p.reason) for p in reference]
    assert len(reference) > 100


@pytest.fixture
def empty_store(store_url):
    store = Store.open(store_url, upgrade=True)
    yield store
    store.close()


def test_an_import_reads_back_value_for_value_with_one_created_entry_each(empty_store):
    frame = _station_frame(260)
    result = empty_store.apply_import(frame, actor=OP, reason="载入 \\ 测试", file_name="national.parquet")
    at = empty_store.imports()[0]["at"].replace(tzinfo=None)
    assert result.counts["added"] == 260 and result.counts["needs_location"] == frame.geometry.isna().sum() > 0
    for record in frame.to_dict("records"):
        stored = empty_store.get(record["id"])
        point = record["geometry"]
        expected_location = None if point is None else [round(point.x, 9), round(point.y, 9)]
        assert stored["location"] == expected_location
        assert {c: stored[c] for c in COLUMNS if c != "id"} == {c: record[c] for c in COLUMNS if c != "id"}
        assert stored["version"] == 1 and not stored["deleted"]
        (entry,) = empty_store.history(record["id"])
        assert (entry.version, entry.action, entry.who, entry.reason, entry.import_id) == (
            1, "created", OP.who, "载入 \\ 测试", result.import_id)
        set_fields = {c: [None, record[c]] for c in COLUMNS if c != "id" and record[c]}
        assert entry.changes == set_fields | ({"location": [None, expected_location]} if point is not None else {})
        assert entry.at.replace(tzinfo=None) == at     # the import's own time, as an edit's is stored
    assert len(empty_store.changes(0, limit=1000)) == 260


def test_a_failure_inside_the_bulk_write_leaves_nothing_behind(empty_store):
    """A history row already holding (B-5, version 1) makes the bulk write of the history fail
    after every station row was sent: the stations, the import and the version roll back too.
    """
    frame = _station_frame(150)
    with empty_store.engine.begin() as c:
        c.execute(history.insert().values(station_id="B-5", version=1, register_version=0, who="x",
                                          at=pd.Timestamp("2025-01-01", tz="UTC").to_pydatetime(), action="created",
                                          changes={}, reason=""))
    before = empty_store.info().version
    with pytest.raises(sa.exc.IntegrityError):
        empty_store.apply_import(frame, actor=OP, file_name="clash.csv")
    assert empty_store.count() == 0 and empty_store.imports() == [] and empty_store.info().version == before


def test_a_bad_row_among_many_is_reported_and_nothing_is_written(empty_store):
    frame = _station_frame(300)
    frame.loc[120, "type"] = "castle"
    with pytest.raises(DataFileError) as refused:
        empty_store.apply_import(frame, actor=OP, file_name="bad.csv")
    assert [(p.row, p.field) for p in refused.value.problems] == [(121, "type")]
    assert empty_store.count() == 0 and empty_store.imports() == []


def test_a_geo_files_text_columns_read_vectorised_are_the_cells_read_one_by_one():
    import numpy as np

    from stationmap.registers import rows as rows_module
    from stationmap.registers.sheets import _column_text, cell_text

    awkward = ["", " 徐汇区 ", "\u3000全角空格\u3000", "'=1+1", "'+86 21", "'-", "'@x", "'", "''=x", "=cmd",
               " '=leading space", "tab\there", "line\nbreak", "emoji 🚲", "'abc", "N/A"]
    rng = random.Random(3)
    for _ in range(20):
        values = [rng.choice(awkward) for _ in range(rng.randint(1, 40))]
        column = pd.Series(values, dtype=object)
        assert _column_text(column) == [cell_text(v) for v in values]
    mixed = pd.Series(["a", None, 3.0, float("nan"), 12345678.0, True, " b "], dtype=object)   # not all text
    assert _column_text(mixed) == [cell_text(v) for v in mixed.tolist()]
    lon, lat = np.array([121.5, np.nan, 0.0]), np.array([31.2, np.nan, -90.0])
    points = rows_module._points(lon, lat, np.isfinite(lon))
    assert points[1] is None and (points[0].x, points[0].y) == (121.5, 31.2) and (points[2].x, points[2].y) == (0, -90)


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg"])
def test_a_geo_file_with_empty_text_cells_reads_them_as_empty(tmp_path, suffix):
    import geopandas as gpd
    import shapely

    from stationmap.registers.sheets import read_table

    frame = gpd.GeoDataFrame({"name": ["甲站", "乙站", " 丙站 "], "phone": ["021-1", None, "'=2"],
                              "address": [None, "南京东路", None]},
                             geometry=[shapely.Point(121.47, 31.23)] * 3, crs="EPSG:4326")
    path = tmp_path / f"stations{suffix}"
    frame.to_file(path)
    table = read_table(path)
    rows = [dict(zip(table.headers, row, strict=True)) for row in table.rows]
    assert [(r["name"], r["phone"], r["address"]) for r in rows] == [
        ("甲站", "021-1", ""), ("乙站", "", "南京东路"), ("丙站", "=2", "")]


def _copy_columns(ids: list[str]) -> dict:
    from stationmap.store import bulk_write

    return {"id": ids, "name": [f"站{i}\\\t\n" for i in range(len(ids))], "location": [(121.4, 31.2)] * len(ids),
            "version": bulk_write.Same(1), "changed_in": bulk_write.Same(1)}


def test_a_copy_sent_from_its_own_thread_is_part_of_the_callers_transaction(empty_store):
    """The rows of :func:`start_copy` are there for the caller once it has waited, and a
    failure (the caller's own, or the server's refusal of a repeated id) rolls them back.
    """
    from stationmap.store import bulk_write
    from stationmap.store.schema import stations

    with empty_store.engine.begin() as c:
        pending = bulk_write.start_copy(c, stations, 3, _copy_columns(["A", "B", "C"]))
        pending.wait()
        names = c.execute(sa.select(stations.c.name).order_by(stations.c.fid)).scalars().all()
        assert names == ["站0\\\t\n", "站1\\\t\n", "站2\\\t\n"]
        c.rollback()
    with pytest.raises(RuntimeError), empty_store.engine.begin() as c:
        pending = bulk_write.start_copy(c, stations, 2, _copy_columns(["A", "B"]))
        try:
            raise RuntimeError("the caller's own work fails while the rows are sent")
        finally:
            pending.wait()
    with pytest.raises(sa.exc.IntegrityError), empty_store.engine.begin() as c:
        bulk_write.start_copy(c, stations, 3, _copy_columns(["A", "B", "A"])).wait()
    assert empty_store.count() == 0


def test_a_messy_sheets_findings_are_its_rows_findings_read_one_at_a_time_in_row_order():
    """Cells are judged a column at a time; what is found, and its order once sorted by row (as
    a plan lists them), is what reading each row alone finds: the sheet's column order, then
    the point's cells, then the checks made after every cell was read.
    """
    from stationmap.registers.rows import read_rows
    from stationmap.registers.sheets import RawTable

    rng = random.Random(5)
    pools = {"站点名称": ["", "友谊站", "=cmd", "站\u202e反", "-1", "站\n二"], "地址": ["", "路1号", "路\n2号", "@x"],
             "经度": ["", "121.45", "abc", "200", "nan", " 121.47 "], "纬度": ["", "31.22", "xyz", "95", "31.23"],
             "坐标系": ["", "wgs84", "高德", "mars"], "类型": ["", "爱心接力站", "奇怪"],
             "开放时间": ["", "24小时", "周一至周五", "乱写"], "所属区": ["", "黄浦区", "310104", "不存在区"],
             "服务内容": ["", "饮水、热饭", "飞行"], "核实日期": ["", "2024-01-02", "昨天"], "联系电话": ["", "=1+1"]}
    heads = list(pools)
    for _ in range(20):
        chosen = ["站点名称", *rng.sample(heads[1:], rng.randint(1, len(heads) - 1))]
        cells = [[rng.choice(pools[h]) for h in chosen] for _ in range(rng.randint(1, 30))]
        for k, row in enumerate(cells):           # distinct names: no generated id is shared
            row[0] = f"{row[0]}{k}"

        def table(rows: list[list[str]], numbers: list[int], chosen: list[str] = chosen) -> RawTable:
            return RawTable("x.xlsx", "xlsx", "表1", chosen, rows, numbers, 2, "d")

        def found(read: RawTable) -> list[tuple]:
            return [(f.severity, f.row, f.column, f.en) for f in read_rows(read, area="310000").findings if f.row != 2]

        numbers = [k + 3 for k in range(len(cells))]
        alone = [finding for row, number in zip(cells, numbers, strict=True)
                 for finding in found(table([row], [number]))]
        assert sorted(found(table(cells, numbers)), key=lambda f: f[1]) == alone


def test_points_packed_as_hex_ewkb_by_numpy_are_shapelys_own_ewkb():
    import shapely

    from stationmap.store.bulk_write import _ewkb_hex

    rng = random.Random(8)
    pairs = [None if rng.random() < 0.1 else (rng.uniform(-180, 180), rng.uniform(-90, 90)) for _ in range(500)]
    pairs += [(121.0, 31.0), (0.0, -0.0), (1e-300, 5e-324), (180.0, -90.0)]
    expected = [None if p is None else shapely.to_wkb(shapely.set_srid(shapely.Point(p), 4326), hex=True,
                                                      include_srid=True, flavor="extended") for p in pairs]
    assert _ewkb_hex(pairs) == expected
    assert _ewkb_hex([None if p is None else shapely.Point(p) for p in pairs]) == expected


def test_an_import_over_a_connection_whose_client_encoding_is_not_utf8_stores_the_chinese_it_was_given(postgres):
    """The COPY text is encoded as UTF-8 whatever the connection's ``client_encoding`` says
    (psycopg's ``write_row`` used the connection's encoding); an operator whose environment
    sets ``PGCLIENTENCODING=GBK`` (or a URL with ``client_encoding``) gets every name mangled
    or the import refused, while every other statement still writes correctly.
    """
    url = postgres.database() + "?client_encoding=GBK"
    store = Store.open(url, upgrade=True)
    try:
        frame = from_frame(pd.DataFrame([{"id": "G-1", "name": "户外劳动者驿站", "address": "南京东路1号",
                                          "lon": "121.47", "lat": "31.23"}]))
        store.apply_import(frame, actor=OP, reason="编码", file_name="gbk.csv")
        stored = store.get("G-1")
        assert (stored["name"], stored["address"]) == ("户外劳动者驿站", "南京东路1号")
    finally:
        store.close()
