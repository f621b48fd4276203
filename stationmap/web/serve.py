"""Run the app under gunicorn (production) or Flask's own server (``--dev``).

gunicorn's ``preload_app`` builds the app, and with it the station index, once in the master
process; the workers fork afterwards and share that memory copy-on-write.

**Serving model: gunicorn's threaded worker (``gthread``), 256 threads per process.** Measured
on loopback (``bench/slow_clients.py``, figures in docs/benchmarks.md): with the former ``sync``
workers two sockets trickling their headers stopped the whole service, and 200 + 200 slow clients
left every nearest probe timing out. A slow client holds one thread, asleep in ``recv`` (no CPU,
a few KB), so 2 × 256 threads keep answering nearest while 400 slow clients hang on (probes
answered in milliseconds). ``worker_connections`` caps each process's open connections a little
above its threads, so a process whose threads are all held stops accepting, and a new rider's
connection is taken by a process that has a free thread instead of waiting in a full queue.

Why not gevent: it needs monkey-patching after the app (and numpy, scipy, the process pool of
heavy work, psycopg's waits) is already imported by ``preload_app``, which gevent warns against
and which breaks ``concurrent.futures`` process pools in known ways; every slow client is a
thread here, which costs little at this scale. Beyond a few hundred hostile sockets no worker
class is the answer: run nginx in front (deploy/nginx.conf, docs/deploy.md), which buffers whole
requests with header and body time-outs before a thread sees them.

Workers are recycled after ``MAX_REQUESTS`` requests (± ``MAX_REQUESTS_JITTER`` so that they do
not all restart at once), which returns any memory a worker accumulated; ``preload_app`` makes
a fresh worker a fork of the master, ready in milliseconds, with the index already built.
"""

from __future__ import annotations

import atexit
import os
import queue
import signal
import sys
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication

if TYPE_CHECKING:
    from flask import Flask


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
    """Each worker catches up with the store before it serves (a worker forked late, e.g. after
    ``max_requests``, must not answer from the master's older register), then watches it in a
    thread of its own: threads do not survive the fork.

    A stop asked for while it does so is kept (:func:`_stop_while_booting`).
    """
    from .. import live

    _stop_while_booting(server, worker)
    _start_access_writer()
    live.start(catch_up=True)


#: The signals by which gunicorn's master tells its workers to stop: gracefully (SIGTERM), or at
#: once (SIGQUIT, and SIGINT, which gunicorn's worker takes as SIGQUIT).
_STOPS = (signal.SIGTERM, signal.SIGQUIT, signal.SIGINT)


def _stop_while_booting(server, worker) -> None:
    """Keep a stop that reaches a worker before gunicorn has set up the worker's own signals.

    Why: a worker installs its handlers in ``init_process``, after ``post_fork``; until then it
    runs the master's, which only queue a signal for the master's loop, a loop the worker never
    runs. So a server stopped while a worker was still catching up with the store (a second or
    more on a busy machine, with the register reloaded from PostgreSQL) lost its SIGTERM: the
    worker booted and served on, and the master waited its whole ``graceful_timeout`` (30 s)
    before killing it. CI's failure on 2026-11-26 (tests/test_serve_stop.py reproduces it).

    Here a stop arriving from now on, or queued on the worker's copy of the master's queue
    between the fork and now, is kept as gunicorn's own handlers would keep it: SIGTERM marks
    the worker as no longer alive, so that it finishes booting and leaves before it accepts a
    connection; SIGQUIT and SIGINT end it at once (the master gives a quick stop 2 s).
    """
    def stop(signum: int, frame: object) -> None:
        worker.alive = False
        if signum != signal.SIGTERM:
            sys.exit(0)

    for signum in _STOPS:
        signal.signal(signum, stop)
    for pending in _taken(getattr(server, "SIG_QUEUE", None)):
        if pending in _STOPS:
            stop(pending, None)


def _taken(pending: Any) -> list[int]:
    """Empty gunicorn's queue of signals (a list up to gunicorn 23, a ``SimpleQueue`` from 24) and
    return what it held.
    """
    if pending is None:
        return []
    if isinstance(pending, list):
        held = list(pending)
        pending.clear()
        return held
    held = []
    while True:
        try:
            held.append(pending.get_nowait())
        except queue.Empty:
            return held


#: Threads per worker process: one per connection being read or answered (see the module's text).
THREADS = 256
#: Connections one process holds open: its threads plus a few kept alive between requests.
WORKER_CONNECTIONS = THREADS + 64
#: Requests after which a worker is replaced by a fresh fork of the master.
MAX_REQUESTS = 5000
MAX_REQUESTS_JITTER = 500


def options(*, host: str, port: int, workers: int) -> dict[str, Any]:
    """Gunicorn's settings for ``stationmap serve``.

    ``secure_scheme_headers`` is empty: whether ``X-Forwarded-Proto`` is believed is the app's
    ``PROXY_COUNT`` setting (werkzeug's ProxyFix), the same under ``--dev`` and gunicorn.
    ``limit_request_line`` is gunicorn's maximum, above the app's ``MAX_QUERY_STRING_LENGTH``,
    so that a long query gets the app's problem+json naming the limit.
    """
    return {"bind": f"{host}:{port}", "workers": workers, "preload_app": True,
            "worker_class": "gthread", "threads": THREADS, "worker_connections": WORKER_CONNECTIONS,
            "max_requests": MAX_REQUESTS, "max_requests_jitter": MAX_REQUESTS_JITTER,
            "accesslog": None, "errorlog": "-", "loglevel": "warning",
            "keepalive": 5, "timeout": 60, "graceful_timeout": 30,
            "limit_request_line": 8190, "secure_scheme_headers": {}, "post_fork": _post_fork}


def run_wsgi(app, *, host: str, port: int, workers: int, **settings: Any) -> None:
    """Serve any WSGI app under gunicorn with stationmap's production settings (``settings``
    overrides them: the HTTP benchmark tries other worker classes this way).
    """
    _Gunicorn(app, {**options(host=host, port=port, workers=workers), **settings}).run()


def _child_exit(server, worker) -> None:
    """A worker's live gauges (pool queue depth) leave with it."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _access_log(target: str) -> None:
    """JSON lines (built by :mod:`stationmap.web.ops`) to stderr (``-``), a file, or nowhere (``off``).

    A request only hands its line over; one thread per process writes them, a batch every
    fraction of a second (:class:`~stationmap.web.log_writer.BatchedLines`, which says why:
    written by the request threads, then by a thread woken for every line, the log took 30 % and
    then an eighth of a worker's CPU under nearest's load; docs/benchmarks.md, issue 15). The
    writer is stopped, and everything held written, when the process exits.
    """
    import logging

    from .log_writer import DIRECT, BatchedLines

    log = logging.getLogger("stationmap.access")
    log.propagate = False
    # Should this run twice: the earlier writer taken off the logger (left on, it would hold
    # lines for ever), its lines written out and its file closed; one writer remains.
    for earlier in [h for h in log.handlers if isinstance(h, BatchedLines)]:
        log.removeHandler(earlier)
        earlier.close()
    _ACCESS_WRITER.clear()
    DIRECT.clear()
    if target == "off":
        log.setLevel(logging.WARNING)
        return
    stream = sys.stderr if target == "-" else open(target, "a", encoding="utf-8")  # noqa: SIM115 - the writer closes it
    lines = BatchedLines(stream)
    log.addHandler(lines)               # for any other line logged on it
    log.setLevel(logging.INFO)
    DIRECT.append(lines)                # the requests' own lines, without a logging record
    _ACCESS_WRITER["lines"] = lines
    _start_access_writer()
    atexit.register(_stop_access_writer)


#: The access log's handler (which holds the lines and this process's writer thread).
_ACCESS_WRITER: dict[str, Any] = {}


def _start_access_writer() -> None:
    """Start this process's access-log writer (again after a fork: threads do not survive it)."""
    if "lines" in _ACCESS_WRITER:
        _ACCESS_WRITER["lines"].start()


def _stop_access_writer() -> None:
    """Write out what is held, then end the writer (at exit)."""
    if "lines" in _ACCESS_WRITER:
        _ACCESS_WRITER["lines"].stop()


def _warm(app: Flask) -> None:
    """Build in gunicorn's master what every worker's first answer would otherwise build, then
    leave the master's objects out of the workers' garbage collections.

    A worker is a fork of the master, again after every ``MAX_REQUESTS``: the index's plain
    column lists (0.4 s of CPU at 186,100 stations) built once here are shared by every worker
    and every replacement, instead of being built anew by each. :func:`gc.freeze` keeps the
    collector of each worker from walking, and so copying, the millions of objects the register
    holds (the Instagram engineers' advice for ``preload_app``).
    """
    import gc

    from ._common import EXTENSION

    app.extensions[EXTENSION].current.index.columns  # noqa: B018 - built here for its memo
    gc.collect()
    gc.freeze()


def _require_secret_key(app) -> None:
    """Production keeps the admin pages off without a configured secret key (see
    :mod:`stationmap.web.signin`); the public pages and API serve as before. Said once, at start.
    """
    from .signin import require_secret_key

    warning = require_secret_key(app)
    if warning:
        print(f"stationmap serve: {warning}", file=sys.stderr)


def serve(*, host: str = "127.0.0.1", port: int = 8000, workers: int | None = None,
          stations: str | None = None, database: str | None = None, dev: bool = False,
          access_log: str = "-") -> None:
    """Serve the stations at ``host:port`` until interrupted.

    Metrics from every gunicorn worker meet in a fresh temporary directory (prometheus-client's
    multiprocess mode), set before the app, and with it prometheus-client, is imported; the
    directory goes when the server stops.
    """
    import shutil
    import tempfile

    _access_log(access_log)
    metrics_dir, owner = None, os.getpid()
    if not dev and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        metrics_dir = tempfile.mkdtemp(prefix="stationmap-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        from . import create_app, hosts

        overrides: dict[str, Any] = {"STATIONS_PATH": stations} if stations else {}
        if database:
            overrides["DATABASE_URL"] = database
        app = create_app(overrides)
        hosts.trust_address(app, host)
        if not dev:
            _require_secret_key(app)
        if dev:
            app.run(host=host, port=port, debug=True, use_reloader=False)
            return
        from .heavy import start_pool

        _warm(app)
        start_pool(app)                   # before gunicorn forks: one pool for the whole server
        run_wsgi(app, host=host, port=port, workers=workers or (os.cpu_count() or 1), child_exit=_child_exit)
    finally:
        # Only the master removes it: a gunicorn worker leaves through this ``finally`` too (its
        # SystemExit unwinds the forked stack), and must not take every other worker's metrics
        # files with it (each later request would fail on a missing file: a 500).
        if metrics_dir and os.getpid() == owner:
            shutil.rmtree(metrics_dir, ignore_errors=True)
