"""axe-core (vendored, static/vendor/axe-core) finds no serious or critical violation on the
public pages, in both languages, with the worker page's high contrast on and off."""

import pytest
from browser import wait_for_map, wait_for_popup
from readability import axe_violations

PHONE = {"width": 390, "height": 844}


def checked(browser, url, prepare=None):
    # bypass_csp: the pages forbid inline scripts, and axe is injected as one (the test, not the page).
    page = browser.new_context(viewport=PHONE, locale="zh-CN", bypass_csp=True).new_page()
    page.goto(url)
    if prepare:
        prepare(page)
    violations = axe_violations(page)
    page.context.close()
    return violations


def worker_with_results(high_contrast):
    def prepare(page):
        page.wait_for_selector("li.station")
        if high_contrast:
            page.locator("#contrast").click()
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        # The list comes before the map (static/worker_map.js loads after it): the popup checked
        # here is the drawn map's, so wait for the map before the tap.
        wait_for_map(page)
        page.locator("li.station h2 button").first.click()
        wait_for_popup(page)
    return prepare


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("high_contrast", [False, True])
def test_worker_page(browser, offline_server, lang, high_contrast):
    url = f"{offline_server}/?lang={lang}&at=31.2397,121.4998&cs=wgs84"
    assert checked(browser, url, worker_with_results(high_contrast)) == []


def test_worker_page_before_a_search(browser, offline_server):
    assert checked(browser, f"{offline_server}/") == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_coverage_page(browser, offline_server, lang):
    def drawn(page):
        page.wait_for_selector("table tbody tr", timeout=60000)
        page.wait_for_function("() => !document.body.classList.contains('busy')", timeout=60000)
    assert checked(browser, f"{offline_server}/coverage?lang={lang}", drawn) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_embed_builder(browser, offline_server, lang):
    def ready(page):
        page.wait_for_load_state("networkidle")
    assert checked(browser, f"{offline_server}/embed?lang={lang}", ready) == []
