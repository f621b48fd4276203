"""How the search reads text: normalised, in pinyin, and indexed by character pairs.

The text half of :mod:`stationmap.search` (which ranks, places and answers): every field of
every document (a station, road or district) becomes entries in a :class:`TextField`, an
inverted index from character pairs (and single Chinese characters) to entries. A field can be
rebuilt from scratch (one NumPy sort) or *patched* (:meth:`TextField.patched`): some documents'
entries dropped, others added, documents renumbered, in linear time and with exactly the arrays
a rebuild would give, so an edit of one station's name at 186,100 stations costs merges, not a
sort of every pair.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

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


class Pinyin:
    """Full pinyin and initials of names, per character through ``str.translate`` (C speed).

    A character's reading does not depend on the other characters asked with it, so a table can
    grow (:meth:`extended`) when an edited name brings a character it has not seen, and reads
    every text as a table built from scratch would.
    """

    def __init__(self, texts: Iterable[str], readings: dict[str, str] | None = None):
        self.readings: dict[str, str] = dict(readings or {})
        chars = sorted(ch for ch in set("".join(texts)) if _HAN.match(ch) and ch not in self.readings)
        self.readings.update(_readings(chars))
        self.full = str.maketrans(self.readings)
        self.initials = str.maketrans({ch: r[:1] for ch, r in self.readings.items()})

    def extended(self, texts: Iterable[str]) -> Pinyin:
        """The table itself, or a larger one if ``texts`` hold characters it lacks."""
        chars = set("".join(texts))
        if all(ch in self.readings for ch in chars if _HAN.match(ch)):
            return self
        return Pinyin(chars, self.readings)

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


def _readings(chars: list[str]) -> dict[str, str]:
    """Each character's own reading (pypinyin reads each element of a list alone)."""
    from pypinyin import Style, lazy_pinyin

    readings = lazy_pinyin(chars, style=Style.NORMAL, errors="ignore") if chars else []
    if len(readings) != len(chars):       # a character without a reading: ask one by one
        readings = [(lazy_pinyin(ch, style=Style.NORMAL, errors="ignore") or [""])[0] for ch in chars]
    return dict(zip(chars, readings, strict=True))


#: Bits of a packed posting that hold the entry (the character pair is above them).
_ENTRY_BITS = 22
_ENTRY_MASK = np.uint64((1 << _ENTRY_BITS) - 1)


class TextField:
    """One searchable field: texts of entries, the document each belongs to, and an inverted
    index from character pairs (and single characters for Chinese fields) to entries.

    Entries are in document order (a document's entries together, in the order they were
    added); the postings of a key are its entries in ascending order. Both are what a build
    from the same entries gives, whichever way the field was made (:meth:`patched`).
    """

    def __init__(self, name: str, texts: Sequence[str], docs: NDArray[np.int64], unigrams: bool, n_docs: int,
                 packed: NDArray[np.uint64] | None = None, lengths: NDArray[np.int64] | None = None):
        self.name = name
        self.tier = TIERS[name]
        self.texts = list(texts)
        if len(self.texts) >= 1 << _ENTRY_BITS:
            raise ValueError("too many entries for one search field (4,194,304 at most)")
        self.docs = np.asarray(docs, dtype=np.int64)            # ascending: entries are added in doc order
        self.doc_starts = np.searchsorted(self.docs, np.arange(n_docs + 1))
        self.lengths = _lengths(self.texts) if lengths is None else lengths
        self.unigrams = unigrams
        if packed is None:
            packed = _packed(self.texts, np.arange(len(self.texts), dtype=np.uint64), self.lengths, unigrams)
        self.postings = (packed & _ENTRY_MASK).astype(np.int32)
        key_of = packed >> np.uint64(_ENTRY_BITS)
        first = np.flatnonzero(np.concatenate([[True], key_of[1:] != key_of[:-1]])) if len(packed) else \
            np.zeros(0, dtype=np.int64)
        self.keys = key_of[first]
        self.starts = np.append(first, len(packed))

    @classmethod
    def of(cls, name: str, texts: Sequence[str], docs: Sequence[int], n_docs: int) -> TextField:
        """A field built from scratch (single characters indexed for Chinese fields)."""
        return cls(name, texts, np.asarray(docs, dtype=np.int64), unigrams=name in _HAN_FIELDS, n_docs=n_docs)

    def patched(self, new_doc: NDArray[np.int64], texts: Sequence[str], docs: Sequence[int], n_docs: int
                ) -> TextField:
        """The field with documents renumbered, dropped and added, as a build would make it.

        ``new_doc[d]`` is the new number of old document ``d`` whose entries are kept (−1:
        dropped); kept documents must keep their order. ``texts`` and ``docs`` are the entries
        of the added documents (new numbers, in document order), which must not be kept ones.
        Linear in the postings: kept postings are renumbered in place (order is preserved) and
        the few new ones merged in, with no sort of the whole.
        """
        added_docs = np.asarray(docs, dtype=np.int64)
        kept = np.flatnonzero(new_doc[self.docs] >= 0)
        kept_docs = new_doc[self.docs[kept]]
        # Two ascending runs of different documents, merged: an entry's new number is its place
        # in its own run plus how many of the other run come before it.
        kept_slot = np.arange(len(kept)) + np.searchsorted(added_docs, kept_docs)
        added_slot = np.arange(len(added_docs)) + np.searchsorted(kept_docs, added_docs)
        total = len(kept) + len(added_docs)
        every = np.empty(total, dtype=np.int64)
        every[kept_slot], every[added_slot] = kept_docs, added_docs
        lengths = np.empty(total, dtype=np.int64)
        lengths[kept_slot], lengths[added_slot] = self.lengths[kept], _lengths(texts)
        joined = np.empty(total, dtype=object)
        joined[kept_slot] = np.array(self.texts, dtype=object)[kept]
        joined[added_slot] = np.array(list(texts) or [], dtype=object)
        entry_of = np.full(len(self.texts), -1, dtype=np.int64)
        entry_of[kept] = kept_slot
        renumbered = entry_of[self.postings]
        alive = renumbered >= 0
        key_of = np.repeat(self.keys, np.diff(self.starts))[alive]
        packed = (key_of << np.uint64(_ENTRY_BITS)) | renumbered[alive].astype(np.uint64)
        fresh = _packed(texts, added_slot.astype(np.uint64), lengths[added_slot], self.unigrams)
        packed = np.insert(packed, np.searchsorted(packed, fresh), fresh)
        return TextField(self.name, joined.tolist(), every, self.unigrams, n_docs, packed=packed, lengths=lengths)

    def posting(self, key: int) -> NDArray[np.int32]:
        """The entries holding a character pair (``a << 21 | b``) or single character, ascending."""
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


def _lengths(texts: Sequence[str]) -> NDArray[np.int64]:
    return np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))


def _packed(texts: Sequence[str], entries: NDArray[np.uint64], lengths: NDArray[np.int64], unigrams: bool
            ) -> NDArray[np.uint64]:
    """Sorted unique ``key << 22 | entry`` of every character pair (and single character if
    ``unigrams``) of ``texts``, the i-th text being entry ``entries[i]`` (a sort beats a hash).
    """
    if not len(texts):
        return np.zeros(0, dtype=np.uint64)
    joined = "\x00".join(texts) + "\x00"
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    entry = np.repeat(entries.astype(np.uint64), lengths + 1)
    pair = (codes[:-1] != 0) & (codes[1:] != 0)
    keys = [(codes[:-1][pair] << np.uint64(21)) | codes[1:][pair]]
    owners = [entry[:-1][pair]]
    if unigrams:
        single = codes != 0
        keys.append(codes[single])
        owners.append(entry[single])
    packed = (np.concatenate(keys) << np.uint64(_ENTRY_BITS)) | np.concatenate(owners)
    packed.sort()
    return packed[np.concatenate([[True], packed[1:] != packed[:-1]])]
