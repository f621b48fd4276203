"""Demand a planner uploads: read as the register import reads its sheets, every problem by row and column."""

import io
import json

import numpy as np
import pytest
from openpyxl import Workbook

from stationmap import coords
from stationmap.demand_files import read_demand_bytes
from stationmap.errors import DataFileError


def _xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_with_a_title_row_and_chinese_headers_is_read_in_gcj02_unless_a_row_says_otherwise():
    data = _xlsx([["宝山区环卫作业点"], ["序号", "经度", "纬度", "坐标系", "作业人数"],
                  [1, 121.45, 31.40, "", 12], [2, 121.46, 31.41, "GPS", 3]])
    demand = read_demand_bytes(data, "环卫.xlsx")
    wgs = coords.gcj02_to_wgs84(121.45, 31.40)
    assert demand.lon[0] == pytest.approx(float(wgs[0])) and demand.lat[0] == pytest.approx(float(wgs[1]))
    assert (demand.lon[1], demand.lat[1]) == (121.46, 31.41)
    assert list(demand.weight) == [12.0, 3.0]


def test_without_a_weight_column_every_point_counts_one_and_the_same_file_is_the_same_demand():
    data = b"lon,lat\n121.4,31.2\n121.5,31.3\n"
    first, again = (read_demand_bytes(data, name, coordsys="wgs84") for name in ("a.csv", "b.csv"))
    assert list(first.weight) == [1.0, 1.0] and first == again and hash(first) == hash(again)


def test_a_geojson_of_hexagons_counts_each_at_a_point_inside_it():
    hexagon = {"type": "Polygon", "coordinates": [[[121.4, 31.2], [121.41, 31.2], [121.41, 31.21], [121.4, 31.2]]]}
    data = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": hexagon, "properties": {"weight": 5}}]}).encode()
    demand = read_demand_bytes(data, "hex.geojson")
    assert list(demand.weight) == [5.0] and 121.4 < demand.lon[0] < 121.41


def test_every_bad_cell_is_named_by_the_row_the_user_sees_and_its_column():
    data = "需求表\n经度,纬度,订单数\n121.4,31.2,-1\n东经121,31.3,2\n121.5,31.3,2\n".encode("utf-8-sig")
    with pytest.raises(DataFileError) as caught:
        read_demand_bytes(data, "orders.csv")
    found = [(p.row, p.field) for p in caught.value.problems]
    assert found == [(3, "订单数"), (4, "经度")]
    with pytest.raises(DataFileError) as missing:
        read_demand_bytes("经度,人数\n121.4,3\n".encode(), "m.csv")
    assert "纬度" in str(missing.value)
    assert np.isfinite(read_demand_bytes("经度,纬度\n121.4,31.2\n".encode(), "ok.csv").lon).all()
