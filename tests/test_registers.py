"""Union registers import with the right report; exports open in Excel safely and re-import unchanged."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
import shapely

from stationmap import coords
from stationmap.cli import main
from stationmap.errors import DataFileError
from stationmap.registers import headers
from stationmap.registers.exporting import export_stations
from stationmap.registers.importing import plan_import
from stationmap.registers.plan_report import xlsx_report
from stationmap.registers.rows import generated_id
from stationmap.registers.sheets import read_table, read_table_bytes
from stationmap.stations import read_stations

DATA = Path(__file__).parent / "data" / "registers"


@pytest.fixture(scope="module")
def sample():
    return read_stations()


def _where(findings, text):
    return [(f.row, f.column) for f in findings if text in f.en]


def test_a_gbk_csv_with_chinese_headers_and_no_ids_imports_every_row(sample):
    plan = plan_import(DATA / "baoshan_gbk.csv", sample)
    assert plan.ok and plan.encoding == "gb18030"
    assert plan.counts()["rows_read"] == 6 and len(plan.add) == 6 and plan.counts()["needs_location"] == 2
    rows = plan.rows.set_index("row")
    assert rows.loc[2, "opening_hours"] == "08:30-11:00,13:30-17:00"
    assert rows.loc[3, "opening_hours"] == "Mo-Fr 09:30-17:00"
    assert rows.loc[3, "opening_hours_text"] == "星期一到星期五。9:30-17:00"
    assert rows.loc[6, "opening_hours"] == "Mo-Fr 09:00-17:30; PH off"
    assert rows.loc[7, "opening_hours"] == "09:00-17:00; PH off"
    assert set(rows["adcode"]) == {"310113"}            # 宝山区 and 宝山: Shanghai's, not Shuangyashan's
    assert rows.loc[2, "amenities"] == "drinking_water;microwave;phone_charging;toilet;seating"
    assert _where(plan.warnings, "no coordinates") == [(5, None), (7, None)]
    assert rows.loc[5, "geometry"] is None and bool(rows.loc[5, "needs_location"])


def test_amap_coordinates_are_converted_to_wgs84(sample):
    plan = plan_import(DATA / "baoshan_gbk.csv", sample)
    point = plan.rows.set_index("row").loc[2, "geometry"]
    assert abs(point.x - 121.4890) < 1e-6 and abs(point.y - 31.4050) < 1e-6


def test_ids_generated_for_rows_without_them_are_stable_across_imports(sample):
    first = plan_import(DATA / "baoshan_gbk.csv", sample)
    again = plan_import(DATA / "baoshan_gbk.csv", sample)
    assert list(first.rows["id"]) == list(again.rows["id"])
    assert first.rows["id"].iloc[0] == generated_id("友谊路爱心接力站", "上海市宝山区友谊路1号")


def test_a_gb18030_csv_keeps_characters_gbk_lacks(sample):
    plan = plan_import(DATA / "minhang_gb18030.csv", sample)
    assert plan.ok and plan.rows["name"].iloc[0] == "𠮷祥路职工之家"
    assert list(plan.rows["opening_hours"]) == ["24/7", "24/7"]
    assert set(plan.rows["type"]) == {"outdoor_worker_station"}       # no type column: the default
    assert set(plan.rows["adcode"]) == {"310112"}


def test_an_xlsx_with_merged_title_rows_gives_changes_per_field_and_flags_with_excel_rows(sample):
    plan = plan_import(DATA / "pudong_titles.xlsx", sample)
    assert plan.ok and plan.sheet == "浦东台账"
    assert plan.counts() == {"rows_read": 7, "add": 5, "change": 1, "leave": 1, "remove": 0, "problems": 0,
                             "warnings": 5, "needs_location": 1}
    changes = {c.field: (c.old, c.new, c.row) for c in plan.change["SH-310115-0001"]}
    assert changes == {
        "opening_hours": ("08:30-11:00,13:30-17:00", "Mo-Fr 09:00-17:00; PH off", 4),
        "opening_hours_text": ("", "周一至周五 9:00-17:00，节假日休息", 4),
        "phone": ("021-52372621", "021-58880001", 4),
    }
    assert plan.leave == ["SH-310115-0002"]
    assert plan.add == ["PD-NEW-001", "PD-NEW-002", "PD-NEW-003", "PD-NEW-004", "PD-NEW-005"]
    assert plan.unknown_columns == ["联系人"]
    assert _where(plan.warnings, "column not imported") == [(3, "联系人")]
    assert _where(plan.warnings, "no coordinates") == [(8, None)]
    assert _where(plan.warnings, "not in the stated district") == [(9, "所属区")]
    assert _where(plan.warnings, "formula") == [(10, "站点名称")]
    assert _where(plan.warnings, "kept as text") == [(10, "开放时间")]
    rows = plan.rows.set_index("id")
    assert rows.loc["PD-NEW-001", "type"] == "new_employment_hub"
    assert rows.loc["PD-NEW-003", "amenities"] == "drinking_water;shower;laundry;truck_parking"
    bd = rows.loc["PD-NEW-002", "geometry"]                    # the row's 坐标系 百度 beats the default
    assert abs(bd.x - 121.5050) < 1e-6 and abs(bd.y - 31.2400) < 1e-6
    assert rows.loc["PD-NEW-004", "opening_hours"] == "09:00-17:30"


def test_a_bad_file_lists_every_problem_with_row_and_column_and_gives_no_plan_to_apply(sample):
    plan = plan_import(DATA / "bad_register.csv", sample)
    assert not plan.ok
    found = {(f.row, f.column) for f in plan.problems}
    assert found == {(3, "站点编号"), (4, "类型"), (5, "纬度"), (6, "坐标系"), (7, "站点名称"), (8, "纬度")}


def test_the_import_command_exits_2_on_a_bad_file_and_writes_the_report(tmp_path, capsys):
    report = tmp_path / "报告.xlsx"
    assert main(["import", str(DATA / "bad_register.csv"), "--dry-run", "--report", str(report)]) == 2
    err = capsys.readouterr().err
    assert "row 3" in err and "duplicate id 'B-1'" in err and "Traceback" not in err
    book = openpyxl.load_workbook(report)
    assert book.sheetnames == ["汇总", "新增", "修改", "删除", "问题"]
    problems = list(book["问题"].iter_rows(values_only=True))
    assert problems[0] == ("级别", "工作表", "行号", "列", "站点编号", "问题", "Problem")
    assert ("错误", None, 3, "站点编号") == problems[1][:4]


def test_the_dry_run_prints_the_report_in_both_languages(capsys):
    assert main(["import", str(DATA / "pudong_titles.xlsx"), "--dry-run"]) == 0
    assert "新增 5  修改 1  不变 1" in capsys.readouterr().out
    assert main(["import", str(DATA / "pudong_titles.xlsx"), "--dry-run", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "to add 5  to change 1  to leave 1" in out and "~ SH-310115-0001 phone: 021-52372621 → 021-58880001" in out


def test_the_excel_report_writes_formula_like_names_as_text(sample):
    plan = plan_import(DATA / "pudong_titles.xlsx", sample)
    book = openpyxl.load_workbook(io.BytesIO(xlsx_report(plan)))
    names = [row[2] for row in book["新增"].iter_rows(min_row=2, values_only=True)]
    assert "'=HYPERLINK(\"http://evil.example\",\"点我\")" in names
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            assert all(cell.data_type != "f" for cell in row)


def test_replace_area_removes_the_area_stations_the_sheet_omits_and_refuses_rows_of_other_areas(sample):
    plan = plan_import(DATA / "pudong_titles.xlsx", sample, mode="replace-area", adcode="310115")
    pudong = set(sample.loc[sample["adcode"] == "310115", "id"])
    assert set(plan.remove) == pudong - {"SH-310115-0001", "SH-310115-0002"}
    assert plan.ok
    other = plan_import(DATA / "baoshan_gbk.csv", sample, mode="replace-area", adcode="310115")
    assert not other.ok and {f.row for f in other.problems} == {2, 3, 4, 5, 6, 7}


def test_a_point_far_from_every_other_station_of_its_area_is_flagged(tmp_path, sample):
    sheet = tmp_path / "far.csv"
    sheet.write_text("站点名称,所属区,经度,纬度,坐标系\n崇明远站,崇明区,122.95,31.90,wgs84\n", encoding="utf-8")
    plan = plan_import(sheet, sample)
    assert _where(plan.warnings, "km from every other station") == [(2, None)]
    near = tmp_path / "near.csv"
    near.write_text("站点名称,所属区,经度,纬度,坐标系\n人民广场站,黄浦区,121.4737,31.2304,wgs84\n", encoding="utf-8")
    assert not _where(plan_import(near, sample).warnings, "km from every")


def test_control_characters_in_names_are_problems(tmp_path, sample):
    sheet = tmp_path / "bidi.csv"
    sheet.write_text("站点名称,地址\n爱心\u202e站,某路\n", encoding="utf-8")
    plan = plan_import(sheet, sample)
    assert [(f.row, f.column) for f in plan.problems] == [(2, "站点名称")]


def test_a_file_with_no_header_row_is_refused_with_the_expected_columns(tmp_path, sample):
    sheet = tmp_path / "x.csv"
    sheet.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="站点名称"):
        plan_import(sheet, sample)


def test_encoding_can_be_overridden():
    data = "站点名称,地址\n甲,乙\n".encode("gb18030")
    assert read_table_bytes(data, "a.csv", encoding="gb18030").rows == [["甲", "乙"]]
    assert read_table_bytes(("\ufeff" + "站点名称,地址\n甲,乙\n").encode("utf-8"), "a.csv").encoding == "utf-8-sig"


def test_a_sheet_is_chosen_by_name_and_a_missing_sheet_is_named(tmp_path):
    with pytest.raises(DataFileError, match="浦东台账"):
        read_table(DATA / "pudong_titles.xlsx", sheet="没有")
    assert read_table(DATA / "pudong_titles.xlsx", sheet="浦东台账").header_row == 3


def test_headers_in_chinese_and_english_map_through_one_table():
    for names, field in ((("站点名称", "驿站名称", "名称", "name"), "name"), (("地址", "详细地址"), "address"),
                         (("经度", "lng", "lon"), "lon"), (("纬度", "lat"), "lat"),
                         (("开放时间", "服务时间"), "opening_hours"),
                         (("联系电话", "电话"), "phone"), (("所属区", "区县", "行政区"), "adcode"),
                         (("设施", "服务内容", "服务项目"), "amenities"), (("管理单位",), "operator"),
                         (("编号", "站点编号"), "id"), (("类型", "站点类型"), "type"), (("坐标系",), "coordsys")):
        assert {headers.field_of(n) for n in names} == {field}
    assert headers.field_of("序号") == ""
    for name, code in (("爱心驿站", "outdoor_worker_station"), ("爱心接力站", "outdoor_worker_station"),
                       ("户外劳动者服务站点", "outdoor_worker_station"), ("司机之家", "driver_home"),
                       ("职工工间休息室", "rest_room"), ("职工之家", "worker_home"), ("职工小家", "worker_home"),
                       ("新就业形态劳动者服务站", "new_employment_hub"), ("暖新驿站", "new_employment_hub")):
        assert headers.station_type(name) == code


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".geojson", ".gpkg"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_export_then_import_changes_nothing(tmp_path, sample, suffix, lang):
    if suffix in (".geojson", ".gpkg") and lang == "zh":
        pytest.skip("GIS formats keep the schema's codes")
    out = export_stations(sample, tmp_path / f"register{suffix}", lang=lang)
    plan = plan_import(out, sample)
    assert plan.ok, plan.problems[:3]
    assert plan.nothing_to_do and len(plan.leave) == len(sample), list(plan.change.items())[:2]


def test_the_csv_export_has_a_bom_and_chinese_headers_and_formula_cells_as_text(tmp_path, sample):
    stations = sample.head(3).copy()
    stations.loc[0, "name"] = "=1+1"
    stations.loc[1, "address"] = "@SUM(A1)"
    out = export_stations(stations, tmp_path / "register.csv", lang="zh")
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:6] == ["站点编号", "站点名称", "经度", "纬度", "坐标系", "英文名称"]
    assert rows[1][1] == "'=1+1" and rows[2][rows[0].index("详细地址")] == "'@SUM(A1)"
    assert rows[1][rows[0].index("站点类型")] == "户外劳动者服务站点"
    plan = plan_import(out, stations)
    assert plan.nothing_to_do and plan.rows["name"].iloc[0] == "=1+1"


def test_the_xlsx_export_opens_in_openpyxl_with_formulas_as_text(tmp_path, sample):
    stations = sample.head(2).copy()
    stations.loc[0, "name"] = '=HYPERLINK("http://evil.example","点我")'
    out = export_stations(stations, tmp_path / "register.xlsx", lang="zh")
    sheet = openpyxl.load_workbook(out).active
    assert sheet["B2"].value.startswith("'=") and sheet["B2"].data_type == "s"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_the_export_command_writes_atomically_and_refuses_unknown_types(tmp_path, capsys):
    assert main(["export", str(tmp_path / "r.csv"), "--lang", "zh"]) == 0
    assert (tmp_path / "r.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert main(["export", str(tmp_path / "r.txt")]) == 2
    assert not (tmp_path / "r.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv"]


def test_stations_without_a_location_export_to_tables_but_not_to_gis_files(tmp_path, sample):
    stations = sample.head(2).copy()
    stations.loc[1, "geometry"] = None
    stations = gpd.GeoDataFrame(stations, geometry="geometry", crs="EPSG:4326")
    export_stations(stations, tmp_path / "r.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8-sig"))))
    assert rows[2][2:5] == ["", "", ""]
    export_stations(stations, tmp_path / "r.geojson")
    assert len(gpd.read_file(tmp_path / "r.geojson")) == 1


def test_converted_points_match_the_reference_inverse():
    prcoords = pytest.importorskip("prcoords")
    lon, lat = coords.wgs84_to_gcj02(121.4890, 31.4050)
    back = prcoords.gcj_wgs_bored((float(lat), float(lon)))
    table = read_table_bytes(f"站点名称,地址,经度,纬度\n甲,乙,{float(lon)},{float(lat)}\n".encode(), "a.csv")
    from stationmap.registers.rows import read_rows

    point = read_rows(table).rows.geometry.iloc[0]
    assert np.hypot(point.x - back[1], point.y - back[0]) < 1e-7
    assert isinstance(point, shapely.Point)
