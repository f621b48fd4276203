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
with it.

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
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from . import geodesy
from .errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd

    from .index import StationIndex

KINDS = ("district", "road", "station")
#: The longest query accepted, in characters: longer text is not a search but a paste accident.
MAX_QUERY = 64
#: Field tiers, best first; a match's rank is ``4 × tier − 2 if the whole text matched, + 1 for
#: a 路/道/街 variant``, summed over the query's words.
TIERS = {"name": 1, "pinyin": 2, "initials": 3, "address": 4}
_HAN_FIELDS = ("name", "address")       # indexed by single characters too
_ROAD_CHARS = "路道街"
_DROP = re.compile(r"[\W_]+")
_HAN = re.compile(r"[\u3400-\u9fff]")
_ADMIN_PREFIX = re.compile(
    r"^(?:[\u3400-\u9fff]{1,9}?(?:特别行政区|自治区|自治州|自治县|省|市|地区|盟|区|县|旗|镇|乡|街道))+")
_ROAD = re.compile(r"[\u3400-\u9fff]{1,16}?(?:大道|大街|公路|胡同|路|道|街|巷|弄)(?=\d|[一二三四五六七八九十]|$)")
#: Largest heteronym product kept for a district or road name's pinyin.
_MAX_READINGS = 6
#: Earth's smallest radius of curvature (the meridian at the equator): chords of length c are
#: at most c·(1 + c²/(8R²)) as geodesics — generous; the true factor is about 1 + c²/(24R²).
_R_MIN = 6_335_439.0
#: From this many candidates on, a query with a position first looks among the nearest
#: documents (a k-d tree over every document) and only falls back to ranking all candidates
#: when that cannot prove the answer: "爱心接力站" near People's Square need not measure 186,100.
NEARBY_FROM = 4096
#: Largest rounding error of a chord computed from squared norms (about 0.06 m), with margin.
_CHORD_ROUNDING_M = 0.5


def normalise(text: str) -> str:
    """Text as it is compared: NFKC, lower case, no spaces or punctuation.

    Examples
    --------
    >>> normalise("Ｘｕｈｕｉ 工业路（１２号）")
    'xuhui工业路12号'
    """
    return _DROP.sub("", unicodedata.normalize("NFKC", text or "").lower())


def road_variants(term: str) -> list[str]:
    """The term first, then its spellings with 路, 道 and 街 exchanged (at most 9).

    Examples
    --------
    >>> road_variants("世纪大道")
    ['世纪大道', '世纪大路', '世纪大街']
    """
    slots = [i for i, ch in enumerate(term) if ch in _ROAD_CHARS][:2]
    out = [term]
    for choice in itertools.product(_ROAD_CHARS, repeat=len(slots)):
        chars = list(term)
        for i, ch in zip(slots, choice, strict=True):
            chars[i] = ch
        variant = "".join(chars)
        if variant not in out:
            out.append(variant)
    return out


@lru_cache(maxsize=1 << 12)
def _variants(term: str) -> tuple[str, ...]:
    """:func:`road_variants`, remembered: checking one candidate asks for them once per
    document, and the same query words come back again and again.
    """
    return tuple(road_variants(term))


def road_of(address: str) -> str | None:
    """The road of an address, without the province, city and district before it.

    Examples
    --------
    >>> road_of("上海市浦东新区世纪大道100号")
    '世纪大道'
    >>> road_of("上海市宝山区和平路1870号"), road_of("")
    ('和平路', None)
    """
    text = unicodedata.normalize("NFKC", address or "").replace(" ", "")
    found = _ROAD.search(_ADMIN_PREFIX.sub("", text))
    return found.group(0) if found else None


class _Pinyin:
    """Full pinyin and initials of names, per character through ``str.translate`` (C speed)."""

    def __init__(self, texts: Iterable[str]):
        from pypinyin import Style, lazy_pinyin

        chars = sorted(ch for ch in set("".join(texts)) if _HAN.match(ch))
        readings = lazy_pinyin(chars, style=Style.NORMAL, errors="ignore") if chars else []
        if len(readings) != len(chars):       # a character without a reading: ask one by one
            readings = [(lazy_pinyin(ch, style=Style.NORMAL, errors="ignore") or [""])[0] for ch in chars]
        self.full = str.maketrans(dict(zip(chars, readings, strict=True)))
        self.initials = str.maketrans({ch: r[:1] for ch, r in zip(chars, readings, strict=True)})

    @staticmethod
    @lru_cache(maxsize=1 << 14)
    def phrase_readings(name: str) -> list[tuple[str, ...]]:
        """Readings of a short name as syllables: the phrase reading, then the same with one
        heteronym read another way (长宁: *zhangning*, then *changning*), at most
        :data:`_MAX_READINGS` in all.

        Remembered per name (district and road names, the same from one register version to
        the next): a rebuilt search after an edit does not ask pypinyin again (2.4 s for the
        2,875 districts of China). Callers must not change the list.
        """
        from pypinyin import Style, lazy_pinyin, pinyin

        first = tuple(lazy_pinyin(name, style=Style.NORMAL, errors="ignore"))
        out = [first]
        options = pinyin(name, style=Style.NORMAL, heteronym=True, errors="ignore")
        if len(options) != len(first):
            return out
        for i, readings in enumerate(options):
            for other in readings[:3]:
                variant = first[:i] + (other,) + first[i + 1:]
                if variant not in out and len(out) < _MAX_READINGS:
                    out.append(variant)
        return out


class _Field:
    """One searchable field: texts of entries, the document each belongs to, and an inverted
    index from character pairs (and single characters for Chinese fields) to entries.
    """

    def __init__(self, name: str, texts: Sequence[str], docs: NDArray[np.int64], unigrams: bool, n_docs: int):
        self.name = name
        self.tier = TIERS[name]
        self.texts = list(texts)
        self.docs = np.asarray(docs, dtype=np.int64)            # ascending: entries are added in doc order
        self.doc_starts = np.searchsorted(self.docs, np.arange(n_docs + 1))
        self.lengths = np.fromiter((len(t) for t in self.texts), dtype=np.int64, count=len(self.texts))
        self.unigrams = unigrams
        keys, entries = self._grams()
        packed = (keys << np.uint64(22)) | entries
        packed.sort()                                   # by key, then entry (a sort beats a hash here)
        packed = packed[np.concatenate([[True], packed[1:] != packed[:-1]])]
        self.postings = (packed & np.uint64((1 << 22) - 1)).astype(np.int32)
        key_of = packed >> np.uint64(22)
        first = np.flatnonzero(np.concatenate([[True], key_of[1:] != key_of[:-1]]))
        self.keys = key_of[first]
        self.starts = np.append(first, len(packed))

    def _grams(self) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
        if len(self.texts) >= 1 << 22:
            raise ValueError("too many entries for one search field (4,194,304 at most)")
        joined = "\x00".join(self.texts) + "\x00"
        codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        entry = np.repeat(np.arange(len(self.texts), dtype=np.uint64), self.lengths + 1)
        pair = (codes[:-1] != 0) & (codes[1:] != 0)
        keys = [(codes[:-1][pair] << np.uint64(21)) | codes[1:][pair]]
        entries = [entry[:-1][pair]]
        if self.unigrams:
            single = codes != 0
            keys.append(codes[single])
            entries.append(entry[single])
        return np.concatenate(keys), np.concatenate(entries)

    def posting(self, key: int) -> NDArray[np.int32]:
        at = int(np.searchsorted(self.keys, np.uint64(key)))
        if at == len(self.keys) or int(self.keys[at]) != key:
            return np.zeros(0, dtype=np.int32)
        return self.postings[self.starts[at]:self.starts[at + 1]]

    def candidates(self, term: str) -> NDArray[np.int32] | None:
        """Entries that may contain ``term`` (a superset), or ``None`` if this field cannot
        narrow it (a single character in a field without single-character keys).
        """
        codes = [ord(c) for c in term]
        if len(codes) == 1:
            return self.posting(codes[0]) if self.unigrams else None
        lists = sorted((self.posting((a << 21) | b) for a, b in zip(codes, codes[1:], strict=False)), key=len)
        found = lists[0]
        for other in lists[1:3]:          # the rarest pairs narrow enough; checking is exact
            if len(found) == 0:
                break
            member = np.zeros(len(self.texts), dtype=bool)
            member[other] = True
            found = found[member[found]]
        return found


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

        stations = index.stations
        n = len(index)
        names = stations["name"].astype(str).tolist()
        names_en = stations["name_en"].fillna("").astype(str).tolist()
        addresses = stations["address"].fillna("").astype(str).tolist()
        adcodes = stations["adcode"].fillna("").astype(str).tolist()
        kind = ["station"] * n
        ref: list[int | str | None] = list(range(n))
        label, label_en, doc_adcode = list(names), [e or None for e in names_en], [a or None for a in adcodes]
        lon, lat, count = index.lon.tolist(), index.lat.tolist(), [1] * n

        # Roads: one per (district, road) seen in addresses, placed at the station on it
        # closest to its stations' mean (a point on the road, unlike the mean itself).
        roads: dict[tuple[str, str], list[int]] = {}
        for p, address in enumerate(addresses):
            road = road_of(address)
            if road:
                roads.setdefault((adcodes[p], road), []).append(p)

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
        if districts is not None and len(districts):
            per_district: dict[str, int] = {}
            for a in adcodes:
                per_district[a] = per_district.get(a, 0) + 1
            points = shapely.point_on_surface(np.asarray(districts.geometry.array))
            for row, point in zip(districts.itertuples(index=False), points, strict=True):
                english = getattr(row, "name_en", None)
                self.districts[str(row.adcode)] = (str(row.name), english if isinstance(english, str) else None)
                add("district", str(row.adcode), str(row.name), self.districts[str(row.adcode)][1] or None,
                    str(row.adcode), point.x, point.y, per_district.get(str(row.adcode), 0))

        self.kind = np.array([KINDS.index(k) for k in kind], dtype=np.int8)
        self.ref, self.label, self.label_en, self.adcode, self.count = ref, label, label_en, doc_adcode, count
        self.lon, self.lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        self.xyz = geodesy.ecef(self.lon, self.lat)
        self.tree = cKDTree(self.xyz, balanced_tree=False, compact_nodes=False)
        self.xyz_squared = np.einsum("ij,ij->i", self.xyz, self.xyz)
        self.name_length = np.fromiter((len(t) for t in label), dtype=np.int64, count=len(label))
        #: Order among equal matches without a position: districts, roads, stations; short names first.
        self.static_rank = np.empty(len(label), dtype=np.int64)
        self.static_rank[np.lexsort((np.arange(len(label)), self.name_length, self.kind))] = np.arange(len(label))
        self.fields = self._fields(names, names_en, addresses, n)

    def __len__(self) -> int:
        return len(self.kind)

    def _fields(self, names: list[str], names_en: list[str], addresses: list[str], n: int) -> list[_Field]:
        plain = [normalise(t) for t in self.label]
        pinyin = _Pinyin(plain)
        texts: dict[str, list[str]] = {f: [] for f in TIERS}
        docs: dict[str, list[int]] = {f: [] for f in TIERS}

        def add(field: str, doc: int, text: str) -> None:
            if text:
                texts[field].append(text)
                docs[field].append(doc)

        for doc, text in enumerate(plain):
            add("name", doc, text)
            if self.label_en[doc]:
                add("name", doc, normalise(self.label_en[doc] or ""))
            if doc >= n:                          # roads and districts: phrase readings too
                readings = pinyin.phrase_readings(text) if _HAN.search(text) else []
            else:
                readings = []
            fulls = [text.translate(pinyin.full), *("".join(r) for r in readings)]
            initials = [text.translate(pinyin.initials), *("".join(s[:1] for s in r) for r in readings)]
            for field, variants in (("pinyin", fulls), ("initials", initials)):
                for reading in dict.fromkeys(variants):
                    if reading != text:
                        add(field, doc, reading)
        for doc, address in enumerate(addresses):
            add("address", doc, normalise(address))
        return [_Field(f, texts[f], np.asarray(docs[f], dtype=np.int64), unigrams=f in _HAN_FIELDS,
                       n_docs=len(self)) for f in TIERS if texts[f]]

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
    def _entries_of(field: _Field, doc: int) -> range:
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
    register never answers from an old search.
    """

    def build() -> StationSearch:
        from .districts import load_districts

        return StationSearch(index, load_districts(area) if area else None)

    return index.memo(f"search:{area or ''}", build, depends=SEARCHED)


#: The columns a :class:`StationSearch` reads, besides positions and points: an edit that
#: leaves them alone keeps the search (see :meth:`stationmap.index.StationIndex.inherit`).
SEARCHED = ("name", "name_en", "address", "adcode")


def geodesic_bound(chord_m: float) -> float:
    """The longest geodesic a chord of ``chord_m`` can be (see :data:`_R_MIN`), allowing for
    the rounding of :meth:`StationSearch._chords`.
    """
    return chord_m * (1.0 + chord_m * chord_m / (8.0 * _R_MIN * _R_MIN)) + _CHORD_ROUNDING_M


