"""The search's answers equal a brute-force reference: every document checked, then sorted.

The reference reads only the texts each field holds for each document (names, pinyin,
initials, addresses) and the documented ranking (field tier, whole text, 路/道/街 variant;
then geodesic metres given a position, else districts, roads, stations and short names first),
so any shortcut of the real search (inverted index, provisional ranks, lazy checks, the
nearby k-d tree) that changed an answer shows here.
"""

import numpy as np
import pytest

from stationmap import geodesy
from stationmap.index import StationIndex
from stationmap.search import KINDS, StationSearch, normalise, road_variants, split_query

PEOPLES_SQUARE = (121.4737, 31.2304)


@pytest.fixture(scope="module")
def big(shanghai):
    """A few thousand stations: Shanghai's 1,446 (with addresses and roads) copied twice,
    moved a little, so common words have several thousand candidates."""
    import pandas as pd

    frames = []
    for k in range(2):
        copy = shanghai.stations.copy()
        copy["id"] = copy["id"].astype(str) + f"-{k}"
        copy["geometry"] = copy.geometry.translate(0.003 * k, -0.002 * k)
        frames.append(copy)
    stations = pd.concat(frames, ignore_index=True)
    from stationmap.districts import load_districts

    return StationSearch(StationIndex(stations), load_districts("310100"))


def _reference(search, query, lon=None, lat=None):
    terms = split_query(query)
    texts = {f.name: [[] for _ in range(len(search))] for f in search.fields}
    for field in search.fields:
        for text, doc in zip(field.texts, field.docs.tolist(), strict=True):
            texts[field.name][doc].append((field.tier, text))
    rows = []
    for doc in range(len(search)):
        total = 0
        for term in terms:
            ranks = [4 * tier - 2 * (len(text) == len(variant)) + (1 if no else 0)
                     for no, variant in enumerate(road_variants(term))
                     for field in texts.values() for tier, text in field[doc] if variant in text]
            if not ranks:
                break
            total += min(ranks)
        else:
            rows.append((doc, total))
    if lon is None:
        order = sorted(rows, key=lambda r: (r[1], int(search.kind[r[0]]), int(search.name_length[r[0]]), r[0]))
        return [(KINDS[search.kind[d]], search.ref[d], rank) for d, rank in order]
    docs = np.array([d for d, _ in rows], dtype=np.int64)
    metres = geodesy.geodesic_m(lon, lat, search.lon[docs], search.lat[docs]) if len(docs) else []
    order = sorted(zip(rows, metres, strict=True), key=lambda r: (r[0][1], r[1]))
    return [(rank, round(float(m), 2)) for (_, rank), m in order]


def _queries(search, rng, count):
    names = [t for t in search.label if t]
    out = ["站", "ai", "xhq", "路", "人民路", "人民道", "爱心接力站", "接力站 1号", "ＸＨＱ", "徐汇 工业路"]
    while len(out) < count:
        name = names[int(rng.integers(len(names)))]
        size = int(rng.integers(1, 5))
        start = int(rng.integers(0, max(1, len(name) - size)))
        piece = name[start:start + size]
        if normalise(piece):
            out.append(piece)
    return out


def test_answers_without_a_position_equal_the_brute_force_reference(big):
    rng = np.random.default_rng(12)
    for query in _queries(big, rng, 40):
        limit = int(rng.choice([1, 5, 10, 30]))
        found = [(m.kind, m.ref, m.rank) for m in big.find(query, limit=limit)]
        assert found == _reference(big, query)[:limit], query


def test_answers_given_a_position_equal_the_brute_force_reference(big):
    rng = np.random.default_rng(21)
    for query in _queries(big, rng, 40):
        limit = int(rng.choice([1, 5, 10, 30]))
        lon = PEOPLES_SQUARE[0] + float(rng.normal(0, 0.2))
        lat = PEOPLES_SQUARE[1] + float(rng.normal(0, 0.2))
        found = [(m.rank, m.distance_m) for m in big.find(query, lon=lon, lat=lat, limit=limit)]
        assert found == _reference(big, query, lon, lat)[:limit], (query, lon, lat)
