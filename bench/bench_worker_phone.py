"""First useful result of the worker page on a throttled phone, first and repeat visits.

Headless Chromium (Debian's) on a 390 × 844 viewport, throttled through the DevTools protocol
the way Lighthouse's "slow 4G"-and-worse profiles are: 4× CPU slowdown, 400 ms round-trip
latency, 400 kbit/s down and up. The real server (gunicorn, ``TILES=none``: tiles come from
outside and are not the answer) serves the shipped Shanghai register.

"First useful result" is the moment the first station card is in the list, from the start of
navigation (``performance.now()`` in the page, recorded by a MutationObserver), for a shared
link that carries a position (``/?at=…``): what a rider opening the link, or returning to the
page, waits for. Geolocation's own delay is the phone's and is left out.

- first visit: a new browser profile (nothing cached);
- repeat visit: the same profile, the page opened again (service worker and its offline copy);
- baseline, in the same run: the repeat visit with service workers blocked (browser HTTP cache
  only), the way the page was before it had an offline copy.

    python bench/bench_worker_phone.py --runs 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from browser import chromium  # noqa: E402
from conftest import Server  # noqa: E402

URL = "/?lang=zh&at=31.2397,121.4998&cs=wgs84"
KBPS = 400
FIRST_CARD = """
new MutationObserver((changes, observer) => {
  if (document.querySelector("li.station")) { window.__firstCard = performance.now(); observer.disconnect(); }
}).observe(document, {childList: true, subtree: true});
"""


def throttle(page) -> None:
    """4× CPU, 400 ms latency, 400 kbit/s each way, for this page's target."""
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 400, "downloadThroughput": KBPS * 1000 / 8, "uploadThroughput": KBPS * 1000 / 8})
    session.send("Emulation.setCPUThrottlingRate", {"rate": 4})


def first_card_ms(page, base: str) -> float:
    """Milliseconds from navigation start to the first station card."""
    page.goto(base + URL, wait_until="commit")
    page.wait_for_function("() => window.__firstCard !== undefined", timeout=60000)
    return float(page.evaluate("() => window.__firstCard"))


def visit_pair(browser, base: str, service_workers: str) -> tuple[float, float]:
    """(first, repeat) for one fresh profile."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, service_workers=service_workers)
    context.add_init_script(FIRST_CARD)
    page = context.new_page()
    throttle(page)
    first = first_card_ms(page, base)
    if service_workers == "allow":
        page.evaluate("() => navigator.serviceWorker.ready")
        page.wait_for_function("() => caches.keys().then(k => k.length > 0)", timeout=60000)
    page.wait_for_timeout(1000)                   # let the page settle (view layer, outlines)
    page.close()
    page = context.new_page()
    throttle(page)
    repeat = first_card_ms(page, base)
    context.close()
    return first, repeat


def main() -> None:
    """Run the visits and print a Markdown table of medians (and ranges)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server = Server(env={"STATIONMAP_TILES": "none"})
    try:
        with chromium() as browser:
            results = {"allow": [], "block": []}
            for _ in range(args.runs):
                for mode in results:
                    results[mode].append(visit_pair(browser, server.url, mode))
    finally:
        server.stop()

    def row(name, values):
        seconds = [v / 1000 for v in values]
        return f"| {name} | {statistics.median(seconds):.2f} | {min(seconds):.2f}–{max(seconds):.2f} |"

    print(f"runs: {args.runs}; 4x CPU, 400 ms latency, {KBPS} kbit/s; {URL}")
    print("| visit | median (s) | range (s) |\n| --- | --- | --- |")
    print(row("first visit", [f for f, _ in results["allow"]]))
    print(row("repeat visit (service worker)", [r for _, r in results["allow"]]))
    print(row("baseline: first visit, service workers blocked", [f for f, _ in results["block"]]))
    print(row("baseline: repeat visit, HTTP cache only", [r for _, r in results["block"]]))


if __name__ == "__main__":
    main()
