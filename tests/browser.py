"""Headless Chromium (Debian's package) driven by Playwright, for tests of real pages."""

from __future__ import annotations

from contextlib import contextmanager

from conftest import require_program

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]


@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    executable = require_program("chromium", "chromium-browser", package="chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class Watch:
    """Everything a page asked for and complained about."""

    def __init__(self, page):
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

        def dialog(d):
            self.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)


def wait_for_map(page) -> None:
    """Wait until the worker page's map has drawn the listed stations.

    The list comes first and the map after it (static/worker_map.js loads once the list is
    painted), so a test that reads or moves the map waits for its markers, not for the list.
    """
    page.wait_for_function("() => window.stationmapPage && Object.keys(window.stationmapPage.markers).length > 0")


def wait_for_popup(page) -> None:
    """Wait until the map's popup is open and fully shown.

    Leaflet fades a popup in (opacity 0 to 1 over 0.2 s, leaflet.css ``.leaflet-fade-anim``):
    on a busy machine a check run as soon as the popup exists reads its text half transparent,
    and axe-core measures the contrast of that (CI on 2026-11-26: ``color-contrast`` on the
    popup's name, status and link, on a page that passes once the fade is over).
    """
    page.wait_for_selector(".leaflet-popup-content")
    page.wait_for_function("""() => { const popup = document.querySelector('.leaflet-popup');
        return popup && getComputedStyle(popup).opacity === '1'; }""")
