"""Sign-in done properly, attacked the way an attacker would: Flask's test client on a real
GeoPackage store with real accounts (Argon2 hashes), rate limits on. Cookie flags, CSRF,
session fixation, sign-out and disabled accounts, idle expiry, open redirects, brute force,
and the secret key. The same server under gunicorn and PostgreSQL: tests/test_admin_live.py.
"""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

import pytest
from admin_helpers import PASSWORD, SECRET, XUHUI, csrf_token, form_fields, seeded_store, sign_in

from stationmap.accounts import Account
from stationmap.errors import InputError
from stationmap.store import Store
from stationmap.web import create_app


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    return seeded_store(f"sqlite:///{tmp_path_factory.mktemp('admin') / 'register.gpkg'}")


@pytest.fixture
def app(url):
    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": SECRET, "RATELIMIT_ENABLED": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def store(url):
    opened = Store.open(url)
    yield opened
    opened.close()


def _session_cookie(response) -> SimpleCookie:
    cookie = SimpleCookie()
    for header in response.headers.getlist("Set-Cookie"):
        cookie.load(header)
    return cookie


def _cookie_header(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("stationmap_session="))


def _signed_in(client) -> bool:
    response = client.get("/admin/")
    return response.status_code == 200


def _with_cookie(app, value: str):
    other = app.test_client()
    other.set_cookie("stationmap_session", value, domain="localhost")
    return other


def test_pages_redirect_to_the_sign_in_page_with_next_and_json_gets_a_401(client):
    response = client.get("/admin/stations/SH-310104-0001?lang=en")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/admin/login?next=%2Fadmin%2Fstations%2FSH-310104-0001")
    api = client.get("/admin/hours-preview?text=24/7", headers={"Accept": "application/json"})
    assert api.status_code == 401 and api.mimetype == "application/problem+json"


def test_the_session_cookie_is_httponly_samesite_lax_and_not_secure_unless_configured(client, url):
    response = sign_in(client, "ada")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/"
    header = _cookie_header(response)
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header
    secure = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": SECRET, "SECURE_COOKIES": "true"})
    secured = sign_in(secure.test_client(), "ada")
    assert "Secure" in _cookie_header(secured)


def test_public_pages_set_no_cookie_and_admin_pages_are_not_cached(client):
    assert client.get("/").headers.getlist("Set-Cookie") == []
    assert client.get("/api/v1/stations/nearest?lat=31.23&lon=121.47").headers.getlist("Set-Cookie") == []
    login = client.get("/admin/login")
    assert login.headers["Cache-Control"] == "no-store" and "frame-ancestors 'none'" in login.headers[
        "Content-Security-Policy"]


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_a_sign_in_without_this_sessions_csrf_token_is_refused_400(client, token):
    client.get("/admin/login")
    data = {"name": "ada", "password": PASSWORD} | ({"csrf_token": token} if token is not None else {})
    response = client.post("/admin/login", data=data)
    assert response.status_code == 400 and "表单已过期" in response.get_data(as_text=True)
    assert not _signed_in(client)


def test_a_csrf_token_from_another_session_does_not_count(app, client):
    other = app.test_client()
    stolen = csrf_token(other.get("/admin/login").get_data(as_text=True))
    client.get("/admin/login")
    response = client.post("/admin/login", data={"name": "ada", "password": PASSWORD, "csrf_token": stolen})
    assert response.status_code == 400 and not _signed_in(client)


def test_a_station_save_and_a_sign_out_without_the_token_change_nothing(client, store):
    sign_in(client, "ada")
    page = client.get(f"/admin/stations/{XUHUI}").get_data(as_text=True)
    fields = form_fields(page) | {"name": "改名了"}
    before = store.get(XUHUI)["version"]
    for token in (None, "wrong"):
        data = {k: v for k, v in fields.items() if k != "csrf_token"} | ({"csrf_token": token} if token else {})
        assert client.post(f"/admin/stations/{XUHUI}", data=data).status_code == 400
        assert client.post(f"/admin/stations/{XUHUI}/verified",
                           data={"version": str(before)} | ({"csrf_token": token} if token else {})).status_code == 400
    assert store.get(XUHUI)["version"] == before and store.get(XUHUI)["name"] != "改名了"
    assert client.post("/admin/logout").status_code == 400
    assert _signed_in(client)


def test_json_write_routes_need_no_csrf_token_and_a_session_does_not_authorise_them(client, store):
    sign_in(client, "ada")
    along = client.post("/api/v1/stations/along-route", json={"route": {"type": "LineString", "coordinates": [
        [121.43, 31.17], [121.45, 31.18]]}, "within_m": 500})
    assert along.status_code == 200
    before = store.get(XUHUI)["version"]
    write = client.patch(f"/api/v1/stations/{XUHUI}", data='{"name": "x"}',
                         content_type="application/merge-patch+json", headers={"If-Match": f'"{before}"'})
    assert write.status_code == 401 and store.get(XUHUI)["version"] == before


def test_a_cookie_from_before_sign_in_is_not_signed_in_afterwards(app, client):
    """Session fixation: the session is emptied and rotated at sign-in."""
    before = _session_cookie(client.get("/admin/login"))["stationmap_session"].value
    after = sign_in(client, "ada")
    assert _session_cookie(after)["stationmap_session"].value != before
    assert _signed_in(client)
    assert not _signed_in(_with_cookie(app, before))


def test_sign_out_ends_this_session_and_every_copy_of_it(app, client, store):
    response = sign_in(client, "ada")
    copy = _session_cookie(response)["stationmap_session"].value
    page = client.get("/admin/").get_data(as_text=True)
    out = client.post("/admin/logout", data={"csrf_token": csrf_token(page)})
    assert out.status_code == 303 and out.headers["Location"].startswith("/admin/login?signed_out=1")
    assert not _signed_in(client)
    assert not _signed_in(_with_cookie(app, copy))        # a thief's copy of the cookie is dead too


def test_a_disabled_account_is_signed_out_at_its_next_request(client, store):
    operator = Account.operator("tests")
    store.add_account("temp", "editor", ("310104",), password=PASSWORD, actor=operator)
    sign_in(client, "temp")
    assert _signed_in(client)
    store.disable_account("temp", actor=operator)
    response = client.get("/admin/")
    assert response.status_code == 303 and "/admin/login" in response.headers["Location"]
    assert sign_in(client, "temp").status_code == 200 and not _signed_in(client)      # and cannot come back


def test_a_new_password_signs_out_the_old_sessions(client, store):
    operator = Account.operator("tests")
    store.add_account("pw", "viewer", password=PASSWORD, actor=operator)
    sign_in(client, "pw")
    store.set_password("pw", PASSWORD + "!", actor=operator)
    assert not _signed_in(client)


def test_an_idle_session_ends_on_the_server(client):
    sign_in(client, "ada")
    with client.session_transaction() as session:
        session["seen"] -= 31 * 60                 # ADMIN_IDLE_MINUTES is 30 by default
    response = client.get("/admin/")
    assert response.status_code == 303 and "expired=1" in response.headers["Location"]
    assert "长时间未操作" in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)",
                                    "/\t/evil.example", "http:/evil.example", "\\\\evil.example", " //evil.example"])
def test_next_never_sends_a_signed_in_person_to_another_site(client, target):
    response = sign_in(client, "ada", next=target)
    assert response.status_code == 303 and response.headers["Location"] == "/admin/"
    again = client.get("/admin/login", query_string={"next": target})          # signed in already
    assert again.headers["Location"] == "/admin/"
    client.post("/admin/logout", data={"csrf_token": csrf_token(client.get("/admin/").get_data(as_text=True))})
    page = client.get("/admin/login", query_string={"next": target}).get_data(as_text=True)
    assert "evil" not in page


def test_next_on_this_site_is_honoured(client):
    response = sign_in(client, "ada", next="/admin/stations/SH-310104-0001?lang=en")
    assert response.headers["Location"] == "/admin/stations/SH-310104-0001?lang=en"


def test_the_twentieth_wrong_password_in_a_minute_is_refused_without_checking_it(client):
    statuses = [sign_in(client, "ada", "wrong password").status_code for _ in range(19)]
    assert statuses[:5] == [200] * 5 and set(statuses[5:]) == {429}
    last = sign_in(client, "ada", PASSWORD)            # the right password, but it is never looked at
    assert last.status_code == 429 and int(last.headers["Retry-After"]) > 0
    assert "暂时锁定" in last.get_data(as_text=True) and not _signed_in(client)


def test_failed_sign_ins_are_limited_per_account_across_clients_and_per_client_across_accounts(app):
    clients = [app.test_client() for _ in range(7)]
    for i, each in enumerate(clients):
        each.environ_base["REMOTE_ADDR"] = f"10.0.0.{i + 1}"
    statuses = [sign_in(each, "xu", "wrong").status_code for each in clients]
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429, 429]        # one account, seven addresses
    one = app.test_client()
    one.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    statuses = [sign_in(one, f"nobody{i}", "wrong").status_code for i in range(12)]
    assert statuses[:10] == [200] * 10 and statuses[10:] == [429, 429]      # one address, twelve names
    good = app.test_client()
    good.environ_base["REMOTE_ADDR"] = "10.8.8.8"
    assert sign_in(good, "vera").status_code == 303          # others are not locked out


def test_successful_sign_ins_count_nothing(app):
    each = app.test_client()
    for _ in range(8):
        assert sign_in(each, "vera").status_code == 303
        each.post("/admin/logout", data={"csrf_token": csrf_token(each.get("/admin/").get_data(as_text=True))})


def test_a_short_secret_key_stops_the_app_naming_the_setting(url):
    with pytest.raises(InputError, match="SECRET_KEY"):
        create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "short"})


def test_without_a_secret_key_tests_and_dev_get_a_random_one_and_production_keeps_the_admin_off(url):
    from stationmap.web import signin

    one = create_app({"TESTING": True, "DATABASE_URL": url})
    two = create_app({"TESTING": True, "DATABASE_URL": url})
    assert one.config["SECRET_KEY"] != two.config["SECRET_KEY"] and len(one.config["SECRET_KEY"]) >= 32
    assert sign_in(one.test_client(), "ada").status_code == 303
    assert "STATIONMAP_SECRET_KEY" in signin.require_secret_key(one)
    off = one.test_client().get("/admin/login")
    assert off.status_code == 503 and "STATIONMAP_SECRET_KEY" in off.get_json()["detail"]
    assert one.test_client().get("/").status_code == 200
    configured = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": SECRET})
    assert signin.require_secret_key(configured) is None


def test_a_read_only_server_has_no_admin(tmp_path):
    from stationmap._paths import shipped

    app = create_app({"TESTING": True, "STATIONS_PATH": str(shipped("data") / "shanghai_stations.geojson")})
    response = app.test_client().get("/admin/login")
    assert response.status_code == 503 and "read-only" in response.get_json()["detail"]


def test_english_sign_in_page(client):
    page = client.get("/admin/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page
    assert re.search(r'<input name="password"[^>]*type="password"', page)
