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

from conftest import _free_port

from stationmap.web import serve as serving

#: A server whose one worker, once forked, waits in its catch-up with the store until the test
#: says "go", and notes it if it leaves on its own (an exit handler, which a SIGKILL skips).
SCRIPT = '''
import atexit, os, sys, time
from pathlib import Path
from stationmap import live
from stationmap.web import serve as serving

folder = Path(sys.argv[2])
real_start, real_post_fork = live.start, serving._post_fork
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

live.start = waiting_start
serving._post_fork = post_fork
serving.serve(port=int(sys.argv[1]), workers=1, access_log="off")
'''


def _wait_for(path, process: subprocess.Popen, bound: float = 90) -> None:
    deadline = time.monotonic() + bound
    while not path.exists():
        assert process.poll() is None, "the server exited before its worker booted"
        assert time.monotonic() < deadline, f"no {path.name} within {bound:.0f} s"
        time.sleep(0.05)


def test_a_server_stopped_while_its_worker_is_still_booting_stops_it_without_a_kill(tmp_path):
    script = tmp_path / "serve_waiting.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATIONMAP_")}
    env["STATIONMAP_INSTANCE_PATH"] = str(tmp_path / "instance")
    with open(tmp_path / "serve.log", "wb") as log:
        master = subprocess.Popen([sys.executable, str(script), str(_free_port()), str(tmp_path)], env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for(tmp_path / "booting", master)
        master.terminate()
        time.sleep(1.0)                    # the master passes the stop on to its worker, still booting
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
    copy of the master's queue (a ``SimpleQueue`` in gunicorn ≥ 24, a list before)."""
    saved = {signum: signal.getsignal(signum) for signum in serving._STOPS}
    try:
        for pending, held, stops in ((queue.SimpleQueue(), [signal.SIGCHLD, signal.SIGTERM], True),
                                     ([], [signal.SIGQUIT], True),
                                     (queue.SimpleQueue(), [signal.SIGCHLD, signal.SIGHUP], False),
                                     ([], [], False)):
            for signum in held:
                pending.put(signum) if isinstance(pending, queue.SimpleQueue) else pending.append(signum)
            worker = _Worker()
            serving._stop_while_booting(types.SimpleNamespace(SIG_QUEUE=pending), worker)
            assert worker.alive is not stops, held
            assert not serving._taken(pending)          # emptied: the master's signals are not the worker's
            worker.alive = True
            signal.raise_signal(signal.SIGTERM)         # and from now on a stop is kept
            assert worker.alive is False
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
