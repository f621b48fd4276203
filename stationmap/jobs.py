"""A bounded pool for heavy work (coverage reports, recommendations, pictures), one per server.

Why a separate pool
    A coverage report or a picture costs seconds and hundreds of megabytes; run in gunicorn's
    request workers, eight of them starve a rider's nearest lookup for seconds and leave the
    workers bloated. Here heavy jobs run in a few *worker processes* of their own, apart from
    the request workers, so the lookup always has a free worker.

Design
    ``stationmap serve`` builds the app (and the station index) in gunicorn's master, then
    :func:`~stationmap.pool_service.start_service` forks one *pool service* process **before**
    gunicorn forks its request workers. The service owns a :class:`JobPool`: a short queue,
    ``processes`` worker processes forked from it (so they share the index copy-on-write), each
    recycled after ``recycle_after`` jobs (its memory goes back to the system) or killed when its
    job runs past its time limit or is cancelled. Request workers reach the service over a Unix socket
    (:mod:`multiprocessing.connection`, with a random key) through
    :class:`~stationmap.pool_service.PoolClient` (both in :mod:`stationmap.pool_service`).

    Because there is one service per server, a question is keyed once per *server*: a job
    with the key of a queued or running job joins it, and finished results are kept in a small
    cache bounded by count and bytes, so every request worker gets them.

Versions of the context (the living register)
    The context may change while the server runs (the register is edited, issue 10). A job then
    carries the register ``version`` it must be answered from, and that version is part of its
    key (the same question on the same register is computed once per server; on a newer register
    it is a new job). The service keeps its context current (``stationmap serve`` runs the
    register's watcher in it, ``on_start``), and when a job asks for a version newer than the
    service holds it first catches up (``catch_up``: reads the store) in the slot's thread. A
    worker process holds the context as it was when forked, so a worker older than the job's
    version is replaced by a fresh fork before it runs it. An idle worker older than the
    service is replaced too, but at most once per ``renew_idle_s`` (30 s): forking a process
    that holds the register costs the service more CPU than the register's own update, and
    while edits stream in every second, renewing idle workers at each one took a sixth of a
    core from the request workers for nothing. Either way a worker holds at most one old
    register, so memory does not grow with swaps.

    A job is never answered from an older version than it asked for; if the pool is *ahead*
    (the register moved on again since the request began), it answers from the newer one, and
    the answer names the version it came from (the coverage answer's ``version``, a picture's
    caption). Without ``version_of`` (a file that never changes) no version is checked.

    When the queue is full :meth:`JobPool.submit` raises :class:`PoolFull` with a ``retry_after``
    in seconds: the web layer answers 503 with ``Retry-After`` at once, never a hang.

Job API (for the planner's cancellable long questions, issue 16)
    ``submit(key, fn, args, timeout_s=None) → job id``; ``status(job id)`` → state, stage,
    progress; ``result(job id, wait_s)``; ``cancel(job id)``; ``alive()``. Identical questions
    share one job, so a client outside the server gets a *ticket* (``submit(..., ticket=True)``
    → ``"<job id>.<ticket>"``): its cancel withdraws that client only, and the job stops when no
    one waits for it any more; a job id without a ticket it was given is not found. A job function
    is called as ``fn(context, *args)`` (``context``: what the service was started with, e.g.
    the dataset) and may call :func:`progress` to report its stage.
"""

from __future__ import annotations

import itertools
import os
import pickle
import secrets
import signal
import threading
import time
import traceback
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

from .errors import InputError, StationmapError

#: Job states, in the order a job goes through them.
QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"


class PoolFull(StationmapError):
    """The queue is full: try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"the heavy-work queue is full; try again in {retry_after} s")


class JobTimeout(StationmapError):
    """The job ran past its time limit (it was stopped), or the wait for it ended."""

    def __init__(self, message: str, retry_after: int = 5):
        self.retry_after = retry_after
        super().__init__(message)


class JobFailed(StationmapError):
    """The job raised; ``message`` says what (tracebacks stay in the service's log)."""


class PoolUnavailable(StationmapError):
    """The pool service cannot be reached."""


_progress_pipe: Any = None


def progress(stage: str, fraction: float | None = None, **detail: Any) -> None:
    """Called by a job function to say where it is (``stage``, ``fraction`` done in [0, 1], and
    plain ``detail`` such as cells sampled, for a page's progress bar); outside a pool worker it
    does nothing.
    """
    if _progress_pipe is not None:
        _progress_pipe.send(("progress", stage, fraction, detail))


def _error_payload(error: BaseException) -> tuple:
    if isinstance(error, InputError):
        return ("input", error.reason, error.field, error.row)
    return ("failed", f"{type(error).__name__}: {error}", None, None)


def _raise(payload: tuple) -> None:
    kind, message, field_, row = payload
    if kind == "input":
        raise InputError(message, field=field_, row=row)
    if kind == "timeout":
        raise JobTimeout(message)
    raise JobFailed(message)


def _work(conn, context: Any, parent: int) -> None:
    """A worker process: run jobs sent on ``conn`` until told to stop (``None``).

    ``parent`` is the service's pid, taken by the service before the fork. Asking
    ``os.getppid()`` here instead would be a race: on a busy machine the service can exit
    before this line runs, the worker would take init for its service and live for ever
    (holding the service's stdout open). Nor does the service closing its end of ``conn``
    end it, because the forked worker holds a copy of that end too.
    """
    global _progress_pipe
    signal.signal(signal.SIGINT, signal.SIG_IGN)          # Ctrl-C is the service's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _progress_pipe = conn

    def orphaned() -> None:                                 # the service died: so do we
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=orphaned, daemon=True).start()
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        fn, args = task
        try:
            conn.send(("done", fn(context, *args)))
        except Exception as error:                          # noqa: BLE001 — reported to the caller
            traceback.print_exc()
            conn.send(("error", _error_payload(error)))


@dataclass
class Job:
    """One piece of heavy work: what runs, its state and progress, and its result or error."""

    id: str
    key: Hashable
    fn: Callable | None
    args: tuple
    timeout_s: float
    state: str = QUEUED
    stage: str = "queued"
    fraction: float | None = None
    #: What the job said last beside its stage (plain values: cells sampled, districts done…).
    detail: dict = field(default_factory=dict)
    #: When the current stage began (monotonic), so a client sees e.g. the solver's time so far.
    stage_since: float | None = None
    result: Any = None
    error: tuple | None = None
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    finished: float | None = None
    size: int = 0
    #: The context version the job must be answered from, or newer (``None``: any).
    version: int | None = None
    #: Tickets of the clients still waiting for it, and of those who cancelled (for them it is
    #: cancelled); ``shared`` once asked without a ticket (inside the server): never withdrawn.
    holders: set = field(default_factory=set)
    withdrawn: set = field(default_factory=set)
    shared: bool = False

    def status(self) -> dict[str, Any]:
        """The job as a client sees it: plain data (no function, no result) so it pickles across the service's pipe."""
        now = time.monotonic()
        return {"id": self.id, "state": self.state, "stage": self.stage, "progress": self.fraction,
                "detail": dict(self.detail),
                "stage_s": round(now - self.stage_since, 3) if self.stage_since and self.state == RUNNING else None,
                "queued_s": round((self.started or now) - self.submitted, 3),
                "running_s": round((self.finished or now) - self.started, 3) if self.started else None,
                "error": self.error[1] if self.error else None}


class _Slot:
    """One worker process and the thread that feeds it jobs."""

    def __init__(self, pool: JobPool):
        self.pool = pool
        self.process: Any = None
        self.conn: Any = None
        self.jobs_done = 0
        self.job: Job | None = None
        #: The context version the worker process was forked with, and when (monotonic).
        self.version: int | None = None
        self.forked_at = 0.0

    def start(self) -> None:
        self.version, self.forked_at = self.pool.held_version(), time.monotonic()
        ours, theirs = get_context("fork").Pipe()
        self.process = get_context("fork").Process(target=_work, args=(theirs, self.pool.context, os.getpid()),
                                                   daemon=True)
        self.process.start()
        theirs.close()
        self.conn, self.jobs_done = ours, 0

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                pass
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()
        self.process = None

    def loop(self) -> None:
        while not self.pool.closed:
            job = self.pool._next_job()
            if job is None:
                if time.monotonic() - self.forked_at >= self.pool.renew_idle_s:
                    self._renew_if_old(self.pool.held_version())
                continue
            try:
                self.pool._ready_for(job.version)
            except Exception as error:                      # noqa: BLE001 — e.g. the store is away
                self.pool._finish(job, FAILED, error=_error_payload(error))
                continue
            self._renew_if_old(job.version)
            if self.process is None or not self.process.is_alive():
                self.start()
            self.job = job
            self._run(job)
            self.job = None
            if self.process is not None and self.jobs_done >= self.pool.recycle_after:
                self.stop()

    def _renew_if_old(self, needed: int | None) -> None:
        """Replace the worker process when it holds an older context version than ``needed``."""
        if self.process is not None and needed is not None and (self.version is None or self.version < needed):
            self.stop()
            self.start()

    def _run(self, job: Job) -> None:
        try:
            self.conn.send((job.fn, job.args))
        except Exception as error:                          # noqa: BLE001 — e.g. unpicklable arguments
            self.pool._finish(job, FAILED, error=_error_payload(error))
            return
        deadline = (job.started or time.monotonic()) + job.timeout_s
        while True:
            if job.state == CANCELLED:
                self.stop(kill=True)
                return
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop(kill=True)
                self.pool._finish(job, FAILED, error=("timeout", f"stopped after its limit of {job.timeout_s:g} s",
                                                      None, None))
                return
            try:
                ready = self.conn.poll(min(left, 0.2))
                message = self.conn.recv() if ready else None
            except (EOFError, OSError):
                self.stop(kill=True)
                self.pool._finish(job, FAILED, error=("failed", "the worker process died", None, None))
                return
            if message is None:
                continue
            if message[0] == "progress":
                if message[1] != job.stage:
                    job.stage_since = time.monotonic()
                job.stage, job.fraction = message[1], message[2]
                job.detail = message[3] if len(message) > 3 else {}
                continue
            self.jobs_done += 1
            if message[0] == "done":
                self.pool._finish(job, DONE, result=message[1])
            else:
                self.pool._finish(job, FAILED, error=message[1])
            return


class JobPool:
    """Worker processes, a short queue, and the jobs they ran (see the module's docstring).

    Parameters
    ----------
    context
        Passed as the first argument to every job function (the dataset, say); inherited by
        the forked workers, not pickled.
    processes
        Worker processes (jobs running at once).
    queue
        Jobs that may wait for a worker; one more is :class:`PoolFull`.
    recycle_after
        Jobs a worker runs before it is replaced (so its memory returns).
    timeout_s
        Default time limit of a job; a job past it is stopped (its worker killed).
    keep, keep_bytes
        Finished jobs kept (for their results, and so an identical question is answered from
        them), bounded by count and by the bytes of their pickled results.
    version_of
        ``version_of(context)``: the version the context holds now (``None``: unversioned).
    catch_up
        ``catch_up(context, version)``: bring the context up to at least ``version`` (called
        in the service when a job asks for a newer version than it holds; time it takes
        counts against that job's limit).
    renew_idle_s
        An idle worker holding an older version than the service is replaced once it is at
        least this old (seconds): soon after a lone edit, at most this often while edits stream.
    """

    def __init__(self, context: Any = None, *, processes: int = 2, queue: int = 4, recycle_after: int = 20,
                 timeout_s: float = 60.0, keep: int = 32, keep_bytes: int = 64 * 2**20,
                 version_of: Callable[[Any], int | None] | None = None,
                 catch_up: Callable[[Any, int], None] | None = None, renew_idle_s: float = 30.0):
        self.context = context
        self.renew_idle_s = renew_idle_s
        self.version_of, self.catch_up = version_of, catch_up
        self._catching_up = threading.Lock()
        self.queue_size, self.recycle_after, self.timeout_s = queue, recycle_after, timeout_s
        self.keep, self.keep_bytes = keep, keep_bytes
        self.closed = False
        self._jobs: dict[str, Job] = {}
        self._by_key: dict[Hashable, str] = {}
        self._queue: deque[Job] = deque()
        self._finished: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Condition()
        self._ids = itertools.count(1)
        self._slots = [_Slot(self) for _ in range(processes)]
        for slot in self._slots:
            slot.start()
        self._threads = [threading.Thread(target=slot.loop, daemon=True, name=f"pool-slot-{i}")
                         for i, slot in enumerate(self._slots)]
        for thread in self._threads:
            thread.start()

    # -- the job API ---------------------------------------------------------------------
    def submit(self, key: Hashable, fn: Callable, args: tuple = (), timeout_s: float | None = None,
               version: int | None = None, ticket: bool = False) -> str:
        """A job id for ``fn(context, *args)``: an existing job's when ``key`` (on ``version``)
        is queued, running or finished and kept; else a new job, answered from the context at
        ``version`` or newer (see the module's text). With ``ticket``, the id carries this
        caller's own ticket (see the module's text). Raises :class:`PoolFull`.
        """
        if version is not None:
            key = ("version", version, key)
        with self._lock:
            known = self._by_key.get(key)
            if known is not None and self._jobs[known].state in (QUEUED, RUNNING, DONE):
                if known in self._finished:
                    self._finished.move_to_end(known)
                return self._holder(self._jobs[known], ticket)
            if len(self._queue) >= self.queue_size:
                raise PoolFull(self.retry_after())
            job = Job(f"{next(self._ids)}-{secrets.token_hex(6)}", key, fn, tuple(args),
                      float(timeout_s or self.timeout_s), version=version)
            self._jobs[job.id] = job
            self._by_key[key] = job.id
            self._queue.append(job)
            self._lock.notify_all()
            return self._holder(job, ticket)

    @staticmethod
    def _holder(job: Job, ticket: bool) -> str:
        if not ticket:
            job.shared = True
            return job.id
        held = secrets.token_hex(8)
        job.holders.add(held)
        return f"{job.id}.{held}"

    def status(self, job_id: str) -> dict[str, Any]:
        """State (queued, running, done, failed, cancelled), stage, progress and times."""
        with self._lock:
            job, held = self._job(job_id)
            status = job.status()
            if held in job.withdrawn:
                status["state"] = status["stage"] = CANCELLED
            return status

    def result(self, job_id: str, wait_s: float | None = None) -> Any:
        """The job's result, waiting at most ``wait_s`` (then :class:`JobTimeout`); re-raises
        its :class:`~stationmap.errors.InputError`, or :class:`JobFailed`.
        """
        end = None if wait_s is None else time.monotonic() + wait_s
        with self._lock:
            job, held = self._job(job_id)
            while job.state in (QUEUED, RUNNING) and held not in job.withdrawn:
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    raise JobTimeout(f"job {job_id} is still {job.state}", self.retry_after())
                self._lock.wait(left)
        if job.state == DONE and held not in job.withdrawn:
            return job.result
        if job.state in (CANCELLED, DONE) or job.error is None:
            raise JobFailed("the job was cancelled")
        _raise(job.error)

    def cancel(self, job_id: str) -> bool:
        """Stop a queued or running job (its worker is killed and replaced); ``False`` if it
        had already ended. With a ticket, only that client is withdrawn, and the job stops
        when it was the last one waiting (and no one inside the server asked for it).
        """
        with self._lock:
            job, held = self._job(job_id)
            if job.state not in (QUEUED, RUNNING) or held in job.withdrawn:
                return False
            if held is not None:
                job.holders.discard(held)
                job.withdrawn.add(held)
                self._lock.notify_all()
                if job.holders or job.shared:
                    return True
            if job.state == QUEUED:
                self._queue.remove(job)
            job.state = job.stage = CANCELLED
            self._retire(job)
            self._lock.notify_all()
            return True

    def alive(self) -> bool:
        """Cheap: every slot's thread runs and no worker process died without being replaced."""
        return not self.closed and all(t.is_alive() for t in self._threads)

    def stats(self) -> dict[str, Any]:
        """Queue length, running jobs, kept results and worker pids: a snapshot of how busy it is."""
        with self._lock:
            return {"queued": len(self._queue), "running": sum(s.job is not None for s in self._slots),
                    "kept": len(self._finished), "kept_bytes": sum(j.size for j in self._finished.values()),
                    "processes": [s.process.pid if s.process else None for s in self._slots],
                    "version": self.held_version(),
                    "versions": [s.version if s.process else None for s in self._slots]}

    def held_version(self) -> int | None:
        """The context's version in the service now (``None`` when unversioned)."""
        return None if self.version_of is None else self.version_of(self.context)

    def retry_after(self) -> int:
        """Seconds a refused client should wait: about one job's time per queued job per worker."""
        return max(1, min(60, round(2 * (len(self._queue) + 1) / max(1, len(self._slots)))))

    def close(self) -> None:
        """Stop every worker at once (killed, not drained): the server is going away, so are its answers."""
        self.closed = True
        with self._lock:
            self._lock.notify_all()
        for slot in self._slots:
            slot.stop(kill=True)

    # -- internals -----------------------------------------------------------------------
    def _job(self, job_id: str) -> tuple[Job, str | None]:
        """The job and the caller's ticket (``None`` for a plain id); a ticket it never gave out
        is as unknown as a job it never had.
        """
        bare, dot, held = job_id.partition(".")
        job = self._jobs.get(bare)
        if job is None or (dot and held not in job.holders and held not in job.withdrawn):   # "<job>." too
            raise InputError(f"{job_id!r} is not a job of this server (or it was forgotten)", field="job")
        return job, held or None

    def _ready_for(self, needed: int | None) -> None:
        """Catch the service's context up to ``needed`` before a worker is forked for it."""
        if needed is None or self.version_of is None:
            return
        with self._catching_up:                             # one reload at a time, not one per slot
            held = self.held_version()
            if (held is None or held < needed) and self.catch_up is not None:
                self.catch_up(self.context, needed)
                held = self.held_version()
        if held is None or held < needed:
            raise JobFailed(f"the heavy-work pool cannot reach register version {needed} (it holds {held})")

    def _next_job(self) -> Job | None:
        with self._lock:
            while not self._queue:
                if self.closed:
                    return None
                self._lock.wait(1.0)
                if not self._queue:
                    return None
            job = self._queue.popleft()
            job.state, job.stage, job.started = RUNNING, "running", time.monotonic()
            job.stage_since = job.started
            return job

    def _finish(self, job: Job, state: str, *, result: Any = None, error: tuple | None = None) -> None:
        with self._lock:
            if job.state == CANCELLED:
                return
            job.state, job.result, job.error, job.finished = state, result, error, time.monotonic()
            job.stage = state
            if state == DONE:
                job.size = len(result) if isinstance(result, (bytes, str)) else len(pickle.dumps(result))
            self._retire(job)
            self._lock.notify_all()

    def _retire(self, job: Job) -> None:
        """Keep ended jobs in the bounded cache; forget the oldest beyond its bounds."""
        job.fn, job.args = None, ()
        self._finished[job.id] = job
        if job.state != DONE and self._by_key.get(job.key) == job.id:
            del self._by_key[job.key]             # a failed question is asked afresh next time
        while self._finished and (len(self._finished) > self.keep
                                  or sum(j.size for j in self._finished.values()) > self.keep_bytes):
            old_id, old = self._finished.popitem(last=False)
            self._jobs.pop(old_id, None)
            if self._by_key.get(old.key) == old_id:
                del self._by_key[old.key]
