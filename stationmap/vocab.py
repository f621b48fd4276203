"""The fixed vocabularies of a station record, each code with its zh-CN and English label.

Codes are what files, the API and the CLI use; labels are what people read. Keep this the
only place labels are written, so that the page, the maps and the exports agree.
"""

from __future__ import annotations

from collections.abc import Mapping

Labels = Mapping[str, Mapping[str, str]]

STATION_TYPES: Labels = {
    "outdoor_worker_station": {"zh": "户外劳动者服务站点", "en": "Outdoor worker station"},
    "driver_home": {"zh": "司机之家", "en": "Driver home"},
    "rest_room": {"zh": "职工工间休息室", "en": "Staff rest room"},
    "worker_home": {"zh": "职工之家", "en": "Worker home"},
    "new_employment_hub": {"zh": "新就业形态劳动者服务站", "en": "New-employment worker hub"},
}

ACCESS: Labels = {
    "public": {"zh": "向户外劳动者开放", "en": "Open to outdoor workers"},
    "union_members": {"zh": "工会会员", "en": "Union members"},
    "employees": {"zh": "本单位职工", "en": "Host employer's staff"},
}

AMENITIES: Labels = {
    "drinking_water": {"zh": "饮用水", "en": "Drinking water"},
    "microwave": {"zh": "微波炉", "en": "Microwave"},
    "fridge": {"zh": "冰箱", "en": "Fridge"},
    "air_conditioning": {"zh": "空调", "en": "Air conditioning"},
    "heating": {"zh": "取暖", "en": "Heating"},
    "seating": {"zh": "桌椅", "en": "Tables and chairs"},
    "phone_charging": {"zh": "手机充电", "en": "Phone charging"},
    "ebike_charging": {"zh": "电动车充电", "en": "E-bike charging"},
    "battery_swap": {"zh": "换电", "en": "Battery swap"},
    "toilet": {"zh": "卫生间", "en": "Toilet"},
    "wifi": {"zh": "无线网络", "en": "Wi-Fi"},
    "first_aid": {"zh": "急救箱", "en": "First-aid kit"},
    "medicine": {"zh": "常用药品", "en": "Medicine"},
    "books": {"zh": "书报", "en": "Books and newspapers"},
    "shower": {"zh": "淋浴", "en": "Shower"},
    "laundry": {"zh": "洗衣", "en": "Laundry"},
    "truck_parking": {"zh": "货车停车", "en": "Truck parking"},
    "meals": {"zh": "餐食", "en": "Meals"},
    "legal_aid": {"zh": "法律援助", "en": "Legal aid"},
}

STATUSES: Labels = {
    "open": {"zh": "正常开放", "en": "Open"},
    "temporarily_closed": {"zh": "暂停开放", "en": "Temporarily closed"},
    "closed": {"zh": "已关闭", "en": "Closed"},
}

LANGUAGES = ("zh", "en")


def label(vocabulary: Labels, code: str, lang: str = "zh") -> str:
    """The label of ``code`` in ``lang``; unknown codes come back as themselves."""
    entry = vocabulary.get(code)
    if entry is None:
        return code
    return entry.get(lang, entry["zh"])


def unknown_codes(vocabulary: Labels, codes) -> list[str]:
    """Codes not in ``vocabulary``, in the order given."""
    return [c for c in codes if c not in vocabulary]
