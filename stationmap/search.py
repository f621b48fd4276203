"""Find stations, roads and districts by what a worker types: Chinese, pinyin or initials.

A rider with location off types "徐汇", "人民路", "xuhui" or "xhq"; this module answers with
stations (by name or address), roads (taken from the stations' addresses, one per road and
district) and districts, ranked by how well they match and, given a position, nearest first.

How text is matched
-------------------
* Every text is normalised the same way: NFKC (full-width ``ＡＢＣ１２`` becomes ``abc12``),
  lower case, spaces and punctuation dropped, so ``（12号）`` and ``(12号)`` agree.
* Chinese matches as a substring; a query with 路, 道 or 街 also tries the other two
  (registers write 世纪大道 and 世纪大路, 南京东街 and 南京东路), ranked just after the
  spelling typed.
* Pinyin: each name also carries its full pinyin (``xuhuiqu…``) and its initials (``xhq…``),
  from pypinyin. Readings are per character (pypinyin's phrase dictionary costs about 40 µs a
  character, far too slow for 186,100 names), except district and road names, which are few and
  get their phrase reading plus the other readings of heteronyms (长宁 is *changning*, not the
  per-character *zhangning*).
* Several words separated by spaces must each match (``徐汇 工业路``).

How it is fast
--------------
Each field (name, pinyin, initials, address) has an inverted index from character pairs (and,
for Chinese fields, single characters) to the entries that contain them, built with NumPy
sorts in one pass. A query takes the entries holding its rarest pairs, gives each a
provisional rank that can only get worse on checking (its field's tier, whether its length
equals the query's, the distance), and checks the true substring lazily in rank order until
``limit`` results are proved: a result is final once no unchecked candidate could rank before
it. Distances rank by ECEF chord, which never exceeds the geodesic; the geodesic of each
result is then computed and the final order is by geodesic metres.

The structure is built from one :class:`~stationmap.index.StationIndex` and kept on it
(:func:`for_index`), so when the register changes and the index is replaced, the search goes
with it. After an edit, the new index's search is the old one patched
(:meth:`StationSearch.patched`): only the stations whose name, address, district or position
changed are read again, and the result is the structure a build from scratch gives, array for
array. How texts are normalised, read in pinyin and indexed is :mod:`stationmap.search_text`.

Examples
--------
>>> from stationmap.index import StationIndex
>>> from stationmap.stations import read_stations
>>> from stationmap.districts import load_districts
>>> search = StationSearch(StationIndex(read_stations()), load_districts())
>>> [(m.kind, m.name) for m in search.find("xhq", limit=2)]
[('district', '徐汇区'), ('station', '徐汇区新华路爱心接力站（1号）')]
"""

from __future__ import annotations

import heapq
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from . import geodesy
from .errors import InputError
from .search_text import _HAN, TIERS, Pinyin, TextField, _variants, normalise, road_of, road_variants

if TYPE_CHECKING:
    import geopandas as gpd

    from .index import StationIndex

__all__ = ["KINDS", "MAX_QUERY", "Match", "StationSearch", "for_index", "normalise", "road_of", "road_variants",
           "split_query"]

KINDS = ("district", "road", "station")
#: The longest query accepted, in characters: longer text is not a search but a paste accident.
MAX_QUERY = 64
#: Earth's smallest radius of curvature (the meridian at the equator): chords of length c are
#: at most c·(1 + c²/(8R²)) as geodesics — generous; the true factor is about 1 + c²/(24R²).
_R_MIN = 6_335_439.0
#: From this many candidates on, a query with a position first looks among the nearest
#: documents (a k-d tree over every document) and only falls back to ranking all candidates
#: when that cannot prove the answer: "爱心接力站" near People's Square need not measure 186,100.
NEARBY_FROM = 4096
#: Largest rounding error of a chord computed from squared norms (about 0.06 m), with margin.
_CHORD_ROUNDING_M = 0.5


@dataclass(frozen=True)
class Match:
    """One search result.

    ``kind`` is ``station``, ``road`` or ``district``; ``ref`` is the station's row position
    in the index (stations), the district's adcode (districts) or ``None`` (roads);
    ``lon``/``lat`` are WGS-84; ``distance_m`` is geodesic metres from the query position, or
    ``None`` without one; ``rank`` is the match quality (lower is better); ``field`` names
    what matched (``name``, ``pinyin``, ``initials`` or ``address``).
    """

    kind: str
    ref: int | str | None
    name: str
    name_en: str | None
    adcode: str | None
    lon: float
    lat: float
    distance_m: float | None
    rank: int
    field: str
    stations: int


@dataclass(frozen=True)
class _Stations:
    """What the search reads of each station, in index order: what decides whether a
    station's entries can be kept when the register changes.
    """

    ids: list[str]
    names: list[str]
    names_en: list[str]
    addresses: list[str]
    adcodes: list[str]
    lon: list[float]
    lat: list[float]
    roads: list[str | None]

    @classmethod
    def of(cls, index: StationIndex, previous: _Stations | None = None,
           same: list[int] | None = None) -> _Stations:
        """Read ``index``; the road of a station whose old position is ``same[p] ≥ 0`` and
        whose address is unchanged is taken from ``previous`` instead of parsed again.
        """
        stations = index.stations
        addresses = stations["address"].fillna("").astype(str).tolist()
        if previous is None or same is None:
            roads = [road_of(a) for a in addresses]
        else:
            old, before = previous.roads, previous.addresses
            roads = [old[j] if j >= 0 and before[j] == a else road_of(a) for j, a in zip(same, addresses, strict=True)]
        return cls(ids=stations["id"].astype(str).tolist(), names=stations["name"].astype(str).tolist(),
                   names_en=stations["name_en"].fillna("").astype(str).tolist(), addresses=addresses,
                   adcodes=stations["adcode"].fillna("").astype(str).tolist(), lon=index.lon.tolist(),
                   lat=index.lat.tolist(), roads=roads)

    def unchanged_since(self, previous: _Stations, old: list[int]) -> list[int]:
        """``old`` (each station's position in ``previous``, or −1) with −1 also where the
        name, English name, address, district or position changed.
        """
        where = np.asarray(old, dtype=np.int64)
        has = np.flatnonzero(where >= 0)
        before = where[has]
        same = np.ones(len(has), dtype=bool)
        for column in ("names", "names_en", "addresses", "adcodes"):
            mine = np.asarray(getattr(self, column), dtype=object)[has]
            same &= mine == np.asarray(getattr(previous, column), dtype=object)[before]
        for column in ("lon", "lat"):
            same &= np.asarray(getattr(self, column))[has] == np.asarray(getattr(previous, column))[before]
        where[has[~same]] = -1
        return where.tolist()


class StationSearch:
    """The search structure of one station index (and, optionally, its area's districts).

    Parameters
    ----------
    index
        The stations.
    districts
        A districts frame (``adcode``, ``name``, ``name_en``, polygon ``geometry`` in WGS-84),
        e.g. :func:`stationmap.districts.load_districts` of the served area; ``None`` for no
        district results.
    """

    def __init__(self, index: StationIndex, districts: gpd.GeoDataFrame | None = None):
        import shapely

        #: Each district: adcode, name, English name, a point inside it (WGS-84).
        places: list[tuple[str, str, str | None, float, float]] = []
        if districts is not None and len(districts):
            points = shapely.point_on_surface(np.asarray(districts.geometry.array))
            for row, point in zip(districts.itertuples(index=False), points, strict=True):
                english = getattr(row, "name_en", None)
                places.append((str(row.adcode), str(row.name), english if isinstance(english, str) else None,
                               point.x, point.y))
        self._assemble(index, _Stations.of(index), places)

    def patched(self, index: StationIndex) -> StationSearch:
        """The search of ``index`` (a later version of this search's register), made from
        this one: the entries of stations whose name, English name, address, district and
        position are unchanged are kept and renumbered, the rest read again, roads and
        districts recounted. Equal to ``StationSearch(index, districts)`` in every array and
        answer (tested); a register whose kept stations changed order is built whole.
        """
        import pandas as pd

        previous = self._stations
        ids = [str(i) for i in index.ids.tolist()]
        same = pd.Index(previous.ids).get_indexer(ids).tolist()        # old position, or −1 (a hash join)
        fresh = _Stations.of(index, previous, same)
        same = fresh.unchanged_since(previous, same)
        kept = np.asarray(same, dtype=np.int64)
        kept = kept[kept >= 0]
        new = object.__new__(StationSearch)
        if (np.diff(kept) <= 0).any():
            new._assemble(index, fresh, self._places)
        else:
            new._assemble(index, fresh, self._places, base=(self, same))
        return new

    def _assemble(self, index: StationIndex, stations: _Stations, places: list[tuple[str, str, str | None, float,
                                                                                          float]],
                  base: tuple[StationSearch, list[int]] | None = None) -> None:
        """Lay out the documents (stations, then roads, then districts) and index their texts:
        from scratch, or from ``base`` (an older search and, per station, its old position if
        its entries can be kept, else −1).
        """
        n = len(stations.ids)
        kind: list[str] = []                    # of roads and districts: stations come first
        ref: list[int | str | None] = list(range(n))
        label, label_en = list(stations.names), [e or None for e in stations.names_en]
        doc_adcode: list[str | None] = [a or None for a in stations.adcodes]
        lon, lat, count = list(stations.lon), list(stations.lat), [1] * n

        # Roads: one per (district, road) seen in addresses, placed at the station on it
        # closest to its stations' mean (a point on the road, unlike the mean itself).
        roads: dict[tuple[str, str], list[int]] = {}
        for p, road in enumerate(stations.roads):
            if road:
                roads.setdefault((stations.adcodes[p], road), []).append(p)

        def add(what: str, key: int | str | None, name: str, english: str | None, adcode: str | None,
                x: float, y: float, stations: int) -> None:
            kind.append(what)
            ref.append(key)
            label.append(name)
            label_en.append(english)
            doc_adcode.append(adcode)
            lon.append(x)
            lat.append(y)
            count.append(stations)

        for (adcode, road), members in roads.items():
            x, y = index.lon[members], index.lat[members]
            pick = members[int(np.argmin((x - x.mean()) ** 2 + (y - y.mean()) ** 2))]
            add("road", None, road, None, adcode or None, lon[pick], lat[pick], len(members))

        #: District names by adcode (zh, en), to say which district a road result is in.
        self.districts: dict[str, tuple[str, str | None]] = {}
        if places:
            per_district: dict[str, int] = {}
            for a in stations.adcodes:
                per_district[a] = per_district.get(a, 0) + 1
            for adcode, name, english, px, py in places:
                self.districts[adcode] = (name, english)
                add("district", adcode, name, english or None, adcode, px, py, per_district.get(adcode, 0))

        self._stations, self._places = stations, places
        self.kind = np.concatenate([np.full(n, KINDS.index("station"), dtype=np.int8),
                                    np.array([KINDS.index(k) for k in kind], dtype=np.int8)])
        self.ref, self.label, self.label_en, self.adcode, self.count = ref, label, label_en, doc_adcode, count
        self.lon, self.lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        self.xyz = geodesy.ecef(self.lon, self.lat)
        self.tree = cKDTree(self.xyz, balanced_tree=False, compact_nodes=False)
        self.xyz_squared = np.einsum("ij,ij->i", self.xyz, self.xyz)
        self.name_length = np.fromiter((len(t) for t in label), dtype=np.int64, count=len(label))
        #: Order among equal matches without a position: districts, roads, stations; short names first.
        self.static_rank = np.empty(len(label), dtype=np.int64)
        self.static_rank[np.lexsort((np.arange(len(label)), self.name_length, self.kind))] = np.arange(len(label))
        self._index_texts(n, base)

    def _index_texts(self, n: int, base: tuple[StationSearch, list[int]] | None) -> None:
        """Build :attr:`fields`, or patch ``base``'s: its kept stations' entries renumbered, the
        other stations', roads' and districts' entries read again.
        """
        if base is None:
            docs = list(range(len(self)))
            self._pinyin = Pinyin(normalise(self.label[d]) for d in docs)
            self.fields = [TextField.of(f, t, d, len(self)) for f, (t, d) in self._entries(docs, n).items() if t]
            return
        old, same = base
        docs = [p for p, j in enumerate(same) if j < 0] + list(range(n, len(self)))
        self._pinyin = old._pinyin.extended(normalise(self.label[d]) for d in docs)
        new_doc = np.full(len(old), -1, dtype=np.int64)
        kept = np.flatnonzero(np.asarray(same, dtype=np.int64) >= 0)
        new_doc[np.asarray(same, dtype=np.int64)[kept]] = kept
        entries = self._entries(docs, n)
        previous = {f.name: f for f in old.fields}
        fields = []
        for name, (texts, owners) in entries.items():
            if name in previous:
                field = previous[name].patched(new_doc, texts, owners, len(self))
            elif texts:
                field = TextField.of(name, texts, owners, len(self))
            else:
                continue
            if len(field.texts):
                fields.append(field)
        self.fields = fields

    def __len__(self) -> int:
        return len(self.kind)

    def _entries(self, docs: list[int], n: int) -> dict[str, tuple[list[str], list[int]]]:
        """The entries of ``docs`` (ascending) per field, each doc's in the order a build adds
        them: name and English name; pinyin and initials (roads and districts also by phrase
        readings); the address of a station (documents below ``n``).
        """
        pinyin = self._pinyin
        out: dict[str, tuple[list[str], list[int]]] = {f: ([], []) for f in TIERS}

        def add(field: str, doc: int, text: str) -> None:
            if text:
                out[field][0].append(text)
                out[field][1].append(doc)

        addresses = self._stations.addresses
        for doc in docs:
            text = normalise(self.label[doc])
            add("name", doc, text)
            if self.label_en[doc]:
                add("name", doc, normalise(self.label_en[doc] or ""))
            readings = pinyin.phrase_readings(text) if doc >= n and _HAN.search(text) else []
            fulls = [text.translate(pinyin.full), *("".join(r) for r in readings)]
            initials = [text.translate(pinyin.initials), *("".join(s[:1] for s in r) for r in readings)]
            for field, variants in (("pinyin", fulls), ("initials", initials)):
                for reading in dict.fromkeys(variants):
                    if reading != text:
                        add(field, doc, reading)
            if doc < n:
                add("address", doc, normalise(addresses[doc]))
        return out

    # -- queries -------------------------------------------------------------------------

    def find(self, query: str, *, lon: float | None = None, lat: float | None = None, limit: int = 10,
             kinds: Iterable[str] = KINDS) -> list[Match]:
        """The best ``limit`` matches for ``query``, nearest first among equals if a WGS-84
        position is given.

        Raises :class:`InputError` (field ``q``) for an empty or overlong query.
        """
        terms = split_query(query)
        if (lon is None) != (lat is None):
            raise InputError("give both lat and lon, or neither", field="lat" if lat is None else "lon")
        allowed = np.zeros(len(KINDS), dtype=bool)
        allowed[[KINDS.index(k) for k in kinds]] = True
        provisional = np.zeros(len(self), dtype=np.int64)
        alive = np.ones(len(self), dtype=bool) if allowed.all() else allowed[self.kind]
        for term in terms:
            best = self._provisional(term)
            alive &= best >= 0
            provisional += best
        candidates = np.flatnonzero(alive)
        if len(candidates) == 0:
            return []
        if lon is not None and lat is not None:
            if len(candidates) >= NEARBY_FROM:
                nearby = self._nearby(terms, candidates, provisional[candidates], lon, lat, limit)
                if nearby is not None:
                    return nearby
            second = self._chords(lon, lat, candidates)
        else:
            second = self.static_rank[candidates].astype(float)
        keys = provisional[candidates]
        return self._settle(terms, candidates, keys, second, lon, lat, limit)

    def _nearby(self, terms: list[str], candidates: NDArray[np.int64], keys: NDArray[np.int64], lon: float,
                lat: float, limit: int) -> list[Match] | None:
        """The answer from the documents nearest the position, or ``None`` if it is not proved.

        Among the ``m`` documents nearest by chord, take the candidates of the best provisional
        rank and settle them. The answer stands when it has ``limit`` results, all of that rank,
        and the last one's geodesic is no longer than the m-th chord: every other candidate of
        that rank is at least that far by chord, so at least that far by geodesic, and every
        candidate of a worse rank ranks after it anyway.
        """
        best = int(keys.min())
        in_group = np.zeros(len(self), dtype=bool)
        in_group[candidates[keys == best]] = True
        point = np.asarray(geodesy.ecef_point(lon, lat))
        m = min(len(self), max(16 * limit, 256))
        chords, docs = self.tree.query(point, k=m)
        keep = in_group[docs]
        near = docs[keep].astype(np.int64)
        if len(near) < limit:
            return None
        found = self._settle(terms, near, np.full(len(near), best, dtype=np.int64), chords[keep], lon, lat, limit)
        if len(found) < limit or any(f.rank != best for f in found):
            return None
        if m < len(self) and (found[-1].distance_m or 0.0) > chords[-1] - geodesy.CHORD_SLACK_M - _CHORD_ROUNDING_M:
            return None
        return found

    def _chords(self, lon: float, lat: float, candidates: NDArray[np.int64]) -> NDArray[np.float64]:
        """Chord metres from a WGS-84 point to each candidate.

        For many candidates, ``|x − p|² = |x|² + |p|² − 2 x·p`` costs one matrix-vector product
        over every document and one gather, where the direct form gathers three coordinates;
        its rounding (about 0.06 m near zero) is covered by :data:`_CHORD_ROUNDING_M`.
        """
        point = np.asarray(geodesy.ecef_point(lon, lat))
        if len(candidates) * 8 < len(self):
            delta = self.xyz[candidates] - point
            return np.sqrt(np.einsum("ij,ij->i", delta, delta))
        squared = self.xyz_squared - 2.0 * (self.xyz @ point) + float(point @ point)
        return np.sqrt(np.maximum(squared[candidates], 0.0))

    def _provisional(self, term: str) -> NDArray[np.int64]:
        """Per document, the best rank ``term`` could have (−1: cannot match); a lower bound."""
        writes: list[tuple[int, NDArray[np.int64]]] = []
        for variant_no, variant in enumerate(_variants(term)):
            for field in self.fields:
                entries = field.candidates(variant)
                if entries is None or len(entries) == 0:
                    continue
                whole = field.lengths[entries] == len(variant)
                rank = 4 * field.tier + (1 if variant_no else 0)
                writes.append((rank, field.docs[entries[~whole]]))
                writes.append((rank - 2, field.docs[entries[whole]]))
        # The minimum per document without reading it back: plain fancy assignments from the
        # worst rank to the best, so the best written last wins (each assignment writes one
        # value, so repeated documents agree). A gather and np.minimum per field cost twice as
        # much on common words; ufunc.at ten times.
        best = np.full(len(self), -1, dtype=np.int64)
        for value, docs in sorted(writes, key=lambda w: -w[0]):
            if len(docs):
                best[docs] = value
        return best

    def _true_rank(self, doc: int, terms: list[str]) -> tuple[int, str] | None:
        """The checked rank of one document for all terms, and the field of its first term."""
        total, first_field = 0, ""
        for term_no, term in enumerate(terms):
            best: tuple[int, str] | None = None
            for variant_no, variant in enumerate(_variants(term)):
                for field in self.fields:
                    for e in self._entries_of(field, doc):
                        text = field.texts[e]
                        if variant in text:
                            rank = 4 * field.tier - 2 * (len(text) == len(variant)) + (1 if variant_no else 0)
                            if best is None or rank < best[0]:
                                best = (rank, field.name)
            if best is None:
                return None
            total += best[0]
            if term_no == 0:
                first_field = best[1]
        return total, first_field

    @staticmethod
    def _entries_of(field: TextField, doc: int) -> range:
        return range(int(field.doc_starts[doc]), int(field.doc_starts[doc + 1]))

    def _settle(self, terms: list[str], candidates: NDArray[np.int64], keys: NDArray[np.int64],
                second: NDArray[np.float64], lon: float | None, lat: float | None, limit: int) -> list[Match]:
        """Check candidates lazily in provisional order until ``limit`` results are final."""
        # One number per candidate for partial sorting: second < 1.3e7 (chord metres, or the
        # static rank < 4.2e6), so rank × 1e8 keeps ranks apart; doubles stay exact to 1e-5 here.
        combined = keys.astype(float) * 1e8 + second
        remaining = np.arange(len(candidates))
        floor = -np.inf                                   # no unloaded candidate is below this
        heap: list[tuple[int, float, int]] = []
        results: list[tuple[int, float, int, str]] = []
        chunk = max(4 * limit, 64)
        ranking_by_chord = lon is not None
        while len(results) < limit or ranking_by_chord:
            if not heap and not len(remaining):
                break
            if len(remaining) and (not heap or floor <= heap[0][0] * 1e8 + heap[0][1]):
                if len(remaining) > chunk:
                    part = np.argpartition(combined[remaining], chunk)
                    batch, remaining = remaining[part[:chunk]], remaining[part[chunk:]]
                    floor = float(combined[remaining[0]])     # argpartition put the next smallest first
                else:
                    batch, remaining = remaining, remaining[:0]
                for i in batch.tolist():
                    heapq.heappush(heap, (int(keys[i]), float(second[i]), int(candidates[i])))
                continue
            rank, dist, doc = heapq.heappop(heap)
            checked = self._true_rank(doc, terms)
            if checked is None:
                continue
            if checked[0] != rank:                       # worse than hoped: back in the queue
                heapq.heappush(heap, (checked[0], dist, doc))
                continue
            if len(results) >= limit:
                # Extra results only decide ties that chord order may have put wrongly.
                last_rank, last_chord = results[limit - 1][:2]
                if rank != last_rank or dist > geodesic_bound(last_chord):
                    break
            results.append((rank, dist, doc, checked[1]))
        return self._matches(results, lon, lat)[:limit]

    def _matches(self, results: list[tuple[int, float, int, str]], lon: float | None, lat: float | None
                 ) -> list[Match]:
        if not results:
            return []
        docs = np.array([d for _, _, d, _ in results], dtype=np.int64)
        if lon is not None and lat is not None:
            point = np.asarray(geodesy.ecef_point(lon, lat))
            metres = geodesy.geodesic_from_chord(np.full(len(docs), lon), np.full(len(docs), lat),
                                                 np.broadcast_to(point, (len(docs), 3)),
                                                 self.lon[docs], self.lat[docs], self.xyz[docs]).tolist()
        else:
            metres = [None] * len(docs)
        out = [Match(kind=KINDS[self.kind[d]], ref=self.ref[d], name=self.label[d], name_en=self.label_en[d],
                     adcode=self.adcode[d], lon=float(self.lon[d]), lat=float(self.lat[d]),
                     distance_m=None if m is None else round(float(m), 2), rank=rank, field=field,
                     stations=self.count[d])
               for (rank, _, d, field), m in zip(results, metres, strict=True)]
        if lon is not None:
            out.sort(key=lambda m: (m.rank, m.distance_m))          # geodesic, not chord, decides (stable)
        return out


def split_query(query: str) -> list[str]:
    """The words of a query, normalised; raises :class:`InputError` (field ``q``) if none."""
    if query is None or not str(query).strip():
        raise InputError("is empty; type part of a name, a road, a district, or its pinyin", field="q")
    if len(str(query)) > MAX_QUERY:
        raise InputError(f"is {len(str(query))} characters long; at most {MAX_QUERY}", field="q")
    text = unicodedata.normalize("NFKC", str(query))
    terms = [normalise(word) for word in text.split()]
    terms = [t for t in terms if t]
    if not terms:
        raise InputError("has no letters or characters to search for", field="q")
    return terms[:4]


def for_index(index: StationIndex, area: str | None = None) -> StationSearch:
    """The search of ``index`` with the districts of ``area`` (an adcode, e.g. the served
    ``310100``; ``None``: no districts), built on first use and kept on the index, so a replaced
    register never answers from an old search. An index that follows one holding this search
    (:meth:`~stationmap.index.StationIndex.inherit`) takes it over when no searched column
    changed, and patches it (:meth:`StationSearch.patched`) when some did.
    """

    def build() -> StationSearch:
        from .districts import load_districts

        return StationSearch(index, load_districts(area) if area else None)

    return index.memo(f"search:{area or ''}", build, depends=SEARCHED, update=lambda old: old.patched(index))


#: The columns a :class:`StationSearch` reads, besides positions and points: an edit that
#: leaves them alone keeps the search (see :meth:`stationmap.index.StationIndex.inherit`).
SEARCHED = ("name", "name_en", "address", "adcode")


def geodesic_bound(chord_m: float) -> float:
    """The longest geodesic a chord of ``chord_m`` can be (see :data:`_R_MIN`), allowing for
    the rounding of :meth:`StationSearch._chords`.
    """
    return chord_m * (1.0 + chord_m * chord_m / (8.0 * _R_MIN * _R_MIN)) + _CHORD_ROUNDING_M


