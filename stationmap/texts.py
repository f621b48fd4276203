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
        "app_name": "工会驿站", "offline_results": "离线：显示 {t} 的结果。",
        "offline_unavailable": "离线时无法查找新位置、更新开放状态或加载底图；联网后会自动更新。",
        "offline_none": "离线，且本机没有保存过的结果。请联网后再试。",
        "network_error": "网络连接失败，请检查信号后再试。", "server_error": "服务器暂时出错，请稍后再试。",
        "busy": "请求太频繁，请稍等一会儿再试。", "bad_request": "查询条件有误，请重新选择位置或筛选条件。",
        "locate_denied": "没有定位权限：请在浏览器设置中允许定位，或点地图、选择区。",
        "locate_timeout": "定位超时：请到开阔处再试，或点地图、选择区。",
        "far_warning": "最近的站点也在 {d} 外，请先确认路线和开放时间。",
        "outside_area": "该位置不在本服务覆盖范围（{area}）内，这里没有站点数据。",
        "access_public": "向户外劳动者开放", "access_union_members": "会员专用", "access_employees": "本单位职工专用",
        "week_hours": "本周开放时间", "last_verified": "最近核实：{d}", "not_verified": "未记录核实日期",
        "legend": "图例", "legend_open": "开放中", "legend_closed": "未开放", "legend_unknown": "时间不详",
        "legend_other": "附近其他站点", "legend_you": "你的位置", "legend_cluster": "数字：该处的站点数，点击放大",
        "legend_route": "路线（直线）",
        "contrast": "高对比度", "skip_to_list": "跳到站点列表",
        "route": "沿路线找站点",
        "route_hint": "选好位置后，点“选择目的地”，再点地图上的目的地，或点某个站点的“设为目的地”。",
        "route_pick": "选择目的地", "route_picking": "请点地图上的目的地…", "route_clear": "取消路线",
        "route_within": "离路线不超过",
        "route_set_here": "设为目的地", "route_need_point": "请先定位或在地图上选择出发点。",
        "route_found": "沿路线（直线 {len}）找到 {n} 个站点，按经过顺序：",
        "route_none": "路线附近 {d} 内没有符合条件的站点。",
        "route_note": "路线按出发点到目的地的直线计算；绕行时间 = 离路线距离 × 2，按所选出行方式估算。",
        "along": "沿途 {d}", "detour": "绕行约 {m} 分钟", "selected": "已选中",
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
        "app_name": "Union stations", "offline_results": "Offline: showing results from {t}.",
        "offline_unavailable": "Offline, new places, live opening status and the base map are"
                                " unavailable; the page updates when you are back online.",
        "offline_none": "Offline, and no results are saved on this phone. Please try again when online.",
        "network_error": "No connection: check your signal and try again.",
        "server_error": "The server had a problem; please try again shortly.",
        "busy": "Too many requests: please wait a moment and try again.",
        "bad_request": "The query is not valid: please choose the place or filters again.",
        "locate_denied": "No permission to use your location: allow it in the browser's"
                          " settings, or tap the map or pick a district.",
        "locate_timeout": "Locating took too long: try in the open, or tap the map or pick a district.",
        "far_warning": "The nearest station is {d} away: check the route and opening hours first.",
        "outside_area": "This place is outside the area this service covers ({area}): there are no station data here.",
        "access_public": "Open to outdoor workers", "access_union_members": "Union members only",
        "access_employees": "Host employer's staff only",
        "week_hours": "Hours this week", "last_verified": "Last verified: {d}", "not_verified": "No verification date",
        "legend": "Legend", "legend_open": "Open now", "legend_closed": "Closed now", "legend_unknown": "Hours unknown",
        "legend_other": "Other stations nearby",
        "legend_you": "You are here",
        "legend_cluster": "Number: stations there, tap to zoom in",
        "legend_route": "Route (straight line)",
        "contrast": "High contrast", "skip_to_list": "Skip to the station list",
        "route": "Stations along my route",
        "route_hint": "After choosing where you are, press “Choose destination” and tap it on"
                       " the map, or press “Set as destination” on a station.",
        "route_pick": "Choose destination",
        "route_picking": "Tap your destination on the map…",
        "route_clear": "Clear route",
        "route_within": "Within",
        "route_set_here": "Set as destination",
        "route_need_point": "First locate yourself or tap a starting point on the map.",
        "route_found": "{n} stations along the route (straight line, {len}), in the order you pass them:",
        "route_none": "No matching station within {d} of the route.",
        "route_note": "The route is the straight line from start to destination; the detour is"
                       " twice the distance from it, by the chosen travel mode.",
        "along": "{d} along", "detour": "detour about {m} min", "selected": "Selected",
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
           "no_tiles": "离线底图：只显示区界。", "worker_page": "找附近站点",
           "layers": "图层", "layer_heat": "到最近站点的时间", "layer_districts": "各区覆盖率",
           "layer_sites": "建议站点",
           "heat_title": "到最近开放站点（分钟）", "min": "分钟", "district_outline": "区界与覆盖率",
           "district": "所在区", "nearest": "最近现有站点", "no_station": "无开放站点", "amap": "在高德地图中查看",
           "site_downloads": "建议站点下载", "sites_csv": "站点 CSV", "sites_xlsx": "站点 Excel",
           "sites_geojson": "站点 GeoJSON",
           "bad_minutes": "分钟须为 1 到 60 之间的数字。", "bad_recommend": "建议站点数须为 0 到 20 之间的整数。",
           "bad_at": "时间须为 00:00 到 23:59。", "bad_area": "链接中的范围不在本服务的区域内，请重新选择。",
           "bad_mode": "出行方式须为步行或电动车。", "fix_fields": "请先修改标出的项目；之前的结果已清除。",
           "job_label": "计算进度", "job_queued": "排队等待计算…", "job_running": "开始计算…",
           "job_districts": "读取区界…", "job_sampling": "取样：已完成 {d}/{t} 个区，{c} 个网格",
           "job_solver": "求解选址（{n} 个）：已用 {s} 秒，上限 {l} 秒", "job_coverage": "计算覆盖率…",
           "job_formatting": "整理结果…", "cancel": "取消计算", "cancelled": "已取消计算。",
           "job_lost": "之前的计算已过期，重新计算。",
           "demand": "需求数据（可选：CSV、Excel、GeoJSON）", "demand_coordsys": "表格坐标系",
           "no_demand": "未上传需求数据：人口按各区面积均匀分布。",
           "with_demand": "按上传的需求数据计算人口覆盖和建议站点：{file}，{n} 个点，其中 {inside} 个在范围内。",
           "bad_demand_row": "第 {row} 行“{column}”列：", "bad_demand": "需求文件无法使用，未计算。",
           "people_covered": "人口覆盖率", "demand_covered": "需求覆盖率"},
    "en": {"title": "Union station coverage", "subtitle": "For planners: where stations are missing, where to build",
           "switch": "中文", "area": "Area", "whole": "Whole city", "mode": "Travel mode", "walk": "Walk",
           "ebike": "E-bike", "minutes": "Minutes", "at": "Time of day (empty = any time)",
           "recommend": "New sites to propose", "apply": "Compute", "computing": "Computing…",
           "done": "Done: {n} district(s)", "error": "The computation failed", "show_stations": "Show stations",
           "downloads": "Download", "csv": "CSV table", "xlsx": "Excel table", "geojson": "Gaps GeoJSON",
           "html": "HTML map", "totals": "Total", "covered": "Area covered", "gaps": "Uncovered area",
           "sites": "Recommended sites", "site": "Site", "gain": "Residents added", "stations": "Stations",
           "table_label": "Coverage by district (click a header to sort)", "map_label": "Coverage map",
           "no_tiles": "Offline base map: district outlines only.", "worker_page": "Find a station",
           "layers": "Layers", "layer_heat": "Time to the nearest station", "layer_districts": "Coverage by district",
           "layer_sites": "Recommended sites", "heat_title": "To the nearest open station (minutes)", "min": "min",
           "district_outline": "District outline and coverage", "district": "District",
           "nearest": "Nearest existing station", "no_station": "no open station", "amap": "View in AMap",
           "site_downloads": "Download the sites", "sites_csv": "Sites CSV", "sites_xlsx": "Sites Excel",
           "sites_geojson": "Sites GeoJSON", "bad_minutes": "Minutes must be a number from 1 to 60.",
           "bad_recommend": "New sites must be a whole number from 0 to 20.", "bad_at": "The time must be 00:00–23:59.",
           "bad_area": "The link's area is not one this service covers; choose one.",
           "bad_mode": "The travel mode must be walk or e-bike.",
           "fix_fields": "Correct the marked fields first; the previous answer was cleared.",
           "job_label": "Progress", "job_queued": "Waiting for a free worker…", "job_running": "Starting…",
           "job_districts": "Reading district outlines…",
           "job_sampling": "Sampling: {d} of {t} districts done, {c} cells",
           "job_solver": "Choosing {n} sites: {s} s so far, limit {l} s", "job_coverage": "Computing coverage…",
           "job_formatting": "Preparing the answer…", "cancel": "Cancel", "cancelled": "The computation was cancelled.",
           "job_lost": "The earlier computation has expired; computing again.",
           "demand": "Demand (optional: CSV, Excel, GeoJSON)", "demand_coordsys": "Sheet coordinates",
           "no_demand": "No demand uploaded: residents are spread evenly over each district.",
           "with_demand": "Population covered and the sites use the uploaded demand: {file}, {n} points, "
                          "{inside} inside the area.",
           "bad_demand_row": "Row {row}, column “{column}”: ", "bad_demand": "The demand file cannot be used; "
                                                                             "nothing was computed.",
           "people_covered": "Population covered", "demand_covered": "Demand covered"},
}

#: The embeddable map (``/embed/map``) and its error page.
EMBED_MAP = {
    "zh": {
        "title_stations": "工会驿站分布", "title_coverage": "工会驿站覆盖率", "full_map": "打开完整地图",
        "source": "数据：", "updated": "更新于", "verified": "核实至", "no_tiles": "离线底图：只显示区界",
        "covered": "面积覆盖率", "stations": "站点", "mean_dist": "平均距离", "loading": "正在加载覆盖率…",
        "coverage_failed": "覆盖率数据暂不可用。", "legend": "到最近开放站点（分钟）",
        "gaps": "未覆盖", "min": "分钟", "zoom_hint": "点击地图后可用滚轮缩放",
        "map_label": "地图", "bad_request": "地图参数有误",
    },
    "en": {
        "title_stations": "Union rest stations", "title_coverage": "Union station coverage",
        "full_map": "Open the full map",
        "source": "Data: ", "updated": "updated", "verified": "verified to",
        "no_tiles": "Offline base map: district outlines only",
        "covered": "Area covered", "stations": "Stations", "mean_dist": "Mean distance", "loading": "Loading coverage…",
        "coverage_failed": "Coverage figures are unavailable.", "legend": "To the nearest open station (minutes)",
        "gaps": "not covered", "min": "min",
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
