"""The admin against real gunicorn servers (two workers) on a GeoPackage store and on a real
PostgreSQL + PostGIS: a disabled account and a signed-out cookie are refused at once by every
worker, an edit and a conflict through the form, a viewer's crafted posts refused with nothing
changed, and production keeping the admin off without a secret key.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from admin_helpers import PASSWORD, SECRET, XUHUI, csrf_token, form_fields, seeded_store
from conftest import Server

from stationmap.accounts import Account
from stationmap.store import Store


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie jar and a new connection per request (so requests spread over the workers)."""

    def __init__(self, base: str, cookie: str | None = None):
        self.base = base
        self.cookie = cookie

    def request(self, path: str, data: dict | None = None) -> tuple[int, dict, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers={"Connection": "close"})
        if self.cookie:
            request.add_header("Cookie", f"stationmap_session={self.cookie}")
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=30) as response:
                status, headers, text = response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            status, headers, text = error.code, dict(error.headers), error.read().decode()
        found = re.search(r"stationmap_session=([^;]*)", headers.get("Set-Cookie", ""))
        if found:
            self.cookie = found.group(1)
        return status, headers, text

    def sign_in(self, name: str) -> int:
        _, _, page = self.request("/admin/login")
        return self.request("/admin/login", {"name": name, "password": PASSWORD, "csrf_token": csrf_token(page)})[0]


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, tmp_path):
    url = (f"sqlite:///{tmp_path / 'register.gpkg'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres").database())
    seeded_store(url)
    running = Server(env={"STATIONMAP_DATABASE_URL": url, "STATIONMAP_SECRET_KEY": SECRET,
                          "STATIONMAP_INSTANCE_PATH": str(tmp_path / "instance"), "STATIONMAP_TILES": "none"},
                     workers=2)
    running.store = Store.open(url)
    yield running
    running.store.close()
    running.stop()


def _statuses(browser: Browser, n: int = 6) -> set[int]:
    return {browser.request("/admin/")[0] for _ in range(n)}


def test_a_disabled_account_is_signed_out_at_once_in_every_worker(server):
    operator = Account.operator("tests")
    server.store.add_account("gone", "editor", ("310104",), password=PASSWORD, actor=operator)
    person = Browser(server.url)
    assert person.sign_in("gone") == 303 and _statuses(person) == {200}
    server.store.disable_account("gone", actor=operator)
    assert _statuses(person) == {303}


def test_a_signed_out_cookie_is_dead_in_every_worker(server):
    person = Browser(server.url)
    assert person.sign_in("ada") == 303
    thief = Browser(server.url, person.cookie)
    assert _statuses(thief) == {200}
    _, _, page = person.request("/admin/")
    assert person.request("/admin/logout", {"csrf_token": csrf_token(page)})[0] == 303
    assert _statuses(thief) == {303} and _statuses(person) == {303}


def test_an_edit_and_a_conflict_through_the_form(server):
    ada, xu = Browser(server.url), Browser(server.url)
    assert ada.sign_in("ada") == 303 and xu.sign_in("xu") == 303
    mine = form_fields(ada.request(f"/admin/stations/{XUHUI}")[2])
    theirs = form_fields(xu.request(f"/admin/stations/{XUHUI}")[2])
    assert xu.request(f"/admin/stations/{XUHUI}", theirs | {"phone": "021-1"})[0] == 303
    status, _, page = ada.request(f"/admin/stations/{XUHUI}", mine | {"phone": "021-2"})
    assert status == 409 and "021-1" in page and "021-2" in page
    assert server.store.get(XUHUI)["phone"] == "021-1" and server.store.get(XUHUI)["version"] == 2


def test_a_viewers_crafted_posts_are_refused_and_change_nothing(server):
    vera = Browser(server.url)
    assert vera.sign_in("vera") == 303
    page = vera.request(f"/admin/stations/{XUHUI}")[2]
    fields = form_fields(page) | {"csrf_token": csrf_token(page)}
    before = server.store.get(XUHUI)
    assert vera.request(f"/admin/stations/{XUHUI}", fields | {"name": "x"})[0] == 403
    assert vera.request(f"/admin/stations/{XUHUI}/verified", {"csrf_token": fields["csrf_token"],
                                                              "version": "1"})[0] == 403
    assert vera.request("/admin/stations/new", fields | {"id": "V-1", "adcode": "310104"})[0] == 403
    assert server.store.get(XUHUI) == before
    assert len(server.store.audit(who="user:vera", outcome="refused")) == 3


def test_production_without_a_secret_key_keeps_the_admin_off_and_serves_the_rest(tmp_path):
    url = f"sqlite:///{tmp_path / 'register.gpkg'}"
    seeded_store(url)
    running = Server(env={"STATIONMAP_DATABASE_URL": url, "STATIONMAP_INSTANCE_PATH": str(tmp_path / "instance"),
                          "STATIONMAP_TILES": "none"}, workers=1)
    try:
        status, _, body = Browser(running.url).request("/admin/login")
        assert status == 503 and "STATIONMAP_SECRET_KEY" in body
        assert Browser(running.url).request("/")[0] == 200
        assert "STATIONMAP_SECRET_KEY is not set" in running.log()
    finally:
        running.stop()
