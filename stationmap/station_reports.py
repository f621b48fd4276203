"""Workers' reports on stations ("it's open, I'm here", "it's closed", …): the rules, the
anonymous client key, and the one-line summary a station carries.

Core, no Flask: the store keeps reports (:mod:`stationmap.store.reports`), the web layer
translates. The rules here are what keeps a map that anyone may correct trustworthy:

- **one vote per client per station per day** (the service day, China Standard Time): the store
  enforces it with a unique key on (station, day, client key), so two requests racing cannot both
  count;
- **no raw address, no location**: a client is stored only as :func:`client_key`, a keyed hash
  (HMAC-SHA256) of its address and browser, under a random key made for each day and deleted
  the day after. Within a day the same client gets the same key (so its second vote is
  refused); across days, and once the key is gone even for the operator, keys cannot be linked
  or reversed (PIPL: collect the least, keep it briefly);
- **thresholds in configuration** (:class:`Thresholds`): how many closure reports in how many
  hours make a card say so, and how far a station with them moves down the list.

Summary examples (as the worker page's card shows them)::

    最近核实：3 天前 · 2 人确认开放
    近 24 小时 3 人报告关闭
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from . import vocab
from .errors import DataFileError, InputError
from .hours import TIMEZONE
from .safetext import text_problem

#: What a worker may report. ``confirm_open`` is the "还开着" button; the rest are "有问题".
KINDS: dict[str, dict[str, str]] = {
    "confirm_open": {"zh": "还开着", "en": "It's open"},
    "closed": {"zh": "关门了", "en": "Closed"},
    "moved": {"zh": "搬走了", "en": "Moved"},
    "no_entry": {"zh": "进不去", "en": "Cannot get in"},
    "missing_facility": {"zh": "缺少设施", "en": "A facility is missing"},
    "other": {"zh": "其他问题", "en": "Something else"},
}
#: A report's life: new reports are ``open``; staff accept, reject, or merge it into another.
STATUSES = ("open", "accepted", "rejected", "merged")
#: What staff may decide about an open report.
DECISIONS = ("accept", "reject", "merge")
NOTE_MAX = 300
CONTACT_MAX = 100


@dataclass(frozen=True)
class Thresholds:
    """The configurable numbers behind a station's summary and its place in a list.

    ``closed_hours``: the window in which closure reports count ("近 24 小时"); ``closed_min``:
    unresolved closure reports from distinct clients in that window that make the card say so
    and move the station down among equally near ones (one report could be a prank: the
    default needs two); ``confirm_days``: how far back "N 人确认开放" counts; ``tie_m``: the
    distance within which a flagged station goes after unflagged ones (see
    :func:`rank_flagged_last`).
    """

    closed_hours: float = 24.0
    closed_min: int = 2
    confirm_days: int = 30
    tie_m: float = 100.0


@dataclass(frozen=True)
class NewReport:
    """A report as a client sent it, checked."""

    kind: str
    amenity: str = ""
    note: str = ""
    contact: str = ""


def check_report(body: Mapping[str, Any]) -> NewReport:
    """The report ``body`` asks for, or a :class:`~stationmap.errors.DataFileError` naming every
    bad field at once (``kind``, ``amenity``, ``note``, ``contact``).

    >>> check_report({"kind": "missing_facility", "amenity": "toilet", "note": " 厕所锁了 "})
    NewReport(kind='missing_facility', amenity='toilet', note='厕所锁了', contact='')
    >>> check_report({"kind": "gone", "note": "x" * 301})
    Traceback (most recent call last):
    ...
    stationmap.errors.DataFileError: report: 2 problems
      - field 'kind': unknown kind 'gone'; use one of confirm_open, closed, moved, no_entry, missing_facility, other
      - field 'note': is 301 characters long; at most 300
    """
    problems: list[InputError] = []
    kind = body.get("kind")
    if kind not in KINDS:
        problems.append(InputError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}", field="kind"))
    amenity = _text(body, "amenity", 64, problems)
    if amenity and amenity not in vocab.AMENITIES:
        problems.append(InputError(f"unknown amenity {amenity!r} (codes: /api/v1/meta)", field="amenity"))
    if amenity and kind != "missing_facility":
        problems.append(InputError("only a missing_facility report names an amenity", field="amenity"))
    note = _text(body, "note", NOTE_MAX, problems, multiline=True)
    contact = _text(body, "contact", CONTACT_MAX, problems)
    if problems:
        raise DataFileError("report", problems)
    return NewReport(str(kind), amenity, note, contact)


def _text(body: Mapping[str, Any], name: str, longest: int, problems: list[InputError], *,
          multiline: bool = False) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(InputError("must be text", field=name))
        return ""
    value = value.strip()
    if len(value) > longest:
        problems.append(InputError(f"is {len(value)} characters long; at most {longest}", field=name))
    elif (why := text_problem(value, multiline=multiline)) is not None:
        problems.append(InputError(why, field=name))
    return value


def service_day(when: datetime) -> str:
    """The day a vote counts for: the date in China Standard Time (riders' day, not UTC's).

    >>> from datetime import UTC
    >>> service_day(datetime(2026, 11, 25, 17, 0, tzinfo=UTC))
    '2026-11-26'
    """
    return when.astimezone(TIMEZONE).date().isoformat()


def client_key(day_key: bytes, address: str, agent: str = "") -> str:
    """The client as stored: HMAC-SHA256 of its address and browser under the day's key.

    The same client on the same day gets the same key; under another day's key it is another,
    unrelated value, and without the key (deleted after a day) it cannot be recomputed from a
    guessed address. The browser is mixed in so that riders sharing one address (a station's
    own Wi-Fi, a carrier's NAT) are not all one voter; the rate limit still counts by address.

    >>> a = client_key(b"k1" * 16, "203.0.113.7", "Mozilla")
    >>> a == client_key(b"k1" * 16, "203.0.113.7", "Mozilla"), a == client_key(b"k2" * 16, "203.0.113.7", "Mozilla")
    (True, False)
    >>> "203.0.113.7" in a, len(a)
    (False, 64)
    """
    return hmac.new(day_key, f"{address}\n{agent}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Tally:
    """What the summary needs of one station's recent reports (the store counts them)."""

    closed: int = 0                      # unresolved closure reports in the closure window
    confirmed: int = 0                   # confirm_open reports (not rejected) in the confirm window
    last_confirmed: datetime | None = None


@dataclass(frozen=True)
class Summary:
    """A station's report summary, as JSON and as one line of text per language."""

    closed_reports: int
    closure_flagged: bool
    confirmations: int
    last_verified: str | None            # ISO date: the newer of the register's and the last confirmation
    text: dict[str, str] = field(default_factory=dict)

    def as_json(self, lang: str) -> dict[str, Any]:
        """The summary as API answers carry it (``text`` in ``lang``)."""
        return {"closed_reports": self.closed_reports, "closure_flagged": self.closure_flagged,
                "confirmations": self.confirmations, "last_verified": self.last_verified,
                "text": self.text.get(lang, "")}


def summarise(tally: Tally, register_verified: str | None, now: datetime, rules: Thresholds) -> Summary:
    """The summary a station carries: recent closure reports (when at or above the threshold),
    else when it was last verified and by how many workers.

    >>> now = datetime(2026, 11, 25, 12, 0, tzinfo=TIMEZONE)
    >>> s = summarise(Tally(confirmed=2, last_confirmed=now - timedelta(days=3)), "2026-10-01", now, Thresholds())
    >>> s.text["zh"], s.text["en"]
    ('最近核实：3 天前 · 2 人确认开放', 'Last verified 3 days ago · 2 workers confirmed it open')
    >>> summarise(Tally(closed=3), "2026-11-25", now, Thresholds()).text["zh"]
    '近 24 小时 3 人报告关闭'
    >>> summarise(Tally(closed=1), None, now, Thresholds()).text["zh"]
    ''
    """
    verified = register_verified or None
    if tally.last_confirmed is not None:
        confirmed_day = tally.last_confirmed.astimezone(TIMEZONE).date().isoformat()
        verified = max(verified or "", confirmed_day)
    flagged = tally.closed >= rules.closed_min
    text = {"zh": "", "en": ""}
    if flagged:
        hours = f"{rules.closed_hours:g}"
        text = {"zh": f"近 {hours} 小时 {tally.closed} 人报告关闭",
                "en": f"{tally.closed} workers reported it closed in the last {hours} hours"}
    elif verified:
        ago = _days_ago(verified, now)
        text = {"zh": f"最近核实：{ago['zh']}", "en": f"Last verified {ago['en']}"}
        if tally.confirmed:
            text["zh"] += f" · {tally.confirmed} 人确认开放"
            text["en"] += (f" · {tally.confirmed} worker{'s' if tally.confirmed != 1 else ''} "
                           "confirmed it open")
    return Summary(tally.closed, flagged, tally.confirmed, verified, text)


def _days_ago(day: str, now: datetime) -> dict[str, str]:
    try:
        days = (now.astimezone(TIMEZONE).date() - date.fromisoformat(day[:10])).days
    except ValueError:
        return {"zh": day, "en": day}
    if days <= 0:
        return {"zh": "今天", "en": "today"}
    if days == 1:
        return {"zh": "昨天", "en": "yesterday"}
    return {"zh": f"{days} 天前", "en": f"{days} days ago"}


def windows(now: datetime, rules: Thresholds) -> tuple[datetime, datetime]:
    """The earliest times closure reports and confirmations count from."""
    return now - timedelta(hours=rules.closed_hours), now - timedelta(days=rules.confirm_days)


def rank_flagged_last(distances: Sequence[float], flagged: Iterable[bool], tie_m: float) -> list[int]:
    """The order to list nearest results in, as indices into ``distances`` (nearest first).

    The *set* of results is the nearest one, always (checked against brute force); only the
    order within it changes: a station with unresolved closure reports is ranked after every
    unflagged station at most ``tie_m`` metres farther than it, as if it were ``tie_m`` farther
    (a stable sort by distance, plus ``tie_m`` when flagged). Unflagged stations keep their
    order, flagged ones theirs; nothing is hidden. ``tie_m = 0`` moves it only past exact ties.

    >>> rank_flagged_last([100, 150, 400], [True, False, False], 100)
    [1, 0, 2]
    >>> rank_flagged_last([100, 100], [True, False], 0)
    [1, 0]
    >>> rank_flagged_last([100, 300], [True, False], 100)
    [0, 1]
    """
    keys = [(d + tie_m, True) if f else (d, False) for d, f in zip(distances, flagged, strict=True)]
    return sorted(range(len(keys)), key=lambda i: (*keys[i], i))
