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

from urllib.parse import quote, urlencode

from . import coords

_AMAP_MODE = {"walk": "walk", "ebike": "ride"}


def navigation_links(lon: float, lat: float, name: str, *, mode: str = "walk") -> dict[str, str]:
    """Links for a WGS-84 point: ``amap_marker``, ``amap_navigation``, ``baidu_marker``, ``geo``."""
    gcj_lon, gcj_lat = (float(v) for v in coords.wgs84_to_gcj02(lon, lat))
    bd_lon, bd_lat = (float(v) for v in coords.wgs84_to_bd09(lon, lat))
    amap_marker = urlencode({"position": f"{gcj_lon:.6f},{gcj_lat:.6f}", "name": name,
                             "coordinate": "gaode", "callnative": "0", "src": "stationmap"})
    amap_navigation = urlencode({"to": f"{gcj_lon:.6f},{gcj_lat:.6f},{name}", "mode": _AMAP_MODE[mode],
                                 "coordinate": "gaode", "callnative": "0", "src": "stationmap"})
    baidu = urlencode({"location": f"{bd_lat:.6f},{bd_lon:.6f}", "title": name, "content": name,
                       "coord_type": "bd09ll", "output": "html", "src": "stationmap"})
    return {
        "amap_marker": f"https://uri.amap.com/marker?{amap_marker}",
        "amap_navigation": f"https://uri.amap.com/navigation?{amap_navigation}",
        "baidu_marker": f"https://api.map.baidu.com/marker?{baidu}",
        "geo": f"geo:{lat:.6f},{lon:.6f}?q={lat:.6f},{lon:.6f}({quote(name)})",
    }
