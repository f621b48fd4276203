"""Where the worker page's first useful result spends its time: one throttled first visit and one
repeat visit, each as a waterfall (every request's start, first byte and end, and its size on the
wire), with the first station card and the page's own milestones beside it.

The same phone as bench/bench_worker_phone.py (4× CPU, 400 ms latency, 400 kbit/s, a shared link
with a position), so the figures line up with the benchmark's; this one says *why*.

    python bench/worker_waterfall.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from bench_worker_phone import FIRST_CARD, URL, throttle  # noqa: E402
from browser import chromium  # noqa: E402
from conftest import Server  # noqa: E402

MILESTONES = FIRST_CARD + """
document.addEventListener("DOMContentLoaded", () => { window.__dcl = performance.now(); });
window.addEventListener("load", () => { window.__load = performance.now(); });
let early;                       // when the page's head asks for a shared link's answer
Object.defineProperty(window, "stationmapEarly", { configurable: true, get: () => early,
  set: (v) => { if (v && window.__early === undefined) window.__early = performance.now(); early = v; } });
"""

READ = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const rows = [nav, ...performance.getEntriesByType("resource")].map(e => ({
    name: e.name.replace(location.origin, "").slice(0, 70), start: e.startTime, first_byte: e.responseStart,
    end: e.responseEnd, wire: e.transferSize, body: e.decodedBodySize, worker: e.workerStart > 0 }));
  const paint = performance.getEntriesByType("paint").map(p => p.name + " " + Math.round(p.startTime)).join(", ");
  return { rows, card: window.__firstCard, dcl: window.__dcl, load: window.__load, early: window.__early, paint };
}"""


def visit(page, base: str) -> dict:
    """Open the shared link, wait for the first card and the load event, read the timings."""
    page.goto(base + URL, wait_until="commit")
    page.wait_for_function("() => window.__firstCard !== undefined && window.__load !== undefined", timeout=60000)
    page.wait_for_timeout(500)
    return page.evaluate(READ)


def show(title: str, seen: dict) -> None:
    """Print one visit's waterfall, in milliseconds from navigation start."""
    print(f"\n## {title}: first card {seen['card']:.0f} ms, DOMContentLoaded {seen['dcl']:.0f}, "
          f"load {seen['load']:.0f}, "
          f"answer asked for at {seen['early'] or 0:.0f}; {seen['paint']}")
    print(f"{'request':72} {'start':>6} {'1st B':>6} {'end':>6} {'wire':>7} {'body':>7}")
    for row in sorted(seen["rows"], key=lambda r: r["start"]):
        print(f"{row['name'] or '(page)':72} {row['start']:6.0f} {row['first_byte']:6.0f} {row['end']:6.0f} "
              f"{row['wire']:7d} {row['body']:7d}{'  sw' if row['worker'] else ''}")


def warm(base: str) -> None:
    """Each gunicorn worker's first answers are slow (imports, the register read): not the phone's wait."""
    import urllib.request

    for _ in range(4):
        for path in (URL, "/api/v1/stations/nearest?lat=31.2397&lon=121.4998&k=10"):
            with urllib.request.urlopen(base + path, timeout=30) as response:
                response.read()


def main() -> None:
    """One first and one repeat visit on a new profile."""
    server = Server(env={"STATIONMAP_TILES": "none"})
    try:
        warm(server.url)
        with chromium() as browser:
            context = browser.new_context(viewport={"width": 390, "height": 844})
            context.add_init_script(MILESTONES)
            page = context.new_page()
            throttle(page)
            show("first visit", visit(page, server.url))
            page.evaluate("() => navigator.serviceWorker.ready")
            page.wait_for_function("() => caches.keys().then(k => k.length > 0)", timeout=60000)
            page.wait_for_timeout(1000)
            page.close()
            page = context.new_page()
            throttle(page)
            show("repeat visit", visit(page, server.url))
            context.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
