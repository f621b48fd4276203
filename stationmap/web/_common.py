r"""The web layer's toolkit: what every blueprint module shares, in one place.

Each view module (api, pictures, planner, ogc, worker, embed) imports from here and from
:mod:`~stationmap.web.problems` and :mod:`~stationmap.web.schemas` only, never from another
view module's privates: that keeps the layer free of import cycles (``tests/test_web_layout.py``
checks it) and gives the coming admin pages one set of tools to build on.

What lives here
---------------
- :class:`ApiBlueprint`: a flask-smorest blueprint whose invalid parameters are a 400.
- :func:`openapi`: the app's one flask-smorest ``Api`` (one OpenAPI document), problem+json errors.
- :func:`json_response`: compact UTF-8 JSON (Chinese stays readable, no ``\uXXXX``).
- :func:`language`, :func:`page_language`: the answer's language, with the configured fallback.
- :func:`served_adcode`: the one rule "an adcode must be the served area or one of its districts".
- :func:`current_dataset`: the register this request answers from (pinned for the whole request).
- :func:`tile_settings`: the configured base map and the coordinate system overlays must use.
"""

from __future__ import annotations

import http
from typing import Any

import orjson
from flask import Flask, Response, current_app, g, request
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from webargs.flaskparser import FlaskParser

from .. import vocab
from ..dataset import Dataset, LiveDataset
from ..districts import area_codes
from ..errors import InputError
from ..maps import tiles
from . import problems
from .schemas import ProblemSchema

#: Key of the app's :class:`~stationmap.dataset.LiveDataset` in ``app.extensions``.
EXTENSION = "stationmap"
_API = "stationmap.api"
_PINNED = "stationmap_dataset"


class _Parser(FlaskParser):
    """Invalid parameters are a client's bad request (400), not webargs' 422."""

    DEFAULT_VALIDATION_STATUS = 400


class ApiBlueprint(Blueprint):
    """A flask-smorest blueprint (documented in the OpenAPI file) whose bad parameters are a 400."""

    ARGUMENTS_PARSER = _Parser()


class _Api(Api):
    """flask-smorest, with errors documented (and sent) as problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        pass            # create_app registers problems.from_http_exception for every blueprint

    def _register_responses(self):
        for status in [*http.HTTPStatus, "DEFAULT_ERROR"]:
            name = status.name if isinstance(status, http.HTTPStatus) else status
            phrase = status.phrase if isinstance(status, http.HTTPStatus) else "Error"
            response: dict[str, Any] = {"description": phrase}
            if name == "DEFAULT_ERROR" or not (100 <= status < 200 or status in (204, 304)):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, problems.MIMETYPE)
            self.spec.components.response(name, response, lazy=True)


def openapi(app: Flask) -> Api:
    """The app's flask-smorest ``Api``, made on first use: register every :class:`ApiBlueprint` on it."""
    if _API not in app.extensions:
        app.extensions[_API] = _Api(app, spec_kwargs={"info": {
            "description": "stationmap API v1. Errors are application/problem+json "
                           "(RFC 9457) with one reason per invalid parameter."}})
    return app.extensions[_API]


def json_response(body: Any, status: int = 200, mimetype: str = "application/json") -> Response:
    """``body`` as compact JSON, non-ASCII kept as is (riders pay for every byte). orjson: a
    nearest answer in 8 µs instead of stdlib json's 70-90 µs.
    """
    return Response(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS),
                    status=status, mimetype=mimetype)


def language(asked: str | None) -> str:
    """The language to answer in: the one asked for if we have it, else ``DEFAULT_LANG``."""
    if asked in vocab.LANGUAGES:
        return str(asked)
    default = current_app.config["DEFAULT_LANG"]
    return default if default in vocab.LANGUAGES else "zh"


def page_language() -> str:
    """A page's language, from ``?lang=`` (an unknown value falls back rather than fail a page)."""
    return language(request.args.get("lang"))


def content_language(lang: str) -> str:
    """The ``Content-Language`` (and ``<html lang>``) of a page in ``lang``."""
    return "zh-CN" if lang == "zh" else "en"


def served_adcode(adcode: str | None) -> str:
    """``adcode`` (default: the served area) if this service answers for it, else an
    :class:`~stationmap.errors.InputError` naming ``adcode``.

    The work a request may ask for (coverage, pictures, embedded maps) stays within the area
    the operator configured (``DISTRICTS_ADCODE``).
    """
    area = str(current_app.config["DISTRICTS_ADCODE"])
    chosen = adcode or area
    if chosen not in area_codes(area):
        raise InputError(f"{chosen} is neither this service's area ({area}) nor one of its districts "
                         "(their codes: /api/v1/districts)", field="adcode")
    return chosen


def current_dataset() -> Dataset:
    """The register this request answers from.

    Taken from the app's :class:`~stationmap.dataset.LiveDataset` on the first call in a
    request and pinned there (``flask.g``): a register swapped mid-request is seen by the next
    request, never by half of this one.
    """
    if _PINNED not in g:
        live: LiveDataset = current_app.extensions[EXTENSION]
        setattr(g, _PINNED, live.current)
    return getattr(g, _PINNED)


def tile_settings(name: str | None = None) -> dict:
    """The base map ``name`` (default: the configured ``TILES``), with the coordinate system
    every overlay must use.
    """
    return tiles.provider(name or current_app.config["TILES"], current_app.config["TIANDITU_KEY"])
