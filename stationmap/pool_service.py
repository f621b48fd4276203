"""The pool service: the one process per server that owns the :class:`~stationmap.jobs.JobPool`,
and :class:`PoolClient`, how request workers reach it over a Unix socket.

Why a process of its own, forked before gunicorn's workers, is in :mod:`stationmap.jobs`. Here:
:func:`start_service` forks it (and removes its socket's folder at exit), :func:`run_service`
answers calls until the process that started it is gone, and :class:`PoolClient` calls it from
any thread of any request worker (:mod:`multiprocessing.connection`, with a random key, so
another local user cannot submit work or read answers).
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Hashable
from multiprocessing import connection
from typing import Any

from .errors import InputError, StationmapError
from .jobs import JobFailed, JobPool, JobTimeout, PoolFull, PoolUnavailable, _error_payload, _raise

_METHODS = ("submit", "status", "result", "cancel", "alive", "stats")


def _handle(conn, pool: JobPool) -> None:
    with conn:
        while True:
            try:
                method, args = conn.recv()
            except (EOFError, OSError):
                return
            try:
                if method not in _METHODS:
                    raise JobFailed(f"no such method {method!r}")
                reply = ("ok", getattr(pool, method)(*args))
            except PoolFull as error:
                reply = ("full", error.retry_after)
            except JobTimeout as error:
                reply = ("timeout", (str(error), error.retry_after))
            except InputError as error:
                reply = ("error", ("input", error.reason, error.field, error.row))
            except Exception as error:                      # noqa: BLE001 — sent to the caller
                reply = ("error", _error_payload(error))
            try:
                conn.send(reply)
            except OSError:
                return


def run_service(pool: JobPool, address: str, authkey: bytes, parent: int | None = None) -> None:
    """Answer :class:`PoolClient` calls on the Unix socket ``address`` until the ``parent``
    process is gone (or forever).
    """
    listener = connection.Listener(address, family="AF_UNIX", authkey=authkey)

    def watch() -> None:
        while parent is None or os.getppid() == parent:
            time.sleep(1)
        pool.close()
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    while True:
        try:
            conn = listener.accept()
        except (OSError, EOFError, multiprocessing.AuthenticationError):
            continue
        threading.Thread(target=_handle, args=(conn, pool), daemon=True).start()


def start_service(context: Any, on_start: Callable[[], None] | None = None, **options: Any) -> tuple[str, bytes, int]:
    """Fork the pool service (call before gunicorn forks its workers); ``(address, key, pid)``.

    ``on_start()`` runs first in the service (e.g. start the threads that keep ``context``
    current: threads do not survive the fork); ``options`` go to :class:`JobPool`. The service
    ends when this process does (it watches its parent), and this process kills it at exit.
    """
    import atexit

    directory = tempfile.mkdtemp(prefix="stationmap-pool-")
    address, authkey = os.path.join(directory, "pool.sock"), secrets.token_bytes(32)
    parent = os.getpid()
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:                                            # the service
        os.close(ready_r)
        try:
            os.setpgid(0, 0)                                # a terminal's Ctrl-C goes to serve, not here
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
            if on_start is not None:
                on_start()
            pool = JobPool(context, **options)
            os.write(ready_w, b"1")
            os.close(ready_w)
            run_service(pool, address, authkey, parent)
        finally:
            os._exit(1)
    os.close(ready_w)
    os.read(ready_r, 1)
    os.close(ready_r)
    deadline = time.monotonic() + 10
    while not os.path.exists(address) and time.monotonic() < deadline:
        time.sleep(0.02)

    def stop() -> None:
        if os.getpid() == parent:                           # not in gunicorn's forked workers
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            shutil.rmtree(directory, ignore_errors=True)    # the socket's folder, one per start

    atexit.register(stop)
    return address, authkey, pid


class PoolClient:
    """The pool service, from a request worker: the methods of :class:`JobPool`, remotely.

    One connection per thread, opened on first use (after gunicorn's fork) and re-opened once
    if the service dropped it.
    """

    def __init__(self, address: str, authkey: bytes):
        self.address, self.authkey = address, authkey
        self._local = threading.local()

    def _call(self, method: str, *args: Any) -> Any:
        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            try:
                if conn is None or getattr(self._local, "pid", None) != os.getpid():
                    conn = self._local.conn = connection.Client(self.address, family="AF_UNIX", authkey=self.authkey)
                    self._local.pid = os.getpid()
                conn.send((method, args))
                kind, value = conn.recv()
                break
            except (OSError, EOFError) as error:
                self._local.conn = None
                if attempt == 2:
                    raise PoolUnavailable(f"the heavy-work pool cannot be reached: {error}") from None
        if kind == "ok":
            return value
        if kind == "full":
            raise PoolFull(value)
        if kind == "timeout":
            raise JobTimeout(*value)
        _raise(value)

    def submit(self, key: Hashable, fn: Callable, args: tuple = (), timeout_s: float | None = None,
               version: int | None = None, ticket: bool = False) -> str:
        """:meth:`JobPool.submit`, in the service: the key joins other workers' identical questions."""
        return self._call("submit", key, fn, tuple(args), timeout_s, version, ticket)

    def status(self, job_id: str) -> dict[str, Any]:
        """:meth:`JobPool.status`, in the service."""
        return self._call("status", job_id)

    def result(self, job_id: str, wait_s: float | None = None) -> Any:
        """:meth:`JobPool.result`, in the service; its errors are raised here, in the request worker."""
        return self._call("result", job_id, wait_s)

    def cancel(self, job_id: str) -> bool:
        """:meth:`JobPool.cancel`, in the service."""
        return self._call("cancel", job_id)

    def stats(self) -> dict[str, Any]:
        """:meth:`JobPool.stats`, in the service (every request worker sees the same pool)."""
        return self._call("stats")

    def alive(self) -> bool:
        """Whether the service answers and its workers run; never raises."""
        try:
            return bool(self._call("alive"))
        except StationmapError:
            return False

    def run(self, key: Hashable, fn: Callable, args: tuple = (), wait_s: float | None = None,
            version: int | None = None) -> Any:
        """Submit (or join) and wait for the result, answered from ``version`` or newer: what a
        request does.
        """
        return self.result(self.submit(key, fn, args, wait_s, version), wait_s)
