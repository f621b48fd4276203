"""Which store to use: one setting, ``STATIONMAP_DATABASE_URL``, and a default that needs no set-up.

The default is ``register.gpkg`` in the instance folder, seeded from the shipped Shanghai sample
the first time it is opened, so ``stationmap serve`` works straight after ``pip install``. The
seeding is built in a temporary file and linked into place, so two processes starting at once
never see (or both write) a half-made register.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

from ..stations import default_path, read_stations

FILE_NAME = "register.gpkg"
ENVIRONMENT = "STATIONMAP_DATABASE_URL"


def instance_path() -> Path:
    """The instance folder the web app uses, found without importing the web layer (for commands
    that open the default store): ``STATIONMAP_INSTANCE_PATH``, else Flask's rule — an installed
    package uses ``<prefix>/var/stationmap-instance``, a checkout ``<project>/instance``.
    """
    chosen = os.environ.get("STATIONMAP_INSTANCE_PATH")
    if chosen:
        return Path(chosen)
    project = Path(__file__).resolve().parents[2]
    prefix = Path(sys.prefix).resolve()
    if prefix == project or prefix in project.parents or project.name.lower() == "site-packages":
        return prefix / "var" / "stationmap-instance"
    return project / "instance"


def default_url(instance_path: str | os.PathLike) -> str:
    """The default store: a GeoPackage in the instance folder."""
    return f"sqlite:///{Path(instance_path).resolve() / FILE_NAME}"


def resolve_url(explicit: str | None, instance_path: str | os.PathLike) -> str:
    """``explicit`` (a ``--database`` option or the app setting), else the environment, else the
    default file.
    """
    return explicit or os.environ.get(ENVIRONMENT) or default_url(instance_path)


def is_default(url: str, instance_path: str | os.PathLike) -> bool:
    """Whether ``url`` is the default file, which may be created and seeded without being asked."""
    return url == default_url(instance_path)


def ensure_default(instance_path: str | os.PathLike) -> Path:
    """Create and seed the default store if it does not exist yet, or bring an existing one to
    this stationmap's schema; returns its path.

    The embedded register is the app's own file, so a new stationmap migrates it as it opens it
    (a configured server's database waits for ``stationmap db upgrade``): someone who upgrades the
    package and runs ``stationmap serve`` again keeps their register and their edits.
    """
    from .register import Store

    target = Path(instance_path).resolve() / FILE_NAME
    if target.exists():
        Store.open(f"sqlite:///{target}", upgrade=True).close()
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    sample = default_path()
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".register-") as folder:
        temp = Path(folder) / FILE_NAME
        store = Store.open(f"sqlite:///{temp}", upgrade=True)
        try:
            store.seed(read_stations(sample), file_name=sample.name, who="stationmap",
                       digest=hashlib.sha256(sample.read_bytes()).hexdigest(), reason="the shipped synthetic sample",
                       is_sample=True)
        finally:
            store.close()       # the last connection to close folds the WAL into the file
        try:
            os.link(temp, target)                  # atomic, and never replaces a register
        except FileExistsError:
            pass
    return target


def url_for_display(url: str) -> str:
    """The URL without its password, for messages."""
    return sa.make_url(url).render_as_string(hide_password=True)
