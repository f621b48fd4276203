"""Time to the first drawn heatmap on the planner page, the heat layer's weight, and the
screenshots in docs/ (``--screenshots``).

Run: ``PYTHONPATH=$PWD:tests python bench/planner_map.py [--adcode 310100 ...] [--screenshots]
[--scenario-screenshots]``.
Each area gets a fresh server (TILES=none, the area as DISTRICTS_ADCODE); the page is opened
twice: cold (the server computes) and warm (the answer is in its cache). The time is from
navigation to the heat layer's data being drawn (``window.stationmapCoverage.timings.heat_ms``
counts from the request; navigation adds the page load).
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from browser import chromium
from conftest import Server

DOCS = Path(__file__).resolve().parent.parent / "docs"
VIEWS = {"desk": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


def drawn(page, timeout=600_000):
    """Wait until the page says its heat layer is drawn."""
    page.wait_for_function("() => window.stationmapCoverage && window.stationmapCoverage.timings.heat_ms",
                           timeout=timeout)


def heat_weight(url: str) -> tuple[int, int]:
    """Bytes of the heat layer's answer: raw and gzipped."""
    with urllib.request.urlopen(url + "/api/v1/coverage?f=cells&coordsys=wgs84", timeout=600) as response:
        body = response.read()
    return len(body), len(gzip.compress(body, 6))


def measure(adcode: str, browser, stations: str | None = None) -> dict:
    """Time to the first drawn heatmap for one area, cold and warm (``stations``: a register
    file to serve instead of the shipped Shanghai one, e.g. the national sample).
    """
    server = Server(*(("--stations", stations) if stations else ()),
                    env={"STATIONMAP_TILES": "none", "STATIONMAP_DISTRICTS_ADCODE": adcode})
    try:
        out = {"adcode": adcode}
        for run in ("cold", "warm"):
            page = browser.new_context(viewport=VIEWS["desk"]).new_page()
            start = time.perf_counter()
            page.goto(server.url + "/coverage")
            drawn(page)
            out[run] = time.perf_counter() - start
            out["cells"] = page.evaluate("() => window.stationmapCoverage.heat.data().n")
            page.close()
        out["bytes"], out["gzip"] = heat_weight(server.url)
        return out
    finally:
        server.stop()


def screenshots(browser) -> list[Path]:
    """The day, night and sites views at desktop and phone sizes, for docs/."""
    server = Server(env={"STATIONMAP_TILES": "none"})
    written = []
    try:
        for view, query in (("day", ""), ("night", "at=02:00"), ("sites", "adcode=310112&recommend=5")):
            for size in VIEWS.values():
                page = browser.new_context(viewport=size, locale="zh-CN").new_page()
                page.goto(f"{server.url}/coverage?{query}")
                page.wait_for_function("() => document.getElementById('table').dataset.ready", timeout=600_000)
                page.wait_for_timeout(800)
                path = DOCS / f"planner-{view}-{size['width']}x{size['height']}.png"
                page.screenshot(path=str(path))
                written.append(path)
                page.close()
        for size in VIEWS.values():
            written += _progress_and_demand(browser, server, size)
    finally:
        server.stop()
    return written


def scenario_screenshots(browser) -> list[Path]:
    """Scenarios side by side (day against 02:00, the whole city) at desktop and phone sizes."""
    server = Server(env={"STATIONMAP_TILES": "none"})
    written = []
    try:
        for size in VIEWS.values():
            page = browser.new_context(viewport=size, locale="zh-CN").new_page()
            page.goto(f"{server.url}/coverage?compare=1&b_at=02:00")
            page.wait_for_function("() => document.getElementById('changes').dataset.ready"
                                   " && !document.body.classList.contains('busy')", timeout=600_000)
            page.wait_for_timeout(800)
            # The form (with scenario B's fields) fills the first screen: start at the answer.
            page.evaluate("document.getElementById('status').scrollIntoView()")
            path = DOCS / f"planner-scenarios-{size['width']}x{size['height']}.png"
            page.screenshot(path=str(path))
            written.append(path)
            page.close()
    finally:
        server.stop()
    return written


def _progress_and_demand(browser, server, size) -> list[Path]:
    """A long question's progress (then cancelled) and an answer on uploaded demand."""
    suffix = f"{size['width']}x{size['height']}.png"
    page = browser.new_context(viewport=size, locale="zh-CN").new_page()
    page.goto(f"{server.url}/coverage?minutes=5&recommend=10")
    page.wait_for_function("() => document.getElementById('job-bar').value > 0.3", timeout=600_000)
    page.screenshot(path=str(DOCS / f"planner-progress-{suffix}"))
    page.get_by_role("button", name="取消计算").click()
    page.goto(f"{server.url}/coverage?recommend=3")
    page.wait_for_function("() => document.getElementById('table').dataset.ready", timeout=600_000)
    demand = "经度,纬度,人数\n121.50,31.62,1000\n121.40,31.70,800\n121.47,31.23,100\n121.80,30.95,600\n"
    page.locator("#demand").set_input_files(files=[{"name": "骑手订单.csv", "mimeType": "text/csv",
                                                    "buffer": demand.encode("utf-8")}])
    page.wait_for_function("() => document.getElementById('demand-note').textContent.includes('骑手订单')"
                           " && !document.body.classList.contains('busy')", timeout=600_000)
    page.wait_for_timeout(800)
    page.screenshot(path=str(DOCS / f"planner-demand-{suffix}"))
    page.close()
    return [DOCS / f"planner-progress-{suffix}", DOCS / f"planner-demand-{suffix}"]


def main() -> None:
    """Measure, take the screenshots and print the table for docs/benchmarks.md."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--adcode", action="append", default=[])
    parser.add_argument("--screenshots", action="store_true")
    parser.add_argument("--scenario-screenshots", action="store_true", help="only the scenarios views")
    parser.add_argument("--stations", help="a register file to serve (e.g. `stationmap sample national`'s)")
    args = parser.parse_args()
    with chromium() as browser:
        if args.screenshots:
            for path in screenshots(browser):
                print(path)
        if args.screenshots or args.scenario_screenshots:
            for path in scenario_screenshots(browser):
                print(path)
        for adcode in args.adcode:
            r = measure(adcode, browser, args.stations)
            print(f"| {r['adcode']} | {r['cells']:,} | {r['cold']:.1f} | {r['warm']:.1f} | "
                  f"{r['bytes'] / 1e6:.2f} MB | {r['gzip'] / 1e3:.0f} kB |")


if __name__ == "__main__":
    main()
