"""A station's own page (``/s/<id>``) and the printable posters (station and district).

The page is what a shared link opens (WeChat shows its title, description and picture in the
chat: the ``og:*`` tags), so it is rendered on the server and needs no script. Absolute links
(``og:url``, ``og:image``, the posters' QR codes) come from the ``PUBLIC_BASE_URL`` setting when
it is set, never from the request's Host header, which a client chooses; without it, from the
request's host, which ``TRUSTED_HOSTS`` has vetted (:func:`~stationmap.web.hosts.external_url`).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from datetime import datetime

from flask import Blueprint, Flask, Response, current_app, g, render_template, request

from .. import __version__, hours, vocab
from ..poster import FORMATS, DistrictEntry, district_poster, station_poster
from ..station_info import StationInfo, station_info, week_hours
from ..station_reports import KINDS
from ..texts import REPORTS, STATION, WORKER
from . import reports
from ._common import content_language, current_dataset, page_language, served_adcode
from .hosts import external_url

bp = Blueprint("station", __name__)

#: Posters are cached by browsers and proxies for an hour, and the last few kept in memory:
#: drawing one takes a second or more, and a union prints a district's worth at once.
POSTER_MAX_AGE = 3600
_KEPT = 32
_posters: OrderedDict[str, bytes] = OrderedDict()
_lock = threading.Lock()


def _lang_values(lang: str) -> dict[str, str]:
    """``lang`` in links only when it is not the default, so the Chinese link stays short."""
    return {} if lang == current_app.config["DEFAULT_LANG"] else {"lang": lang}


def _info(station_id: str, lang: str, when: datetime) -> StationInfo | None:
    index = current_dataset().index
    position = index.position(station_id)
    return None if position is None else station_info(index, position, when=when, lang=lang)


def _html(html: str, lang: str, status: int = 200) -> Response:
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Content-Language"] = content_language(lang)
    response.headers["Vary"] = "Accept-Encoding"
    return response


@bp.get("/s/<station_id>")
def station_page(station_id: str) -> Response:
    """The station's page: name, badge, hours for the week, facilities, navigation, previews."""
    lang = page_language()
    data = current_dataset()
    info = _info(station_id, lang, hours.parse_when("now"))
    text = STATION[lang]
    common = {"lang": lang, "text": text, "other_lang": "en" if lang == "zh" else "zh", "version": data.version,
              "station_id": station_id}
    if info is None:
        return _html(render_template("station.html", info=None, **common), lang, status=404)
    summary = reports.annotate([{"id": station_id, "last_verified": info.record.get("last_verified")}],
                               lang)[0]["reports"]
    settings = {"lang": lang, "station_id": station_id, "report_text": REPORTS[lang],
                "report_kinds": [[code, words[lang]] for code, words in KINDS.items()],
                "amenities": {code: vocab.label(vocab.AMENITIES, code, lang) for code in vocab.AMENITIES}}
    state = info.record.get("hours_state", "unknown")
    now_text = WORKER[lang]["open" if state == "open" else "closed" if state == "closed" else "unknown"]
    html = render_template(
        "station.html", info=info, description=info.description(), now_text=now_text, settings=settings,
        report_summary=reports_line(summary, REPORTS[lang]),
        page_url=external_url("station.station_page", station_id=station_id, **_lang_values(lang)),
        image_url=external_url("station.poster_png", station_id=station_id, **_lang_values(lang)), **common)
    return _html(html, lang)


def reports_line(summary: dict, words: dict[str, str]) -> str:
    """The report summary as the page shows it (as ``static/reports.js`` writes it)."""
    return f"{summary['text']} · {words['ranked']}" if summary["closure_flagged"] else summary["text"]


def _cached(key: tuple, draw) -> Response:
    """A poster with an ETag (dataset version, code version, parameters, the day) and the
    last few kept in memory.
    """
    etag = hashlib.sha256(repr((__version__, *key)).encode()).hexdigest()[:24]
    fmt = key[-1]
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        with _lock:
            body = _posters.get(etag)
        if body is None:
            body = draw()
            g.stationmap_drawn = True          # counted by the picture rate limit (ratelimits.py)
            with _lock:
                _posters[etag] = body
                while len(_posters) > _KEPT:
                    _posters.popitem(last=False)
        response = Response(body, mimetype=FORMATS[fmt])
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = POSTER_MAX_AGE
    return response


def _station_poster(station_id: str, fmt: str) -> Response:
    lang = page_language()
    when = hours.parse_when("now")
    info = _info(station_id, lang, when)
    if info is None:
        return _html(render_template("station.html", info=None, lang=lang, text=STATION[lang],
                                     other_lang="en" if lang == "zh" else "zh",
                                     version=current_dataset().version, station_id=station_id), lang, status=404)
    url = external_url("station.station_page", station_id=station_id, **_lang_values(lang))
    key = (current_dataset().version, "station", station_id, lang, url, when.date().isoformat(), fmt)
    response = _cached(key, lambda: station_poster(info, url, fmt=fmt))
    if fmt == "pdf":
        response.headers["Content-Disposition"] = f'inline; filename="poster-{_safe_name(station_id)}.pdf"'
    return response


def _safe_name(value: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in value)[:60] or "station"


@bp.get("/s/<station_id>/poster.png")
def poster_png(station_id: str) -> Response:
    """The station's A4 poster as a PNG (1240 px wide): also the link-preview picture."""
    return _station_poster(station_id, "png")


@bp.get("/s/<station_id>/poster.pdf")
def poster_pdf(station_id: str) -> Response:
    """The station's A4 poster as a PDF, for its door."""
    return _station_poster(station_id, "pdf")


def week_summary(expression: str | None, status: str, when: datetime, lang: str) -> str:
    """A station's hours in one short line for a list: the same every day, weekdays and
    weekend, or today's with "etc.".

    >>> week_summary("Mo-Fr 09:30-17:00", "open", hours.parse_when("2026-11-23T12:00"), "zh")
    '工作日 09:30–17:00；周末 不开放'
    """
    week = week_hours(expression, status, when, lang)
    by_day = {datetime.fromisoformat(d.date).weekday(): d.text for d in week}
    texts = set(by_day.values())
    if len(texts) == 1:
        return next(iter(texts))
    workdays = {by_day[i] for i in range(5)}
    weekend = {by_day[i] for i in (5, 6)}
    if len(workdays) == 1 and len(weekend) == 1:
        if lang == "zh":
            return f"工作日 {workdays.pop()}；周末 {weekend.pop()}"
        return f"Mon–Fri {workdays.pop()}; Sat–Sun {weekend.pop()}"
    return week[0].text + (" 等" if lang == "zh" else " etc.")


def _district_poster(adcode: str, fmt: str) -> Response:
    from ..districts import load_districts

    lang = page_language()
    chosen = served_adcode(adcode)
    data = current_dataset()
    index = data.index
    frame = load_districts(chosen)
    names = [n if lang == "zh" or not isinstance(e, str) or not e else e
             for n, e in zip(frame["name"], frame["name_en"], strict=True)]
    district = names[0] if len(frame) == 1 else ("、".join(names[:3]) if lang == "zh" else ", ".join(names[:3]))
    when = hours.parse_when("now")
    columns = index.columns
    wanted = set(frame["adcode"]) | {chosen}
    positions = [p for p, a in enumerate(columns["adcode"]) if a in wanted]
    positions.sort(key=lambda p: columns["name"][p])
    badges = {"union_members": "会员专用" if lang == "zh" else "members only",
              "employees": "本单位职工专用" if lang == "zh" else "staff only"}
    url = external_url("worker.worker_page", district=chosen, **_lang_values(lang))
    key = (data.version, "district", chosen, lang, url, when.date().isoformat(), fmt)

    def draw() -> bytes:
        entries = [DistrictEntry(name=columns["name"][p], address=columns["address"][p] or "",
                                 hours=week_summary(columns["opening_hours"][p], columns["status"][p], when, lang),
                                 badge=badges.get(columns["access"][p]))
                   for p in positions if columns["status"][p] != "closed"]
        return district_poster(district, entries, url, lang=lang, fmt=fmt, caption=data.caption(lang))

    response = _cached(key, draw)
    if fmt == "pdf":
        response.headers["Content-Disposition"] = f'inline; filename="stations-{chosen}.pdf"'
    return response


@bp.get("/d/<adcode>/poster.pdf")
def district_poster_pdf(adcode: str) -> Response:
    """A district's stations on one A4 sheet with a QR code to the worker page there."""
    return _district_poster(adcode, "pdf")


@bp.get("/d/<adcode>/poster.png")
def district_poster_png(adcode: str) -> Response:
    """The district poster as a PNG."""
    return _district_poster(adcode, "png")


def init_app(app: Flask) -> None:
    """Register the station pages and posters."""
    app.register_blueprint(bp)


