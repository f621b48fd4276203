"""Heavy answers (coverage, pictures) through the server's job pool (:mod:`stationmap.jobs`).

``stationmap serve`` starts the pool service before gunicorn forks (:func:`start_pool`); the
request workers then submit each heavy question by its key and wait for the bytes. A full
queue, a job past its time limit or a pool that cannot be reached is a 503 problem+json with
``Retry-After`` at once, never a hang. Without a pool (``create_app`` in tests, ``serve
--dev``) the work is done in the request, as before.

The register changes while the server runs (issue 10): each job carries the register version
of the request that asked, and the pool answers from that version or a newer one, never an
older one (:mod:`stationmap.jobs`, "Versions of the context"): its service runs the register's
watcher and catches up on demand; its worker processes are re-forked when older than a job.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from flask import Flask, current_app

from .. import live
from ..jobs import JobTimeout, PoolFull, PoolUnavailable
from ..pool_service import PoolClient, start_service
from . import problems
from ._common import current_dataset

POOL = "stationmap.pool"


def start_pool(app: Flask) -> None:
    """Fork the pool service for ``app`` (in gunicorn's master, before the workers fork)."""
    config = app.config
    address, authkey, _pid = start_service(
        app.extensions["stationmap"], on_start=_keep_current, processes=int(config["HEAVY_PROCESSES"]),
        queue=int(config["HEAVY_QUEUE"]), recycle_after=int(config["HEAVY_RECYCLE_AFTER"]),
        timeout_s=float(config["HEAVY_TIMEOUT_S"]), keep=int(config["HEAVY_KEEP"]),
        keep_bytes=int(config["HEAVY_KEEP_BYTES"]), version_of=live.register_version, catch_up=live.catch_up)
    app.extensions[POOL] = PoolClient(address, authkey)


def _keep_current() -> None:
    """In the pool service: catch up with the store, then watch it (a file is never watched)."""
    live.start(catch_up=True)


def pool() -> PoolClient | None:
    """The current app's pool, or ``None`` when heavy work runs in the request."""
    return current_app.extensions.get(POOL)


def alive() -> bool:
    """For ``/readyz``: the pool answers and its workers run (``True`` without a pool)."""
    client = pool()
    return client is None or client.alive()


def run(key: Hashable, fn: Callable[..., Any], args: tuple, **inline: Any) -> Any:
    """``fn(dataset, *args)`` in the pool, computed once per server for ``key`` on the
    request's register version (answered from that version or, if the register moved on
    meanwhile, a newer one); in this process (with the keyword arguments ``inline``) when there
    is no pool.
    """
    client = pool()
    data = current_dataset()
    if client is None:
        return fn(data, *args, **inline)
    return client.run(key, fn, args, wait_s=float(current_app.config["HEAVY_TIMEOUT_S"]),
                      version=data.register_version)


def _busy(error: Exception):
    retry = getattr(error, "retry_after", 5)
    detail = {PoolFull: "The server is busy with other reports; try again shortly. 服务器正忙，请稍后再试。",
              JobTimeout: "The report took longer than this server allows; try a smaller area or fewer "
                          "sites. 计算超时，请缩小范围或减少建议站点数。"}.get(type(error), str(error))
    return problems.problem(503, "Service Unavailable", detail, headers={"Retry-After": str(retry)})


def _pool_check() -> tuple[bool, str]:
    client = pool()
    if client is None:
        return True, "no pool: heavy work runs in the request"
    return (True, "alive") if client.alive() else (False, "the heavy-work pool does not answer")


def init_app(app: Flask) -> None:
    """Answer the pool's refusals as 503 problem+json with ``Retry-After``, and add the pool to ``/readyz``.

    A busy or unreachable pool is a reason to come back later, not a server fault: clients and
    load balancers read the 503 and its header, and readiness reports a pool that stopped answering.
    """
    from .ops import add_ready_check

    for error in (PoolFull, JobTimeout, PoolUnavailable):
        app.register_error_handler(error, _busy)
    add_ready_check(app, "pool", _pool_check)
