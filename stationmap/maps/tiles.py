"""Base-map tile providers and the coordinate system every overlay on them must use.

AMap's tiles are drawn in GCJ-02: a WGS-84 pin on them lands about 500 m off in Shanghai, so
on AMap everything stationmap draws is converted to GCJ-02 first. Tianditu needs a key.
"""

from __future__ import annotations

from typing import Any

PROVIDERS: dict[str, dict[str, Any]] = {
    "osm": {"coordsys": "wgs84", "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "subdomains": "",
            "attribution": "© OpenStreetMap contributors", "max_zoom": 19},
    "amap": {"coordsys": "gcj02",
             "url": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
             "subdomains": "1234", "attribution": "© 高德地图 AutoNavi", "max_zoom": 18},
    "tianditu": {"coordsys": "wgs84",
                 "url": ("https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                         "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
                         "&TILECOL={x}&tk={key}"),
                 "subdomains": "01234567", "attribution": "© 天地图 Tianditu", "max_zoom": 18},
    "none": {"coordsys": "wgs84", "url": None, "subdomains": "", "attribution": "", "max_zoom": 18},
}


def provider(name: str, tianditu_key: str = "") -> dict:
    """Settings of a provider by name; Tianditu without a key falls back to ``none``."""
    if name not in PROVIDERS:
        name = "osm"
    if name == "tianditu" and not tianditu_key:
        name = "none"                      # Tianditu refuses requests without a key
    layer = dict(PROVIDERS[name], name=name)
    if layer["url"]:
        layer["url"] = layer["url"].replace("{key}", tianditu_key)
    return layer
