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
from contextlib import nullcontext
from datetime import date
from typing import Any

from .dataset import LiveDataset

log = logging.getLogger("stationmap.live")

#: Watchers registered in this process (started once per process id, i.e. again after a fork).
_registered: list[tuple[Any, weakref.ref, float]] = []
_started: dict[int, set[int]] = {}
_lock = threading.Lock()
#: One refresh at a time in a process: two overlapping ones could swap an older register in last.
_refreshing = threading.Lock()
#: Held while this module's threads use a SQLite store, and taken by every ``fork()`` of the
#: process (``os.register_at_fork``): a process forked while another thread is inside SQLite
#: inherits SQLite's mutexes locked, and its first SQLite call then hangs for ever. Seen:
#: heavy-pool workers, forked by the pool service while its watcher was polling, hanging in
#: ``sqlite3Malloc`` when they opened the store. (PostgreSQL's driver has no such global state.)
_store_io = threading.RLock()


def _fork_child() -> None:
    """The child's own locks, free: its one thread is inside nothing (a lock held by a thread of
    the parent would otherwise stay held for ever in the child).
    """
    global _store_io, _refreshing, _lock
    _store_io, _refreshing, _lock = threading.RLock(), threading.Lock(), threading.Lock()


def _fork_parent() -> None:
    _store_io.release()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=lambda: _store_io.acquire(), after_in_parent=_fork_parent,
                        after_in_child=_fork_child)


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


def refresh(store, live: LiveDataset, *, today: date | None = None) -> bool:
    """Swap in a new dataset if the register moved on; returns whether it did.

    The new dataset is the current one with only the changed stations read again
    (:meth:`~stationmap.dataset.Dataset.updated`: the same rows a full load gives), and
    whatever derived structure the change did not touch, such as the search, is carried over.
    Every change committed meanwhile is taken in the same swap: a burst of edits costs one
    rebuild, not one each. A station closed until a date that has now come is answered as open
    from that day (``today``: the date in China, default now), with no one editing it.
    """
    with _refreshing, (_store_io if store.backend == "sqlite" else nullcontext()):
        number = store.register_version()
        current = live.current
        if number == current.register_version and not current.reopening_due(today):
            return False
        started = time.perf_counter()
        new = current.updated(store, today=today)
        if new is current:
            return False
        live.swap(new)
    log.info("register version %s live (index built in %.2f s)", new.version, time.perf_counter() - started)
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
    waiter: _Listener | _DataVersion = _Listener(store) if store.backend == "postgresql" else _DataVersion(store,
                                                                                                      interval)
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
        else:
            waiter.wait(timeout=5.0)


class _Listener:
    """``LISTEN stationmap_register`` on a connection of its own."""

    def __init__(self, store):
        from .store.register import CHANNEL

        url = store.engine.url.set(drivername="postgresql")
        self.conninfo = url.render_as_string(hide_password=False)
        self.channel = CHANNEL
        self.connection: Any = None

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


class _DataVersion:
    """SQLite's cheap change check: ``PRAGMA data_version`` on a connection of its own.

    The number changes when another connection commits to the file; reading it touches no
    table and takes microseconds, so it is asked every :data:`POLL_S` seconds, and the register
    version (a real query) only when it moved — and at least every ``interval`` seconds anyway,
    so a missed change is seen within that.
    """

    #: How often the file is asked whether anything was committed.
    POLL_S = 0.05

    def __init__(self, store, interval: float):
        engine = getattr(store, "engine", None)
        self.path: str | None = engine.url.database if engine is not None else None
        self.interval = interval
        self.connection: Any = None
        self.seen: int | None = self._data_version()       # before the first refresh: nothing is missed

    def _data_version(self) -> int | None:
        import sqlite3

        if not self.path:
            return None
        try:
            with _store_io:
                if self.connection is None:
                    self.connection = sqlite3.connect(self.path, timeout=1.0, check_same_thread=False)
                return int(self.connection.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            self.close()
            return None

    def wait(self, timeout: float) -> None:
        """Return once the file has a new commit, or after ``interval`` seconds."""
        deadline = time.monotonic() + min(timeout, self.interval)
        while time.monotonic() < deadline:
            time.sleep(self.POLL_S)
            now = self._data_version()
            if now is not None and now != self.seen:     # unreadable: the interval's check decides
                self.seen = now
                return

    def close(self) -> None:
        if self.connection is not None:
            with _store_io:
                self.connection.close()
            self.connection = None
