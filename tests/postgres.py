"""A real PostgreSQL + PostGIS server for the tests, started in a temporary directory.

Debian's ``postgresql-15`` and ``postgresql-15-postgis-3`` provide the binaries (scripts/test.sh
installs them when missing). ``initdb`` refuses to run as root, so as root the server runs as the
``postgres`` user; its data directory and unix socket live in a fresh temporary directory that
is removed afterwards. Clients connect over loopback TCP on a free port with ``trust``
authentication (nothing else can reach it).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

BIN = Path(os.environ.get("STATIONMAP_PG_BIN", "/usr/lib/postgresql/15/bin"))


def available() -> bool:
    """Whether the server binaries and PostGIS are installed."""
    return (BIN / "initdb").is_file() and Path("/usr/share/postgresql/15/extension/postgis.control").is_file()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--"] if user else []


class PostgresServer:
    """A running server; :meth:`database` makes a fresh PostGIS database from a template (fast)."""

    def __init__(self, port: int, role: str):
        self.port, self.role, self._count = port, role, 0

    def _connect(self, dbname: str):
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user=self.role, dbname=dbname, autocommit=True)

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{self.role}@127.0.0.1:{self.port}/{dbname}"

    def database(self) -> str:
        """A new empty database with PostGIS; returns its SQLAlchemy URL."""
        self._count += 1
        name = f"stationmap_{self._count}"
        with self._connect("postgres") as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE stationmap_template")
        return self.url(name)


@contextlib.contextmanager
def postgresql() -> Iterator[PostgresServer]:
    """Start a server with a PostGIS template database; yield it; stop it and remove its files."""
    root = Path(tempfile.mkdtemp(prefix="stationmap-pg-"))
    user = "postgres" if os.geteuid() == 0 else None
    role = user or getpass.getuser()
    if user:
        shutil.chown(root, user)
    data, port = root / "data", _free_port()
    run = _as_server_user(user)
    try:
        subprocess.run([*run, str(BIN / "initdb"), "-D", str(data), "-U", role, "--auth=trust",
                        "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True, timeout=120)
        subprocess.run([*run, str(BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-t", "60",
                        "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                       check=True, capture_output=True, timeout=120)
        try:
            server = PostgresServer(port, role)
            with server._connect("postgres") as conn:
                conn.execute("CREATE DATABASE stationmap_template")
            with server._connect("stationmap_template") as conn:
                conn.execute("CREATE EXTENSION postgis")
            yield server
        finally:
            subprocess.run([*run, str(BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop"],
                           capture_output=True, timeout=120)
    finally:
        shutil.rmtree(root, ignore_errors=True)
