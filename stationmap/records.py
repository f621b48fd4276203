"""Plain-dict views of stations and query results, shared by the CLI's JSON and the web API.

Coordinates go out in WGS-84 (``lon``/``lat``) and in GCJ-02 (``gcj02``), because the AMap and
Tencent links a worker taps need GCJ-02 and a GIS analyst needs WGS-84.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np

from . import geodesy, hours, travel, vocab
from .index import Neighbours, RouteMatches, StationIndex
from .links import navigation_links
from .stations import amenity_codes


def station_record(index: StationIndex, position: int, *, when: datetime | None = None,
                   lang: str = "zh", mode: str = "walk") -> dict[str, Any]:
    """One station as a JSON-ready dict; ``when`` adds ``open_now`` and the next change."""
    p = int(position)
    record = dict(_static_record(index, p, lang, mode))
    if when is not None:
        record.update(_hours_fields(index, p, when, lang))
    return record


@lru_cache(maxsize=16_384)
def _static_record(index: StationIndex, p: int, lang: str, mode: str) -> dict[str, Any]:
    """The parts of a record that do not change with the time of the request.

    Cached: a worker's neighbourhood asks about the same stations all day. Callers copy the
    dict before adding to it and never mutate the nested values.
    """
    col = index.columns
    name = col["name"][p]
    lon, lat = index._lon_list[p], index._lat_list[p]
    return {
        "id": col["id"][p],
        "name": name,
        "name_en": col["name_en"][p] or None,
        "type": col["type"][p],
        "type_label": vocab.label(vocab.STATION_TYPES, col["type"][p], lang),
        "access": col["access"][p],
        "access_label": vocab.label(vocab.ACCESS, col["access"][p], lang),
        "amenities": [{"code": a, "label": vocab.label(vocab.AMENITIES, a, lang)}
                      for a in amenity_codes(col["amenities"][p])],
        "opening_hours": col["opening_hours"][p] or None,
        "status": col["status"][p],
        "operator": col["operator"][p] or None,
        "address": col["address"][p] or None,
        "phone": col["phone"][p] or None,
        "adcode": col["adcode"][p] or None,
        "last_verified": col["last_verified"][p] or None,
        "version": int(col["version"][p]) if "version" in col else None,     # None: a file, not the store
        "lon": round(lon, 7),
        "lat": round(lat, 7),
        "gcj02": [round(col["gcj02_lon"][p], 7), round(col["gcj02_lat"][p], 7)],
        "links": navigation_links(lon, lat, name, mode=mode, gcj02=(col["gcj02_lon"][p], col["gcj02_lat"][p]),
                                  bd09=(col["bd09_lon"][p], col["bd09_lat"][p])),
    }


def _hours_fields(index: StationIndex, p: int, when: datetime, lang: str) -> dict[str, Any]:
    col = index.columns
    status = col["status"][p]
    if status != "open":
        return {"open_now": False, "hours_state": "closed", "next_change": None,
                "next_change_text": vocab.label(vocab.STATUSES, status, lang)}
    state, change = hours.state(col["opening_hours"][p], when)
    return {"open_now": state == "open", "hours_state": state,
            "next_change": change.isoformat() if change is not None else None,
            "next_change_text": hours.describe_change(state, change, when, lang)}


def nearest_records(index: StationIndex, found: Neighbours, *, lon: float, lat: float,
                    when: datetime | None = None, lang: str = "zh", mode: str = "walk"
                    ) -> list[dict[str, Any]]:
    """Records for a nearest query from WGS-84 ``lon``/``lat``, nearest first."""
    if len(found) == 0:
        return []
    bearings = geodesy.azimuth_deg(np.full(len(found), lon), np.full(len(found), lat),
                                   index.lon[found.positions], index.lat[found.positions])
    results = []
    for rank, (position, distance, bearing) in enumerate(zip(found.positions, found.distance_m, bearings), 1):
        results.append({
            "rank": rank,
            "distance_m": round(float(distance), 2),
            "bearing_deg": round(float(bearing), 1),
            "est_minutes": round(travel.minutes(float(distance), mode), 1),
            **station_record(index, position, when=when, lang=lang, mode=mode),
        })
    return results


def route_records(index: StationIndex, matches: RouteMatches, *, when: datetime | None = None,
                  lang: str = "zh", mode: str = "ebike") -> list[dict[str, Any]]:
    """Records for an along-route query, in the order the route meets them."""
    return [{"distance_m": round(float(d), 2), "along_m": round(float(a), 1),
             "est_minutes": round(travel.minutes(float(d), mode), 1),
             **station_record(index, p, when=when, lang=lang, mode=mode)}
            for p, d, a in zip(matches.positions, matches.distance_m, matches.along_m)]


def feature(record: dict[str, Any]) -> dict[str, Any]:
    """A record as a GeoJSON Feature (WGS-84 geometry, everything else in properties)."""
    properties = {k: v for k, v in record.items() if k not in ("lon", "lat")}
    return {"type": "Feature", "id": record["id"],
            "geometry": {"type": "Point", "coordinates": [record["lon"], record["lat"]]},
            "properties": properties}
