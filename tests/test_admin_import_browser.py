"""The import, audit and undo pages in headless Chromium against the real server (gunicorn), with
the keyboard only: upload → dry run → apply → the audit shows it → undo the import; undo one
change of a station."""

from __future__ import annotations

import pytest
from browser import Watch
from conftest import Server
from register_admin_helpers import OPERATOR, PASSWORD, seeded_store

HOSTILE = "<img src=x onerror=alert(1)>"
SHEET = ("站点编号,站点名称,详细地址,所属区,联系电话\n"
         "SH-310104-0001,徐汇区新华路爱心接力站（1号）,新华路1号,310104,021-64000001\n"
         f"XH-NEW-1,{HOSTILE},漕溪路2号,310104,\n")
STATION = "SH-310104-0002"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("admin-import")
    url = f"sqlite:///{root / 'register.gpkg'}"
    store = seeded_store(url)
    (root / "徐汇台账.csv").write_text(SHEET, encoding="utf-8")
    server = Server(env={"STATIONMAP_DATABASE_URL": url, "STATIONMAP_SECRET_KEY": "browser-" + "k" * 40,
                         "STATIONMAP_INSTANCE_PATH": str(root / "instance"), "STATIONMAP_TILES": "none",
                         "STATIONMAP_WATCH_INTERVAL": "0.2"}, workers=1)
    yield server.url, store, root
    server.stop()
    store.close()


def tab_to(page, selector: str, most: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has the focus (a keyboard user's way there)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


def sign_in(page, base: str, name: str) -> None:
    page.goto(f"{base}/admin/login?next=/admin/import")
    tab_to(page, "input[name=name]")
    page.keyboard.type(name)
    tab_to(page, "input[name=password]")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/admin/import", timeout=15_000)


def test_upload_check_apply_see_it_in_the_audit_and_undo_it_with_the_keyboard_only(browser, site):
    base, store, root = site
    page = browser.new_context(locale="zh-CN").new_page()
    watch = Watch(page)
    sign_in(page, base, "city")
    page.set_input_files("#file", str(root / "徐汇台账.csv"))       # the file picker is the system's own
    tab_to(page, "#check")
    page.keyboard.press("Enter")
    page.wait_for_selector("#counts", timeout=15_000)
    assert page.locator("table.adds td.name").inner_text() == HOSTILE
    assert "021-64000001" in page.locator("table.changes").inner_text()
    tab_to(page, "#reason")
    page.keyboard.type("徐汇台账 11 月")
    tab_to(page, "#apply-button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#done", timeout=15_000)
    assert store.get("SH-310104-0001")["phone"] == "021-64000001" and store.get("XH-NEW-1")["name"] == HOSTILE
    import_id = store.imports()[0]["id"]

    page.goto(f"{base}/admin/audit")
    row = page.locator("tr", has=page.locator(f"form.revert[action*='/admin/imports/{import_id}/revert']"))
    assert "徐汇台账 11 月" in row.inner_text()
    tab_to(page, f"form.revert[action*='/imports/{import_id}/'] input[name=reason]")
    page.keyboard.type("表格有误")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#done", timeout=15_000)
    assert store.imports()[0]["reverted"] and store.get("SH-310104-0001")["phone"] != "021-64000001"
    assert page.locator("img").count() == 0 and watch.dialogs == []
    assert watch.errors == [] and all(u.startswith(base) for u in watch.requests)


def test_undo_one_change_from_the_stations_record_with_the_keyboard_only(browser, site):
    base, store, _ = site
    old = store.get(STATION)["phone"]
    version = store.update(STATION, {"phone": "021-00000000"}, expected_version=None, actor=OPERATOR,
                           reason="试改")
    page = browser.new_context(locale="zh-CN").new_page()
    watch = Watch(page)
    sign_in(page, base, "xuhui")
    page.goto(f"{base}/admin/audit?station={STATION}")
    assert "021-00000000" in page.locator(f"#version-{version}").inner_text()
    tab_to(page, f"#version-{version} input[name=reason]")
    page.keyboard.type("改错了")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#done", timeout=15_000)
    assert store.get(STATION)["phone"] == old and store.get(STATION)["version"] == version + 1
    assert page.locator(f"#version-{version + 1}").count() == 1 and page.locator(f"#version-{version}").count() == 1
    page.screenshot(path="/tmp/stationmap-admin-audit.png", full_page=True)
    assert watch.errors == [] and watch.dialogs == []
