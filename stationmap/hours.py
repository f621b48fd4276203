"""Opening hours in OpenStreetMap's ``opening_hours`` syntax, evaluated in China Standard Time.

Parsing and evaluation are done by ``opening-hours-py`` (the Rust ``opening-hours`` crate),
with China's public-holiday calendar for ``PH`` rules. A station whose hours are missing,
unparseable or ``unknown`` is never reported as open: sending a worker at 2 a.m. to a locked
door is worse than not sending them.

Examples
--------
>>> from datetime import datetime
>>> noon = parse_when("2026-11-23T12:00")          # a Monday, read as Asia/Shanghai
>>> is_open(["Mo-Fr 09:30-17:00", "24/7", "", "08:30-11:00,13:30-17:00"], noon).tolist()
[True, True, False, False]
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
from opening_hours import OpeningHours, State

TIMEZONE = ZoneInfo("Asia/Shanghai")
COUNTRY = "CN"


@lru_cache(maxsize=8192)
def _compile(expression: str) -> OpeningHours:
    return OpeningHours(expression, timezone=TIMEZONE, country=COUNTRY,
                        auto_country=False, auto_timezone=False)


def problem(expression: str) -> str | None:
    """Why ``expression`` is not valid ``opening_hours`` syntax, or ``None`` if it is.

    An empty expression is valid: it means the hours are unknown.
    """
    expression = (expression or "").strip()
    if not expression:
        return None
    try:
        _compile(expression)
    except Exception as exc:  # the parser raises its own ParserError (a SyntaxError kin)
        first = str(exc).strip().splitlines()
        detail = first[-1].strip(" =|") if first else "syntax error"
        return f"not valid opening_hours syntax ({detail}): {expression!r}"
    return None


def parse_when(value: str | datetime | None = None) -> datetime:
    """A timezone-aware moment from ``None``/``"now"``, an ISO 8601 string or a datetime.

    Times without an offset are read as China Standard Time, as a worker or planner means them.
    Raises ``ValueError`` with the reason for anything else.
    """
    if value is None or (isinstance(value, str) and value.strip().lower() == "now"):
        return datetime.now(TIMEZONE)
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip().upper()          # RFC 3339 allows "t" and "z"
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise ValueError(f"not an ISO 8601 date-time: {value!r} (e.g. 2026-11-23T14:30)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=TIMEZONE)
    try:
        return moment.astimezone(TIMEZONE)
    except OverflowError:                          # e.g. 0001-01-01T00:00+14:00: before year 1 here
        raise ValueError(f"out of the range of dates: {value!r}") from None


def state(expression: str, when: datetime) -> tuple[str, datetime | None]:
    """``("open" | "closed" | "unknown", next change or None)`` of one station at ``when``.

    ``opening_hours`` has minute resolution, so the answer for any moment equals the answer at
    the start of its minute: that is what is evaluated, and cached.
    """
    expression = (expression or "").strip()
    if not expression:
        return "unknown", None
    return _state_at_minute(expression, when.astimezone(TIMEZONE).replace(second=0, microsecond=0))


@lru_cache(maxsize=4096)
def _state_at_minute(expression: str, minute: datetime) -> tuple[str, datetime | None]:
    if problem(expression):
        return "unknown", None
    hours = _compile(expression)
    when = minute
    current, _comment = hours.state(when)
    name = {State.OPEN: "open", State.CLOSED: "closed"}.get(current, "unknown")
    change = hours.next_change(when)
    return name, (change.astimezone(TIMEZONE) if change is not None else None)


def is_open(expressions: Iterable[str], when: datetime) -> np.ndarray:
    """Vectorised open test: each distinct expression is evaluated once.

    Stations share a handful of hour patterns, so this costs one evaluation per pattern, not
    per station.
    """
    values = np.asarray(list(expressions), dtype=object)
    if values.size == 0:
        return np.zeros(0, dtype=bool)
    uniques, inverse = np.unique(values.astype(str), return_inverse=True)
    verdicts = np.array([state(u, when)[0] == "open" for u in uniques], dtype=bool)
    return verdicts[inverse.reshape(-1)]


def describe_change(state_name: str, change: datetime | None, when: datetime, lang: str = "zh") -> str | None:
    """Words for the next change, e.g. ``"closes 17:00"`` or ``"明天 08:30 开门"``.

    Examples
    --------
    >>> now = parse_when("2026-11-23T12:00")
    >>> describe_change("open", parse_when("2026-11-23T17:00"), now, "en")
    'closes 17:00'
    >>> describe_change("closed", parse_when("2026-11-24T08:30"), now, "zh")
    '明天 08:30 开门'
    """
    if state_name == "unknown":
        return "开放时间不详" if lang == "zh" else "hours unknown"
    if change is None:
        if state_name == "open":
            return "全天开放" if lang == "zh" else "open 24/7"
        return None
    days = (change.date() - when.date()).days
    clock = change.strftime("%H:%M")
    if lang == "zh":
        day = {0: "", 1: "明天 "}.get(days, change.strftime("%m-%d "))
        return f"{day}{clock} {'关门' if state_name == 'open' else '开门'}"
    day = {0: "", 1: " tomorrow"}.get(days, change.strftime(" %b %d"))
    return f"{'closes' if state_name == 'open' else 'opens'} {clock}{day}"


_DAYS = {"zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
         "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
_WORDS = {"zh": {"closed": "不开放", "unknown": "不详", "all_day": "全天"},
          "en": {"closed": "closed", "unknown": "unknown", "all_day": "all day"}}


def week(expression: str, when: datetime, lang: str = "zh") -> list[dict[str, str]]:
    """The seven days from ``when``'s date: ``{"date", "day", "hours"}`` each, e.g.
    ``"09:30–17:00"``, ``"不开放"`` or ``"全天"``.

    A rider reads "is it open on Saturday" from this, not from ``opening_hours`` syntax; public
    holidays (``PH``) are applied, since these are real dates.

    Examples
    --------
    >>> [d["hours"] for d in week("Mo-Fr 09:30-17:00", parse_when("2026-11-27T12:00"), "en")[:3]]
    ['09:30–17:00', 'closed', 'closed']
    >>> week("", parse_when("2026-11-27T12:00"))[0]
    {'date': '2026-11-27', 'day': '周五', 'hours': '不详'}
    """
    return list(_week(expression.strip() if expression else "", _day_start(when, when.utcoffset()), lang))


@lru_cache(maxsize=64)
def _day_start(when: datetime, _offset: timedelta | None) -> datetime:
    """The start of ``when``'s day in China: once per request, not once per station.

    ``_offset`` only keys the cache, and must: two times a fold makes equal (the same clock in
    one zone, before and after summer time ends) are equal and hash equal in Python, yet are an
    hour apart and may fall on two days in China. Equal with the same offset means the same instant.
    """
    return when.astimezone(TIMEZONE).replace(hour=0, minute=0, second=0, microsecond=0)


@lru_cache(maxsize=1024)
def _week(expression: str, start: datetime, lang: str) -> tuple[dict[str, str], ...]:
    words = _WORDS.get(lang, _WORDS["zh"])
    days = []
    compiled = _compile(expression) if expression and not problem(expression) else None
    for offset in range(7):
        day_start = start + timedelta(days=offset)
        day_end = day_start + timedelta(days=1)
        spans = []
        unknown = compiled is None
        if compiled is not None:
            for begin, end, state_, _comment in compiled.intervals(day_start, day_end):
                if state_ == State.OPEN:
                    spans.append((begin, end))
                elif state_ == State.UNKNOWN:
                    unknown = True
        if spans:
            text = (words["all_day"] if spans == [(day_start, day_end)] else
                    ", ".join(f"{b:%H:%M}–{'24:00' if e == day_end else format(e, '%H:%M')}" for b, e in spans))
        else:
            text = words["unknown"] if unknown else words["closed"]
        days.append({"date": day_start.date().isoformat(), "day": _DAYS.get(lang, _DAYS["zh"])[day_start.weekday()],
                     "hours": text})
    return tuple(days)
