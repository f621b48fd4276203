"""The admin's station list and form, by request: what each role sees and may do, search and
filters checked against a brute-force count, the form's validation (one message per field, the
import's rules), hours in Chinese with the preview, GCJ-02 on AMap tiles, the one-step actions,
and two people saving the same station. Flask's test client on a real GeoPackage store.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta

import pytest
from admin_helpers import (
    EVIL,
    HOSTILE,
    PUDONG,
    SECRET,
    XUHUI,
    csrf_token,
    errors_of,
    form_fields,
    seeded_store,
    sign_in,
)

from stationmap import coords, hours
from stationmap.store import Store
from stationmap.web import create_app


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return seeded_store(f"sqlite:///{tmp_path_factory.mktemp('template') / 'register.gpkg'}")


@pytest.fixture
def url(template, tmp_path):
    """A fresh copy of the seeded store for each test (seeding once: Argon2 hashing is slow on purpose)."""
    source = template.removeprefix("sqlite:///")
    shutil.copy(source, tmp_path / "register.gpkg")
    return f"sqlite:///{tmp_path / 'register.gpkg'}"


@pytest.fixture
def store(url):
    opened = Store.open(url)
    yield opened
    opened.close()


def _app(url, **settings):
    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": SECRET, **settings})


@pytest.fixture
def app(url):
    return _app(url)


def _as(app, name):
    client = app.test_client()
    assert sign_in(client, name).status_code == 303
    return client


def _count(page: str) -> int:
    return int(re.search(r'class="count" role="status">共 (\d+) 个站点', page).group(1))


def _ids(page: str) -> list[str]:
    return re.findall(r'<td class="id">([^<]+)</td>', page)


def _all_rows(store):
    import sqlalchemy as sa

    from stationmap.store.schema import stations

    with store.engine.connect() as c:
        return [dict(r) for r in c.execute(sa.select(stations).where(~stations.c.deleted)).mappings()]


# -- the list ---------------------------------------------------------------------------

def test_each_role_lists_its_districts_an_editor_only_its_own(app, store):
    rows = _all_rows(store)
    for name, expected in (("ada", len(rows)), ("vera", len(rows)),
                           ("xu", sum(r["adcode"] == "310104" for r in rows))):
        page = _as(app, name).get("/admin/").get_data(as_text=True)
        assert _count(page) == expected, name
    xu = _as(app, "xu")
    every = [i for n in range(1, 5) for i in _ids(xu.get(f"/admin/?page={n}").get_data(as_text=True))]
    assert every and all(i.startswith("SH-310104-") or i == EVIL for i in every)
    assert PUDONG not in every


@pytest.mark.parametrize("query", [{"q": "解放路"}, {"q": "sh-310104-00"}, {"q": "上海市 徐汇区"},
                                   {"type": "driver_home"}, {"status": "temporarily_closed"}, {"stale": "1"},
                                   {"needs_location": "1"}, {"q": "100%_"}])
def test_search_and_filters_match_a_brute_force_count(app, store, query):
    rows = _all_rows(store)
    cutoff = (datetime.now(hours.TIMEZONE).date() - timedelta(days=180)).isoformat()     # China's day

    def wanted(r):
        text = " ".join(str(r[k] or "") for k in ("id", "name", "name_en", "address")).lower()
        words = query.get("q", "").lower().split()
        return (all(w in text for w in words) and all(any(w in str(r[k] or "").lower()
                                                               for k in ("id", "name", "name_en", "address"))
                                                           for w in words)
                and (not query.get("type") or r["type"] == query["type"])
                and (not query.get("status") or r["status"] == query["status"])
                and (not query.get("stale") or r["last_verified"] < cutoff)
                and (not query.get("needs_location") or r["location"] is None))

    page = _as(app, "ada").get("/admin/", query_string=query).get_data(as_text=True)
    assert _count(page) == sum(wanted(r) for r in rows)


def test_pages_of_fifty_follow_each_other_without_gaps(app, store):
    client = _as(app, "ada")
    first = client.get("/admin/?type=outdoor_worker_station").get_data(as_text=True)
    assert len(_ids(first)) == 50 and 'rel="next"' in first
    link = re.search(r'<a href="([^"]+)" rel="next">', first).group(1).replace("&amp;", "&")
    second = client.get(link).get_data(as_text=True)
    assert "type=outdoor_worker_station" in link and sorted(_ids(first))[-1] < sorted(_ids(second))[0]


def test_a_station_name_with_markup_is_text_in_the_list_and_the_form(app):
    client = _as(app, "ada")
    listed = client.get("/admin/", query_string={"q": "EVIL"}).get_data(as_text=True)
    form = client.get(f"/admin/stations/{EVIL}").get_data(as_text=True)
    for page in (listed, form):
        assert "<img src=x" not in page and "<script>alert" not in page
        assert "&lt;img src=x onerror=" in page
    assert form_fields(form)["name"] == HOSTILE


# -- who may do what ---------------------------------------------------------------------

def _posts(client, station_id, version, fields):
    token = fields["csrf_token"]
    return [client.post(f"/admin/stations/{station_id}", data=fields | {"name": "改过了"}),
            client.post(f"/admin/stations/{station_id}/close", data={"csrf_token": token, "version": version,
                                                                      "until": "2030-01-01"}),
            client.post(f"/admin/stations/{station_id}/reopen", data={"csrf_token": token, "version": version}),
            client.post(f"/admin/stations/{station_id}/verified", data={"csrf_token": token, "version": version})]


@pytest.mark.parametrize(("name", "station_id"), [("vera", XUHUI), ("xu", PUDONG)])
def test_form_routes_refuse_what_the_role_may_not_do_and_change_nothing(app, store, name, station_id):
    client = _as(app, name)
    page = client.get(f"/admin/stations/{station_id}").get_data(as_text=True)
    assert "你可以查看，但不能修改" in page and "<fieldset class=\"plain\" disabled>" in page
    assert 'id="close"' not in page and 'id="verified"' not in page
    before = store.get(station_id)
    fields = form_fields(page) | {"csrf_token": csrf_token(page)}
    responses = _posts(client, station_id, str(before["version"]), fields)
    assert [r.status_code for r in responses] == [403] * 4
    new = client.post("/admin/stations/new", data=fields | {"id": "NEW-1", "adcode": "310115"})
    assert new.status_code == 403
    assert store.get(station_id) == before
    refusals = store.audit(who=f"user:{name}", outcome="refused")
    assert len(refusals) >= 5 and {e.target_id for e in refusals} >= {station_id}
    lister = client.get("/admin/").get_data(as_text=True)
    assert "新建站点" not in lister if name == "vera" else "新建站点" in lister


def test_an_editor_may_not_move_a_station_out_of_its_district_but_may_edit_it(app, store):
    client = _as(app, "xu")
    page = client.get(f"/admin/stations/{XUHUI}").get_data(as_text=True)
    fields = form_fields(page)
    assert client.post(f"/admin/stations/{XUHUI}", data=fields | {"adcode": "310115"}).status_code == 403
    assert store.get(XUHUI)["adcode"] == "310104"
    saved = client.post(f"/admin/stations/{XUHUI}", data=fields | {"phone": "021-64000000", "reason": "新电话"})
    assert saved.status_code == 303 and store.get(XUHUI)["phone"] == "021-64000000"
    change = store.history(XUHUI)[-1]
    assert change.who == "user:xu" and change.reason == "新电话"
    entry = store.audit(station_id=XUHUI, outcome="done")[0]
    assert entry.source == "admin" and entry.who == "user:xu"


# -- the form ------------------------------------------------------------------------------

def test_every_bad_field_gets_its_own_message_next_to_it(app, store):
    client = _as(app, "ada")
    page = client.get(f"/admin/stations/{XUHUI}").get_data(as_text=True)
    bad = form_fields(page) | {"name": "", "opening_hours": "看情况再说", "lat": "95", "closed_until": "明天",
                               "last_verified": "2026-13-45", "type": "spaceship"}
    response = client.post(f"/admin/stations/{XUHUI}", data=bad)
    assert response.status_code == 422
    errors = errors_of(response.get_data(as_text=True))
    assert set(errors) == {"name", "opening_hours", "location", "closed_until", "last_verified", "type"}
    assert errors["name"].startswith("必填") and errors["location"].startswith("经纬度超出范围")
    assert store.get(XUHUI)["version"] == 1
    english = client.post(f"/admin/stations/{XUHUI}?lang=en", data=bad).get_data(as_text=True)
    assert errors_of(english)["name"] == "is empty; every station needs one"


def test_hours_in_chinese_are_stored_as_opening_hours_and_previewed_with_holidays(app, store):
    client = _as(app, "ada")
    page = client.get(f"/admin/stations/{XUHUI}").get_data(as_text=True)
    text = "周一至周五 9:00-17:00，节假日休息"
    response = client.post(f"/admin/stations/{XUHUI}", data=form_fields(page) | {"opening_hours": text})
    assert response.status_code == 303
    record = store.get(XUHUI)
    assert record["opening_hours"] == "Mo-Fr 09:00-17:00; PH off" and record["opening_hours_text"] == text
    again = client.get(f"/admin/stations/{XUHUI}").get_data(as_text=True)
    assert form_fields(again)["opening_hours"] == text and "已保存，现为版本 2" in again
    preview = client.get("/admin/hours-preview", query_string={"text": text}).get_json()
    assert preview["expression"] == record["opening_hours"]
    assert preview["week"] == hours.week(record["opening_hours"], datetime.now(hours.TIMEZONE), "zh")
    rows = re.findall(r'<th scope="row">([^<]+)</th><td>([^<]+)</td>', again)
    assert len(rows) == 7 and [r[1] for r in rows] == [d["hours"] for d in preview["week"]]
    closed = client.get("/admin/hours-preview", query_string={"text": text, "status": "closed"}).get_json()
    assert closed["week"] == [] and closed["status"] == "已关闭"


def test_on_amap_tiles_the_form_shows_and_takes_gcj02_and_stores_wgs84(url, store):
    client = _as(_app(url, TILES="amap"), "ada")
    record = store.get(XUHUI)
    page = client.get(f"/admin/stations/{XUHUI}").get_data(as_text=True)
    fields = form_fields(page)
    gx, gy = coords.from_wgs84(*record["location"], "gcj02")
    assert fields["coordsys"] == "gcj02"
    assert abs(float(fields["lon"]) - gx) < 1e-6 and abs(float(fields["lat"]) - gy) < 1e-6
    assert "GCJ-02（高德）" in page
    unchanged = client.post(f"/admin/stations/{XUHUI}", data=fields)
    assert unchanged.status_code == 303 and store.get(XUHUI)["version"] == 1     # an untouched pin is no edit
    moved = client.post(f"/admin/stations/{XUHUI}", data=fields | {"lon": "121.4400000", "lat": "31.1700000"})
    assert moved.status_code == 303
    expected = coords.to_wgs84(121.44, 31.17, "gcj02")
    assert store.get(XUHUI)["location"] == pytest.approx([float(v) for v in expected], abs=1e-8)


def test_close_for_a_week_reopen_and_verified_today_are_one_step_each(app, store):
    client = _as(app, "ada")
    page = client.get(f"/admin/stations/{XUHUI}").get_data(as_text=True)
    token = csrf_token(page)
    week = (datetime.now(hours.TIMEZONE).date() + timedelta(days=7)).isoformat()
    closed = client.post(f"/admin/stations/{XUHUI}/close", data={"csrf_token": token, "version": "1", "until": week})
    assert closed.status_code == 303
    record = store.get(XUHUI)
    assert (record["status"], record["closed_until"], record["version"]) == ("temporarily_closed", week, 2)
    assert f"已设为暂停开放，至 {week}" in client.get(closed.headers["Location"]).get_data(as_text=True)
    client.post(f"/admin/stations/{XUHUI}/verified", data={"csrf_token": token, "version": "2"})
    assert store.get(XUHUI)["last_verified"] == datetime.now(hours.TIMEZONE).date().isoformat()
    client.post(f"/admin/stations/{XUHUI}/reopen", data={"csrf_token": token, "version": "3"})
    record = store.get(XUHUI)
    assert (record["status"], record["closed_until"], record["version"]) == ("open", "", 4)
    stale = client.post(f"/admin/stations/{XUHUI}/verified", data={"csrf_token": token, "version": "2"})
    assert "刚被他人修改" in client.get(stale.headers["Location"]).get_data(as_text=True)
    assert store.get(XUHUI)["version"] == 4


def test_a_station_without_coordinates_is_created_then_placed(app, store):
    client = _as(app, "xu")
    page = client.get("/admin/stations/new").get_data(as_text=True)
    fields = form_fields(page) | {"name": "徐汇区测试驿站", "address": "上海市徐汇区漕溪北路1号", "adcode": "310104"}
    created = client.post("/admin/stations/new", data=fields)
    assert created.status_code == 303
    new_id = created.headers["Location"].rsplit("/", 1)[1]
    assert new_id.startswith("reg-") and store.get(new_id)["location"] is None
    listed = client.get("/admin/?needs_location=1").get_data(as_text=True)
    assert new_id in _ids(listed)
    form = form_fields(client.get(f"/admin/stations/{new_id}").get_data(as_text=True))
    placed = client.post(f"/admin/stations/{new_id}", data=form | {"lon": "121.4370000", "lat": "31.1950000"})
    assert placed.status_code == 303 and store.get(new_id)["location"] == pytest.approx([121.437, 31.195])
    taken = client.post("/admin/stations/new", data=fields | {"id": new_id})
    assert taken.status_code == 422 and "id" in errors_of(taken.get_data(as_text=True))


def test_two_people_saving_the_same_version_the_second_sees_both_and_decides(app, store):
    ada, xu = _as(app, "ada"), _as(app, "xu")
    mine = form_fields(ada.get(f"/admin/stations/{XUHUI}").get_data(as_text=True))
    theirs = form_fields(xu.get(f"/admin/stations/{XUHUI}").get_data(as_text=True))
    assert xu.post(f"/admin/stations/{XUHUI}", data=theirs | {"phone": "021-11111111"}).status_code == 303
    late = ada.post(f"/admin/stations/{XUHUI}", data=mine | {"phone": "021-22222222", "name": "新名字"})
    page = late.get_data(as_text=True)
    assert late.status_code == 409 and "user:xu" in page
    shown = re.findall(r'<th scope="row">([^<]*)</th><td class="yours">([^<]*)</td><td class="theirs">([^<]*)</td>',
                       page)
    assert ("电话", "021-22222222", "021-11111111") in shown and ("名称", "新名字", store.get(XUHUI)["name"]) in shown
    assert store.get(XUHUI)["phone"] == "021-11111111"                      # nothing overwritten
    again = form_fields(page)
    assert again["phone"] == "021-22222222" and again["version"] == "2"      # yours kept; theirs' version
    assert ada.post(f"/admin/stations/{XUHUI}", data=again).status_code == 303
    assert store.get(XUHUI)["phone"] == "021-22222222" and store.get(XUHUI)["version"] == 3


def test_unknown_station_is_a_404_page(app):
    response = _as(app, "ada").get("/admin/stations/NOPE-1?lang=en")
    assert response.status_code == 404 and "There is no station with id NOPE-1" in response.get_data(as_text=True)



def test_reported_by_workers_lists_stations_with_an_unanswered_problem_in_the_accounts_districts(app, store):
    """Open problem reports count; a confirmation, or a report staff have already answered, does not."""
    from stationmap.accounts import Account
    from stationmap.station_reports import NewReport
    from stationmap.store import reports

    rows = sorted(_all_rows(store), key=lambda r: r["id"])
    xuhui = [r["id"] for r in rows if r["adcode"] == "310104"]
    other = [r["id"] for r in rows if r["adcode"] not in ("310104", "")]
    closed, missing, confirmed, answered, elsewhere = xuhui[0], xuhui[1], xuhui[2], xuhui[3], other[0]
    for station, kind, client in ((closed, "closed", "a"), (closed, "closed", "b"), (missing, "no_entry", "a"),
                                  (confirmed, "confirm_open", "a"), (answered, "moved", "a"),
                                  (elsewhere, "closed", "a")):
        reports.add_report(store, station, NewReport(kind=kind), address=f"192.0.2.{ord(client)}")
    answered_report = next(r for r in reports.queue(store) if r.station_id == answered)
    reports.resolve(store, answered_report.id, "reject", actor=Account.operator("tester"))

    for name, expected in (("ada", {closed, missing, elsewhere}), ("xu", {closed, missing})):
        page = _as(app, name).get("/admin/?reported=1").get_data(as_text=True)
        assert set(_ids(page)) == expected, name
        assert _count(page) == len(expected)
    assert 'name="reported" value="1" checked' in _as(app, "ada").get("/admin/?reported=1").get_data(as_text=True)
