"""The audit page, its exports and the undo buttons by crafted requests: every role on every write
route (403, nothing changed, a refusal in the audit), conflicts explained, untrusted text shown
as text and written as text. Essential ones on a GeoPackage file and on a real PostgreSQL."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from register_admin_helpers import OPERATOR, dump, make_app, seeded_store, sign_in

from stationmap.accounts import Account

EVIL = '=HYPERLINK("http://evil.example","点我")'
HOSTILE = "<script>alert(1)</script>"
XUHUI_STATION, PUDONG_STATION = "SH-310104-0001", "SH-310115-0001"


def _site(url, tmp_path):
    store = seeded_store(url)
    return make_app(url, str(tmp_path / "instance")), store


@pytest.fixture
def site(tmp_path):
    app, store = _site(f"sqlite:///{tmp_path / 'register.gpkg'}", tmp_path)
    yield app, store
    store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def both(request, tmp_path):
    url = (f"sqlite:///{tmp_path / 'register.gpkg'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres").database())
    app, store = _site(url, tmp_path)
    yield app, store
    store.close()


def _import_touching_both(store) -> int:
    """An import (by the city admin) that changes a Xuhui and a Pudong station."""
    from stationmap.registers.applying import apply_plan, current_register
    from stationmap.registers.importing import plan_rows
    from stationmap.registers.sheets import read_table_bytes

    sheet = (f"站点编号,站点名称,联系电话\n{XUHUI_STATION},徐汇区新华路爱心接力站（1号）,1\n"
             f"{PUDONG_STATION},浦东新区金桥路爱心接力站（1号）,2\n").encode()
    current = current_register(store)
    plan = plan_rows(read_table_bytes(sheet, "both.csv"), current)
    return apply_plan(store, plan, current, actor=OPERATOR).import_id


def test_each_role_on_each_write_route_is_refused_changes_nothing_and_is_audited(both):
    app, store = both
    import_id = _import_touching_both(store)
    other = "SH-310115-0002"           # not in the import: the import stays revertible
    version = store.update(other, {"operator": "浦东总工会"}, expected_version=None, actor=OPERATOR)
    for name in ("auditor", "xuhui"):
        client = app.test_client()
        token = sign_in(client, name)
        before, refusals = dump(store), len(store.audit(outcome="refused"))
        revert = client.post(f"/admin/imports/{import_id}/revert", data={"csrf_token": token, "reason": "试"})
        undo = client.post(f"/admin/changes/{other}/{version}/undo",
                           data={"csrf_token": token, "expected_version": str(version)})
        assert (revert.status_code, undo.status_code) == (403, 403), name
        assert 'id="why"' in revert.text and "Traceback" not in revert.text
        assert dump(store) == before
        refused = store.audit(outcome="refused")[: len(store.audit(outcome="refused")) - refusals]
        assert {(e.who, e.action) for e in refused} == {(f"user:{name}", "import.revert"),
                                                        (f"user:{name}", "change.undo")}
        assert all(e.source == "admin" for e in refused)
    anonymous = app.test_client()
    before = dump(store)
    answer = anonymous.post(f"/admin/imports/{import_id}/revert", data={})
    assert answer.status_code in (302, 303, 400, 401) and dump(store) == before


def test_undo_this_change_makes_a_new_version_and_keeps_every_old_one(both):
    app, store = both
    client = app.test_client()
    token = sign_in(client, "xuhui")
    old = store.get(XUHUI_STATION)["phone"]
    version = store.update(XUHUI_STATION, {"phone": "021-99999999"}, expected_version=None, actor=OPERATOR)
    page = client.get(f"/admin/audit?station={XUHUI_STATION}")
    assert page.status_code == 200 and f"/admin/changes/{XUHUI_STATION}/{version}/undo" in page.text
    done = client.post(f"/admin/changes/{XUHUI_STATION}/{version}/undo",
                       data={"csrf_token": token, "expected_version": str(version), "reason": "误改"})
    assert done.status_code == 303
    assert store.get(XUHUI_STATION)["phone"] == old and store.get(XUHUI_STATION)["version"] == version + 1
    assert [c.version for c in store.history(XUHUI_STATION)] == [1, version, version + 1]
    shown = client.get(done.headers["Location"])
    assert "已撤销" in shown.text and "误改" in shown.text


def test_an_undo_that_would_lose_a_later_edit_or_comes_from_a_stale_page_is_explained(site):
    app, store = site
    client = app.test_client()
    token = sign_in(client, "city")
    first = store.update(XUHUI_STATION, {"phone": "1"}, expected_version=None, actor=OPERATOR)
    second = store.update(XUHUI_STATION, {"phone": "2"}, expected_version=None, actor=OPERATOR)
    before = dump(store)
    later = client.post(f"/admin/changes/{XUHUI_STATION}/{first}/undo",
                        data={"csrf_token": token, "expected_version": str(second)})
    assert later.status_code == 409 and "之后的版本又修改了相同的字段" in later.text
    stale = client.post(f"/admin/changes/{XUHUI_STATION}/{second}/undo",
                        data={"csrf_token": token, "expected_version": str(first)})
    assert stale.status_code == 409 and "请刷新页面" in stale.text
    missing = client.post("/admin/changes/NO-SUCH/1/undo", data={"csrf_token": token, "expected_version": "1"})
    assert missing.status_code == 404 and "站点 NO-SUCH 没有第 1 版的修改记录" in missing.text
    unversioned = client.post(f"/admin/changes/{XUHUI_STATION}/{second}/undo", data={"csrf_token": token})
    assert unversioned.status_code == 400 and "expected_version" in unversioned.text
    assert dump(store) == before


def test_undo_this_import_reverts_it_once_and_then_says_it_was_reverted(site):
    app, store = site
    client = app.test_client()
    token = sign_in(client, "city")
    import_id = _import_touching_both(store)
    page = client.get("/admin/audit")
    assert f"/admin/imports/{import_id}/revert" in page.text
    assert client.post(f"/admin/imports/{import_id}/revert", data={"csrf_token": token}).status_code == 303
    assert store.imports()[0]["reverted"]
    again = client.post(f"/admin/imports/{import_id}/revert", data={"csrf_token": token})
    assert again.status_code == 409 and "这次导入已经撤销过了" in again.text
    english = client.post(f"/admin/imports/{import_id}/revert?lang=en", data={"csrf_token": token})
    assert english.status_code == 409 and "already reverted" in english.text
    missing = client.post("/admin/imports/424242/revert", data={"csrf_token": token})
    assert missing.status_code == 404 and "没有编号为 424242 的导入" in missing.text
    assert f"/admin/imports/{import_id}/revert" not in client.get("/admin/audit").text


def test_markup_in_a_name_and_a_reason_is_text_in_the_audit_its_diff_and_the_history(site):
    app, store = site
    store.update(XUHUI_STATION, {"name": HOSTILE}, expected_version=None, actor=OPERATOR, reason=HOSTILE)
    client = app.test_client()
    sign_in(client, "auditor")
    for url in ("/admin/audit", f"/admin/audit?station={XUHUI_STATION}", "/admin/audit?lang=en"):
        page = client.get(url)
        assert page.status_code == 200 and HOSTILE not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert 'class="undo"' not in client.get(f"/admin/audit?station={XUHUI_STATION}").text      # a viewer: no buttons


def test_filters_narrow_the_audit_and_a_bad_date_is_named(site):
    app, store = site
    xuhui = store.account("xuhui")
    store.update(XUHUI_STATION, {"phone": "7"}, expected_version=None, actor=xuhui)
    store.update(PUDONG_STATION, {"phone": "8"}, expected_version=None, actor=OPERATOR)
    client = app.test_client()
    sign_in(client, "auditor")
    by_station = client.get(f"/admin/audit?station={PUDONG_STATION}").text
    assert "cli:tester" in by_station and "user:xuhui" not in re.sub(r'<select.*?</select>', "", by_station, flags=re.S)
    by_who = client.get("/admin/audit?who=user:xuhui&action=station.update&outcome=done").text
    assert XUHUI_STATION in by_who and PUDONG_STATION not in by_who
    assert "没有符合条件的记录" in client.get("/admin/audit?since=2000-01-01&until=2000-01-02").text
    bad = client.get("/admin/audit?since=yesterday")
    assert bad.status_code == 400 and "since" in bad.text


def test_an_editor_reads_their_districts_stations_and_their_own_acts_only(site):
    app, store = site
    store.update(PUDONG_STATION, {"phone": "8"}, expected_version=None, actor=OPERATOR)
    store.update(XUHUI_STATION, {"phone": "9"}, expected_version=None, actor=OPERATOR)
    client = app.test_client()
    sign_in(client, "xuhui")
    page = client.get("/admin/audit").text
    assert XUHUI_STATION in page and PUDONG_STATION not in page and "user:auditor" not in page
    exported = client.get("/admin/audit.csv").data.decode("utf-8-sig")
    assert XUHUI_STATION in exported and PUDONG_STATION not in exported


def test_exports_write_formula_like_cells_as_text_with_bilingual_headers_and_telling_names(both):
    app, store = both
    store.update(XUHUI_STATION, {"name": EVIL}, expected_version=None, actor=OPERATOR, reason="@SUM(A1)")
    client = app.test_client()
    sign_in(client, "city")
    answer = client.get(f"/admin/audit.csv?station={XUHUI_STATION}")
    assert answer.status_code == 200 and answer.data.startswith(b"\xef\xbb\xbf")
    disposition = answer.headers["Content-Disposition"]
    assert f"audit_station-{XUHUI_STATION}_as-of-" in disposition and disposition.endswith('.csv"')
    table = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert table[0][1] == "时间 at" and table[0][10] == "字段 field"
    name_row = next(r for r in table if r[10] == "name")
    assert name_row[12] == "'" + EVIL and name_row[13] == "'@SUM(A1)"
    workbook = client.get(f"/admin/audit.xlsx?station={XUHUI_STATION}&outcome=done")
    assert "outcome-done" in workbook.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(workbook.data)).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells) and "'" + EVIL in [c.value for c in cells]


def test_a_disabled_account_is_refused_at_once(site):
    app, store = site
    client = app.test_client()
    token = sign_in(client, "city")
    store.disable_account("city", actor=Account.operator("tester"))
    before = dump(store)
    answer = client.post(f"/admin/changes/{XUHUI_STATION}/1/undo", data={"csrf_token": token,
                                                                         "expected_version": "1"})
    assert answer.status_code in (302, 303, 401, 403) and dump(store) == before


def test_the_station_form_shows_the_stations_versions_with_their_undo_buttons(site):
    app, store = site
    version = store.update(XUHUI_STATION, {"phone": "021-12345678"}, expected_version=None, actor=OPERATOR,
                           reason=HOSTILE)
    client = app.test_client()
    sign_in(client, "xuhui")
    form = client.get(f"/admin/stations/{XUHUI_STATION}")
    assert form.status_code == 200 and 'id="history-title"' in form.text
    assert f'action="/admin/changes/{XUHUI_STATION}/{version}/undo"' in form.text
    assert HOSTILE not in form.text and "021-12345678" in form.text
    sign_in(viewer := app.test_client(), "auditor")
    assert 'class="undo"' not in viewer.get(f"/admin/stations/{XUHUI_STATION}").text


def test_a_huge_or_negative_page_number_is_a_page_of_the_audit_not_a_server_error(site):
    """Review: ``?page=`` past SQLite's 64-bit integers raised OverflowError (a 500)."""
    app, _store = site
    client = app.test_client()
    sign_in(client, "city")
    for page in ("99999999999999999999999", "-5", "x"):
        assert client.get(f"/admin/audit?page={page}").status_code == 200


@pytest.mark.parametrize("path", ["/admin/reports/99999999999999999999999", "/admin/imports/2147483648/revert",
                                  "/admin/changes/SH-310104-0001/99999999999999999999999/undo"])
def test_an_id_past_the_databases_integers_in_a_post_path_is_not_found_not_a_server_error(both, path):
    """Review: ``<int:…>`` took any number of digits; SQLite raised OverflowError and PostgreSQL
    (int4 columns) would refuse the parameter: a 500 instead of a 404."""
    app, _store = both
    client = app.test_client()
    token = sign_in(client, "city")
    form = {"csrf_token": token, "decision": "reject", "expected_version": "1"}
    assert client.post(path, data=form).status_code == 404
