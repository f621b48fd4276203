"""Keep a server's dataset in step with the store: notice a committed change, rebuild the index
off the request path, swap the whole dataset in.

One watcher thread per process (gunicorn starts it in each worker after the fork). PostgreSQL
wakes it with ``NOTIFY`` (sent in the same transaction as the change, so only once it commits);
SQLite has no notification, so the watcher asks for the register version every second (one
indexed single-row read). Either way the version decides: a missed or duplicated notification
costs nothing. The watcher holds its :class:`~stationmap.dataset.LiveDataset` weakly, so an app
that is gone takes its watcher with it, and the old dataset is dropped at the swap: memory does
not grow with swaps.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from typing import Any

from .dataset import Dataset, LiveDataset

log = logging.getLogger("stationmap.live")

#: Watchers registered in this process (started once per process id, i.e. again after a fork).
_registered: list[tuple[Any, weakref.ref, float]] = []
_started: dict[int, set[int]] = {}
_lock = threading.Lock()
#: One refresh at a time in a process: two overlapping ones could swap an older register in last.
_refreshing = threading.Lock()


def register(store, live: LiveDataset, *, interval: float = 1.0) -> None:
    """Ask for a watcher of ``store`` keeping ``live`` current (started by :func:`start`)."""
    _registered.append((store, weakref.ref(live), interval))


def start(*, catch_up: bool = False) -> None:
    """Start this process's watchers (idempotent; call it in each worker after the fork).

    ``catch_up=True`` first brings each dataset up to the store's version in this thread, before
    the process serves anything.
    """
    pid = os.getpid()
    with _lock:
        started = _started.setdefault(pid, set())
        for store, live_ref, interval in _registered:
            if id(live_ref) in started or live_ref() is None:
                continue
            started.add(id(live_ref))
            store.engine.dispose(close=False)      # never share the parent's connections
            holder = live_ref()
            if catch_up and holder is not None:
                try:
                    refresh(store, holder)
                except Exception:
                    log.exception("could not catch up with %s; the watcher will retry", store.label)
            threading.Thread(target=_watch, args=(store, live_ref, interval), name="stationmap-watcher",
                             daemon=True).start()


def refresh(store, live: LiveDataset) -> bool:
    """Swap in a new dataset if the register moved on; returns whether it did."""
    with _refreshing:
        number = store.register_version()
        if number == live.current.register_version:
            return False
        started = time.perf_counter()
        live.swap(Dataset.from_store(store))
    log.info("register version %s live (index built in %.2f s)", live.current.version, time.perf_counter() - started)
    return True


def catch_up(live: LiveDataset, version: int | None = None) -> None:
    """Bring ``live`` up to the store's version now, in this thread (the heavy-work pool does
    this when a job asks for a newer register than it holds: it must not wait for the watcher).
    ``version`` is the one asked for; the store's newest is read, which is that one or later.
    """
    for store, live_ref, _interval in _registered:
        if live_ref() is live:
            refresh(store, live)
            return


def register_version(live: LiveDataset) -> int | None:
    """The register version ``live`` holds now (``None`` for a file: it never changes)."""
    return live.current.register_version


def _watch(store, live_ref: weakref.ref, interval: float) -> None:
    waiter = _Listener(store) if store.backend == "postgresql" else None
    failures = 0
    while True:
        live = live_ref()
        if live is None:
            if waiter:
                waiter.close()
            return
        try:
            refresh(store, live)
            failures = 0
        except Exception:                        # a database that is away must not kill the watcher
            failures += 1
            if failures == 1:
                log.exception("could not refresh the dataset from %s; retrying", store.label)
            else:
                log.warning("still cannot refresh the dataset from %s (%d tries)", store.label, failures)
        del live
        if failures:                             # back off: at most one try a minute while it fails
            time.sleep(min(60.0, interval * 2 ** min(failures, 6)))
        elif waiter is None:
            time.sleep(interval)
        else:
            waiter.wait(timeout=5.0)


class _Listener:
    """``LISTEN stationmap_register`` on a connection of its own."""

    def __init__(self, store):
        from .store.register import CHANNEL

        url = store.engine.url.set(drivername="postgresql")
        self.conninfo = url.render_as_string(hide_password=False)
        self.channel = CHANNEL
        self.connection = None

    def wait(self, timeout: float) -> None:
        """Return after a notification or ``timeout`` seconds, whichever comes first."""
        import psycopg

        try:
            if self.connection is None or self.connection.closed:
                self.connection = psycopg.connect(self.conninfo, autocommit=True)
                self.connection.execute(f"LISTEN {self.channel}")
                return          # check the version now: changes may have come while not listening
            for _ in self.connection.notifies(timeout=timeout, stop_after=1):
                break
        except psycopg.Error:
            log.warning("lost the notification connection; reconnecting")
            self.close()
            time.sleep(1.0)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
