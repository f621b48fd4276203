"""The content security policy breaks no page: each page, in Debian's chromium, draws with no
policy violation in its console (the real server, default settings)."""

from __future__ import annotations

import pytest
from browser import Watch

PAGES = {"/": "#map .leaflet-pane", "/coverage": "#map .leaflet-pane", "/embed": "iframe",
         "/embed/map": ".leaflet-pane", "/api/v1/docs": "#swagger-ui-container .info"}


@pytest.mark.parametrize("path, drawn", PAGES.items())
def test_every_page_draws_under_its_policy(browser, offline_server, path, drawn):
    page = browser.new_page()
    watch = Watch(page)
    page.goto(offline_server + path)
    page.wait_for_selector(drawn, state="attached", timeout=20_000)
    page.wait_for_timeout(500)
    violations = [e for e in watch.errors if "Content Security Policy" in e or "Refused to" in e]
    assert violations == [], violations
    page.close()
