r"""Printable A4 posters: one for a station's door, one for a district union's notice board.

A station poster shows the name, access badge, address, the hours by weekday, the facilities
and a QR code to the station's page (where hours, holidays and reports stay current); a
district poster lists the district's stations with a QR code to the worker page there. Drawn
with matplotlib (no pyplot) in the vendored Noto Sans SC, text as text (``parse_math=False``:
a ``$`` in a station name is a dollar sign, not mathematics), QR codes by segno.

Examples
--------
>>> from stationmap.index import StationIndex
>>> from stationmap.stations import read_stations
>>> from stationmap.hours import parse_when
>>> from stationmap.station_info import station_info
>>> info = station_info(StationIndex(read_stations()), 0, when=parse_when("2026-11-23T12:00"))
>>> station_poster(info, "https://example.cn/s/SH-310101-0001", fmt="png")[:8] == b"\x89PNG\r\n\x1a\n"
True
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .station_info import StationInfo

A4_IN = (8.27, 11.69)
#: Pixels per inch of a PNG poster: 1240 × 1754 px, sharp enough to print and to scan.
PNG_DPI = 150
FORMATS = {"png": "image/png", "pdf": "application/pdf"}
RED = "#b71c1c"
_TEXT = {
    "zh": {"hours": "开放时间", "facilities": "设施", "scan": "扫码查看最新开放时间、节假日安排和导航",
           "holidays": "法定节假日以扫码页面为准", "address": "地址", "weekdays": "周一 周二 周三 周四 周五 周六 周日",
           "district_scan": "扫码查找离你最近的站点和导航", "more": "另有 {n} 个站点，请扫码查看",
           "count": "共 {n} 个站点",
           "heading": "工会驿站 · 户外劳动者服务站点"},
    "en": {"hours": "Opening hours", "facilities": "Facilities",
           "scan": "Scan for current hours, holidays and directions",
           "holidays": "Public holidays: see the page behind the code", "address": "Address",
           "weekdays": "Mon Tue Wed Thu Fri Sat Sun",
           "district_scan": "Scan to find the nearest station and directions",
           "more": "{n} more stations: scan the code", "count": "{n} stations",
           "heading": "Union rest station · Outdoor workers welcome"},
}


@dataclass(frozen=True)
class DistrictEntry:
    """One line of a district poster."""

    name: str
    address: str
    hours: str
    badge: str | None


def qr_matrix(url: str, border: int = 4) -> np.ndarray:
    """The QR code of ``url`` as a 0/1 array (1 = dark), with its quiet zone.

    >>> qr_matrix("https://example.cn/s/1").shape[0] > 21
    True
    """
    import segno

    code = segno.make(url, error="m", micro=False)
    return np.array([list(row) for row in code.matrix_iter(scale=1, border=border)], dtype=np.uint8)


def _font() -> str:
    """The family of the vendored Noto Sans SC (registered with its bold face)."""
    from .maps.fonts import cjk_font

    return cjk_font()[0]


def _figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=A4_IN, dpi=PNG_DPI, facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, fmt: str) -> bytes:
    from matplotlib import rc_context

    from .maps.fonts import LOCK

    buffer = io.BytesIO()
    with LOCK, rc_context({"pdf.fonttype": 42, "pdf.compression": 9}):
        fig.savefig(buffer, format=fmt, dpi=PNG_DPI, facecolor="white",
                    metadata={"Creator": "stationmap"} if fmt == "pdf" else None)
    return buffer.getvalue()


def _text(fig, x: float, y: float, s: str, family: str, size: float, **kw):
    return fig.text(x, y, s, fontfamily=family, fontsize=size, parse_math=False, **kw)


def _wrap(text: str, lang: str, width_zh: int, width_en: int) -> list[str]:
    if lang == "zh" or any(ord(c) > 0x2E80 for c in text):
        width = width_zh
        return [text[i:i + width] for i in range(0, len(text), width)] or [""]
    return textwrap.wrap(text, width_en) or [""]


def _qr(fig, url: str, box: tuple[float, float, float, float]) -> None:
    ax = fig.add_axes(box)
    ax.imshow(1 - qr_matrix(url), cmap="gray", interpolation="nearest", vmin=0, vmax=1)
    ax.set_axis_off()


def _check(texts: dict[str, Sequence[str]], family: str) -> None:
    from .maps.fonts import check_glyphs

    check_glyphs({k: list(v) for k, v in texts.items()}, family)


def station_poster(info: StationInfo, url: str, *, fmt: str = "pdf") -> bytes:
    """An A4 poster of one station (``fmt``: ``pdf`` or ``png``) with a QR code to ``url``."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    lang, r = info.lang, info.record
    words = _TEXT[lang]
    family = _font()
    weekdays = words["weekdays"].split()
    # A poster stays on the door for months: hours by weekday, not by date.
    by_weekday = sorted(info.week, key=lambda d: _weekday_of(d.date))
    amenities = info.amenity_labels
    _check({"name": [r["name"]], "address": [r.get("address") or ""], "hours": [d.text for d in info.week]}, family)
    fig = _figure()
    fig.patches.append(_band(fig))
    _text(fig, 0.06, 0.955, words["heading"], family, 15, color="white", va="center", fontweight="bold")
    y = 0.89
    for line in _wrap(r["name"], lang, 13, 30)[:3]:
        _text(fig, 0.06, y, line, family, 30, fontweight="bold", va="top")
        y -= 0.05
    label = r["type_label"] + (f"   {info.badge}" if info.badge else "")
    _text(fig, 0.06, y - 0.005, label, family, 15, va="top", color=RED if info.badge else "#333333",
          fontweight="bold" if info.badge else "normal")
    y -= 0.045
    if r.get("address"):
        address = f"{words['address']}{'：' if lang == 'zh' else ': '}{r['address']}"
        for line in _wrap(address, lang, 30, 64)[:2]:
            _text(fig, 0.06, y, line, family, 13, va="top", color="#333333")
            y -= 0.03
    y -= 0.015
    _text(fig, 0.06, y, words["hours"], family, 18, fontweight="bold", va="top")
    y -= 0.04
    for day in by_weekday:
        _text(fig, 0.08, y, weekdays[_weekday_of(day.date)], family, 14, va="top")
        _text(fig, 0.22, y, day.text, family, 14, va="top")
        y -= 0.028
    _text(fig, 0.08, y - 0.004, words["holidays"], family, 10.5, va="top", color="#555555")
    y -= 0.05
    _text(fig, 0.06, y, words["facilities"], family, 18, fontweight="bold", va="top")
    y -= 0.04
    joiner = "、" if lang == "zh" else ", "
    for line in _wrap(joiner.join(amenities) or "—", lang, 22, 52)[:5]:
        _text(fig, 0.08, y, line, family, 14, va="top")
        y -= 0.028
    size = 0.3
    _qr(fig, url, (1 - 0.06 - size, 0.05, size, size * A4_IN[0] / A4_IN[1]))
    _text(fig, 0.06, 0.19, words["scan"], family, 13, va="top", wrap=True)
    _text(fig, 0.06, 0.07, url, family, 9, va="top", color="#555555")
    return _save(fig, fmt)


def district_poster(district: str, entries: Sequence[DistrictEntry], url: str, *, lang: str = "zh",
                    fmt: str = "pdf", caption: str = "", rows: int = 24) -> bytes:
    """An A4 list of a district's stations (the first ``rows``) with a QR code to ``url``."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    words = _TEXT[lang]
    family = _font()
    shown = list(entries[:rows])
    _check({"district": [district], "name": [e.name for e in shown], "address": [e.address for e in shown]}, family)
    fig = _figure()
    fig.patches.append(_band(fig))
    _text(fig, 0.06, 0.955, words["heading"], family, 15, color="white", va="center", fontweight="bold")
    title = f"{district}工会驿站" if lang == "zh" else f"Union rest stations in {district}"
    _text(fig, 0.06, 0.89, title, family, 26, fontweight="bold", va="top")
    _text(fig, 0.06, 0.845, words["count"].format(n=len(entries)), family, 13, va="top", color="#333333")
    y = 0.81
    for entry in shown:
        name = entry.name + (f"（{entry.badge}）" if entry.badge and lang == "zh" else
                             f" ({entry.badge})" if entry.badge else "")
        _text(fig, 0.06, y, name[:34], family, 11.5, va="top", fontweight="bold")
        detail = "  ".join(p for p in (entry.address, entry.hours) if p)
        _text(fig, 0.08, y - 0.016, detail[:70], family, 9.5, va="top", color="#333333")
        y -= 0.0265
    if len(entries) > len(shown):
        _text(fig, 0.06, y - 0.005, words["more"].format(n=len(entries) - len(shown)), family, 11, va="top", color=RED)
    size = 0.2
    _qr(fig, url, (1 - 0.05 - size, 0.04, size, size * A4_IN[0] / A4_IN[1]))
    _text(fig, 0.06, 0.1, words["district_scan"], family, 12, va="top")
    _text(fig, 0.06, 0.075, url, family, 9, va="top", color="#555555")
    if caption:
        _text(fig, 0.06, 0.03, caption, family, 8, va="top", color="#777777")
    return _save(fig, fmt)


def _band(fig):
    from matplotlib.patches import Rectangle

    return Rectangle((0, 0.93), 1, 0.07, transform=fig.transFigure, facecolor=RED, edgecolor="none", figure=fig)


def _weekday_of(iso_date: str) -> int:
    from datetime import date

    return date.fromisoformat(iso_date).weekday()
