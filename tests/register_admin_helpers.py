"""What the import, audit and undo page tests share: a store with people of every role, an app on it,
and reading a page's CSRF token."""

from __future__ import annotations

import re

import sqlalchemy as sa

from stationmap.accounts import Account
from stationmap.stations import read_stations
from stationmap.store import Store

OPERATOR = Account.operator("tester")
PASSWORD = "correct horse battery"
#: name → (role, districts)
PEOPLE = {"city": ("admin", ()), "xuhui": ("editor", ("310104",)), "auditor": ("viewer", ())}
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def seeded_store(url: str) -> Store:
    """A store at ``url`` with the shipped sample and one account of each role."""
    store = Store.open(url, upgrade=True)
    store.seed(read_stations(), file_name="shanghai_stations.geojson", digest="")
    for name, (role, codes) in PEOPLE.items():
        store.add_account(name, role, codes, password=PASSWORD, actor=OPERATOR)
    return store


def make_app(url: str, instance: str):
    """The web app on the store at ``url`` (instance folder ``instance``), CSRF on as in production."""
    import os

    from stationmap.web import create_app

    os.environ["STATIONMAP_INSTANCE_PATH"] = instance
    try:
        return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-" + "k" * 40,
                           "WATCH_INTERVAL": 0.2, "RATELIMIT_ENABLED": False})
    finally:
        os.environ.pop("STATIONMAP_INSTANCE_PATH", None)


def csrf(page_text: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _TOKEN.search(page_text)
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(client, name: str) -> str:
    """Sign ``name`` in through the sign-in form; returns a CSRF token for the session's forms."""
    login = client.get("/admin/login")
    response = client.post("/admin/login", data={"name": name, "password": PASSWORD, "csrf_token": csrf(login.text)})
    assert response.status_code in (302, 303), response.text[:500]
    return csrf(client.get("/admin/import").text)


def dump(store: Store) -> dict[str, list[tuple]]:
    """Every row of the register's tables (not the audit, which refusals add to)."""
    tables = {}
    with store.engine.connect() as c:
        for name in ("stations", "station_history", "imports", "register"):
            tables[name] = [tuple(r) for r in c.execute(sa.text(f"SELECT * FROM {name} ORDER BY 1"))]
    return tables
