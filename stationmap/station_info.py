"""What a station's own page and its printed poster say: one place, so they cannot disagree.

Hours for the coming week are evaluated by the same engine as the worker page
(:mod:`stationmap.hours`: OpenStreetMap ``opening_hours`` in China Standard Time, with China's
public holidays), amenities are listed in the vocabulary's order, and stations not open to
every outdoor worker carry an access badge (会员专用 / 本单位职工专用).

Examples
--------
>>> from stationmap.index import StationIndex
>>> from stationmap.stations import read_stations
>>> from stationmap.hours import parse_when
>>> index = StationIndex(read_stations())
>>> info = station_info(index, 0, when=parse_when("2026-11-23T12:00"), lang="en")
>>> info.name, len(info.week), info.week[0].label
('黄浦区工业路爱心接力站（1号）', 7, 'Mon 23 Nov (today)')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import hours, vocab
from .records import station_record

#: The badge of stations that not every outdoor worker may enter.
ACCESS_BADGES = {
    "union_members": {"zh": "会员专用", "en": "Union members only"},
    "employees": {"zh": "本单位职工专用", "en": "Host employer's staff only"},
}
_WEEKDAYS = {"zh": "一二三四五六日", "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
_WORDS = {
    "zh": {"today": "今天", "closed": "不开放", "all_day": "全天开放", "unknown": "开放时间不详",
           "station_closed": "站点{status}"},
    "en": {"today": "today", "closed": "closed", "all_day": "open 24 hours", "unknown": "hours unknown",
           "station_closed": "station {status}"},
}


@dataclass(frozen=True)
class DayHours:
    """One day's hours: its label, the open intervals as ``HH:MM–HH:MM``, and a summary."""

    date: str
    label: str
    intervals: tuple[str, ...]
    text: str
    today: bool


@dataclass(frozen=True)
class StationInfo:
    """Everything a station page or poster shows, in one language."""

    record: dict[str, Any]
    lang: str
    week: tuple[DayHours, ...]
    badge: str | None

    @property
    def name(self) -> str:
        """The station's name as stored (Chinese)."""
        return str(self.record["name"])

    @property
    def amenity_labels(self) -> list[str]:
        """Facility labels in the page's language, in the vocabulary's order."""
        return [a["label"] for a in self.record["amenities"]]

    def description(self) -> str:
        """One line for link previews: type, address, today's hours, first amenities."""
        parts = [self.record["type_label"]]
        if self.badge:
            parts.append(self.badge)
        if self.record.get("address"):
            parts.append(self.record["address"])
        if self.week:
            today = self.week[0]
            parts.append(f"{'今天' if self.lang == 'zh' else 'Today'} {today.text}")
        if self.amenity_labels:
            parts.append(("、" if self.lang == "zh" else ", ").join(self.amenity_labels[:6]))
        return ("；" if self.lang == "zh" else "; ").join(parts)


def ordered_amenities(codes: list[str]) -> list[str]:
    """Amenity codes in the vocabulary's order (unknown codes last, as given).

    >>> ordered_amenities(["wifi", "drinking_water", "microwave"])
    ['drinking_water', 'microwave', 'wifi']
    """
    order = {code: i for i, code in enumerate(vocab.AMENITIES)}
    return sorted(codes, key=lambda c: order.get(c, len(order)))


def week_hours(expression: str | None, status: str, start: datetime, lang: str = "zh", days: int = 7
               ) -> tuple[DayHours, ...]:
    """The hours of ``days`` days from ``start``'s date, as the worker page evaluates them.

    Examples
    --------
    >>> week = week_hours("Mo-Fr 09:30-17:00", "open", hours.parse_when("2026-11-28T10:00"), "zh", days=3)
    >>> [(d.label, d.text) for d in week]
    [('11月28日 周六（今天）', '不开放'), ('11月29日 周日', '不开放'), ('11月30日 周一', '09:30–17:00')]
    """
    words = _WORDS[lang]
    first = start.astimezone(hours.TIMEZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    out = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        # Whole calendar days: the same wall-clock midnight in China (no daylight saving there).
        end = (day + timedelta(days=1, hours=2)).replace(hour=0)
        intervals = _open_intervals(expression, day, end) if status == "open" else None
        if status != "open":
            text = words["station_closed"].format(status=vocab.label(vocab.STATUSES, status, lang))
        elif intervals is None:
            text = words["unknown"]
        elif intervals == ("00:00–24:00",):
            text = words["all_day"]
        else:
            text = ", ".join(intervals) if intervals else words["closed"]
        out.append(DayHours(date=day.date().isoformat(), label=_day_label(day, offset == 0, lang),
                            intervals=intervals or (), text=text, today=offset == 0))
    return tuple(out)


def _open_intervals(expression: str | None, day: datetime, end: datetime) -> tuple[str, ...] | None:
    """Open intervals within one day, or ``None`` when the hours are unknown or unreadable."""
    expression = (expression or "").strip()
    if not expression or hours.problem(expression):
        return None
    found = []
    for opens, closes, state, _comment in hours._compile(expression).intervals(day, end):
        name = getattr(state, "name", str(state)).lower()
        if name == "unknown":
            return None
        if name != "open":
            continue
        stop = "24:00" if closes is None or closes >= end else closes.astimezone(hours.TIMEZONE).strftime("%H:%M")
        found.append(f"{max(opens, day).astimezone(hours.TIMEZONE).strftime('%H:%M')}–{stop}")
    return tuple(found)


def _day_label(day: datetime, today: bool, lang: str) -> str:
    weekday = _WEEKDAYS[lang][day.weekday()]
    if lang == "zh":
        return f"{day.month}月{day.day}日 周{weekday}" + ("（今天）" if today else "")
    return f"{weekday} {day.day} {day.strftime('%b')}" + (" (today)" if today else "")


def station_info(index, position: int, *, when: datetime, lang: str = "zh") -> StationInfo:
    """The page and poster contents of the station at row ``position`` of ``index``."""
    record = dict(station_record(index, position, when=when, lang=lang))
    codes = ordered_amenities([a["code"] for a in record["amenities"]])
    record["amenities"] = [{"code": c, "label": vocab.label(vocab.AMENITIES, c, lang)} for c in codes]
    badge = ACCESS_BADGES.get(record["access"], {}).get(lang)
    week = week_hours(record["opening_hours"], record["status"], when, lang)
    return StationInfo(record=record, lang=lang, week=week, badge=badge)
