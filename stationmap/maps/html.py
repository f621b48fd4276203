"""Folium coverage maps for planners, as one self-contained HTML file.

Folium's defaults load Leaflet, jQuery and Bootstrap from CDNs; a union intranet may have no
internet, so these maps clear ``default_js``/``default_css`` on every element and inline the
vendored Leaflet and markercluster instead. Overlays are drawn in the tile provider's
coordinate system (GCJ-02 on AMap tiles). Names are untrusted text: escaped in tooltips, and
put into markers with ``textContent``.

A map of all of China must still open in a browser, so what is drawn is sized to the map, not
to the data: outlines are simplified to a fraction of the map's extent (:func:`detail_for`), the
gap layer is drawn on coarser H3 cells when it would have too many (:func:`gap_cells_for_map`),
and beyond :data:`NAMED_STATIONS` stations the markers carry no names. The numbers in tooltips
and tables always come from the full-resolution report.
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path
from typing import cast

import folium
import geopandas as gpd
import h3.api.numpy_int as h3i
import numpy as np
import pandas as pd
import shapely
from branca.element import Figure
from folium.plugins import FastMarkerCluster
from folium.utilities import JsCode

from .. import coords, vocab
from .._files import atomic_path
from .._paths import shipped
from ..coverage import CoverageReport
from ..districts import district_of
from ..heat import heat_values
from ..index import StationIndex
from . import tiles
from .style import (
    GAP_COLOUR,
    HEAT_OPACITY,
    OUTLINE_COLOUR,
    SITE_COLOUR,
    TYPE_STYLE,
    coverage_colour,
    heat_bands,
    heat_colour,
)

ASSETS = (("style", "vendor/leaflet/dist/leaflet.css"),
          ("style", "vendor/leaflet.markercluster/dist/MarkerCluster.css"),
          ("style", "vendor/leaflet.markercluster/dist/MarkerCluster.Default.css"),
          ("script", "vendor/leaflet/dist/leaflet.js"),
          ("script", "vendor/leaflet.markercluster/dist/leaflet.markercluster.js"))
#: Colour bands of the gap layer: uncovered cells by distance to the nearest station (m).
GAP_BANDS = ((None, 2_000, "#fdd49e"), (2_000, 5_000, "#fc8d59"), (5_000, 10_000, "#d7301f"), (10_000, None, "#7f0000"))
#: Gap cells drawn at most (more are merged into coarser H3 parents for drawing).
GAP_CELLS_DRAWN = 25_000
#: Stations whose names ride along in a map's markers; beyond this count only their positions do.
NAMED_STATIONS = 20_000
#: No map zooms out past all of China on a phone; fewer levels for markercluster to build.
MIN_ZOOM = 3
#: Outlines are simplified to this fraction of the map's larger side.
DETAIL = 1 / 4000
TEXT = {
    "zh": {"heat": "到最近开放站点（分钟）", "min": "分钟", "beyond": "未覆盖", "title": "工会驿站覆盖",
           "covered": "面积覆盖率",
           "stations": "站点", "gaps": "未覆盖区域（到最近站点距离）",
           "districts": "各区覆盖率", "name": "区", "count": "站点数", "mean": "平均距离（米）", "p90": "90%分位（米）",
           "gap": "最大空白区（km²）", "none": "无站点", "sites": "建议新建站点", "site": "建议站点",
           "types": "站点类型", "districts_layer": "行政区"},
    "en": {"heat": "To the nearest open station (minutes)", "min": "min", "beyond": "not covered",
           "title": "Union station coverage", "covered": "Area covered", "stations": "Stations",
           "gaps": "Uncovered (distance to nearest station)", "districts": "Coverage by district", "name": "District",
           "count": "Stations", "mean": "Mean distance (m)", "p90": "90th percentile (m)", "gap": "Largest gap (km²)",
           "none": "no station", "sites": "Recommended sites", "site": "Site", "types": "Station types",
           "districts_layer": "Districts"},
}
#: Station markers: one shared icon per type (a CSS class, see :func:`_marker_style`), so no
#: marker builds any DOM until it is shown. ``row``: [lat, lon, name?, type number?].
_MARKER = """(function () {
    var icons = {};
    return function (row) {
        var kind = row.length > 3 ? row[3] : -1;
        icons[kind] = icons[kind] || L.divIcon({className: "sm-dot sm-t" + kind, iconSize: [10, 10]});
        var marker = L.marker(new L.LatLng(row[0], row[1]), {icon: icons[kind]});
        if (row[2]) {                              // left out on maps of very many stations
            var tip = document.createElement("span");
            tip.textContent = row[2];              // station names are untrusted text
            marker.bindTooltip(tip);
        }
        return marker;
    };
})()"""


def _marker_style() -> str:
    """The markers' classes: a dot, coloured by the station type's number in :data:`TYPE_STYLE`."""
    kinds = "".join(f".sm-t{i}{{background:{colour}}}" for i, (colour, _) in enumerate(TYPE_STYLE.values()))
    return ("<style>.sm-dot{width:10px;height:10px;border-radius:50%;border:1px solid #fff;"
            f"box-sizing:border-box;background:#0b57d0}}{kinds}</style>")


#: Large sets are clustered in chunks, so the map shows at once; the page says when all are in
#: (``data-stations-loaded`` on the document element: the count, once every chunk is done).
_LOADED = """function (processed, total) {
    if (processed === total) { document.documentElement.dataset.stationsLoaded = total; }
}"""


def detail_for(districts: gpd.GeoDataFrame) -> tuple[float, int]:
    """Simplification tolerance (degrees) and decimals for drawing outlines over ``districts``.

    A 4,000th of the map's larger side: about 30 m over Shanghai, 1.5 km over China, well under
    a pixel at the zoom that shows the whole area. Decimals keep a tenth of the tolerance.

    Examples
    --------
    >>> import shapely
    >>> detail_for(gpd.GeoDataFrame(geometry=[shapely.box(121, 31, 122.2, 32)], crs="EPSG:4326"))
    (0.0003, 5)
    """
    west, south, east, north = districts.total_bounds
    tolerance = max(east - west, north - south) * DETAIL
    return round(float(tolerance), 7), min(6, max(3, math.ceil(-math.log10(tolerance / 10))))


def _drawable(geometry: shapely.Geometry, system: str, tolerance: float, decimals: int) -> dict:
    """A geometry as GeoJSON for drawing: simplified, shifted to the tiles' system, rounded."""
    shape = shapely.simplify(geometry, tolerance, preserve_topology=True) if tolerance else geometry
    shape = coords.geometry_from_wgs84(shape, system)
    return shapely.geometry.mapping(shapely.transform(shape, lambda xy: np.round(xy, decimals)))


def _outlines(districts: gpd.GeoDataFrame) -> tuple[np.ndarray, float, int]:
    """The districts' outlines simplified for drawing (all at once), and the detail used."""
    tolerance, decimals = detail_for(districts)
    simplified = shapely.simplify(np.asarray(districts.geometry.array), tolerance, preserve_topology=True)
    return simplified, tolerance, decimals


def parents(cells: np.ndarray, res: int) -> np.ndarray:
    """The H3 parents at ``res`` of ``cells`` (integers of one finer resolution or several),
    vectorised: an H3 index holds its resolution in bits 52–55 and one 3-bit digit per finer
    resolution, which a parent sets to 7 (H3's index layout; tested against ``cell_to_parent``).

    Examples
    --------
    >>> cell = h3i.latlng_to_cell(31.23, 121.47, 9)
    >>> int(parents(np.array([cell], dtype=np.uint64), 6)[0]) == int(h3i.cell_to_parent(cell, 6))
    True
    """
    unused = sum(7 << ((15 - r) * 3) for r in range(res + 1, 16))
    cells = np.asarray(cells, dtype=np.uint64)
    return (cells & ~np.uint64(0xF << 52)) | np.uint64(res << 52) | np.uint64(unused)


def gap_cells_for_map(cells: pd.DataFrame, radius_m: float, limit: int = GAP_CELLS_DRAWN) -> pd.DataFrame:
    """The uncovered cells to draw: ``cell``, ``resolution``, ``distance_m``, ``merged``; at most
    about ``limit``.

    When there are more, cells finer than the coarsest resolution that fits are merged into their
    parents there (``merged``); a parent is drawn when most of its sampled children are uncovered,
    banded by their median distance. Resolutions already coarser are kept. A parent reaches past
    its children's district, so :func:`gap_shapes` clips merged cells to the districts.
    """
    uncovered = cells[cells["distance_m"] > radius_m]
    if len(uncovered) <= limit:
        return uncovered[["cell", "resolution", "distance_m"]].assign(merged=False)
    resolution = cells["resolution"].to_numpy()
    per_resolution = pd.Series(resolution).value_counts()
    uncovered_per_resolution = pd.Series(uncovered["resolution"].to_numpy()).value_counts()
    for res in range(int(resolution.max()) - 1, -1, -1):      # parents drawn ≈ children / 7 per level
        drawn = sum(n / 7 ** (r - res) if r > res else uncovered_per_resolution.get(r, 0)
                    for r, n in per_resolution.items())
        if drawn <= limit:
            break
    keep = uncovered[uncovered["resolution"] <= res][["cell", "resolution", "distance_m"]].assign(merged=False)
    fine = cells[cells["resolution"] > res]
    parent = parents(fine["cell"].to_numpy(), res)
    grouped = pd.DataFrame({"cell": parent, "uncovered": fine["distance_m"].to_numpy() > radius_m,
                            "distance_m": fine["distance_m"].to_numpy()}).groupby("cell")
    merged = grouped.agg(uncovered=("uncovered", "mean"), distance_m=("distance_m", "median")).reset_index()
    merged = merged[merged["uncovered"] > 0.5].assign(resolution=res, merged=True)[
        ["cell", "resolution", "distance_m", "merged"]]
    return pd.concat([keep, merged], ignore_index=True)


def gap_shapes(report: CoverageReport, districts: gpd.GeoDataFrame, limit: int = GAP_CELLS_DRAWN,
               outlines: np.ndarray | None = None) -> list[tuple[str, shapely.Geometry]]:
    """The gap layer as (colour, WGS-84 geometry) per distance band (:data:`GAP_BANDS`), from
    :func:`gap_cells_for_map`; merged parents are clipped to the districts (to ``outlines``,
    their simplified shapes, when given).
    """
    cells = gap_cells_for_map(report.cells, report.threshold.radius_m, limit)
    area = None
    shapes = []
    for low, high, colour in GAP_BANDS:
        band = cells[(cells["distance_m"] > (low or 0)) & (cells["distance_m"] <= (high or np.inf))]
        for (_, merged), same in band.groupby(["resolution", "merged"]):   # one H3 resolution at a time
            # Unique: neighbouring districts' outlines may overlap and share a cell centre.
            shape = shapely.geometry.shape(h3i.cells_to_geo(np.unique(same["cell"].to_numpy())))
            if merged:
                if area is None:
                    area = shapely.union_all(outlines if outlines is not None else _outlines(districts)[0])
                shape = shapely.intersection(shape, area)
            shapes.append((colour, shape))
    return shapes


def heat_shapes(report: CoverageReport, districts: gpd.GeoDataFrame, limit: int = GAP_CELLS_DRAWN,
                outlines: np.ndarray | None = None) -> list[tuple[str, shapely.Geometry]]:
    """The heat layer as (colour, WGS-84 geometry) per band of :func:`stationmap.maps.style.heat_bands`:
    every cell (merged into coarser parents beyond ``limit``, as :func:`gap_cells_for_map` does,
    banded by the median distance), a cell beyond the threshold in the gap colour.
    """
    cells = gap_cells_for_map(report.cells, -1.0, limit)          # every cell is "beyond" −1 m
    radius = report.threshold.radius_m
    _, _, threshold, unit = heat_values(report)
    distance = cells["distance_m"].to_numpy(dtype=float)
    values = distance if unit == "m" else distance / radius * threshold     # minutes are linear in metres
    colours = np.array([GAP_COLOUR if not d <= radius else heat_colour(v, threshold)
                        for d, v in zip(distance, values, strict=True)])
    area = None
    shapes = []
    for _, _, colour in heat_bands(threshold):
        band = cells[colours == colour]
        for (_, merged), same in band.groupby(["resolution", "merged"]):
            shape = shapely.geometry.shape(h3i.cells_to_geo(np.unique(same["cell"].to_numpy())))
            if merged:
                if area is None:
                    area = shapely.union_all(outlines if outlines is not None else _outlines(districts)[0])
                shape = shapely.intersection(shape, area)
            shapes.append((colour, shape))
    return shapes


def _metres(value: float | None) -> str:
    """A distance in whole metres for a tooltip; a dash where there is none (no station anywhere)."""
    return "—" if value is None or np.isnan(value) else f"{value:.0f}"


def _root(m: folium.Map) -> Figure:
    """The page a map is drawn in (folium's ``get_root`` is typed as any element; a map's is a Figure)."""
    return cast(Figure, m.get_root())


def _inline_assets(m: folium.Map) -> None:
    m.default_js, m.default_css = [], []
    for kind, relative in ASSETS:
        text = (shipped("static") / relative).read_text(encoding="utf-8")
        if kind == "script":
            text = text.replace("</script", "<\\/script")
        _root(m).header.add_child(folium.Element(f"<{kind}>{text}</{kind}>"), name=f"stationmap:{relative}")


def _legend(report: CoverageReport, lang: str) -> str:
    """The heat bands (the threshold is the last edge before the gap colour), outlines, sites."""
    t = TEXT[lang]
    _, _, threshold, unit = heat_values(report)
    unit_text = t["min"] if unit == "min" else "m"
    bands = "".join(
        f'<div><i style="background:{c}"></i>{lo:g}–{hi:g}</div>' if hi is not None else
        f'<div style="border-top:2px solid #111;font-weight:600">'
        f'<i style="background:{c}"></i>&gt; {lo:g} {unit_text} · '
        f'{html.escape(t["beyond"])}</div>' for lo, hi, c in ((round(a, 1), None if b is None else round(b, 1), c)
                                                              for a, b, c in heat_bands(threshold)))
    return f"""<div style="position:fixed;bottom:56px;left:12px;z-index:1000;background:#fff;padding:8px 10px;
        font:13px/1.4 system-ui,'Noto Sans CJK SC',sans-serif;border:1px solid #999;border-radius:6px;max-width:300px">
      <style>.sm-legend i{{display:inline-block;width:16px;height:11px;margin-right:6px}}</style>
      <div class="sm-legend"><strong>{html.escape(t['title'])}</strong>
      <div>{html.escape(t['heat'])}</div>{bands}
      <div><i style="border:2px solid {OUTLINE_COLOUR};height:9px"></i>{html.escape(t['districts'])}</div>
      <div><i style="background:{SITE_COLOUR};border-radius:50%"></i>{html.escape(t['sites'])}</div>
      <div style="margin-top:4px;color:#333">{html.escape(report.assumptions(lang))}</div></div></div>"""


def _base_map(districts: gpd.GeoDataFrame, tile_provider: str, tianditu_key: str) -> tuple[folium.Map, str]:
    """An empty map over the districts with the vendored assets inlined; and the system to draw in."""
    layer = tiles.provider(tile_provider, tianditu_key)
    west, south, east, north = districts.total_bounds
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=9, tiles=None,
                   control_scale=True, prefer_canvas=True, max_zoom=layer["max_zoom"], min_zoom=MIN_ZOOM)
    m.options["max_zoom"] = layer["max_zoom"]     # markercluster needs it; Folium sets it only on its own tiles
    m.options["min_zoom"] = MIN_ZOOM              # and clusters every zoom level from the least
    _inline_assets(m)
    if layer["url"]:
        folium.TileLayer(layer["url"], attr=layer["attribution"], subdomains=layer["subdomains"] or "abc",
                         max_zoom=layer["max_zoom"], name=layer["name"]).add_to(m)
    return m, layer["coordsys"]


def _fit(m: folium.Map, districts: gpd.GeoDataFrame, system: str) -> None:
    bounds = coords.geometry_from_wgs84(shapely.box(*districts.total_bounds), system).bounds
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])


def _cluster(m: folium.Map, index: StationIndex, positions: np.ndarray, system: str, name: str,
             coloured: bool = False) -> None:
    """Stations as one clustered layer, names set as text (never parsed as HTML).

    Positions are rounded to 1e-5 degrees (about a metre); beyond :data:`NAMED_STATIONS`
    stations names are left out, so a national map stays a size a browser opens.
    """
    x, y = coords.from_wgs84(index.lon[positions], index.lat[positions], system)
    named = len(positions) <= NAMED_STATIONS
    names = index.column("name")[positions] if named else np.full(len(positions), "")
    kinds = index.column("type")[positions]
    number = {code: i for i, code in enumerate(TYPE_STYLE)}
    rows = [[round(float(b), 5), round(float(a), 5), *([str(n)] if named or coloured else []),
             *([number.get(k, -1)] if coloured else [])]
            for a, b, n, k in zip(x, y, names, kinds, strict=True)]
    # Each marker is clustered at every zoom level below the one that shows single markers; a
    # national map (no names) shows them from zoom 13, city maps from 15.
    cluster = FastMarkerCluster(rows, callback=_MARKER, name=name,
                                options={"disableClusteringAtZoom": 15 if named else 13, "chunkedLoading": True,
                                         "chunkDelay": 10, "chunkProgress": JsCode(_LOADED)})
    cluster.default_js, cluster.default_css = [], []
    cluster.add_to(m)
    _root(m).header.add_child(folium.Element(_marker_style()), name="stationmap:markers")


def _heading(title: str, caption: str) -> str:
    """A title and a source line over the map (both escaped: a title may be typed by anyone)."""
    return f"""<div style="position:fixed;top:10px;left:56px;right:220px;z-index:1000;pointer-events:none;
        font:14px/1.4 system-ui,'Noto Sans CJK SC',sans-serif"><div style="display:inline-block;background:#fff;
        padding:6px 10px;border:1px solid #999;border-radius:6px;pointer-events:auto">
      <strong style="font-size:17px">{html.escape(title)}</strong>
      <div style="color:#444;font-size:12px">{html.escape(caption)}</div></div></div>"""


def stations_map(districts: gpd.GeoDataFrame, index: StationIndex, positions: np.ndarray, *,
                 tile_provider: str = "none", lang: str = "zh", tianditu_key: str = "",
                 title: str = "", caption: str = "") -> folium.Map:
    """District outlines, stations clustered and coloured by type, a legend by type, a title and
    a source line: the stations at ``positions`` (see :func:`stationmap.maps.picture.stations_inside`).
    """
    m, system = _base_map(districts, tile_provider, tianditu_key)
    t = TEXT[lang]
    outlines, _, decimals = _outlines(districts)
    features = [{"type": "Feature", "geometry": _drawable(shape, system, 0, decimals),
                 "properties": {"name": html.escape(_name(row, lang))}}
                for row, shape in zip(districts.itertuples(index=False), outlines, strict=True)]
    folium.GeoJson({"type": "FeatureCollection", "features": features}, name=t["districts_layer"],
                   style_function=lambda f: {"fillColor": "#fbfaf6", "color": "#555", "weight": 1.2,
                                             "fillOpacity": 0.35},
                   tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=[t["name"]])).add_to(m)
    _cluster(m, index, positions, system, t["stations"], coloured=True)
    kinds = index.column("type")[positions]
    rows = "".join(
        f'<div><i style="background:{colour}"></i>{html.escape(vocab.label(vocab.STATION_TYPES, code, lang))}'
        f" ({int((kinds == code).sum()):,})</div>" for code, (colour, _) in TYPE_STYLE.items() if (kinds == code).any())
    _root(m).html.add_child(folium.Element(f"""<div style="position:fixed;bottom:40px;left:12px;z-index:1000;
        background:#fff;padding:8px 10px;font:13px/1.5 system-ui,'Noto Sans CJK SC',sans-serif;border:1px solid #999;
        border-radius:6px"><style>.sm-legend i{{display:inline-block;width:10px;height:10px;border-radius:50%;
        margin-right:6px}}</style><div class="sm-legend"><strong>{html.escape(t['types'])}</strong>{rows}</div>
        </div>"""))
    if title or caption:
        _root(m).html.add_child(folium.Element(_heading(title, caption)))
    folium.LayerControl(collapsed=False).add_to(m)     # collapsed, it would load Leaflet's layers.png
    _fit(m, districts, system)
    return m


def _name(row, lang: str) -> str:
    english = getattr(row, "name_en", None)
    return str(english) if lang == "en" and isinstance(english, str) and english else str(row.name)


def coverage_map(report: CoverageReport, districts: gpd.GeoDataFrame, index: StationIndex, *,
                 tile_provider: str = "none", lang: str = "zh", tianditu_key: str = "",
                 sites: pd.DataFrame | None = None, title: str = "", caption: str = "") -> folium.Map:
    """The heat layer (minutes to the nearest open station, :func:`heat_shapes`), districts as
    outlines labelled with their share, stations (clustered), recommended sites (from
    :func:`stationmap.recommend.recommend`), layer control: the planner page's visual language.
    """
    m, system = _base_map(districts, tile_provider, tianditu_key)
    t = TEXT[lang]

    table = report.table.set_index("adcode")
    outlines, tolerance, decimals = _outlines(districts)
    features = []
    for district, shape in zip(districts.itertuples(index=False), outlines, strict=True):
        row = table.loc[district.adcode]
        features.append({"type": "Feature", "geometry": _drawable(shape, system, 0, decimals),
                         "properties": {
                             "name": html.escape(_name(district, lang)), "share": f"{row['area_covered_pct']:.1f}%",
                             "stations": int(row["stations"]),
                             "mean": _metres(row["mean_dist_m"]), "p90": _metres(row["p90_dist_m"]),
                             "gap": f"{row['largest_gap_km2']:.1f}",
                             "colour": coverage_colour(row["area_covered_pct"])}})
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features}, name=t["districts"],
        # Outlines only (the share is in the tooltip and a label): a fill under the heat would muddy it.
        style_function=lambda f: {"color": OUTLINE_COLOUR, "weight": 1.4, "fillOpacity": 0},
        tooltip=folium.GeoJsonTooltip(fields=["name", "share", "stations", "mean", "p90", "gap"],
                                      aliases=[t["name"], t["covered"], t["count"], t["mean"], t["p90"], t["gap"]]),
    ).add_to(m)

    heat = folium.FeatureGroup(name=t["heat"])
    for colour, shape in heat_shapes(report, districts, outlines=outlines):
        folium.GeoJson(_drawable(shape, system, tolerance, decimals), style_function=lambda f, c=colour: {
            "fillColor": c, "color": c, "weight": 0, "fillOpacity": HEAT_OPACITY}).add_to(heat)
    heat.add_to(m)

    admitted = np.flatnonzero(index.admitted(np.arange(len(index)), report.filters))
    inside = admitted[district_of(districts, index.lon[admitted], index.lat[admitted]) >= 0]
    _cluster(m, index, inside, system, t["stations"])
    # Labels after the stations: the markers pane keeps stations first, labels above them.
    # In a pane of their own, after the markers' pane: labels never come before stations.
    folium.map.CustomPane("district-labels", z_index=640, pointer_events=False).add_to(m)
    labels = folium.FeatureGroup(name=t["covered"])
    for district, shape in zip(districts.itertuples(index=False), outlines, strict=False):
        point = shapely.point_on_surface(shape)
        x, y = coords.from_wgs84(np.array([point.x]), np.array([point.y]), system)
        share = float(table.loc[district.adcode, "area_covered_pct"])
        folium.Marker([float(y[0]), float(x[0])], interactive=False, pane="district-labels", icon=folium.DivIcon(
            html=f'<span style="display:inline-block;transform:translate(-50%,-50%);font:600 12px sans-serif;'
                 f'background:rgba(255,255,255,.85);padding:1px 4px;border-radius:3px">{share:.0f}%</span>'),
                 ).add_to(labels)
    labels.add_to(m)
    if sites is not None and len(sites):
        group = folium.FeatureGroup(name=t["sites"])
        x, y = coords.from_wgs84(sites["lon"].to_numpy(), sites["lat"].to_numpy(), system)
        for rank, gain, a, b in zip(sites["rank"], sites["gain"], x, y, strict=True):
            folium.CircleMarker([float(b), float(a)], radius=9, color="#fff", weight=2, fill=True,
                                fill_color=SITE_COLOUR, fill_opacity=1,
                                tooltip=f"{t['site']} {int(rank)}: +{gain:,.0f}").add_to(group)
        group.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    _root(m).html.add_child(folium.Element(_legend(report, lang)))
    if title or caption:
        _root(m).html.add_child(folium.Element(_heading(title, caption)))
    _fit(m, districts, system)
    return m


def map_html(m: folium.Map) -> str:
    """The map as one self-contained HTML document (what :func:`save_map` writes)."""
    return _root(m).render()


def save_map(m: folium.Map, path: str | os.PathLike) -> Path:
    """Write the map as one HTML file that opens from disk with no network."""
    with atomic_path(path) as temp:
        temp.write_text(map_html(m), encoding="utf-8")
    return Path(path)
