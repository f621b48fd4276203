"""Plain-dict views of query results, shared by the CLI's JSON and the web API.

Coordinates go out in WGS-84 (``lon``/``lat``) and in GCJ-02 (``gcj02``), because the AMap and
Tencent links a worker taps need GCJ-02 and a GIS analyst needs WGS-84.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import coords, hours, vocab
from .index import Neighbours, StationIndex
from .stations import amenity_codes


def station_record(index: StationIndex, position: int, *, when: datetime | None = None,
                   lang: str = "zh") -> dict[str, Any]:
    """One station as a JSON-ready dict; ``when`` adds ``open_now`` and ``next_change``."""
    row = index.stations.iloc[position]
    lon, lat = float(index.lon[position]), float(index.lat[position])
    gcj_lon, gcj_lat = coords.wgs84_to_gcj02(lon, lat)
    record: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "name_en": row["name_en"] or None,
        "type": row["type"],
        "type_label": vocab.label(vocab.STATION_TYPES, row["type"], lang),
        "access": row["access"],
        "amenities": amenity_codes(row["amenities"]),
        "opening_hours": row["opening_hours"] or None,
        "status": row["status"],
        "address": row["address"] or None,
        "phone": row["phone"] or None,
        "adcode": row["adcode"] or None,
        "lon": round(lon, 7),
        "lat": round(lat, 7),
        "gcj02": [round(float(gcj_lon), 7), round(float(gcj_lat), 7)],
    }
    if when is not None:
        state, change = hours.state(row["opening_hours"], when)
        record["open_now"] = state == "open" and row["status"] == "open"
        record["hours_state"] = state
        record["next_change"] = change.isoformat() if change is not None else None
    return record


def nearest_records(index: StationIndex, found: Neighbours, *, when: datetime | None = None,
                    lang: str = "zh") -> list[dict[str, Any]]:
    """Records for a nearest query, nearest first, each with ``rank`` and ``distance_m``."""
    results = []
    for rank, (position, distance) in enumerate(zip(found.positions, found.distance_m), start=1):
        record = station_record(index, int(position), when=when, lang=lang)
        results.append({"rank": rank, "distance_m": round(float(distance), 2), **record})
    return results
