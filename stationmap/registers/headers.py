"""One synonym table for register columns and values, Chinese and English.

Registers name the same thing many ways (站点名称, 驿站名称, 名称, name). :data:`FIELDS` is the
only place these names are written: reading a sheet maps its headers through it, and exports
write its first Chinese name, so that an exported file imports again unchanged. Values with a
fixed vocabulary (station type, amenities, status, access, district, coordinate system) are
looked up the same way, by code, by :mod:`stationmap.vocab`'s labels and by the names unions
use.

Examples
--------
>>> field_of("驿站名称"), field_of(" 经度（GCJ-02）"), field_of("序号"), field_of("联系人")
('name', 'lon', '', None)
>>> station_type("爱心接力站"), station_type("暖新驿站")
('outdoor_worker_station', 'new_employment_hub')
>>> amenity_codes("饮水、热饭、充电、如厕、休息")
(['drinking_water', 'microwave', 'phone_charging', 'toilet', 'seating'], [])
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .. import coords, districts, vocab

#: field → (Chinese header written by exports, English header, other names read on import).
FIELDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "id": ("站点编号", "id", ("编号", "站点id", "站点ID", "驿站编号", "code")),
    "name": ("站点名称", "name", ("驿站名称", "名称", "站名", "站点", "驿站名称（全称）")),
    "name_en": ("英文名称", "name_en", ("english name",)),
    "type": ("站点类型", "type", ("类型", "类别", "站点类别")),
    "access": ("开放对象", "access", ("服务对象", "适用对象")),
    "amenities": ("服务内容", "amenities", ("设施", "服务项目", "配套设施", "设施设备", "功能")),
    "opening_hours": ("开放时间", "opening_hours", ("服务时间", "营业时间", "开放时段", "hours")),
    "opening_hours_text": ("开放时间（原文）", "opening_hours_text", ()),
    "operator": ("管理单位", "operator", ("运营单位", "负责单位")),
    "address": ("详细地址", "address", ("地址", "站点地址")),
    "phone": ("联系电话", "phone", ("电话", "联系方式", "tel")),
    "adcode": ("所属区", "adcode", ("区县", "行政区", "所属区县", "所在区", "区", "行政区划代码", "district")),
    "status": ("状态", "status", ("站点状态", "开放状态")),
    "last_verified": ("核实日期", "last_verified", ("最后核实", "更新日期")),
    "source": ("来源", "source", ("数据来源",)),
    "lon": ("经度", "lon", ("lng", "longitude", "x")),
    "lat": ("纬度", "lat", ("latitude", "y")),
    "coordsys": ("坐标系", "coordsys", ("坐标系统", "coordinate system")),
}
#: Headers that are row numbers in the sheet, not data: read and ignored.
IGNORED = ("序号", "no", "no.", "#")

_TYPE_NAMES = {
    "outdoor_worker_station": ("爱心驿站", "工会爱心驿站", "爱心接力站", "户外劳动者服务站点", "户外劳动者服务站",
                               "户外职工爱心驿站", "工会驿站"),
    "driver_home": ("司机之家",),
    "rest_room": ("职工工间休息室", "工间休息室", "休息室"),
    "worker_home": ("职工之家", "职工小家", "共享职工之家"),
    "new_employment_hub": ("新就业形态劳动者服务站", "暖新驿站", "赋能中心", "新就业形态劳动者服务站点"),
}
_AMENITY_NAMES = {
    "drinking_water": ("饮水", "饮用水", "热水", "开水", "喝水", "饮水机"),
    "microwave": ("热饭", "微波炉", "加热", "热餐"),
    "fridge": ("冰箱",),
    "air_conditioning": ("空调", "纳凉", "避暑", "降温"),
    "heating": ("取暖", "暖气"),
    "seating": ("休息", "歇脚", "桌椅", "座椅", "休憩"),
    "phone_charging": ("充电", "手机充电"),
    "ebike_charging": ("电动车充电", "电瓶车充电"),
    "battery_swap": ("换电",),
    "toilet": ("如厕", "厕所", "卫生间", "洗手间"),
    "wifi": ("wifi", "无线网络", "上网"),
    "first_aid": ("急救箱", "应急药箱", "医药箱", "药箱"),
    "medicine": ("常用药品", "药品"),
    "books": ("书报", "阅读", "图书", "书籍"),
    "shower": ("淋浴", "洗澡"),
    "laundry": ("洗衣",),
    "truck_parking": ("货车停车", "停车"),
    "meals": ("餐食", "就餐", "用餐"),
    "legal_aid": ("法律援助", "法律咨询"),
}
_COORDSYS_NAMES = {"wgs84": ("wgs-84", "wgs 84", "gps", "epsg:4326", "cgcs2000"),
                   "gcj02": ("gcj-02", "高德", "amap", "腾讯", "火星坐标"),
                   "bd09": ("bd-09", "百度", "baidu")}
_AMENITY_SPLIT = re.compile(r"[;,，；、/\s]+")


def key(text: object) -> str:
    """How names are compared: NFKC (full-width to ASCII), lower case, without spaces and
    a bracketed note such as "（GCJ-02）" or "(选填)".
    """
    return _key(str(text or ""))


@lru_cache(maxsize=1 << 16)
def _key(text: str) -> str:
    """:func:`key` of a string, remembered: a national sheet repeats the same few hundred
    types, districts and amenities in 186,100 rows.
    """
    plain = unicodedata.normalize("NFKC", text).strip().lower()
    plain = re.sub(r"\(.*?\)|\[.*?\]|【.*?】|\*", "", plain)
    return re.sub(r"\s+", "", plain)


@lru_cache(maxsize=1)
def _header_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for field, (zh, en, others) in FIELDS.items():
        for name in (zh, en, *others):
            table.setdefault(key(name), field)
    for name in IGNORED:
        table[key(name)] = ""
    return table


def field_of(header: object) -> str | None:
    """The field a header names, ``""`` for a row-number column, ``None`` if unknown."""
    exact = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(header or "")).lower())
    if exact in ("开放时间(原文)", "opening_hours_text"):     # the note is the name here
        return "opening_hours_text"
    return _header_table().get(key(header))


def header(field: str, lang: str = "zh") -> str:
    """The header exports write for ``field``."""
    zh, en, _ = FIELDS[field]
    return zh if lang == "zh" else en


def _lookup(names: dict[str, tuple[str, ...]], labels: vocab.Labels | None) -> dict[str, str]:
    table: dict[str, str] = {}
    for code, others in names.items():
        for name in (code, *others):
            table[key(name)] = code
    for code, entry in (labels or {}).items():
        table[key(code)] = code
        for text in entry.values():
            table.setdefault(key(text), code)
    return table


@lru_cache(maxsize=1)
def _types() -> dict[str, str]:
    return _lookup(_TYPE_NAMES, vocab.STATION_TYPES)


@lru_cache(maxsize=1)
def _amenities() -> dict[str, str]:
    return _lookup(_AMENITY_NAMES, vocab.AMENITIES)


def station_type(text: str) -> str | None:
    """The type code of a type name or code, or ``None``."""
    return _types().get(key(text))


def vocabulary_code(vocabulary: vocab.Labels, text: str) -> str | None:
    """The code of ``text`` in ``vocabulary`` (by code or label), or ``None``."""
    kept = _VOCABULARIES.get(id(vocabulary))
    if kept is None or kept[0] is not vocabulary:       # built once per vocabulary, not per cell
        kept = _VOCABULARIES[id(vocabulary)] = (vocabulary, _lookup({}, vocabulary))
    return kept[1].get(key(text))


#: ``id(vocabulary) -> (vocabulary, its lookup table)``; the vocabularies are module constants.
_VOCABULARIES: dict[int, tuple[vocab.Labels, dict[str, str]]] = {}


def amenity_codes(text: str) -> tuple[list[str], list[str]]:
    """``(codes, unknown items)`` of an amenities cell such as "饮水、热饭、充电"."""
    codes: list[str] = []
    unknown: list[str] = []
    for item in _AMENITY_SPLIT.split(unicodedata.normalize("NFKC", str(text or ""))):
        item = item.strip()
        if not item:
            continue
        code = _amenities().get(key(item))
        if code is None:
            unknown.append(item)
        elif code not in codes:
            codes.append(code)
    return codes, unknown


def coordsys(text: str) -> str | None:
    """``wgs84``, ``gcj02`` or ``bd09`` from a cell such as "GCJ-02" or "高德", or ``None``."""
    plain = key(text)
    if plain in coords.COORDSYS:
        return plain
    for code, names in _COORDSYS_NAMES.items():
        if plain in {key(n) for n in names}:
            return code
    return None


def _short(name: str) -> str:
    """A district name without its suffix: 浦东新区 → 浦东, 宝山区 → 宝山."""
    return re.sub(r"(新区|区|县|市)$", "", name)


@lru_cache(maxsize=1)
def _district_names() -> dict[str, tuple[str, ...]]:
    """Every district name (full, short, English) → the adcodes that carry it.

    Shanghai's 16 always; every county-level unit of China when ``stationmap[china]`` is
    installed. Names repeat across China (普陀区 is in Shanghai and Zhoushan), so a name may
    give several codes: :func:`adcode` then needs the import's area to choose.
    """
    names: dict[str, set[str]] = {}

    def add(name: str, code: str) -> None:
        for variant in {key(name), key(_short(name))}:
            if variant:
                names.setdefault(variant, set()).add(code)

    for code, district in districts.SHANGHAI.items():
        add(district.name, code)
        add(district.name_en, code)
    try:
        table = districts.county_index()
    except Exception:          # the optional extra is absent: Shanghai's names only
        table = None
    if table is not None:
        for code, name in zip(table["adcode"], table["name"], strict=True):
            if isinstance(code, str):
                add(str(name), code)
    return {name: tuple(sorted(codes)) for name, codes in names.items()}


def adcode(text: str, area: str | None = None) -> tuple[str | None, str | None]:
    """``(adcode, None)`` for a district name or code, else ``(None, reason)``.

    ``area`` (an adcode such as 310000) chooses among districts of the same name.
    """
    plain = key(text)
    if re.fullmatch(r"\d{6}", plain):
        return plain, None
    codes = _district_names().get(plain, ())
    if area and len(codes) > 1:
        prefix = area.rstrip("0")[:4] if area != districts.CHINA else ""
        codes = tuple(c for c in codes if c.startswith(prefix)) or codes
    if len(codes) == 1:
        return codes[0], None
    if not codes:
        return None, f"unknown district {text!r}"
    return None, f"district name {text!r} is ambiguous ({', '.join(codes)}); write its 6-digit code"
