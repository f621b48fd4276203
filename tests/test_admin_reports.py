"""The staff queue of workers' reports (``/admin/reports``): an editor sees and decides only
their districts' reports, accepting changes the station as an audited edit by that person, a
hostile note is shown as text, and decisions need the CSRF token — Flask's test client on a
real GeoPackage store, signing in through the real form.
"""

from __future__ import annotations

import re

import pytest
from admin_helpers import PUDONG, SECRET, XUHUI, csrf_token, seeded_store, sign_in

from stationmap.station_reports import NewReport
from stationmap.store import Store
from stationmap.web import create_app

HOSTILE_NOTE = '<script>alert("note")</script><b id="bold">门锁了</b>'


@pytest.fixture
def url(tmp_path):
    return seeded_store(f"sqlite:///{tmp_path / 'register.gpkg'}")


@pytest.fixture
def store(url):
    opened = Store.open(url)
    yield opened
    opened.close()


@pytest.fixture
def app(url):
    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": SECRET})


def _reports(store):
    xuhui = store.add_report(XUHUI, NewReport("closed", note=HOSTILE_NOTE, contact="138-0000-0000"), address="a")
    again = store.add_report(XUHUI, NewReport("closed"), address="b")
    pudong = store.add_report(PUDONG, NewReport("confirm_open"), address="a")
    return xuhui, again, pudong


def _decide(client, page, report_id, **data):
    return client.post(f"/admin/reports/{report_id}", data={"csrf_token": csrf_token(page), **data})


def test_signed_out_people_are_sent_to_sign_in(app):
    response = app.test_client().get("/admin/reports/")
    assert response.status_code == 303 and "/admin/login" in response.headers["Location"]


def test_an_editor_sees_only_their_districts_and_the_note_as_text(app, store):
    xuhui, again, pudong = _reports(store)
    client = app.test_client()
    sign_in(client, "xu")
    page = client.get("/admin/reports/").get_data(as_text=True)
    ids = re.findall(r'<li class="report" id="report-(\d+)"', page)
    assert sorted(map(int, ids)) == sorted([xuhui.id, again.id])
    assert "<script>alert" not in page and '<b id="bold">' not in page
    assert "&lt;script&gt;alert(&#34;note&#34;)&lt;/script&gt;" in page or "&lt;script&gt;" in page
    assert "138-0000-0000" in page
    admin = app.test_client()
    sign_in(admin, "ada")
    every = admin.get("/admin/reports/").get_data(as_text=True)
    assert f'id="report-{pudong.id}"' in every


def test_accepting_a_closure_closes_the_station_as_an_audited_edit_by_the_editor(app, store):
    xuhui, again, _ = _reports(store)
    client = app.test_client()
    sign_in(client, "xu")
    page = client.get("/admin/reports/").get_data(as_text=True)
    done = _decide(client, page, xuhui.id, decision="accept", reason="打电话确认")
    assert done.status_code == 303 and "done=accepted" in done.headers["Location"]
    assert store.get(XUHUI)["status"] == "temporarily_closed"
    assert store.history(XUHUI)[-1].who == "user:xu"
    assert store.report(xuhui.id).status == "accepted" and store.report(again.id).status == "merged"
    entries = store.audit(who="user:xu")
    assert {e.action for e in entries} >= {"station.update", "report.resolve"}
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "已采纳报告" in shown


def test_an_editor_cannot_decide_another_districts_report_even_by_posting_directly(app, store):
    _, _, pudong = _reports(store)
    client = app.test_client()
    sign_in(client, "xu")
    page = client.get("/admin/reports/").get_data(as_text=True)
    refused = _decide(client, page, pudong.id, decision="reject")
    assert "done=forbidden" in refused.headers["Location"]
    assert store.report(pudong.id).status == "open"


def test_a_viewer_sees_the_queue_without_buttons_and_cannot_decide(app, store):
    xuhui, _, _ = _reports(store)
    client = app.test_client()
    sign_in(client, "vera")
    page = client.get("/admin/reports/").get_data(as_text=True)
    assert f'id="report-{xuhui.id}"' in page and 'name="decision"' not in page
    refused = client.post(f"/admin/reports/{xuhui.id}", data={"csrf_token": csrf_token(page), "decision": "reject"})
    assert "done=forbidden" in refused.headers["Location"] and store.report(xuhui.id).status == "open"


def test_merging_duplicates_and_rejecting(app, store):
    xuhui, again, _ = _reports(store)
    client = app.test_client()
    sign_in(client, "xu")
    page = client.get("/admin/reports/").get_data(as_text=True)
    _decide(client, page, again.id, decision="merge", merge_into=str(xuhui.id))
    assert store.report(again.id).merged_into == xuhui.id
    _decide(client, page, xuhui.id, decision="reject", reason="站点正常")
    assert store.report(xuhui.id).status == "rejected" and store.get(XUHUI)["status"] == "open"


def test_a_decision_without_the_csrf_token_is_refused(app, store):
    xuhui, _, _ = _reports(store)
    client = app.test_client()
    sign_in(client, "xu")
    refused = client.post(f"/admin/reports/{xuhui.id}", data={"decision": "accept"})
    assert refused.status_code == 400 and store.report(xuhui.id).status == "open"

