"""The worker page: "which station near me is open now, has what I need, and how do I get there".

Chinese first (``?lang=en`` for English). Everything the page loads comes from ``static/``;
only map tiles come from outside, and ``TILES = "none"`` needs nothing outside at all.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, render_template, send_from_directory

from .. import coords, vocab
from .._paths import shipped
from ..districts import outlines
from ..texts import WORKER
from ._common import content_language, current_dataset, page_language, tile_settings

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
    }
    html = render_template("worker.html", lang=lang, text=WORKER[lang], settings=settings,
                           other_lang="en" if lang == "zh" else "zh", version=data.version)
    response = Response(html, mimetype="text/html")
    response.headers["Content-Language"] = content_language(lang)
    response.headers["Vary"] = "Accept-Encoding"
    return response


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for it on every page (the API docs page declares none)."""
    return send_from_directory(shipped("static"), "favicon.svg", mimetype="image/svg+xml")


def init_app(app: Flask) -> None:
    """Register the worker page on ``app``."""
    app.register_blueprint(bp)
