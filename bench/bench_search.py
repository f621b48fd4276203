"""Benchmark search (:mod:`stationmap.search`): build time and query latency.

Goal (issue 12): an answer in ≤ 20 ms at 186,100 stations. The baseline, run in the same
session, is the plain way: normalise the query, test ``query in name`` (and in the address and
the full pinyin) for every station in Python, then rank the hits by distance.

Queries mix what riders type: district names and their pinyin or initials, roads, parts of
station names, and the worst case, words nearly every station holds (爱心接力站, 站, ai).
Each is timed with and without a position, by the wall clock and by the process's CPU time (on
a shared machine the second says what the search itself costs). Usage::

    python bench/bench_search.py                       # 1,446 (Shanghai) and 186,100 (national)
    python bench/bench_search.py --sizes 1446 --repeat 50
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from typing import Any

import numpy as np

from stationmap import geodesy
from stationmap.index import StationIndex
from stationmap.search import StationSearch, normalise

QUERIES = ["徐汇", "xhq", "xuhui", "浦东新区", "人民路", "人民道", "gongyelu", "会泽县", "huize", "hzx",
           "接力站 43号", "司机之家", "ＸＨＱ", "changning", "爱心接力站", "站", "ai"]
POSITION = (121.4737, 31.2304)


def _data(n: int):
    from stationmap.districts import china_county_units, load_districts
    from stationmap.stations import read_stations

    if n <= 1500:
        return read_stations(), load_districts()
    from stationmap.sample import national_sample

    return national_sample(n=n), china_county_units()


def _baseline(search: StationSearch, query: str, position):
    """Linear scan in Python over the same texts (names, pinyin, initials, addresses): what
    the inverted index replaces. Ranked by distance only, so it does less than the search.
    """
    q = normalise(query)
    hits = sorted({int(field.docs[e]) for field in search.fields for e, text in enumerate(field.texts) if q in text})
    if position is not None and hits:
        metres = geodesy.geodesic_m(position[0], position[1], search.lon[hits], search.lat[hits])
        hits = [hits[i] for i in np.argsort(metres, kind="stable")[:10]]
    return hits[:10]


def _times_ms(call, repeat: int, clock=time.perf_counter) -> list[float]:
    out = []
    for _ in range(repeat):
        start = clock()
        call()
        out.append((clock() - start) * 1e3)
    return out


def run(n: int, repeat: int) -> None:
    """Time the search at ``n`` stations, ``repeat`` times per query, and print the figures."""
    stations, districts = _data(n)
    index = StationIndex(stations)
    start = time.perf_counter()
    search = StationSearch(index, districts)
    build = time.perf_counter() - start
    print(f"\n{len(index):,} stations, {len(districts):,} districts, {len(search):,} documents; "
          f"build {build:.2f} s; load average {os.getloadavg()[0]:.1f}")
    every, cpus, worst = [], [], ("", 0.0)
    print(f"{'query':<14}{'pos':>4}{'median ms':>11}{'max ms':>9}{'CPU ms':>8}{'baseline ms':>13}{'first result':>16}")
    for query in QUERIES:
        for position in (None, POSITION):
            kw: dict[str, Any] = {} if position is None else {"lon": position[0], "lat": position[1]}
            times = _times_ms(lambda q=query, k=kw: search.find(q, limit=10, **k), repeat)
            cpu = _times_ms(lambda q=query, k=kw: search.find(q, limit=10, **k), repeat, time.process_time)
            base = statistics.median(_times_ms(lambda q=query, p=position: _baseline(search, q.split()[0], p), 3))
            first = search.find(query, limit=1, **kw)
            every += times
            cpus += cpu
            if statistics.median(times) > worst[1]:
                worst = (f"{query} {'pos' if position else ''}", statistics.median(times))
            print(f"{query:<14}{'yes' if position else 'no':>4}{statistics.median(times):>11.2f}{max(times):>9.2f}"
                  f"{statistics.median(cpu):>8.2f}{base:>13.1f}  "
                  f"{first[0].kind + ' ' + first[0].name if first else '—'}")
    print(f"all queries: median {statistics.median(every):.2f} ms, p95 {np.percentile(every, 95):.2f} ms, "
          f"worst query median {worst[1]:.2f} ms ({worst[0]}); CPU time: median {statistics.median(cpus):.2f} ms, "
          f"p95 {np.percentile(cpus, 95):.2f} ms, max {max(cpus):.2f} ms")


def main() -> None:
    """The command line: sizes and repeats."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1446, 186_100])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"numpy {np.__version__}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    for n in args.sizes:
        run(n, args.repeat)


if __name__ == "__main__":
    main()
