"""Outdoor readability of the worker page in headless Chromium on a phone: 7:1 contrast in the
high-contrast mode, text of 14 px or more, 44 × 44 px tap targets, a visible focus ring, and
the list reachable by keyboard without going through the map's markers."""

import pytest
from browser import wait_for_map
from readability import TAP_TARGETS, TEXT_STYLES, contrast

PHONE = {"width": 390, "height": 844}
LUJIAZUI = {"latitude": 31.2397, "longitude": 121.4998}


def everything_open(browser, base, lang="zh", high_contrast=False):
    """The page with results, one card's week, the legend, the route box, filters and a popup open."""
    context = browser.new_context(geolocation=LUJIAZUI, permissions=["geolocation"], viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/?lang={lang}&at=31.2397,121.4998&cs=wgs84")
    page.wait_for_selector("li.station")
    if high_contrast:
        page.locator("#contrast").click()
    page.evaluate("""() => { document.querySelectorAll('details').forEach(d => d.open = true); }""")
    # The list comes before the map: the popup measured here is the drawn map's (tap after it).
    wait_for_map(page)
    page.wait_for_function("() => window.stationmapPage.around.getLayers().length > 0")   # the other stations too
    page.locator("li.station h2 button").first.click()
    page.wait_for_selector(".leaflet-popup-content")
    # Measured once the map is still: a pin caught mid zoom animation is scaled below its size.
    page.wait_for_function("""() => { const p = window.stationmapPage;
        return !p.map._animatingZoom && !p.stations._inZoomAnimation && !p.around._inZoomAnimation
               && !document.querySelector('.leaflet-zoom-anim'); }""")
    return page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_high_contrast_mode_reaches_7_to_1_for_all_text_and_is_remembered(browser, offline_server, lang):
    page = everything_open(browser, offline_server, lang, high_contrast=True)
    assert page.locator("#contrast").get_attribute("aria-pressed") == "true"
    texts = page.evaluate(TEXT_STYLES)
    assert len(texts) > 50
    low = [(t["text"], t["tag"], round(contrast(t["colour"], t["background"]), 2)) for t in texts
           if contrast(t["colour"], t["background"]) < 7]
    assert low == []
    page.reload()                                                     # remembered on this phone
    page.wait_for_selector("li.station")
    assert page.locator("html").get_attribute("class") == "hc"
    assert page.locator("#contrast").get_attribute("aria-pressed") == "true"
    page.context.close()


def test_normal_mode_meets_4_5_to_1(browser, offline_server):
    page = everything_open(browser, offline_server)
    low = [(t["text"], t["tag"], round(contrast(t["colour"], t["background"]), 2))
           for t in page.evaluate(TEXT_STYLES) if contrast(t["colour"], t["background"]) < 4.5]
    assert low == []
    page.context.close()


@pytest.mark.parametrize("high_contrast", [False, True])
def test_no_text_under_14_px_and_every_tap_target_44_px(browser, offline_server, high_contrast):
    page = everything_open(browser, offline_server, "en", high_contrast)
    small = [(t["text"], t["tag"], t["size"]) for t in page.evaluate(TEXT_STYLES) if t["size"] < 14]
    assert small == []
    targets = page.evaluate(TAP_TARGETS)
    assert len(targets) > 30
    tiny = [(t["what"], round(t["width"]), round(t["height"])) for t in targets if t["width"] < 44 or t["height"] < 44]
    assert tiny == []
    page.context.close()


def test_focus_ring_is_visible_and_the_list_is_reached_without_the_markers(browser, offline_server):
    page = everything_open(browser, offline_server)
    page.keyboard.press("Escape")
    assert page.evaluate("() => [...document.querySelectorAll('.leaflet-marker-icon')]"
                         ".filter(m => m.tabIndex >= 0).length") == 0
    page.locator("#contrast").focus()                                  # the header, above the skip link
    for _ in range(6):                                                # the skip link is near the top
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.className") == "skip":
            break
    assert page.evaluate("() => document.activeElement.className") == "skip"
    ring = page.evaluate("() => { const s = getComputedStyle(document.activeElement);"
                         " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }")
    assert ring[0] != "none" and ring[1] >= 2
    assert page.locator("a.skip").bounding_box()["x"] >= 0               # shown when focused
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'results'")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('li.station') !== null")
    page.context.close()
