"""The web layer: it translates HTTP to calls on the core and back, nothing more.

``create_app`` builds the app and loads the stations once (under gunicorn with
``preload_app`` that happens before the workers fork, so they share the index).
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping

from flask import Flask
from flask_compress import Compress
from werkzeug.exceptions import HTTPException

from .._paths import shipped
from ..dataset import Dataset
from ..errors import DataFileError, InputError
from . import problems
from .config import Defaults

EXTENSION = "stationmap"


def _env_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the stationmap web app.

    Parameters
    ----------
    config
        Settings that override :class:`~stationmap.web.config.Defaults`, the instance file and
        the environment (see :mod:`stationmap.web.config`).

    Examples
    --------
    >>> app = create_app({"TESTING": True})
    >>> app.test_client().get("/healthz").json["status"]
    'ok'
    """
    instance = os.environ.get("STATIONMAP_INSTANCE_PATH")
    app = Flask("stationmap", static_folder=str(shipped("static")), template_folder=str(shipped("templates")),
                instance_path=instance, instance_relative_config=True)
    app.config.from_object(Defaults)
    app.config.from_pyfile("stationmap.cfg", silent=True)
    app.config.from_prefixed_env("STATIONMAP", loads=_env_value)
    if config:
        app.config.update(config)
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    app.extensions[EXTENSION] = Dataset.load(app.config["STATIONS_PATH"])

    Compress(app)
    app.register_error_handler(HTTPException, problems.from_http_exception)
    app.register_error_handler(InputError, problems.from_input_error)
    app.register_error_handler(DataFileError, problems.from_data_file_error)

    from . import api, ogc

    api.init_app(app)
    ogc.init_app(app)
    return app


def dataset() -> Dataset:
    """The current app's dataset."""
    from flask import current_app

    return current_app.extensions[EXTENSION]
