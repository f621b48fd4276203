"""Opening hours as union registers write them in Chinese, turned into OSM ``opening_hours``.

A register says "星期一到星期五。9:30-17:00" or "8:30-11:00 13:30-17:00" or "24小时"; the
locator needs ``Mo-Fr 09:30-17:00``, ``08:30-11:00,13:30-17:00`` and ``24/7`` to answer "open
now?". The text is read as a sequence of pieces it must consist of entirely (day ranges, time
ranges, all-day words, holiday clauses, and harmless filler such as "开放" or punctuation).
Anything else left over means the text says something this converter does not understand, and
the result is *unknown* (an empty expression, never shown as open) rather than a guess: a
wrong "open" sends a tired rider to a locked door.

Holidays: "节假日休息" / "法定节假日除外" add ``PH off`` (China's public holidays, which
:mod:`stationmap.hours` evaluates with opening-hours-py's CN calendar). "工作日" is read as
``Mo-Fr`` with ``PH off``; the make-up working days (调休, a Saturday or Sunday that is worked)
cannot be written in ``opening_hours`` without listing dates, so on those days such a
station is shown as closed: the safe side.

Examples
--------
>>> to_osm("星期一到星期五。9:30-17:00")
('Mo-Fr 09:30-17:00', None)
>>> to_osm("８:３０－１１:００　１３:３０～１７:００")
('08:30-11:00,13:30-17:00', None)
>>> to_osm("工作日 9:00-17:00")
('Mo-Fr 09:00-17:00; PH off', None)
>>> to_osm("看情况")[0]
''
"""

from __future__ import annotations

import re
import unicodedata

from .. import hours

DAYS = {"一": "Mo", "二": "Tu", "三": "We", "四": "Th", "五": "Fr", "六": "Sa", "日": "Su", "天": "Su",
        "1": "Mo", "2": "Tu", "3": "We", "4": "Th", "5": "Fr", "6": "Sa", "7": "Su"}
_ORDER = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
_DASH = r"\s*(?:-|—|–|―|~|〜|∼|至|到)\s*"
_WEEK = r"(?:周|星期|礼拜)"
_DAY = r"([一二三四五六日天1-7])"
_CLOCK = r"(上午|早上|早|中午|下午|晚上|晚)?\s*(\d{1,2})(?:\s*(?:[:.]|点|时)\s*(\d{2}|半)?)?\s*(?:分)?"

#: Every piece a text may be made of, tried in this order at each position.
_PIECES: list[tuple[str, re.Pattern[str]]] = [
    ("all_day", re.compile(r"24\s*(?:小时|h|H)|全天候|全天|全日|昼夜|通宵")),
    ("ph_off", re.compile(r"(?:法定)?(?:节假日|节日|假日|节假)(?:休息|除外|不开放|闭馆|关闭|休)|"
                          r"(?:除|逢)?(?:法定)?节假日(?:外|除外)")),
    ("ph_on", re.compile(r"(?:法定)?(?:节假日|节日|假日)(?:正常|照常)(?:开放|营业|服务)?|节假日不休")),
    ("workdays", re.compile(r"工作日|周一至周五工作日")),
    ("weekend", re.compile(r"周末|双休日|星期六、?日|周六、?日")),
    ("every_day", re.compile(r"每天|每日|天天|全年无休|全年|一周七天|周一至周日|星期一至星期日|7\s*[天×x]\s*24")),
    ("day_range", re.compile(_WEEK + _DAY + _DASH + _WEEK + r"?" + _DAY)),
    ("day_list", re.compile(_WEEK + _DAY + r"(?:\s*[、,，]\s*" + _WEEK + r"?" + _DAY + r")*")),
    ("time_range", re.compile(_CLOCK + _DASH + r"(?:次日)?" + _CLOCK)),
    ("filler", re.compile(r"[\s,，。.;；、:：()（）]+|开放时间|服务时间|开放|营业|服务|时间|均|为|和|及")),
]


def normalise(text: str) -> str:
    """Full-width digits, colons and tildes to ASCII (NFKC), ideographic spaces to spaces."""
    return unicodedata.normalize("NFKC", str(text or "")).replace("\u3000", " ").strip()


def _clock(part: str | None, hour: str, minute: str | None) -> int | None:
    """Minutes since midnight, or None if not a time of day."""
    h = int(hour)
    m = 30 if minute == "半" else int(minute or 0)
    if part in ("下午", "晚上", "晚") and h < 12:
        h += 12
    if h > 24 or m > 59 or (h == 24 and m):
        return None
    return h * 60 + m


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _day_span(first: str, last: str) -> str:
    a, b = DAYS[first], DAYS[last]
    return a if a == b else f"{a}-{b}"


def _tokens(text: str) -> list[tuple[str, re.Match[str]]] | None:
    """The pieces ``text`` is made of, or None if some part of it is none of them."""
    found: list[tuple[str, re.Match[str]]] = []
    position = 0
    while position < len(text):
        for kind, pattern in _PIECES:
            match = pattern.match(text, position)
            if match and match.end() > position:
                if kind != "filler":
                    found.append((kind, match))
                position = match.end()
                break
        else:
            return None
    return found


class _Rules:
    """Rules being assembled: each is a day selector with its time ranges."""

    def __init__(self) -> None:
        self.rules: list[tuple[str, list[str]]] = []
        self.days: str | None = None
        self.times: list[str] = []
        self.ph: str | None = None          # "off", "on" or None

    def day(self, selector: str) -> None:
        if self.days is None and self.times:    # "9:00-17:00 周一至周五": the times came first
            self.rules.append((selector, self.times))
            self.times = []
            return
        self.close()
        self.days = selector

    def close(self) -> None:
        if self.days is not None or self.times:
            self.rules.append((self.days or "", self.times))
        self.days, self.times = None, []

    def expression(self) -> str:
        self.close()
        parts = []
        for days, times in self.rules:
            span = ",".join(times) if times else "unknown"     # days named, times not: unknown
            parts.append(f"{days} {span}".strip())
        if self.ph == "off":
            parts.append("PH off")
        elif self.ph == "on" and any(days for days, _ in self.rules):
            times = next((t for _, t in self.rules if t), [])
            parts.append(f"PH {','.join(times) or '00:00-24:00'}")
        return "; ".join(parts)


def _apply(rules: _Rules, kind: str, match: re.Match[str]) -> bool:
    """Add one piece to ``rules``; False if it cannot be read (e.g. 25:00)."""
    if kind == "all_day":
        rules.times.append("00:00-24:00")
    elif kind == "ph_off":
        rules.ph = "off"
    elif kind == "ph_on":
        rules.ph = "on"
    elif kind == "workdays":
        rules.day("Mo-Fr")
        rules.ph = rules.ph or "off"
    elif kind == "weekend":
        rules.day("Sa,Su")
    elif kind == "every_day":
        rules.day("Mo-Su")
    elif kind == "day_range":
        rules.day(_day_span(match.group(1), match.group(2)))
    elif kind == "day_list":
        days = sorted({DAYS[d] for d in re.findall(r"[一二三四五六日天1-7]", match.group(0))}, key=_ORDER.index)
        rules.day(",".join(days))
    elif kind == "time_range":
        start = _clock(match.group(1), match.group(2), match.group(3))
        end = _clock(match.group(4) or (match.group(1) if match.group(1) in ("下午", "晚上", "晚") else None),
                     match.group(5), match.group(6))     # "下午1:30-5:00": both afternoon
        if start is None or end is None or start == end:
            return False
        rules.times.append(f"{_hhmm(start)}-{_hhmm(end)}")
    return True


def to_osm(text: str) -> tuple[str, str | None]:
    """``(opening_hours, None)`` for text this module understands, else ``("", reason)``.

    Text already in valid ``opening_hours`` syntax (ASCII, as stationmap's own exports write
    it) is kept as it is. An empty text is unknown hours with no reason to report.
    """
    plain = normalise(text)
    if not plain:
        return "", None
    if plain.isascii() and re.search(r"[A-Za-z/]", plain) and hours.problem(plain) is None:
        return plain, None
    tokens = _tokens(plain)
    if not tokens or all(kind in ("ph_off", "ph_on") for kind, _ in tokens):
        return "", "cannot be read as opening hours"
    rules = _Rules()
    for kind, match in tokens:
        if not _apply(rules, kind, match):
            return "", f"{match.group(0)!r} is not a time range"
    expression = rules.expression().replace("Mo-Su 00:00-24:00", "24/7")
    if expression.startswith("00:00-24:00"):
        expression = "24/7" + expression[len("00:00-24:00"):]
    reason = hours.problem(expression)
    if reason:
        return "", reason
    if "unknown" in expression:
        return expression, "names days but no times: those days are shown as hours unknown"
    return expression, None
