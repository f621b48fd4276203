"""The web layer: it translates HTTP to calls on the core and back, nothing more.

``create_app`` builds the app and loads the stations (under gunicorn with ``preload_app`` that
happens before the workers fork, so they share the index). Stations come from the store of record
(``DATABASE_URL``; default: ``register.gpkg`` in the instance folder, seeded from the shipped
sample on first start), kept live by a watcher in each process (:mod:`stationmap.live`), or, with
``STATIONS_PATH``, from a file read once (read-only mode).
"""

from __future__ import annotations

import inspect
import json
import os
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask_compress import Compress
from werkzeug.exceptions import HTTPException

from .._paths import shipped
from ..dataset import Dataset, LiveDataset
from ..errors import DataFileError, InputError
from . import (  # admin_form, admin_stations: their views join the admin blueprint
    admin,
    admin_audit,
    admin_form,
    admin_register,
    admin_reports,
    admin_stations,
    api,
    changes,
    embed,
    heavy,
    hosts,
    limits,
    ogc,
    ogc_transactions,
    pictures,
    planner,
    planner_jobs,
    problems,
    ratelimits,
    reports,
    scenarios,
    search,
    security,
    signin,
    station,
    worker,
    writes,
)
from ._common import EXTENSION, current_dataset
from .config import Defaults, check
from .editing import STORE

__all__ = ["EXTENSION", "create_app", "current_dataset"]


def _env_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


class _JSONProvider(DefaultJSONProvider):
    r"""Flask's JSON, keeping the order answers were built in and Chinese as Chinese (not \u escapes)."""

    sort_keys = False
    ensure_ascii = False


class _StaticCompressionCache(OrderedDict):
    """Flask-Compress's cache, holding compressed static files only, keyed by the file's path
    (never its query string: ``?v=`` cache busters, or a client inventing 5,000 of them, do not
    make new entries), least recently used dropped beyond :data:`STATIC_CACHE_FILES` entries or
    :data:`STATIC_CACHE_BYTES`.

    API answers change with the time of day (open now), so their key is empty and they are
    never stored.
    """

    def get(self, key: str, default: Any = None) -> Any:
        if key.endswith(";") or key not in self:
            return default
        self.move_to_end(key)
        return self[key]

    def set(self, key: str, value) -> None:
        if key.endswith(";"):
            return
        self[key] = value
        self.move_to_end(key)
        while len(self) > 1 and (len(self) > STATIC_CACHE_FILES
                                 or sum(len(v) for v in self.values() if isinstance(v, bytes)) > STATIC_CACHE_BYTES):
            self.popitem(last=False)


#: Bounds of the compressed-static cache, per worker (the shipped static files fit).
STATIC_CACHE_FILES = 256
STATIC_CACHE_BYTES = 32 * 2**20


def _static_cache_key(request) -> str:
    return request.path if request.endpoint == "static" else ""


def _buffer_static(response):
    """Static files stream from disk, and Flask-Compress does not gzip streams; read them into
    memory (they are small) so they are compressed once and served from its cache.
    """
    from flask import request

    if request.endpoint == "static" and response.status_code == 200 and response.is_streamed:
        response.direct_passthrough = False
        response.get_data()
    return response


class _Flask(Flask):
    """Flask, with whether each hook and view is a coroutine function worked out once.

    Flask asks :meth:`ensure_sync` of every hook and view on every request (13 times for a
    nearest answer), and each time :func:`inspect.iscoroutinefunction` looks at the function's
    code flags: 3 % of a nearest answer's CPU, for an answer that never changes.

    The answers are kept on the app, and live no longer than it: a module-level cache would hold
    the hooks of every app a process builds (closures over the app, bound methods of objects
    holding it). A callable that cannot be a dictionary key (an instance of a class with
    ``__eq__`` but no ``__hash__``) is asked each time, as Flask does: a ``TypeError`` from the
    memo would turn every request into a 500.
    """

    #: Callables remembered at most: a view class built anew per request (Flask's ``View``) gives
    #: a new bound method each time, which must not make the memo grow without end.
    ASYNC_MEMO_SIZE = 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._async_memo: dict[Callable[..., Any], bool] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            is_async = self._async_memo[func]
        except KeyError:
            is_async = inspect.iscoroutinefunction(func)
            if len(self._async_memo) < self.ASYNC_MEMO_SIZE:
                self._async_memo[func] = is_async
        except TypeError:
            is_async = inspect.iscoroutinefunction(func)
        return self.async_to_sync(func) if is_async else func


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
    app = _Flask("stationmap", static_folder=str(shipped("static")), template_folder=str(shipped("templates")),
                instance_path=instance, instance_relative_config=True)
    app.config.from_object(Defaults)
    app.config.from_pyfile("stationmap.cfg", silent=True)
    app.config.from_prefixed_env("STATIONMAP", loads=_env_value)
    if config:
        app.config.update(config)
    check(app.config)                      # a bad setting stops the app here, naming the setting
    app.json = _JSONProvider(app)

    app.extensions[EXTENSION] = _live_dataset(app)

    from . import ops

    ops.init_app(app)      # first: its after_request runs last and sees the final response

    app.config.setdefault("COMPRESS_CACHE_BACKEND", _StaticCompressionCache)
    app.config.setdefault("COMPRESS_CACHE_KEY", _static_cache_key)
    Compress(app)
    app.after_request(_buffer_static)      # registered after Compress, so it runs before it
    app.register_error_handler(HTTPException, problems.from_http_exception)
    app.register_error_handler(InputError, problems.from_input_error)
    app.register_error_handler(DataFileError, problems.from_data_file_error)

    hosts.init_app(app)
    limits.init_app(app)
    security.init_app(app)       # the one hook for headers: security, CORS, caching, framing
    heavy.init_app(app)
    for module in (api, writes, reports, changes, pictures, planner, planner_jobs, scenarios, ogc, ogc_transactions,
                   worker, embed, search, station, admin, admin_register, admin_audit, admin_reports):
        module.init_app(app)
    assert admin_form.bp is admin_stations.bp is admin.bp
    signin.init_app(app)          # after the blueprints: CSRF on all but the JSON ones, sessions
    limiter = ratelimits.init_app(app)      # after the routes: it wraps the heavy ones
    admin.init_limits(app, limiter)         # failed sign-ins, per account and per client
    return app


def _live_dataset(app: Flask) -> LiveDataset:
    """The file (read-only mode) or the store, with a watcher per process for the store."""
    if app.config["STATIONS_PATH"]:
        return LiveDataset(Dataset.load(app.config["STATIONS_PATH"]))
    from .. import live
    from ..store import Store
    from ..store.settings import ensure_default, resolve_url

    url = resolve_url(app.config["DATABASE_URL"], app.instance_path)
    if url == f"sqlite:///{os.path.join(os.path.realpath(app.instance_path), 'register.gpkg')}":
        ensure_default(app.instance_path)
    store = Store.open(url)
    app.extensions[STORE] = store           # the write API and the changes feed use it
    holder = LiveDataset(Dataset.from_store(store))
    live.register(store, holder, interval=float(app.config["WATCH_INTERVAL"]))
    app.before_request(live.start)          # started after gunicorn's fork (post_fork) or here
    return holder

