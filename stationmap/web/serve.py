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


def _post_fork(server, worker) -> None:
    """Each worker watches the store for itself: threads do not survive the fork."""
    from .. import live

    live.start()


def run_wsgi(app, *, host: str, port: int, workers: int) -> None:
    """Serve any WSGI app under gunicorn with stationmap's production settings."""
    _Gunicorn(app, {"bind": f"{host}:{port}", "workers": workers, "preload_app": True,
                    "accesslog": None, "errorlog": "-", "loglevel": "warning",
                    "keepalive": 5, "timeout": 60, "post_fork": _post_fork}).run()


def serve(*, host: str = "127.0.0.1", port: int = 8000, workers: int | None = None,
          stations: str | None = None, database: str | None = None, dev: bool = False) -> None:
    """Serve the stations at ``host:port`` until interrupted."""
    from . import create_app

    overrides: dict[str, Any] = {"STATIONS_PATH": stations} if stations else {}
    if database:
        overrides["DATABASE_URL"] = database
    app = create_app(overrides)
    if dev:
        app.run(host=host, port=port, debug=True, use_reloader=False)
        return
    run_wsgi(app, host=host, port=port, workers=workers or (os.cpu_count() or 1))
