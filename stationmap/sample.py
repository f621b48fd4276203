"""Deterministic synthetic stations: realistic enough to plan with, and labelled as fake.

Real registers are not public as open data, so stationmap ships a *synthetic* Shanghai sample
built from reported figures (domain notes): 1,328 爱心接力站 (Oct 2022) spread over the
districts with population, keeping the reported district counts (Xuhui 121, Pudong "200+");
a few dozen driver homes, worker homes, new-employment hubs and employees-only rest rooms;
about 6.5 % open 24/7; amenities from Shanghai's "6+X" and "10+X" kits. Every record's
``source`` says it is synthetic. The same seed always gives the same stations.

Examples
--------
>>> stations = shanghai_sample()
>>> int((stations["type"] == "outdoor_worker_station").sum())
1328
"""

from __future__ import annotations

from datetime import date, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .districts import SHANGHAI, china_county_units, load_districts
from .stations import from_frame

SHANGHAI_OUTDOOR_STATIONS = 1_328
#: District counts reported in the press, kept as they are; the rest go by population.
REPORTED = {"310104": 121, "310115": 260}
PEOPLES_SQUARE = (121.4737, 31.2304)
#: Other station types in the Shanghai sample: (type, access, how many).
OTHER_TYPES = (("driver_home", "public", 24), ("worker_home", "union_members", 30),
               ("new_employment_hub", "public", 24), ("rest_room", "employees", 40))
ROADS = (("人民路", "Renmin Rd"), ("中山路", "Zhongshan Rd"), ("建设路", "Jianshe Rd"), ("解放路", "Jiefang Rd"),
         ("长江路", "Changjiang Rd"), ("文化路", "Wenhua Rd"), ("和平路", "Heping Rd"), ("新华路", "Xinhua Rd"),
         ("光明路", "Guangming Rd"), ("胜利路", "Shengli Rd"), ("幸福路", "Xingfu Rd"), ("春申路", "Chunshen Rd"),
         ("金桥路", "Jinqiao Rd"), ("园区路", "Yuanqu Rd"), ("工业路", "Gongye Rd"), ("滨江路", "Binjiang Rd"),
         ("东方路", "Dongfang Rd"), ("振兴路", "Zhenxing Rd"))
NAME_EN_BY_TYPE = {"outdoor_worker_station": "Love Relay Station", "driver_home": "Driver Home",
                   "worker_home": "Worker Home", "new_employment_hub": "New-Employment Worker Hub",
                   "rest_room": "Staff Rest Room"}
HOURS = (("Mo-Fr 09:30-17:00", 0.22), ("08:30-11:00,13:30-17:00", 0.18), ("06:00-18:00", 0.2),
         ("Mo-Su 07:00-21:00", 0.17), ("06:00-23:00", 0.08), ("Mo-Sa 08:00-20:00", 0.15))
BASE_KIT = ("air_conditioning", "fridge", "microwave", "drinking_water", "phone_charging", "seating")   # "6+X"
X_ITEMS = ("wifi", "first_aid", "books")
UPGRADE = ("medicine", "books", "wifi", "toilet", "first_aid")                                          # "10+X"
KIT_BY_TYPE = {
    "driver_home": ("truck_parking", "shower", "laundry", "drinking_water", "microwave", "toilet", "seating",
                    "phone_charging"),
    "worker_home": ("books", "seating", "air_conditioning", "drinking_water", "wifi", "toilet"),
    "new_employment_hub": ("drinking_water", "microwave", "phone_charging", "ebike_charging", "seating", "toilet",
                           "wifi", "legal_aid"),
    "rest_room": ("seating", "microwave", "fridge", "drinking_water", "air_conditioning"),
}
NAME_BY_TYPE = {"outdoor_worker_station": "爱心接力站", "driver_home": "司机之家", "worker_home": "职工之家",
                "new_employment_hub": "新就业形态劳动者服务站", "rest_room": "职工工间休息室"}


def _source(area: str, seed: int) -> str:
    return f"synthetic sample (stationmap sample {area}, seed {seed}) — not a real station"


def _points_in(polygon: shapely.Geometry, n: int, rng: np.random.Generator,
               centres: np.ndarray | None = None, spread_deg: float = 0.0) -> np.ndarray:
    """``n`` points inside ``polygon``: uniform, or normal around random ``centres``."""
    out = np.empty((0, 2))
    west, south, east, north = polygon.bounds
    while len(out) < n:
        m = max(64, 2 * (n - len(out)))
        if centres is None:
            xy = np.column_stack([rng.uniform(west, east, m), rng.uniform(south, north, m)])
        else:
            pick = centres[rng.integers(0, len(centres), m)]
            xy = pick + rng.normal(0.0, spread_deg, (m, 2))
        out = np.vstack([out, xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]])
    return out[:n]


def _centres(polygon: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """Cluster centres inside ``polygon``, favouring its parts nearest the city centre."""
    candidates = _points_in(polygon, 40 * n, rng)
    km = np.hypot((candidates[:, 0] - PEOPLES_SQUARE[0]) * 95.3, (candidates[:, 1] - PEOPLES_SQUARE[1]) * 111.0)
    weight = np.exp(-(km - km.min()) / 6.0)
    return candidates[rng.choice(len(candidates), n, replace=False, p=weight / weight.sum())]


def _district_counts() -> dict[str, int]:
    rest = SHANGHAI_OUTDOOR_STATIONS - sum(REPORTED.values())
    others = {code: d.population for code, d in SHANGHAI.items() if code not in REPORTED}
    total = sum(others.values())
    shares = {code: rest * pop / total for code, pop in others.items()}
    counts = {code: int(np.floor(s)) for code, s in shares.items()}
    for code in sorted(shares, key=lambda c: shares[c] - counts[c], reverse=True)[:rest - sum(counts.values())]:
        counts[code] += 1                     # largest remainders, so the total is exact
    return {**REPORTED, **counts}


def _hours(n: int, rng: np.random.Generator) -> np.ndarray:
    patterns = np.array([h for h, _ in HOURS], dtype=object)
    weights = np.array([w for _, w in HOURS])
    out = patterns[rng.choice(len(patterns), n, p=weights / weights.sum())]
    roll = rng.random(n)
    out[roll < 0.07] = "24/7"                             # about 6.5 % nationally (domain notes)
    out[(roll >= 0.07) & (roll < 0.08)] = ""            # about 1 %: hours unknown
    return out


def _outdoor_kit(rng: np.random.Generator) -> str:
    kit = list(BASE_KIT)
    if rng.random() < 0.5:                                # upgraded to "10+X"
        kit += list(UPGRADE)
    else:
        kit += [x for x in X_ITEMS if rng.random() < 0.5]
    if rng.random() < 0.15:
        kit.append("heating")
    return ";".join(dict.fromkeys(kit))


def _status(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.choice(np.array(["open", "temporarily_closed", "closed"]), n, p=[0.985, 0.01, 0.005])


def shanghai_sample(seed: int = 2024) -> gpd.GeoDataFrame:
    """The synthetic Shanghai register (about 1,450 stations), validated."""
    rng = np.random.default_rng(seed)
    districts = load_districts().set_index("adcode")
    rows = []
    counts = _district_counts()
    extra: dict[str, list[tuple[str, str]]] = {code: [] for code in SHANGHAI}
    codes = np.array(list(SHANGHAI))
    weights = np.array([d.population for d in SHANGHAI.values()], dtype=float)
    for kind, access, how_many in OTHER_TYPES:
        for code in rng.choice(codes, how_many, p=weights / weights.sum()):
            extra[code].append((kind, access))
    for code, info in SHANGHAI.items():
        polygon = districts.loc[code, "geometry"]
        kinds = [("outdoor_worker_station", "public")] * counts[code] + extra[code]
        centres = _centres(polygon, max(2, len(kinds) // 10), rng)
        xy = _points_in(polygon, len(kinds), rng, centres, spread_deg=0.012)
        for i, ((kind, access), (x, y)) in enumerate(zip(kinds, xy, strict=True), start=1):
            road, road_en = ROADS[rng.integers(len(ROADS))]
            kit = _outdoor_kit(rng) if kind == "outdoor_worker_station" else ";".join(KIT_BY_TYPE[kind])
            rows.append({
                "id": f"SH-{code}-{i:04d}", "name": f"{info.name}{road}{NAME_BY_TYPE[kind]}（{i}号）",
                "name_en": f"{info.name_en} {road_en} {NAME_EN_BY_TYPE[kind]} No. {i}", "type": kind, "access": access,
                "amenities": kit, "operator": f"{info.name}总工会",
                "address": f"上海市{info.name}{road}{int(rng.integers(1, 2000))}号",
                "phone": f"021-{int(rng.integers(5000_0000, 6999_9999))}", "adcode": code,
                "last_verified": (date(2025, 1, 1) + timedelta(days=int(rng.integers(0, 600)))).isoformat(),
                "lon": round(float(x), 7), "lat": round(float(y), 7),
            })
    frame = pd.DataFrame(rows)
    frame["opening_hours"] = _hours(len(frame), rng)
    rest_rooms = frame["type"] == "rest_room"
    frame.loc[rest_rooms, "opening_hours"] = "Mo-Su 05:30-23:30"   # bus and metro rest rooms follow the service day
    frame["status"] = _status(len(frame), rng)
    frame["source"] = _source("shanghai", seed)
    return from_frame(frame, source="shanghai sample")


def national_sample(n: int = 186_100, seed: int = 2024) -> gpd.GeoDataFrame:
    """``n`` synthetic stations over every county-level unit in China (needs ``stationmap[china]``).

    Each unit gets an equal share of half the stations and an area-weighted share of the
    other half, so that dense small districts and vast counties both have some.
    """
    rng = np.random.default_rng(seed)
    units = china_county_units()
    area = units.to_crs("+proj=cea +datum=WGS84").area.to_numpy()
    weight = 0.5 / len(units) + 0.5 * area / area.sum()
    counts = rng.multinomial(n, weight / weight.sum())
    lon_parts: list[np.ndarray] = []
    lat_parts: list[np.ndarray] = []
    adcodes: list[str] = []
    names: list[str] = []
    units_rows = units[["adcode", "name", "geometry"]].itertuples(index=False)
    for (code, name, polygon), count in zip(units_rows, counts, strict=True):
        if count == 0:
            continue
        xy = _points_in(polygon, int(count), rng)
        lon_parts.append(xy[:, 0])
        lat_parts.append(xy[:, 1])
        adcodes += [code] * int(count)
        names += [name] * int(count)
    lon, lat = np.concatenate(lon_parts), np.concatenate(lat_parts)
    number = pd.Series(adcodes).groupby(adcodes).cumcount().to_numpy() + 1
    kinds = rng.choice(np.array(["outdoor_worker_station", "driver_home", "new_employment_hub", "worker_home"]),
                       n, p=[0.88, 0.04, 0.04, 0.04])
    frame = pd.DataFrame({
        "id": [f"CN-{c}-{k:05d}" for c, k in zip(adcodes, number, strict=True)],
        "name": [f"{u}{NAME_BY_TYPE[t]}（{k}号）" for u, t, k in zip(names, kinds, number, strict=True)],
        "type": kinds,
        "access": np.where(kinds == "worker_home", "union_members", "public"),
        "amenities": [";".join(BASE_KIT) if t == "outdoor_worker_station" else ";".join(KIT_BY_TYPE[t]) for t in kinds],
        "opening_hours": _hours(n, rng),
        "status": _status(n, rng),
        "adcode": adcodes,
        "operator": [f"{u}总工会" for u in names],
        "lon": np.round(lon, 7), "lat": np.round(lat, 7),
        "source": _source("national", seed),
    })
    return from_frame(frame, source="national sample")
