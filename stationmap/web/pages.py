"""The worker page: "which station near me is open now, has what I need, and how do I get there".

Chinese first (``?lang=en`` for English). Everything the page loads comes from ``static/``;
only map tiles come from outside, and ``TILES = "none"`` needs nothing outside at all.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, send_from_directory

from .. import coords, vocab
from ..districts import outlines
from ..maps import tiles
from . import dataset

bp = Blueprint("pages", __name__)

#: Every string the page shows, in both languages. Station text never goes through here.
TEXT = {
    "zh": {
        "title": "附近的工会驿站", "subtitle": "户外劳动者服务站点 · 爱心接力站", "switch": "English",
        "locate": "定位我", "district": "选择区", "district_placeholder": "— 选择区 —",
        "mode": "出行方式", "walk": "步行", "ebike": "电动车", "open_now": "只看现在开放",
        "type": "站点类型", "any_type": "全部类型", "amenities": "需要的设施", "apply": "查找",
        "locating": "正在定位…", "located_failed": "无法获取位置，请点地图或选择区。",
        "tap_hint": "也可以点击地图选择位置。", "loading": "正在查找…", "none_found": "附近没有符合条件的站点。",
        "found": "找到 {n} 个站点", "open": "开放中", "closed": "未开放", "unknown": "时间不详",
        "navigate": "导航（高德）", "marker": "在地图中查看", "minutes": "约 {m} 分钟", "you": "你的位置",
        "error": "查询失败，请稍后再试。", "list_label": "附近站点列表", "map_label": "站点地图",
        "phone": "电话", "no_tiles": "离线底图：只显示区界。", "source": "数据",
    },
    "en": {
        "title": "Union rest stations nearby", "subtitle": "Outdoor worker stations · Love relay stations", "switch": "中文",
        "locate": "Locate me", "district": "District", "district_placeholder": "— pick a district —",
        "mode": "Travel mode", "walk": "Walk", "ebike": "E-bike", "open_now": "Open now only",
        "type": "Station type", "any_type": "All types", "amenities": "Amenities needed", "apply": "Search",
        "locating": "Locating…", "located_failed": "Could not get your location: tap the map or pick a district.",
        "tap_hint": "You can also tap the map to choose a point.", "loading": "Searching…",
        "none_found": "No matching station nearby.", "found": "{n} stations found", "open": "Open now",
        "closed": "Closed now", "unknown": "Hours unknown", "navigate": "Navigate (AMap)", "marker": "Show in AMap",
        "minutes": "about {m} min", "you": "You are here", "error": "The search failed; please try again.",
        "list_label": "Nearby stations", "map_label": "Map of stations", "phone": "Phone",
        "no_tiles": "Offline base map: district outlines only.", "source": "Data",
    },
}

def page_language() -> str:
    lang = request.args.get("lang") or current_app.config["DEFAULT_LANG"]
    return lang if lang in vocab.LANGUAGES else "zh"


def tile_settings() -> dict:
    """The configured base map, with the coordinate system every overlay must use."""
    return tiles.provider(current_app.config["TILES"], current_app.config["TIANDITU_KEY"])


@bp.get("/")
def worker_page() -> Response:
    lang = page_language()
    layer = tile_settings()
    data = dataset()
    districts = [{"adcode": f["properties"]["adcode"],
                  "name": f["properties"]["name"] if lang == "zh" else (f["properties"]["name_en"] or f["properties"]["name"]),
                  "point": f["properties"]["label_point"]}
                 for f in outlines(current_app.config["DISTRICTS_ADCODE"], layer["coordsys"])["features"]]
    centre = [float(v) for v in coords.from_wgs84(float(data.index.lon.mean()), float(data.index.lat.mean()),
                                                   layer["coordsys"])] if data.count else [121.47, 31.23]
    settings = {
        "lang": lang, "text": TEXT[lang], "tiles": layer, "districts": districts, "centre": centre,
        "types": {code: vocab.label(vocab.STATION_TYPES, code, lang) for code in vocab.STATION_TYPES},
        "amenities": {code: vocab.label(vocab.AMENITIES, code, lang) for code in vocab.AMENITIES},
        "dataset": {"version": data.version, "stations": data.count},
    }
    html = render_template("worker.html", lang=lang, text=TEXT[lang], settings=settings,
                           other_lang="en" if lang == "zh" else "zh", version=data.version)
    response = Response(html, mimetype="text/html")
    response.headers["Content-Language"] = "zh-CN" if lang == "zh" else "en"
    response.headers["Vary"] = "Accept-Encoding"
    return response


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for it on every page (the API docs page declares none)."""
    return send_from_directory(current_app.static_folder, "favicon.svg", mimetype="image/svg+xml")


def init_app(app) -> None:
    app.register_blueprint(bp)
