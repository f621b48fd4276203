"""Run the app under gunicorn (production) or Flask's own server (``--dev``).

gunicorn's ``preload_app`` builds the app, and with it the station index, once in the master
process; the workers fork afterwards and share that memory copy-on-write.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, app, options: dict[str, Any]):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def run_wsgi(app, *, host: str, port: int, workers: int, **settings: Any) -> None:
    """Serve any WSGI app under gunicorn with stationmap's production settings (``settings``
    overrides them: the HTTP benchmark tries other worker classes this way)."""
    _Gunicorn(app, {"bind": f"{host}:{port}", "workers": workers, "preload_app": True,
                    "accesslog": None, "errorlog": "-", "loglevel": "warning",
                    "keepalive": 5, "timeout": 60, **settings}).run()


def _child_exit(server, worker) -> None:
    """A worker's live gauges (pool queue depth) leave with it."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _access_log(target: str) -> None:
    """JSON lines (built by :mod:`stationmap.web.ops`) to stderr (``-``), a file, or nowhere (``off``)."""
    import logging
    import sys

    log = logging.getLogger("stationmap.access")
    log.propagate = False
    if target == "off":
        log.setLevel(logging.WARNING)
        return
    handler = logging.StreamHandler(sys.stderr) if target == "-" else logging.FileHandler(target, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def serve(*, host: str = "127.0.0.1", port: int = 8000, workers: int | None = None,
          stations: str | None = None, dev: bool = False, access_log: str = "-") -> None:
    """Serve the stations at ``host:port`` until interrupted.

    Metrics from every gunicorn worker meet in a fresh temporary directory (prometheus-client's
    multiprocess mode), set before the app, and with it prometheus-client, is imported; the
    directory goes when the server stops.
    """
    import shutil
    import tempfile

    _access_log(access_log)
    metrics_dir = None
    if not dev and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        metrics_dir = tempfile.mkdtemp(prefix="stationmap-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        from . import create_app

        overrides = {"STATIONS_PATH": stations} if stations else {}
        app = create_app(overrides)
        if dev:
            app.run(host=host, port=port, debug=True, use_reloader=False)
            return
        run_wsgi(app, host=host, port=port, workers=workers or (os.cpu_count() or 1), child_exit=_child_exit)
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
