"""Navigation links a worker can tap: AMap, Baidu and a plain ``geo:`` URI.

Each provider gets coordinates in its own system (AMap: GCJ-02 with ``coordinate=gaode``;
Baidu: BD-09; ``geo:``: WGS-84, RFC 5870), so the pin lands on the right street. AMap's web
links are used rather than app schemes because WeChat's in-app browser cannot open the AMap
app; ``callnative=0`` keeps them on the web page.

Examples
--------
>>> links = navigation_links(121.4998, 31.2397, "陆家嘴站", mode="walk")
>>> links["amap_navigation"].startswith("https://uri.amap.com/navigation?to=121.50423")
True
"""

from __future__ import annotations

from urllib.parse import quote

from . import coords

_AMAP_MODE = {"walk": "walk", "ebike": "ride"}


def navigation_links(lon: float, lat: float, name: str, *, mode: str = "walk",
                     gcj02: tuple[float, float] | None = None, bd09: tuple[float, float] | None = None
                     ) -> dict[str, str]:
    """Links for a WGS-84 point: ``amap_marker``, ``amap_navigation``, ``baidu_marker``, ``geo``.

    ``gcj02`` and ``bd09`` may be passed when already known (an index keeps them per station).
    """
    gcj_lon, gcj_lat = gcj02 if gcj02 is not None else (float(v) for v in coords.wgs84_to_gcj02(lon, lat))
    bd_lon, bd_lat = bd09 if bd09 is not None else (float(v) for v in coords.wgs84_to_bd09(lon, lat))
    label = quote(name, safe="")
    amap = f"{gcj_lon:.6f}%2C{gcj_lat:.6f}"
    tail = "coordinate=gaode&callnative=0&src=stationmap"
    return {
        "amap_marker": f"https://uri.amap.com/marker?position={amap}&name={label}&{tail}",
        "amap_navigation": f"https://uri.amap.com/navigation?to={amap}%2C{label}&mode={_AMAP_MODE[mode]}&{tail}",
        "baidu_marker": (f"https://api.map.baidu.com/marker?location={bd_lat:.6f}%2C{bd_lon:.6f}&title={label}"
                         f"&content={label}&coord_type=bd09ll&output=html&src=stationmap"),
        "geo": f"geo:{lat:.6f},{lon:.6f}?q={lat:.6f},{lon:.6f}({label})",
    }
