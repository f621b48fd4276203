"""Plain-dict views of stations and query results, shared by the CLI's JSON and the web API.

Coordinates go out in WGS-84 (``lon``/``lat``) and in GCJ-02 (``gcj02``), because the AMap and
Tencent links a worker taps need GCJ-02 and a GIS analyst needs WGS-84.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from . import geodesy, hours, travel, vocab
from .index import Neighbours, StationIndex
from .links import navigation_links
from .routes import RouteMatches
from .stations import amenity_codes
from .texts import WORKER


def station_record(index: StationIndex, position: int, *, when: datetime | None = None,
                   lang: str = "zh", mode: str = "walk") -> dict[str, Any]:
    """One station as a JSON-ready dict; ``when`` adds ``open_now`` and the next change."""
    p = int(position)
    col = index.columns
    record = dict(_static_record(tuple([col[c][p] if c in col else None for c in _STATIC]),
                                 index._lon_list[p], index._lat_list[p], lang, mode))
    if when is not None:
        # Equal instants in other offsets compare equal: the offset is part of the keys, as the
        # words ("tomorrow") depend on the day where ``when`` was given.
        offset = when.utcoffset()
        until = col["closed_until"][p] if "closed_until" in col else ""
        record.update(_hours_fields(col["status"][p], until, col["opening_hours"][p], _minute(when, offset),
                                    offset, lang))
    return record


@lru_cache(maxsize=64)
def _minute(when: datetime, _offset: Any) -> datetime:
    """``when`` cut to the minute, once per request rather than per station (``replace`` costs
    a few µs, and a nearest answer has several stations). ``_offset`` only keys the cache.
    """
    return when.replace(second=0, microsecond=0)


#: The columns a station's static record is made from, besides its WGS-84 point.
_STATIC = ("id", "name", "name_en", "type", "access", "amenities", "opening_hours", "status", "operator",
           "address", "phone", "adcode", "last_verified", "version", "gcj02_lon", "gcj02_lat", "bd09_lon", "bd09_lat")


@lru_cache(maxsize=16_384)
def _static_record(values: tuple, lon: float, lat: float, lang: str, mode: str) -> dict[str, Any]:
    """The parts of a record that do not change with the time of the request.

    Cached by the station's values, not its position: a worker's neighbourhood asks about the
    same stations all day, and a register swapped in after an edit (every second while staff
    work) keeps every record its edit did not touch; a changed station has other values, so a
    stale record is never served. Callers copy the dict before adding to it and never mutate
    the nested values.
    """
    col = dict(zip(_STATIC, values, strict=True))
    name = col["name"]
    return {
        "id": col["id"],
        "name": name,
        "name_en": col["name_en"] or None,
        "type": col["type"],
        "type_label": vocab.label(vocab.STATION_TYPES, col["type"], lang),
        "access": col["access"],
        "access_label": vocab.label(vocab.ACCESS, col["access"], lang),
        "amenities": [{"code": a, "label": vocab.label(vocab.AMENITIES, a, lang)}
                      for a in _in_vocabulary_order(amenity_codes(col["amenities"]))],
        "opening_hours": col["opening_hours"] or None,
        "status": col["status"],
        "operator": col["operator"] or None,
        "address": col["address"] or None,
        "phone": col["phone"] or None,
        "adcode": col["adcode"] or None,
        "last_verified": col["last_verified"] or None,
        "version": int(col["version"]) if col["version"] is not None else None,     # None: a file, not the store
        "lon": round(lon, 7),
        "lat": round(lat, 7),
        "gcj02": [round(col["gcj02_lon"], 7), round(col["gcj02_lat"], 7)],
        "links": navigation_links(lon, lat, name, mode=mode, gcj02=(col["gcj02_lon"], col["gcj02_lat"]),
                                  bd09=(col["bd09_lon"], col["bd09_lat"])),
    }


_AMENITY_ORDER = {code: i for i, code in enumerate(vocab.AMENITIES)}


def _in_vocabulary_order(codes: list[str]) -> list[str]:
    """Amenities in the vocabulary's order (water first, …), whatever order a register listed
    them in, so every card reads the same way; codes outside the vocabulary go last.
    """
    return sorted(codes, key=lambda code: _AMENITY_ORDER.get(code, len(_AMENITY_ORDER)))


@lru_cache(maxsize=16_384)
def _hours_fields(status: str, until: str, expression: str, when: datetime, _offset: Any, lang: str
                  ) -> dict[str, Any]:
    """Open now and the next change, once per station state per minute (the caller cuts ``when``
    to the minute). Exact: opening hours change on whole minutes, and the words depend on the
    day and the change's clock time only. Keyed by the station's hours and status, not its
    position, so a register swapped in after an edit keeps it. ``_offset`` only keys the
    cache. Callers copy, never mutate.
    """
    if status != "open":
        label = vocab.label(vocab.STATUSES, status, lang)
        reopens = until if status == "temporarily_closed" and until else None
        if reopens:             # the register reopens it on that day by itself (Dataset.next_reopening)
            label = WORKER[lang]["reopens"].format(status=label, d=reopens)
        return {"open_now": False, "hours_state": "closed", "next_change": None, "next_change_text": label,
                "reopens": reopens}
    state, change = hours.state(expression, when)
    return {"open_now": state == "open", "hours_state": state,
            "next_change": change.isoformat() if change is not None else None,
            "next_change_text": hours.describe_change(state, change, when, lang), "reopens": None}


def nearest_records(index: StationIndex, found: Neighbours, *, lon: float, lat: float,
                    when: datetime | None = None, lang: str = "zh", mode: str = "walk"
                    ) -> list[dict[str, Any]]:
    """Records for a nearest query from WGS-84 ``lon``/``lat``, nearest first."""
    if len(found) == 0:
        return []
    # Plain floats from one precomputed frame: pyproj and NumPy calls cost more than the
    # arithmetic for five stations.
    near = geodesy.NearPoint(lon, lat, geodesy.ecef_point(lon, lat))
    lon_list, lat_list, xyz_list = index._lon_list, index._lat_list, index._xyz_list
    results = []
    nearest_first = found.pairs()
    for rank, (position, distance) in enumerate(nearest_first, 1):
        results.append({
            "rank": rank,
            "distance_m": round(distance, 2),
            "bearing_deg": round(near.bearing(lon_list[position], lat_list[position], xyz_list[position]), 1),
            "est_minutes": round(travel.minutes(distance, mode), 1),
            **station_record(index, position, when=when, lang=lang, mode=mode),
            "week_hours": _week_hours(index, int(position), when, lang),
        })
    return results


def _week_hours(index: StationIndex, p: int, when: datetime | None, lang: str) -> list[dict[str, str]] | None:
    """The next seven days' hours (:func:`stationmap.hours.week`) of an open station, else None.

    Only on the short answers (nearest, along a route), which a rider reads card by card.
    """
    if when is None or index.columns["status"][p] != "open":
        return None
    return hours.week(index.columns["opening_hours"][p], when, lang)


def route_records(index: StationIndex, matches: RouteMatches, *, when: datetime | None = None,
                  lang: str = "zh", mode: str = "ebike") -> list[dict[str, Any]]:
    """Records for an along-route query, in the order the route meets them.

    ``detour_minutes`` is the leaving and rejoining: twice the distance from the route, by
    ``mode``'s speed and street detour (:mod:`stationmap.travel`).
    """
    return [{"distance_m": round(float(d), 2), "along_m": round(float(a), 1),
             "est_minutes": round(travel.minutes(float(d), mode), 1),
             "detour_minutes": round(travel.minutes(2 * float(d), mode), 1),
             **station_record(index, p, when=when, lang=lang, mode=mode),
             "week_hours": _week_hours(index, int(p), when, lang)}
            for p, d, a in zip(matches.positions, matches.distance_m, matches.along_m, strict=True)]


def feature(record: dict[str, Any]) -> dict[str, Any]:
    """A record as a GeoJSON Feature (WGS-84 geometry, everything else in properties)."""
    properties = {k: v for k, v in record.items() if k not in ("lon", "lat")}
    return {"type": "Feature", "id": record["id"],
            "geometry": {"type": "Point", "coordinates": [record["lon"], record["lat"]]},
            "properties": properties}
