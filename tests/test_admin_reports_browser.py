"""A hostile note from the worker page reaches the staff queue as text: headless Chromium
against the real server (gunicorn) on a GeoPackage store, signing in through the real form."""

from __future__ import annotations

import pytest
from admin_helpers import PASSWORD, SECRET, XUHUI, seeded_store
from browser import Watch
from conftest import Server

HOSTILE = '<img src=x onerror="alert(1)"><b id="bold">门锁了</b>'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url = seeded_store(f"sqlite:///{tmp_path_factory.mktemp('queue') / 'register.gpkg'}")
    running = Server(env={"STATIONMAP_DATABASE_URL": url, "STATIONMAP_SECRET_KEY": SECRET,
                          "STATIONMAP_TILES": "none"}, workers=1)
    yield running.url
    running.stop()


def test_a_note_with_markup_is_text_on_the_station_page_and_in_the_staff_queue(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    watch = Watch(page)
    page.goto(f"{server}/s/{XUHUI}")
    box = page.locator("#report .reports")
    box.locator(".report-problem summary").click()
    box.locator("textarea[name=note]").fill(HOSTILE)
    box.locator(".report-send").click()
    box.locator(".report-result.ok").wait_for(timeout=10_000)
    page.goto(f"{server}/admin/login?next=/admin/reports/")
    page.fill("input[name=name]", "xu")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    note = page.locator(".worker-note").first
    note.wait_for(timeout=10_000)
    assert note.inner_text() == HOSTILE
    assert page.locator("#bold").count() == 0 and page.locator(".reports-queue img").count() == 0
    assert watch.dialogs == []
    page.get_by_role("button", name="采纳").first.click()
    page.locator(".notice.ok").wait_for(timeout=10_000)
    assert "已采纳报告" in page.locator(".notice.ok").inner_text()
    context.close()
