"""Make the messy union registers the import tests read (run from the repository root).

    PYTHONPATH=. python tests/data/registers/make_registers.py

Each file imitates what unions really send (see the "Registers" section of the domain notes):
Chinese headers, merged title rows, hours written in Chinese, AMap (GCJ-02) or Baidu (BD-09)
coordinates, rows without coordinates, GBK/GB18030 CSV from Chinese Excel. The stations are
made up; two Pudong rows reuse ids of the shipped synthetic sample so that an import against
it has something to change and something to leave.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from stationmap import coords, vocab
from stationmap.stations import amenity_codes, read_stations

HERE = Path(__file__).parent


def _gcj(lon: float, lat: float) -> tuple[float, float]:
    x, y = coords.wgs84_to_gcj02(lon, lat)
    return round(float(x), 6), round(float(y), 6)


def baoshan_gbk() -> None:
    """Baoshan's published register style: no ids, AMap points, GBK, hours as written."""
    header = ["序号", "站点名称", "地址", "所属区", "经度", "纬度", "开放时间", "服务内容"]
    rows = [
        ["1", "友谊路爱心接力站", "上海市宝山区友谊路1号", "宝山区", *_gcj(121.4890, 31.4050), "8:30-11:00 13:30-17:00", "饮水、热饭、充电、如厕、休息"],
        ["2", "牡丹江路爱心接力站", "上海市宝山区牡丹江路88号", "宝山区", *_gcj(121.4780, 31.4120), "星期一到星期五。9:30-17:00", "饮水、热饭"],
        ["3", "淞宝环卫工人休息点", "上海市宝山区淞宝路20号", "宝山", *_gcj(121.4950, 31.3950), "6:00-18:00", "饮水、充电"],
        ["4", "罗店镇爱心接力站", "上海市宝山区罗店镇市一路3号", "宝山区", "", "", "全天", "饮水"],
        ["5", "顾村公园驿站", "上海市宝山区顾村镇沪太路4788号", "宝山区", *_gcj(121.3950, 31.3560), "工作日 9:00—17:30", "如厕、休息"],
        ["6", "大场镇爱心接力站", "上海市宝山区大场镇场中路1号", "宝山区", "", "", "9:00～17:00 法定节假日除外", ""],
    ]
    text = "\r\n".join(",".join(str(c) for c in row) for row in [header, *rows]) + "\r\n"
    (HERE / "baoshan_gbk.csv").write_bytes(text.encode("gbk"))


def minhang_gb18030() -> None:
    """A name with a character GBK lacks (𠮷, four bytes in GB18030), a 24-hour station."""
    text = ("站点名称,详细地址,行政区,lng,lat,服务时间\r\n"
            f"𠮷祥路职工之家,上海市闵行区𠮷祥路9号,闵行区,{_gcj(121.3820, 31.1130)[0]},{_gcj(121.3820, 31.1130)[1]},24小时\r\n"
            f"莘庄司机之家,上海市闵行区莘庄镇1号,闵行区,{_gcj(121.3850, 31.1110)[0]},{_gcj(121.3850, 31.1110)[1]},全天候\r\n")
    (HERE / "minhang_gb18030.csv").write_bytes(text.encode("gb18030"))


def pudong_titles() -> None:
    """An XLSX with two merged title rows, ids, per-row coordinate systems and every flag."""
    sample = read_stations().set_index("id")
    book = Workbook()
    sheet = book.active
    sheet.title = "浦东台账"
    sheet["A1"] = "浦东新区户外劳动者服务站点台账"
    sheet.merge_cells("A1:M1")
    sheet["A1"].font = Font(bold=True, size=16)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet["A2"] = "填报单位：浦东新区总工会　　更新日期：2026年11月"
    sheet.merge_cells("A2:M2")
    sheet.append(["序号", "站点编号", "站点名称", "站点类型", "所属区", "详细地址", "经度", "纬度", "坐标系",
                  "开放时间", "服务项目", "联系电话", "联系人"])

    def known(sid: str, hours: str, phone: str) -> list:
        s = sample.loc[sid]
        labels = "、".join(vocab.label(vocab.AMENITIES, c) for c in amenity_codes(s["amenities"]))
        return [sid, s["name"], "爱心接力站", "浦东新区", s["address"], round(s.geometry.x, 7), round(s.geometry.y, 7),
                "WGS-84", hours, labels, phone]

    first = sample.loc["SH-310115-0002"]
    rows = [
        known("SH-310115-0001", "周一至周五 9:00-17:00，节假日休息", "021-58880001"),
        known("SH-310115-0002", first["opening_hours"], first["phone"]),
        ["PD-NEW-001", "张江暖新驿站", "暖新驿站", "浦东新区", "上海市浦东新区张江路100号", *_gcj(121.5900, 31.2050), "",
         "24小时", "饮水、热饭、充电、如厕、休息", "021-58880002"],
        ["PD-NEW-002", "陆家嘴爱心驿站", "爱心驿站", "浦东新区", "上海市浦东新区陆家嘴环路1号",
         *(round(float(v), 6) for v in coords.wgs84_to_bd09(121.5050, 31.2400)), "百度",
         "8:30-11:00 13:30-17:00", "饮水、应急药箱", "021-58880003"],
        ["PD-NEW-003", "三林司机之家", "司机之家", "浦东新区", "上海市浦东新区三林路5号", "", "", "",
         "周一至周六 8:00-18:00", "热水、淋浴、洗衣、停车", ""],
        ["PD-NEW-004", "高桥职工小家", "职工小家", "浦东新区", "上海市浦东新区高桥镇1号", *_gcj(121.4500, 31.3900), "",
         "９：００－１７：３０", "休息", ""],
        ["PD-NEW-005", '=HYPERLINK("http://evil.example","点我")', "爱心接力站", "浦东新区", "上海市浦东新区川沙路1号",
         *_gcj(121.7000, 31.1900), "", "看情况", "饮水", ""],
    ]
    for i, row in enumerate(rows, start=1):
        sheet.append([i, *row[:10], row[10], "王师傅"])
    for cell in sheet["C"][3:]:
        cell.data_type = "s"          # the formula-looking name is text in the union's sheet, too
    book.save(HERE / "pudong_titles.xlsx")


def bad_register() -> None:
    """UTF-8 with BOM and everything an import must refuse, all at once."""
    text = ("站点编号,站点名称,类型,经度,纬度,坐标系\r\n"
            "B-1,甲站,爱心驿站,121.50,31.20,gcj02\r\n"
            "B-1,乙站,爱心驿站,121.51,31.21,gcj02\r\n"
            "B-3,丙站,其他,121.52,31.22,gcj02\r\n"
            "B-4,丁站,爱心驿站,121.53,,gcj02\r\n"
            "B-5,戊站,爱心驿站,121.54,31.24,火星\r\n"
            "B-6,,爱心驿站,121.55,31.25,\r\n"
            "B-7,己站,爱心驿站,31.26,121.56,\r\n")
    (HERE / "bad_register.csv").write_bytes(text.encode("utf-8-sig"))


if __name__ == "__main__":
    baoshan_gbk()
    minhang_gb18030()
    pudong_titles()
    bad_register()
