"""Attacks on every write route by every kind of account, against real gunicorn servers (two workers)
on a GeoPackage store and on a real PostgreSQL + PostGIS.

Roles: an admin; an editor of Xuhui (310104); an editor of Xuhui and Pudong (310115); a viewer;
a disabled account; a revoked token. Routes: the JSON write API (POST, PUT, PATCH, DELETE), OGC
API – Features Part 4 (POST, PUT, PATCH, DELETE), moving a station into another district by
either API, and, through the store, applying and reverting an import and undoing a change. Each
forbidden attempt must answer 403 (401 for a dead token), change nothing in the store (a dump of
every register table before and after) and leave a refusal in the audit.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
import sqlalchemy as sa
from conftest import Server

from stationmap.accounts import Account
from stationmap.permissions import Forbidden
from stationmap.stations import from_frame
from stationmap.store import Store

XUHUI, PUDONG, HONGKOU = "310104", "310115", "310109"
OP = Account.operator("tests")
STATIONS = {"X-1": XUHUI, "X-2": XUHUI, "X-3": XUHUI, "P-1": PUDONG, "H-1": HONGKOU,
            "OK-1": XUHUI, "OK-2": XUHUI}
MERGE, GEOJSON = "application/merge-patch+json", "application/geo+json"

#: Each attacker: the account, the station it must not touch, one of its own it must not move away
#: (into ``elsewhere``), the answer expected.
ATTACKERS = {
    "editor-xuhui": ("xu", "P-1", "X-1", PUDONG, 403),
    "editor-xuhui-pudong": ("li", "H-1", "X-2", HONGKOU, 403),
    "viewer": ("wang", "X-3", "X-3", PUDONG, 403),
    "disabled": ("old", "X-3", "X-3", XUHUI, 401),
    "revoked-token": ("gone", "X-3", "X-3", XUHUI, 401),
}


def _frame(ids_adcodes: dict[str, str], **more) -> pd.DataFrame:
    ids = list(ids_adcodes)
    return from_frame(pd.DataFrame({"id": ids, "name": [f"驿站{i}" for i in ids], "lon": [121.44] * len(ids),
                                    "lat": [31.19] * len(ids), "adcode": list(ids_adcodes.values()),
                                    "opening_hours": ["24/7"] * len(ids), **more}))


def _prepare(url: str) -> dict[str, str]:
    """Seed the stations and the people; an admin's import and an admin's change to undo later."""
    store = Store.open(url, upgrade=True)
    try:
        store.seed(_frame(STATIONS), file_name="seed.csv", digest="", who="tests")
        password = secrets.token_urlsafe(16)
        for name, role, adcodes in [("chen", "admin", ()), ("xu", "editor", (XUHUI,)),
                                    ("li", "editor", (XUHUI, PUDONG)), ("wang", "viewer", ()),
                                    ("old", "editor", (XUHUI,)), ("gone", "admin", ())]:
            store.add_account(name, role, adcodes, password=password, actor=OP)
        tokens = {name: store.new_token(name, "attack", actor=OP) for name in ("chen", "xu", "li", "wang", "old",
                                                                               "gone")}
        store.disable_account("old", actor=OP)
        store.revoke_token(store.tokens("gone")[0].id, actor=OP)
        admin = store.account("chen")
        targets = {"P-1": PUDONG, "H-1": HONGKOU, "X-3": XUHUI}
        store.apply_import(_frame(targets, phone=["021-1"] * 3), file_name="admin.csv", actor=admin)
        for station in targets:
            store.update(station, {"name": f"改名{station}"}, expected_version=2, actor=admin)
        return tokens
    finally:
        store.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"attack-{request.param}")
    url = f"sqlite:///{folder / 'register.gpkg'}" if request.param == "sqlite" else \
        request.getfixturevalue("postgres").database()
    tokens = _prepare(url)
    server = Server(env={"STATIONMAP_DATABASE_URL": url, "STATIONMAP_INSTANCE_PATH": str(folder / "instance")},
                    workers=2)
    store = Store.open(url)
    yield server.url, store, tokens
    store.close()
    server.stop()


def call(method: str, url: str, body: dict | None, token: str, content_type: str = "application/json",
         version: int | None = None) -> tuple[int, str, dict]:
    """One request on a new connection: (status, media type, JSON body or {})."""
    headers = {"Connection": "close", "Authorization": f"Bearer {token}"}
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    if data is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            raw, status, media = response.read(), response.status, response.headers.get_content_type()
    except urllib.error.HTTPError as error:
        raw, status, media = error.read(), error.code, error.headers.get_content_type()
    return status, media, (json.loads(raw) if raw else {})


def dump(store: Store) -> list:
    """Every row of the register's tables and of the accounts: what a refused attempt must leave as it was."""
    from stationmap.store.schema import accounts, history, imports, register, stations

    with store.engine.connect() as c:
        return [sorted(map(repr, c.execute(sa.select(t)).all())) for t in (stations, history, imports, register,
                                                                          accounts)]


def _version(base: str, station: str) -> int:
    with urllib.request.urlopen(f"{base}/api/v1/stations/{station}", timeout=20) as response:
        return int(json.loads(response.read())["version"])


def _routes(base: str, target: str, own: str, elsewhere: str, label: str):
    """Every write route aimed at what the attacker may not change: (name, method, url, body, type, version)."""
    api, ogc = f"{base}/api/v1/stations", f"{base}/ogc/collections/stations/items"
    adcode = STATIONS[target]
    station = {"name": "被篡改", "adcode": adcode, "lon": 121.44, "lat": 31.19, "reason": "attack"}
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.44, 31.19]},
               "properties": {"name": "被篡改", "adcode": adcode}}
    new_where = elsewhere if elsewhere != STATIONS[own] else PUDONG
    return [
        ("api POST", "POST", api, {**station, "id": f"NEW-{label}", "adcode": new_where}, "application/json", None),
        ("api PUT", "PUT", f"{api}/{target}", station, "application/json", _version(base, target)),
        ("api PATCH", "PATCH", f"{api}/{target}", {"name": "被篡改"}, MERGE, _version(base, target)),
        ("api PATCH move", "PATCH", f"{api}/{own}", {"adcode": elsewhere}, MERGE, _version(base, own)),
        ("api DELETE", "DELETE", f"{api}/{target}", None, "", _version(base, target)),
        ("ogc POST", "POST", ogc, {**feature, "id": f"NEW-OGC-{label}",
                                   "properties": {"name": "新", "adcode": new_where}}, GEOJSON, None),
        ("ogc PUT", "PUT", f"{ogc}/{target}", feature, GEOJSON, _version(base, target)),
        ("ogc PATCH", "PATCH", f"{ogc}/{target}", {"properties": {"name": "被篡改"}}, MERGE, _version(base, target)),
        ("ogc PATCH move", "PATCH", f"{ogc}/{own}", {"properties": {"adcode": elsewhere}}, MERGE,
         _version(base, own)),
        ("ogc DELETE", "DELETE", f"{ogc}/{target}", None, "", _version(base, target)),
    ]


@pytest.mark.parametrize("attacker", ATTACKERS)
def test_every_write_route_refuses_what_the_account_may_not_change_and_changes_nothing(site, attacker):
    base, store, tokens = site
    name, target, own, elsewhere, expected = ATTACKERS[attacker]
    before, refused_before = dump(store), len(store.audit(outcome="refused", limit=10_000))
    routes = _routes(base, target, own, elsewhere, attacker)
    for route, method, url, body, media, version in routes:
        status, kind, problem = call(method, url, body, tokens[name], media, version)
        assert (status, kind) == (expected, "application/problem+json"), (route, problem)
        if expected == 403:
            assert problem["detail_zh"] and problem["detail_en"] and problem["detail"].count(" / ") >= 1, route
    assert dump(store) == before
    refusals = store.audit(outcome="refused", limit=len(routes))
    assert len(store.audit(outcome="refused", limit=10_000)) == refused_before + len(routes)
    assert {e.who for e in refusals} == {f"token:{name}/attack"}
    assert {e.source for e in refusals} == {"api", "ogc"} and all(e.address == "127.0.0.1" for e in refusals)


@pytest.mark.parametrize("attacker", [a for a in ATTACKERS if a != "revoked-token"])
def test_imports_reverts_and_undo_through_the_store_refuse_the_same_accounts(site, attacker):
    base, store, _tokens = site
    name, target, _own, _elsewhere, _expected = ATTACKERS[attacker]
    actor = store.account(name).acting_from("admin", "10.1.2.3")
    admin_import = next(i for i in store.imports() if i["file_name"] == "admin.csv")
    before = dump(store)
    attempts = [
        lambda: store.apply_import(_frame({target: STATIONS[target]}, phone=["021-666"]), file_name="evil.csv",
                                   actor=actor),
        lambda: store.revert_import(admin_import["id"], actor=actor),
        lambda: store.undo_change(target, 3, expected_version=3, actor=actor),
    ]
    for attempt in attempts:
        with pytest.raises(Forbidden):
            attempt()
    assert dump(store) == before
    refusals = store.audit(outcome="refused", limit=3)
    assert [e.action for e in refusals] == ["change.undo", "import.revert", "import.apply"]
    assert {(e.who, e.address) for e in refusals} == {(f"user:{name}", "10.1.2.3")}


def test_a_revoked_token_has_no_account_to_act_as_through_the_store(site):
    _base, store, tokens = site
    assert store.account_for_token(tokens["gone"]) is None and store.account_for_token(tokens["old"]) is None


def test_allowed_changes_pass_by_every_route_and_a_move_needs_both_districts(site):
    base, store, tokens = site
    api, ogc = f"{base}/api/v1/stations", f"{base}/ogc/collections/stations/items"
    status, _, body = call("PATCH", f"{api}/OK-1", {"phone": "021-2"}, tokens["xu"], MERGE, _version(base, "OK-1"))
    assert status == 200 and body["phone"] == "021-2"
    status, _, _ = call("PATCH", f"{ogc}/OK-2", {"properties": {"adcode": PUDONG}}, tokens["li"], MERGE,
                        _version(base, "OK-2"))
    assert status == 204 and store.get("OK-2")["adcode"] == PUDONG
    status, _, _ = call("POST", api, {"id": "OK-9", "name": "虹口新站", "adcode": HONGKOU, "lon": 121.48, "lat": 31.26},
                        tokens["chen"])
    assert status == 201
    status, _, _ = call("DELETE", f"{ogc}/OK-9", None, tokens["chen"], "", 1)
    assert status == 204
    assert [e.who for e in store.audit(outcome="done", limit=4)] == [
        "token:chen/attack", "token:chen/attack", "token:li/attack", "token:xu/attack"]
    store.undo_change("OK-2", 2, expected_version=2, actor=store.account("li"))
    assert store.get("OK-2")["adcode"] == XUHUI


def _together(requests: int, fn) -> list:
    with ThreadPoolExecutor(max_workers=requests) as pool:
        return list(pool.map(lambda _i: fn(), range(requests)))


def test_a_revoked_token_and_a_disabled_account_are_refused_at_once_by_every_worker(site):
    base, store, _tokens = site
    store.add_account("tmp", "editor", (XUHUI,), password=secrets.token_urlsafe(16), actor=OP)
    token = store.new_token("tmp", "fresh", actor=OP)
    url = f"{base}/api/v1/stations/OK-1"

    def patch() -> int:
        # Unchanged phone: the token is checked and the edit passes, but no new version is made.
        return call("PATCH", url, {"phone": store.get("OK-1")["phone"]}, token, MERGE, _version(base, "OK-1"))[0]

    assert set(_together(8, patch)) == {200}
    store.disable_account("tmp", actor=OP)
    assert set(_together(8, patch)) == {401}          # no worker remembers the account
    store.enable_account("tmp", actor=OP)
    assert set(_together(8, patch)) == {200}
    store.revoke_token(store.tokens("tmp")[0].id, actor=OP)
    assert set(_together(8, patch)) == {401}
    refused = store.audit(who="token:tmp/fresh", outcome="refused", limit=100)
    assert len(refused) == 16 and {e.reason.split(" — ")[0].split(" / ")[1] for e in refused} == {
        "the account is disabled", "the token was revoked"}
