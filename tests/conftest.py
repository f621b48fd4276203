"""Shared fixtures: the shipped Shanghai sample and a synthetic all-China station set."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from stationmap.index import StationIndex
from stationmap.stations import from_frame, read_stations
from stationmap.testing import random_points_in_china

HOURS = ["24/7", "Mo-Fr 09:30-17:00", "08:30-11:00,13:30-17:00", "06:00-23:00", ""]
AMENITY_SETS = ["drinking_water;microwave;phone_charging", "toilet;microwave", "drinking_water", ""]


@pytest.fixture(scope="session")
def shanghai():
    """The shipped Shanghai sample, indexed."""
    return StationIndex(read_stations())


@pytest.fixture(scope="session")
def china():
    """20,000 stations scattered over all of China with mixed types, hours and statuses."""
    n = 20_000
    rng = np.random.default_rng(7)
    lon, lat = random_points_in_china(n, seed=7)
    frame = pd.DataFrame({
        "id": [f"CN-{i:05d}" for i in range(n)],
        "name": [f"站点{i}" for i in range(n)],
        "lon": lon,
        "lat": lat,
        "type": rng.choice(["outdoor_worker_station", "driver_home", "new_employment_hub"], n),
        "access": rng.choice(["public", "union_members"], n, p=[0.8, 0.2]),
        "opening_hours": rng.choice(HOURS, n),
        "amenities": rng.choice(AMENITY_SETS, n),
        "status": rng.choice(["open", "temporarily_closed", "closed"], n, p=[0.96, 0.03, 0.01]),
    })
    return StationIndex(from_frame(frame))


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_program(*names: str, package: str) -> str:
    """The path of the first of the programs ``names`` installed (from the Debian package
    ``package``, which scripts/test.sh installs; ``/usr/sbin`` is searched too, where Debian puts
    nginx, outside a user's ``PATH``); without one the test skips, or fails under CI: a test
    that always skips there tests nothing.
    """
    import shutil

    search = os.pathsep.join([os.environ.get("PATH", os.defpath), "/usr/sbin", "/sbin"])
    for name in names:
        path = shutil.which(name, path=search)
        if path is not None:
            return path
    message = f"{names[0]} is not installed (Debian package {package}; scripts/test.sh installs it when run as root)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


#: Every server the suite started, so a failed test's report can show what they logged meanwhile.
SERVERS: list[Server] = []
_LOG_MARKS = pytest.StashKey[tuple]()
#: A server writes its access lines in batches (stationmap/web/log_writer.py, every 0.2 s).
_LOG_BATCH_S = 0.2


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    from datetime import UTC, datetime

    # where each server's log stood (None: stopped before the test began, it has nothing to say)
    sizes = {id(server): None if server.stopped_at is not None else server.log_size() for server in SERVERS}
    item.stash[_LOG_MARKS] = (datetime.now(UTC), sizes)


def _logged_during(lines: list[str], began) -> list[str]:
    """``lines`` less the access lines of requests answered before ``began``: those of the test
    before may be written after this one began, with the next batch.
    """
    import json
    from datetime import datetime

    kept = []
    for line in lines:
        try:
            before = datetime.fromisoformat(json.loads(line)["time"]) < began
        except (ValueError, KeyError, TypeError):   # not an access line: a message, a traceback
            before = False
        if not before:
            kept.append(line)
    return kept


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report carries what each server logged while the test ran (one that
    timed out waiting for a page says little without the server's side): the end of it, and
    nothing from servers that logged nothing meanwhile.
    """
    import time

    outcome = yield
    report = outcome.get_result()
    marks = item.stash.get(_LOG_MARKS, None)
    if not report.failed or marks is None:
        return
    began, sizes = marks
    time.sleep(2 * _LOG_BATCH_S)                    # the test's own last lines are written
    for server in SERVERS:
        if id(server) in sizes and sizes[id(server)] is None:
            continue
        try:
            lines = _logged_during(server.log(since=sizes.get(id(server)) or 0).splitlines(), began)
        except OSError as error:                    # raised here it would end the whole run (INTERNALERROR)
            report.sections.append((f"stationmap serve on port {server.port}: its log cannot be read", str(error)))
            continue
        if lines:
            report.sections.append((f"stationmap serve on port {server.port}: the last {min(len(lines), 80)} of "
                                    f"the {len(lines)} lines it logged during the test", "\n".join(lines[-80:])))


class Server:
    """``stationmap serve`` (gunicorn) in a subprocess on a free loopback port."""

    def __init__(self, *args: str, env: dict | None = None, workers: int = 2):
        import os
        import subprocess
        import sys

        self.stopped_at: float | None = None
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("STATIONMAP_")}
        environment.update(env or {})
        import tempfile

        # A file, not a pipe: the server writes an access log line per request, and a pipe
        # nobody reads fills up and stops it.
        handle, self._log_path = tempfile.mkstemp(prefix="stationmap-serve-", suffix=".log")
        os.close(handle)
        with open(self._log_path, "ab") as output:          # append mode: the reader never moves the writer
            self.process = subprocess.Popen(
                [sys.executable, "-m", "stationmap", "serve", "--port", str(self.port), "--workers", str(workers),
                 *args], env=environment, stdout=output, stderr=subprocess.STDOUT)
        SERVERS.append(self)
        self._wait()

    def _wait(self) -> None:
        import time
        import urllib.request

        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                if self.process.poll() is not None:
                    self.stopped_at = time.monotonic()      # ended: not running during later tests
                    raise RuntimeError(f"stationmap serve exited:\n{self.log()}") from None
                if time.monotonic() > deadline:
                    message = "stationmap serve did not answer /healthz within 90 s"
                    try:
                        self.stop()
                    except AssertionError as error:     # both said: neither hides the other
                        raise RuntimeError(f"{message}; and {error}") from None
                    raise RuntimeError(message) from None
                time.sleep(0.2)

    def log(self, since: int = 0) -> str:
        """What the server wrote to stdout and stderr so far (from byte ``since`` on)."""
        with open(self._log_path, "rb") as f:
            f.seek(since)
            return f.read().decode("utf-8", errors="replace")

    def log_size(self) -> int:
        """How many bytes the server has logged so far."""
        try:
            return os.path.getsize(self._log_path)
        except OSError:
            return 0

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM, as a service manager stops it; a server still running ``timeout`` s later
        (gunicorn's graceful timeout) is a failure that names what was still running, and every
        process of it is killed, so that none outlives the test.

        The failure is raised chained, never ``from None``: called in a test's ``finally``, the
        test's own failure is the chain's first link, and cutting the chain would hide it.
        """
        import signal
        import subprocess
        import time

        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            running, pids = _process_tree(self.process.pid)
            for pid in pids:                        # workers too: a stuck one would not notice its master go
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.process.wait(timeout=10)
        finally:
            if self.stopped_at is None:
                self.stopped_at = time.monotonic()
        raise AssertionError(f"stationmap serve on port {self.port} did not stop within {timeout:g} s of "
                             f"SIGTERM; still running then:\n{running}")


def children(pid: int) -> list[int]:
    """The children of every thread of ``pid``: a process forked by a thread other than the main
    one (a pool worker replaced by the pool service's slot thread) is that thread's child."""
    import glob

    found: list[int] = []
    for task in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(task) as f:
                found += [int(child) for child in f.read().split()]
        except OSError:
            continue
    return found


def running(pid: int) -> bool:
    """The process ``pid`` has not ended (a zombie nobody reaped yet has ended too)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _process_tree(pid: int, depth: int = 0) -> tuple[str, list[int]]:
    """``pid`` and its descendants: a line each (pid, state, what it waits in, threads, command),
    and their pids.
    """
    def read(name: str) -> str:
        try:
            with open(f"/proc/{pid}/{name}", "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    stat = read("stat").rsplit(")", 1)[-1].split()
    state, threads = (stat[0], stat[17]) if len(stat) > 17 else ("?", "?")
    command = read("cmdline").replace("\0", " ").strip() or "?"
    lines = [f"{'  ' * depth}{pid} state {state}, waits in {read('wchan') or '?'}, {threads} threads: {command[:160]}"]
    pids = [pid]
    for child in sorted(children(pid)):
        text, below = _process_tree(child, depth + 1)
        lines.append(text)
        pids.extend(below)
    return "\n".join(lines), pids


@pytest.fixture(scope="session")
def live_server():
    """The real server on the shipped data with default settings; yields its base URL."""
    server = Server()
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def offline_server():
    """The real server with TILES=none: nothing on a page may come from outside."""
    server = Server(env={"STATIONMAP_TILES": "none"})
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL 15 + PostGIS server in a temporary directory (tests/postgres.py)."""
    import os

    import postgres as pg

    if not pg.available():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL 15 and PostGIS are not installed (scripts/test.sh installs them)")
        pytest.skip("PostgreSQL 15 and PostGIS are not installed (scripts/test.sh installs them)")
    with pg.postgresql() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """An empty database of each backend: a GeoPackage file, and a fresh PostGIS database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'register.gpkg'}"
    return request.getfixturevalue("postgres").database()


@pytest.fixture
def store(store_url):
    """A store of each backend seeded from the shipped Shanghai sample (a test module may
    define its own ``store`` instead)."""
    from stationmap.store import Store

    s = Store.open(store_url, upgrade=True)
    s.seed(read_stations(), file_name="shanghai_stations.geojson", digest="")
    yield s
    s.close()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's), one per test module."""
    from browser import chromium

    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def app():
    """The web app on the shipped data, default settings."""
    from stationmap.web import create_app

    return create_app({"TESTING": True})


@pytest.fixture(scope="module")
def client(app):
    """Flask's test client of :func:`app` (a module may override it with other settings)."""
    return app.test_client()
