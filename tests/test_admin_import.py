"""The admin's import page by crafted requests: the dry run shown is the plan applied, an editor's
import is held to their districts, uploads are kept privately and briefly, and every POST needs
its CSRF token. Essential ones on a GeoPackage file and on a real PostgreSQL + PostGIS."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from register_admin_helpers import csrf, dump, make_app, seeded_store, sign_in

from stationmap.accounts import Account

HOSTILE = "<img src=x onerror=alert(1)>"
XUHUI = ("站点编号,站点名称,详细地址,所属区,联系电话\n"
         "SH-310104-0001,徐汇区新华路爱心接力站（1号）,新华路1号,310104,021-64000001\n"
         f"XH-NEW-1,{HOSTILE},漕溪路2号,310104,\n").encode()
PUDONG = ("站点编号,站点名称,所属区,联系电话\n"
          "SH-310115-0001,浦东新区金桥路爱心接力站（1号）,310115,021-58880009\n").encode()
BAD = Path(__file__).parent / "data" / "registers" / "bad_register.csv"
_PLAN = re.compile(r'name="plan" value="([0-9a-f]{64})"')


@pytest.fixture(params=["sqlite"])
def site(request, tmp_path):
    url = (f"sqlite:///{tmp_path / 'register.gpkg'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres").database())
    store = seeded_store(url)
    app = make_app(url, str(tmp_path / "instance"))
    yield app, store, tmp_path / "instance" / "uploads"
    store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def both(request, tmp_path):
    url = (f"sqlite:///{tmp_path / 'register.gpkg'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres").database())
    store = seeded_store(url)
    app = make_app(url, str(tmp_path / "instance"))
    yield app, store, tmp_path / "instance" / "uploads"
    store.close()


def upload(client, token: str, data: bytes, name: str = "徐汇.csv", **form: str):
    return client.post("/admin/import", data={"file": (io.BytesIO(data), name), "csrf_token": token, **form},
                       content_type="multipart/form-data")


def report(client, token: str, data: bytes, name: str = "徐汇.csv") -> tuple[str, str, str]:
    """Upload and read the dry run: (report URL, page, plan fingerprint or '')."""
    response = upload(client, token, data, name)
    assert response.status_code == 303, response.text[:400]
    url = response.headers["Location"]
    page = client.get(url)
    found = _PLAN.search(page.text)
    return url, page.text, found.group(1) if found else ""


def test_the_dry_run_shows_adds_changes_field_by_field_and_markup_as_text_and_apply_does_just_that(both):
    app, store, uploads = both
    client = app.test_client()
    token = sign_in(client, "city")
    url, page, plan = report(client, token, XUHUI)
    assert "021-64000001" in page and "XH-NEW-1" in page and plan
    assert HOSTILE not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    before = store.get("SH-310104-0001")
    applied = client.post(f"{url}/apply", data={"csrf_token": token, "plan": plan, "reason": "徐汇台账 <b>11月</b>"})
    assert applied.status_code == 303
    after = store.get("SH-310104-0001")
    assert after["phone"] == "021-64000001" and after["version"] == before["version"] + 1
    assert after["name"] == before["name"] and store.get("XH-NEW-1")["name"] == HOSTILE
    assert list(uploads.iterdir()) == []                           # applied: the file is gone
    done = client.get(applied.headers["Location"])
    assert "导入 1 已完成" in done.text or re.search(r"导入 \d+ 已完成", done.text)
    entry = store.audit(action="import.apply")[0]
    assert entry.who == "user:city" and entry.source == "admin" and entry.outcome == "done"
    audit = client.get("/admin/audit")
    assert "import.apply" in audit.text and "&lt;b&gt;11月&lt;/b&gt;" in audit.text and "<b>11月" not in audit.text


def test_every_problem_is_listed_by_row_and_field_and_nothing_can_be_applied(site):
    app, store, uploads = site
    client = app.test_client()
    token = sign_in(client, "city")
    url, page, plan = report(client, token, BAD.read_bytes(), "bad_register.csv")
    assert not plan and 'id="apply"' not in page
    rows = re.findall(r'<table class="findings problems">(.*?)</table>', page, re.S)[0]
    assert rows.count("<tr>") >= 4                   # header + one row per problem, all at once
    for number in ("3", "4"):
        assert f"<td>{number}</td>" in rows
    before = dump(store)
    forced = client.post(f"{url}/apply", data={"csrf_token": token, "plan": "0" * 64})
    assert forced.status_code == 400 and dump(store) == before


def test_an_unreadable_or_oversized_file_is_explained_and_not_kept(site):
    app, store, uploads = site
    app.config["IMPORT_MAX_BYTES"] = 2000
    client = app.test_client()
    token = sign_in(client, "city")
    wrong = upload(client, token, b"not a sheet", "notes.docx")
    assert wrong.status_code == 400 and "unsupported file type" in wrong.text
    big = upload(client, token, b"x" * 5000, "big.csv")
    assert big.status_code == 413 and "2 KB" in big.text
    huge = upload(client, token, b"x" * 200_000, "huge.csv")          # beyond the form's slack as well
    assert huge.status_code == 413 and "text/html" in huge.headers["Content-Type"]
    assert not uploads.exists() or list(uploads.iterdir()) == []


def test_if_the_register_changed_since_the_dry_run_the_new_plan_is_shown_and_nothing_applied(both):
    app, store, uploads = both
    client = app.test_client()
    token = sign_in(client, "city")
    url, _, plan = report(client, token, XUHUI)
    store.update("SH-310104-0001", {"phone": "021-11111111"}, expected_version=None,
                 actor=Account.operator("someone"))
    before = dump(store)
    stale = client.post(f"{url}/apply", data={"csrf_token": token, "plan": plan})
    assert stale.status_code == 409 and "预览之后登记已被修改" in stale.text and "021-11111111" in stale.text
    assert dump(store) == before
    fresh = _PLAN.search(stale.text).group(1)
    assert fresh != plan
    assert client.post(f"{url}/apply", data={"csrf_token": token, "plan": fresh}).status_code == 303
    assert store.get("SH-310104-0001")["phone"] == "021-64000001"


def test_an_editors_import_outside_their_districts_is_explained_refused_and_audited(both):
    app, store, uploads = both
    client = app.test_client()
    token = sign_in(client, "xuhui")
    url, page, plan = report(client, token, PUDONG, "浦东.csv")
    assert 'id="outside"' in page and "310115" in page and 'id="apply"' not in page
    from stationmap.registers.applying import current_register
    from stationmap.registers.importing import plan_rows
    from stationmap.registers.sheets import read_table_bytes
    from stationmap.registers.staging import fingerprint, planned_versions

    current = current_register(store)
    crafted = plan_rows(read_table_bytes(PUDONG, "浦东.csv"), current)
    before = dump(store)
    refused = client.post(f"{url}/apply", data={"csrf_token": token,
                                                 "plan": fingerprint(crafted, planned_versions(crafted, current))})
    assert refused.status_code == 403 and "310115" in refused.text
    assert dump(store) == before
    entry = store.audit(outcome="refused")[0]
    assert entry.who == "user:xuhui" and entry.action == "import.apply"


def test_cancel_forgets_the_file_and_another_persons_upload_is_unknown(site):
    app, store, uploads = site
    city, xuhui = app.test_client(), app.test_client()
    token = sign_in(city, "city")
    other = sign_in(xuhui, "xuhui")
    url, _, plan = report(city, token, XUHUI)
    assert xuhui.get(url).status_code == 404
    assert xuhui.post(f"{url}/apply", data={"csrf_token": other, "plan": plan}).status_code == 404
    assert xuhui.post(f"{url}/cancel", data={"csrf_token": other}).status_code == 404
    assert len(list(uploads.iterdir())) == 1
    assert city.post(f"{url}/cancel", data={"csrf_token": token}).status_code == 303
    assert list(uploads.iterdir()) == [] and city.get(url).status_code == 404


def test_the_xlsx_report_downloads_with_a_name_saying_what_it_holds(site):
    app, store, uploads = site
    client = app.test_client()
    token = sign_in(client, "city")
    url, _, _ = report(client, token, XUHUI)
    workbook = client.get(f"{url}/report.xlsx")
    assert workbook.status_code == 200 and workbook.data[:2] == b"PK"
    assert "attachment" in workbook.headers["Content-Disposition"]
    assert "%E5%AF%BC%E5%85%A5%E9%A2%84%E8%A7%88" in workbook.headers["Content-Disposition"]     # 导入预览


def test_without_a_csrf_token_or_with_a_wrong_one_no_post_changes_anything(site):
    app, store, uploads = site
    client = app.test_client()
    token = sign_in(client, "city")
    url, _, plan = report(client, token, XUHUI)
    import_id = client.post(f"{url}/apply", data={"csrf_token": token, "plan": plan}).headers["Location"]
    number = int(re.search(r"done=(\d+)", import_id).group(1))
    url2, _, plan2 = report(client, token, PUDONG, "浦东.csv")
    before = dump(store)
    for path, form in ((f"{url2}/apply", {"plan": plan2}), (f"{url2}/cancel", {}),
                       (f"/admin/imports/{number}/revert", {}),
                       ("/admin/changes/SH-310104-0001/2/undo", {"expected_version": "2"}),
                       ("/admin/import", {})):
        for bad in ({}, {"csrf_token": "forged"}, {"csrf_token": csrf(client.get("/admin/import").text)[:-4] + "AAAA"}):
            answer = client.post(path, data={**form, **bad})
            assert answer.status_code in (400, 403), (path, bad, answer.status_code)
    assert dump(store) == before and len(list(uploads.iterdir())) == 1


def test_a_viewer_may_check_a_sheet_but_applying_it_is_refused_and_audited(site):
    app, store, uploads = site
    client = app.test_client()
    token = sign_in(client, "auditor")
    url, page, plan = report(client, token, XUHUI)
    assert 'id="viewer"' in page and 'id="apply"' not in page and 'id="outside"' not in page
    from stationmap.registers.applying import current_register
    from stationmap.registers.importing import plan_rows
    from stationmap.registers.sheets import read_table_bytes
    from stationmap.registers.staging import fingerprint, planned_versions

    current = current_register(store)
    crafted = plan_rows(read_table_bytes(XUHUI, "徐汇.csv"), current)
    before = dump(store)
    refused = client.post(f"{url}/apply", data={"csrf_token": token,
                                                 "plan": fingerprint(crafted, planned_versions(crafted, current))})
    assert refused.status_code == 403 and dump(store) == before
    entry = store.audit(outcome="refused")[0]
    assert (entry.who, entry.action, entry.source) == ("user:auditor", "import.apply", "admin")


def test_the_upload_alone_may_exceed_the_apps_body_limit_up_to_its_own(site):
    app, store, uploads = site
    client = app.test_client()
    token = sign_in(client, "city")
    assert app.config["MAX_CONTENT_LENGTH"] < 1_500_000 < app.config["IMPORT_MAX_BYTES"]
    answer = upload(client, token, b"x" * 1_500_000, "big.docx")        # read, then refused for its type
    assert answer.status_code == 400 and "unsupported file type" in answer.text
    elsewhere = client.post("/admin/logout", data={"csrf_token": token, "pad": "x" * 1_500_000})
    assert elsewhere.status_code == 413
