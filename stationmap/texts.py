"""Every string the pages show, in both languages, in one place (Chinese first).

One dictionary per page, keyed by language, every language with the same keys (tested): a
translator finds all of a page here, and a page cannot show a key in one language only. Station
text (names, addresses) never goes through here: it is data, shown as the register has it.
Core, not web: the HTML maps and pictures can keep their words here too.
"""

from __future__ import annotations

#: The worker page (``/``).
WORKER = {
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
        "title": "Union rest stations nearby", "subtitle": "Outdoor worker stations · Love relay stations",
        "switch": "中文",
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

#: The planner page (``/coverage``).
PLANNER = {
    "zh": {"title": "工会驿站覆盖分析", "subtitle": "给规划人员：哪里缺站点、建在哪里", "switch": "English",
           "area": "范围", "whole": "全市", "mode": "出行方式", "walk": "步行", "ebike": "电动车",
           "minutes": "分钟", "at": "时间（留空=任何时间）", "recommend": "建议新建站点数", "apply": "计算",
           "computing": "正在计算…", "done": "已完成：{n} 个区", "error": "计算失败",
           "show_stations": "显示站点", "downloads": "下载", "csv": "CSV 表格", "xlsx": "Excel 表格",
           "geojson": "空白区 GeoJSON", "html": "HTML 地图", "totals": "合计", "covered": "面积覆盖率",
           "gaps": "未覆盖区域", "sites": "建议新建站点", "site": "建议站点", "gain": "新增覆盖人口",
           "stations": "站点", "table_label": "各区覆盖率（点击表头排序）", "map_label": "覆盖地图",
           "no_tiles": "离线底图：只显示区界。", "worker_page": "找附近站点"},
    "en": {"title": "Union station coverage", "subtitle": "For planners: where stations are missing, where to build",
           "switch": "中文", "area": "Area", "whole": "Whole city", "mode": "Travel mode", "walk": "Walk",
           "ebike": "E-bike", "minutes": "Minutes", "at": "Time of day (empty = any time)",
           "recommend": "New sites to propose", "apply": "Compute", "computing": "Computing…",
           "done": "Done: {n} district(s)", "error": "The computation failed", "show_stations": "Show stations",
           "downloads": "Download", "csv": "CSV table", "xlsx": "Excel table", "geojson": "Gaps GeoJSON",
           "html": "HTML map", "totals": "Total", "covered": "Area covered", "gaps": "Uncovered area",
           "sites": "Recommended sites", "site": "Site", "gain": "Residents added", "stations": "Stations",
           "table_label": "Coverage by district (click a header to sort)", "map_label": "Coverage map",
           "no_tiles": "Offline base map: district outlines only.", "worker_page": "Find a station"},
}

#: The embeddable map (``/embed/map``) and its error page.
EMBED_MAP = {
    "zh": {
        "title_stations": "工会驿站分布", "title_coverage": "工会驿站覆盖率", "full_map": "打开完整地图",
        "source": "数据：", "updated": "更新于", "verified": "核实至", "no_tiles": "离线底图：只显示区界",
        "covered": "面积覆盖率", "stations": "站点", "mean_dist": "平均距离", "loading": "正在加载覆盖率…",
        "coverage_failed": "覆盖率数据暂不可用。", "legend": "面积覆盖率", "zoom_hint": "点击地图后可用滚轮缩放",
        "map_label": "地图", "bad_request": "地图参数有误",
    },
    "en": {
        "title_stations": "Union rest stations", "title_coverage": "Union station coverage",
        "full_map": "Open the full map",
        "source": "Data: ", "updated": "updated", "verified": "verified to",
        "no_tiles": "Offline base map: district outlines only",
        "covered": "Area covered", "stations": "Stations", "mean_dist": "Mean distance", "loading": "Loading coverage…",
        "coverage_failed": "Coverage figures are unavailable.", "legend": "Area covered",
        "zoom_hint": "Click the map to zoom with the wheel",
        "map_label": "Map", "bad_request": "Invalid map parameters",
    },
}

#: The embed builder (``/embed``).
EMBED_BUILDER = {
    "zh": {
        "title": "嵌入地图生成器",
        "intro": "为新闻稿生成可嵌入的工会驿站地图：选择选项，复制代码，粘贴到文章的 HTML 中。",
        "area": "区域", "whole_area": "全部区", "layer": "图层", "stations": "驿站分布", "coverage": "覆盖率",
        "lang": "地图语言", "tiles": "底图", "type": "站点类型", "any_type": "全部类型", "width": "宽度（像素）",
        "height": "高度（像素）", "preview": "预览", "snippet": "嵌入代码", "copy_code": "复制代码", "copied": "已复制",
        "copy_failed": "请按 Ctrl+C 复制", "download": "下载图片（PNG）", "switch": "English",
        "origins_note": "只有管理员在 EMBED_ORIGINS 中登记的网站才能嵌入此地图。",
        "tile_names": {"osm": "OpenStreetMap", "amap": "高德地图", "tianditu": "天地图", "none": "无底图（仅区界）"},
    },
    "en": {
        "title": "Embed a map",
        "intro": ("Make a union station map for a news article: choose the options, copy the code, "
                  "paste it into the article's HTML."),
        "area": "Area", "whole_area": "All districts", "layer": "Layer", "stations": "Stations", "coverage": "Coverage",
        "lang": "Map language", "tiles": "Base map", "type": "Station type", "any_type": "All types",
        "width": "Width (px)",
        "height": "Height (px)", "preview": "Preview", "snippet": "Embed code", "copy_code": "Copy code",
        "copied": "Copied",
        "copy_failed": "Press Ctrl+C to copy", "download": "Download picture (PNG)", "switch": "中文",
        "origins_note": "Only sites the operator lists in EMBED_ORIGINS can show this map.",
        "tile_names": {"osm": "OpenStreetMap", "amap": "AMap (高德)", "tianditu": "Tianditu (天地图)",
        "none": "None (district outlines only)"},
    },
}

#: A station's own page (``/s/<id>``), its posters, and the district poster.
STATION = {
    "zh": {"title": "工会驿站", "subtitle": "户外劳动者服务站点", "switch": "English", "address": "地址",
           "hours": "未来 7 天开放时间", "facilities": "设施", "no_facilities": "未登记设施", "access": "谁可以进",
           "verified": "最近核实", "not_verified": "未核实", "phone": "电话", "navigate": "高德导航",
           "marker": "在高德地图中查看", "baidu": "在百度地图中查看", "nearby": "附近其他站点",
           "poster": "打印海报（PDF）", "poster_png": "海报图片（PNG）", "now": "现在", "operator": "管理单位",
           "not_found_title": "找不到这个站点", "not_found": "没有编号为 {id} 的站点。它可能已被删除或编号有误。",
           "back": "查找附近站点", "scan": "扫码查看开放时间和导航", "district_title": "{district}工会驿站",
           "district_scan": "扫码查找附近站点", "stations_count": "共 {n} 个站点",
           "more": "另有 {n} 个站点，请扫码查看",
           "hours_note": "按北京时间计算，含法定节假日"},
    "en": {"title": "Union rest station", "subtitle": "Outdoor worker station", "switch": "中文", "address": "Address",
           "hours": "Hours for the next 7 days", "facilities": "Facilities", "no_facilities": "No facilities recorded",
           "access": "Who may enter", "verified": "Last verified", "not_verified": "not verified", "phone": "Phone",
           "navigate": "Navigate (AMap)", "marker": "Show in AMap", "baidu": "Show in Baidu Maps",
           "nearby": "Other stations nearby", "poster": "Print a poster (PDF)", "poster_png": "Poster picture (PNG)",
           "now": "Now", "operator": "Run by", "not_found_title": "Station not found",
           "not_found": "There is no station with id {id}. It may have been removed, or the id is wrong.",
           "back": "Find a station nearby", "scan": "Scan for hours and directions",
           "district_title": "Union rest stations in {district}", "district_scan": "Scan to find a station nearby",
           "stations_count": "{n} stations", "more": "{n} more stations: scan the code",
           "hours_note": "China Standard Time, public holidays included"},
}

PAGES: dict[str, dict[str, dict]] = {"worker": WORKER, "planner": PLANNER, "embed_map": EMBED_MAP,
                                     "embed_builder": EMBED_BUILDER, "station": STATION}


def page_text(page: str, lang: str) -> dict:
    """The strings of ``page`` (a key of :data:`PAGES`) in ``lang``.

    >>> page_text("worker", "en")["switch"], page_text("worker", "zh")["switch"]
    ('中文', 'English')
    """
    return PAGES[page][lang]
