"""The worker page: "which station near me is open now, has what I need, and how do I get there".

Chinese first (``?lang=en`` for English). Everything the page loads comes from ``static/``;
only map tiles come from outside, and ``TILES = "none"`` needs nothing outside at all.
"""

from __future__ import annotations

import json

from flask import Blueprint, Flask, Response, current_app, render_template, send_from_directory, url_for

from .. import __version__, coords, vocab
from .._paths import shipped
from ..districts import outlines
from ..station_reports import KINDS
from ..texts import REPORTS, WORKER
from ._common import content_language, current_dataset, language, page_language, tile_settings

bp = Blueprint("worker", __name__)


@bp.get("/")
def worker_page() -> Response:
    """The worker page: nearest stations to where the worker is, on a map and in a list."""
    lang = page_language()
    layer = tile_settings()
    data = current_dataset()
    districts = [{"adcode": f["properties"]["adcode"],
                  "name": (f["properties"]["name"] if lang == "zh"
                           else f["properties"]["name_en"] or f["properties"]["name"]),
                  "point": f["properties"]["label_point"]}
                 for f in outlines(current_app.config["DISTRICTS_ADCODE"], layer["coordsys"])["features"]]
    centre = [float(v) for v in coords.from_wgs84(float(data.index.lon.mean()), float(data.index.lat.mean()),
                                                   layer["coordsys"])] if data.count else [121.47, 31.23]
    settings = {
        "lang": lang, "text": WORKER[lang], "tiles": layer, "districts": districts, "centre": centre,
        "types": {code: vocab.label(vocab.STATION_TYPES, code, lang) for code in vocab.STATION_TYPES},
        "amenities": {code: vocab.label(vocab.AMENITIES, code, lang) for code in vocab.AMENITIES},
        "dataset": {"version": data.version, "stations": data.count},
        "report_text": REPORTS[lang], "report_kinds": [[code, words[lang]] for code, words in KINDS.items()],
        "served_area": current_app.config["DISTRICTS_ADCODE"],
        "service_worker": url_for("worker.service_worker", v=_cache_name()),
        # Loaded by the page after the list it draws first (static/worker.js): the map is most
        # of the page's bytes and script time on a slow phone, and a rider waits for the list.
        "map_assets": {kind: [url_for("static", filename=name, v=data.version) for name in names]
                       for kind, names in MAP_ASSETS.items()},
    }
    html = render_template("worker.html", lang=lang, text=WORKER[lang], settings=settings,
                           other_lang="en" if lang == "zh" else "zh", version=data.version)
    response = Response(html, mimetype="text/html")
    response.headers["Content-Language"] = content_language(lang)
    response.headers["Vary"] = "Accept-Encoding"
    return response


#: The map's files, by static path, in the order they load (after the list: static/worker.js).
MAP_ASSETS = {"styles": ("vendor/leaflet/dist/leaflet.css", "vendor/leaflet.markercluster/dist/MarkerCluster.css",
                         "vendor/leaflet.markercluster/dist/MarkerCluster.Default.css"),
              "scripts": ("vendor/leaflet/dist/leaflet.js",
                          "vendor/leaflet.markercluster/dist/leaflet.markercluster.js", "worker_map.js")}

#: What the worker page needs to open with no network (besides the page itself), by static path.
OFFLINE_ASSETS = (*MAP_ASSETS["styles"], "base.css", "worker.css", "reports.css", *MAP_ASSETS["scripts"],
                  "common.js", "reports.js", "search_box.js", "worker.js", "favicon.svg", "icons/icon-192.png",
                  "icons/icon-512.png")


def page_language_default() -> str:
    """The language of ``/`` with no ``?lang=`` (the configured ``DEFAULT_LANG``)."""
    return language(None)


def _cache_name() -> str:
    """The offline copy's name: a new release or register makes a new copy (and drops the old)."""
    return f"stationmap-{__version__}-{current_dataset().version}"


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker (``static/sw.js``), served from the root so its scope is the whole
    site, with what to keep for offline use written in front of it.
    """
    version = current_dataset().version
    precache = [url_for("worker.worker_page", lang=lang) for lang in vocab.LANGUAGES]
    precache += [url_for("static", filename=name, v=version) for name in OFFLINE_ASSETS]
    precache += [url_for("worker.manifest"), url_for("api.districts", coordsys=tile_settings()["coordsys"])]
    preamble = "self.STATIONMAP = " + json.dumps({"cache": _cache_name(), "precache": precache,
                                                  "default_lang": page_language_default()}) + ";\n"
    with open(shipped("static") / "sw.js", encoding="utf-8") as source:
        response = Response(preamble + source.read(), mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"        # a new release is picked up on the next visit
    # A worker's own policy governs its fetches: nothing, like every non-page answer, except
    # fetching this site's files (without connect-src the offline copy could not be kept).
    response.headers["Content-Security-Policy"] = "default-src 'none'; connect-src 'self'"
    return response


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    """The installable web app's manifest: Chinese name (the page's first language), PNG icons."""
    text = WORKER["zh"]
    body = {"name": text["title"], "short_name": text["app_name"], "lang": "zh-CN", "start_url": "/",
            "scope": "/", "display": "standalone", "background_color": "#f6f7f9", "theme_color": "#b71c1c",
            "description": text["subtitle"],
            "icons": [{"src": url_for("static", filename=f"icons/icon-{size}.png"), "sizes": f"{size}x{size}",
                       "type": "image/png", "purpose": "any maskable"} for size in (192, 512)]}
    response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for it on every page (the API docs page declares none)."""
    return send_from_directory(shipped("static"), "favicon.svg", mimetype="image/svg+xml")


def init_app(app: Flask) -> None:
    """Register the worker page on ``app``."""
    app.register_blueprint(bp)
