"""What an operator sees: Prometheus metrics, JSON access log lines, readiness checks.

* ``/metrics``: Prometheus text format (prometheus-client). Requests are counted and timed
  per *route template* (``/api/v1/stations/<station_id:station_id>``), never per raw URL, so
  the series stay few and no URL a rider sent ends up in the monitoring system. Under
  gunicorn's several workers, ``stationmap serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a
  fresh temporary directory before anything is imported, and every worker's figures are
  summed at scrape time (prometheus-client's multiprocess mode).
* Access log: one JSON object per request on the ``stationmap.access`` logger (time, method,
  route template, status, duration, bytes, worker pid). It never holds the query string,
  the path's values or the client's address: a rider's latitude and longitude, and the
  address they came from, are personal information under PIPL, and a log is kept and copied
  far more widely than the request itself.
* ``/healthz`` (alive, in :mod:`stationmap.web.api`) and ``/readyz``: ready when every
  named check passes. Other parts add theirs with :func:`add_ready_check` (the heavy-work
  pool, the database).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache

import orjson
from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from .. import __version__
from . import problems
from .log_writer import DIRECT

ACCESS_LOG = logging.getLogger("stationmap.access")
_READY = "stationmap.ready_checks"

#: Seconds; nearest answers in about a millisecond in process, pictures take seconds.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter("stationmap_http_requests", "HTTP requests answered, by route template and status",
                   ["method", "route", "status"])
LATENCY = Histogram("stationmap_http_request_duration_seconds",
                    "Time from routing to the response, by route template", ["method", "route"], buckets=_BUCKETS)
#: Jobs waiting in the heavy-work pool; the pool sets it (``POOL_QUEUE_DEPTH.set(n)``).
POOL_QUEUE_DEPTH = Gauge("stationmap_pool_queue_depth", "Jobs waiting in the heavy-work pool",
                         multiprocess_mode="livesum")
INDEX_STATIONS = Gauge("stationmap_index_stations", "Stations in the loaded index", multiprocess_mode="max")
BUILD_INFO = Gauge("stationmap_build_info", "Version of stationmap and of its station register (always 1)",
                   ["version", "dataset_version"], multiprocess_mode="max")

ReadyCheck = Callable[[], tuple[bool, str]]


def add_ready_check(app: Flask, name: str, check: ReadyCheck) -> None:
    """Make ``/readyz`` depend on ``check``, which returns ``(ok, detail)`` quickly (a load
    balancer calls it every few seconds) and must not raise (an exception counts as not ready).
    """
    app.extensions.setdefault(_READY, []).append((name, check))


def _dataset_check() -> tuple[bool, str]:
    from ._common import current_dataset

    data = current_dataset()
    return data.index is not None, f"{data.count} stations, register version {data.version}"


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


@lru_cache(maxsize=4096)
def _series(method: str, route: str, status: int) -> Counter:
    """The request counter's child for these labels, looked up once (``labels()`` costs more
    than the count itself). Bounded: routes are templates and methods few; an odd method name
    sent by a client only costs a lookup again.
    """
    return REQUESTS.labels(method, route, str(status))


@lru_cache(maxsize=1024)
def _timer(method: str, route: str) -> Histogram:
    """The latency histogram's child for these labels, looked up once."""
    return LATENCY.labels(method, route)


def _start() -> None:
    g.stationmap_started = time.perf_counter()


def _finish(response: Response) -> Response:
    started = g.pop("stationmap_started", None)
    if started is None:
        return response
    seconds = time.perf_counter() - started
    route, method = _route(), request.method
    _series(method, route, response.status_code).inc()
    _timer(method, route).observe(seconds)
    # Straight to the writer of ``stationmap serve`` when it has one, else as a log record to
    # :data:`ACCESS_LOG` (an application embedding the app configures logging its own way).
    sink = next(iter(DIRECT), None)             # not DIRECT[0]: the log may be set again meanwhile
    if sink is not None or ACCESS_LOG.isEnabledFor(logging.INFO):
        line = orjson.dumps({
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "method": method, "route": route, "status": response.status_code,
            "duration_ms": round(seconds * 1000, 3), "bytes": response.calculate_content_length(),
            "pid": os.getpid()}).decode()
        if sink is not None:
            sink.put(line)
        else:
            ACCESS_LOG.info(line)
    return response


def metrics() -> Response:
    """Prometheus text format; every worker's counts when several serve."""
    _register_gauges()                     # the register may have been swapped since the last scrape
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        from prometheus_client import REGISTRY as registry
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST.split(";")[0],
                    headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


def readyz() -> Response:
    """200 when every check passes, else 503 problem+json naming the failing checks."""
    results = {}
    for name, check in current_app.extensions.get(_READY, []):
        try:
            ok, detail = check()
        except Exception as exc:       # noqa: BLE001 -- a broken check means not ready, not a 500
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        results[name] = {"ok": bool(ok), "detail": detail}
    failing = [name for name, r in results.items() if not r["ok"]]
    if failing:
        response = problems.problem(503, "Service Unavailable", f"not ready: {', '.join(failing)}",
                                    [{"parameter": name, "reason": results[name]["detail"]} for name in failing])
    else:
        response = Response(json.dumps({"status": "ready", "checks": results}, ensure_ascii=False),
                            mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register the hooks first, so that the access log sees the final (compressed) size."""
    app.before_request(_start)
    app.after_request(_finish)
    app.add_url_rule("/metrics", "metrics", metrics)
    app.add_url_rule("/readyz", "readyz", readyz)
    add_ready_check(app, "dataset", _dataset_check)
    with app.app_context():
        _register_gauges()


def _register_gauges() -> None:
    from ._common import current_dataset

    data = current_dataset()
    INDEX_STATIONS.set(data.count)
    BUILD_INFO.labels(__version__, str(data.version)).set(1)
