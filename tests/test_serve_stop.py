"""``stationmap serve`` stops when asked, even while a worker is still booting.

gunicorn's worker sets up its own signal handlers only after ``post_fork``, where stationmap's
worker catches up with the store. CI failed on 2026-11-26 when a test stopped a server whose
second worker was still catching up: the SIGTERM was lost, and the master waited its whole
``graceful_timeout`` (30 s) before killing the worker (stationmap.web.serve._stop_while_booting).
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import time
import types

import pytest
from conftest import _free_port

from stationmap.web import serve as serving

#: A server whose one worker, once forked, waits in its catch-up with the store until the test
#: says "go", and notes it if it leaves on its own (an exit handler, which a SIGKILL skips).
SCRIPT = '''
import atexit, os, signal, sys, time
from pathlib import Path
from gunicorn.arbiter import Arbiter
from stationmap import live
from stationmap.web import serve as serving

folder = Path(sys.argv[2])
real_start, real_post_fork, real_kill_workers = live.start, serving._post_fork, Arbiter.kill_workers
in_worker = []

def waiting_start(**kwargs):
    if in_worker:                       # a gunicorn worker, not the master or the pool service
        (folder / "booting").write_text(str(os.getpid()))
        deadline = time.monotonic() + 60
        while not (folder / "go").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    return real_start(**kwargs)

def post_fork(server, worker):
    in_worker.append(True)
    atexit.register(lambda: (folder / "ended").write_text(str(os.getpid())))
    real_post_fork(server, worker)

def kill_workers(arbiter, sig):         # the master: says when it has passed a stop on
    real_kill_workers(arbiter, sig)
    if sig == signal.SIGTERM:
        (folder / "told").write_text("")

live.start = waiting_start
serving._post_fork = post_fork
Arbiter.kill_workers = kill_workers
serving.serve(port=int(sys.argv[1]), workers=1, access_log="off")
'''


def _wait_for(path, process: subprocess.Popen, bound: float = 90) -> None:
    deadline = time.monotonic() + bound
    while not path.exists():
        assert process.poll() is None, "the server exited before its worker booted"
        assert time.monotonic() < deadline, f"no {path.name} within {bound:.0f} s"
        time.sleep(0.05)


def test_a_server_stopped_while_its_worker_is_still_booting_stops_it_without_a_kill(tmp_path):
    """The stop reaches the worker while it waits in its catch-up with the store; once let go,
    it must leave on its own instead of booting, serving on, and being killed 30 s later.

    Run with ``-c`` (like every server of the suite), so that the checkout's stationmap is the
    one imported: a script file would put its own folder first on the path instead.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATIONMAP_")}
    env["STATIONMAP_INSTANCE_PATH"] = str(tmp_path / "instance")
    with open(tmp_path / "serve.log", "wb") as log:
        master = subprocess.Popen([sys.executable, "-c", SCRIPT, str(_free_port()), str(tmp_path)], env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for(tmp_path / "booting", master)
        master.terminate()
        _wait_for(tmp_path / "told", master)    # the master has passed the stop on to its booting worker
        (tmp_path / "go").touch()
        master.wait(timeout=90)            # bounded: a killed worker is killed after 30 s
        assert (tmp_path / "ended").exists(), (
            "the worker did not leave on its own: the master killed it at the end of its graceful "
            f"timeout\n{(tmp_path / 'serve.log').read_text(errors='replace')}")
        assert master.returncode == 0
    finally:
        try:
            os.killpg(master.pid, signal.SIGKILL)   # whatever failed, no process is left behind
        except ProcessLookupError:
            pass
        master.wait(timeout=10)


class _Worker:
    alive = True


def test_a_stop_queued_before_the_worker_took_over_its_signals_still_stops_it():
    """A signal reaching the worker between the fork and ``post_fork`` sits on the worker's
    copy of the master's queue (a ``SimpleQueue`` in gunicorn ≥ 24, a list before). SIGTERM
    stops the worker once booted; SIGQUIT and SIGINT end it at once, as gunicorn's worker does."""
    saved = {signum: signal.getsignal(signum) for signum in serving._STOPS}
    try:
        for pending, held, outcome in ((queue.SimpleQueue(), [signal.SIGCHLD, signal.SIGTERM], "stops"),
                                       ([], [signal.SIGTERM], "stops"),
                                       ([], [signal.SIGQUIT], "exits"),
                                       (queue.SimpleQueue(), [signal.SIGINT], "exits"),
                                       (queue.SimpleQueue(), [signal.SIGCHLD, signal.SIGHUP], "serves"),
                                       ([], [], "serves")):
            for signum in held:
                pending.put(signum) if isinstance(pending, queue.SimpleQueue) else pending.append(signum)
            worker = _Worker()
            if outcome == "exits":
                with pytest.raises(SystemExit):
                    serving._stop_while_booting(types.SimpleNamespace(SIG_QUEUE=pending), worker)
            else:
                serving._stop_while_booting(types.SimpleNamespace(SIG_QUEUE=pending), worker)
            assert worker.alive is (outcome == "serves"), held
            assert not serving._taken(pending)          # emptied: the master's signals are not the worker's
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


def test_a_stop_arriving_while_the_worker_boots_is_kept():
    saved = {signum: signal.getsignal(signum) for signum in serving._STOPS}
    try:
        worker = _Worker()
        serving._stop_while_booting(types.SimpleNamespace(SIG_QUEUE=queue.SimpleQueue()), worker)
        # a handler of ours in place, or raising the signal below would end the test run itself
        assert all(signal.getsignal(signum) is not saved[signum] for signum in serving._STOPS)
        signal.raise_signal(signal.SIGTERM)
        assert worker.alive is False
        for signum in (signal.SIGQUIT, signal.SIGINT):
            worker.alive = True
            with pytest.raises(SystemExit):
                signal.raise_signal(signum)
            assert worker.alive is False
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
