"""Which stations a query may return: validated filters and the masks that apply them.

A query asks the index for candidates first and filters them afterwards, so the filters are
evaluated only on the few stations a query touches. That is why the per-station facts they
need (status, type, access, amenities as bits, opening hours grouped by pattern) are kept as
NumPy arrays in :class:`FilterMasks`, built once per index.

Examples
--------
>>> from stationmap.stations import read_stations
>>> stations = read_stations()
>>> masks = FilterMasks(stations)
>>> everything = np.arange(len(stations))
>>> int(masks.admitted(everything, Filters(include_closed=True)).sum()) == len(stations)
True
>>> Filters.build(types=["nope"])      # doctest: +ELLIPSIS
Traceback (most recent call last):
...
stationmap.errors.InputError: field 'type': unknown type 'nope'; use one of outdoor_worker_station, ...
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from . import hours, vocab
from .errors import InputError
from .stations import amenity_codes


@dataclass(frozen=True)
class Filters:
    """Which stations a query may return.

    ``types`` and ``access`` admit any of their values; ``amenities`` requires all of them;
    ``open_at`` admits only stations whose hours say open at that moment (unknown hours never
    count as open). Stations with status ``closed`` or ``temporarily_closed`` are left out
    unless ``include_closed``.
    """

    types: frozenset[str] = frozenset()
    access: frozenset[str] = frozenset()
    amenities: frozenset[str] = frozenset()
    open_at: datetime | None = None
    include_closed: bool = False

    @classmethod
    def build(cls, *, types: Iterable[str] = (), access: Iterable[str] = (),
              amenities: Iterable[str] = (), open_at: str | datetime | None = None,
              include_closed: bool = False) -> Filters:
        """Validated filters; raises :class:`InputError` naming the offending field."""
        checked = {}
        for name, values, vocabulary in (("type", types, vocab.STATION_TYPES),
                                         ("access", access, vocab.ACCESS),
                                         ("amenity", amenities, vocab.AMENITIES)):
            values = frozenset(str(v).strip() for v in values if str(v).strip())
            unknown = sorted(vocab.unknown_codes(vocabulary, values))
            if unknown:
                raise InputError(f"unknown {name} {', '.join(map(repr, unknown))}; "
                                 f"use one of {', '.join(vocabulary)}", field=name)
            checked[name] = values
        when = None
        if open_at is not None:
            try:
                when = hours.parse_when(open_at)
            except ValueError as exc:
                raise InputError(str(exc), field="open_at") from None
        return cls(types=checked["type"], access=checked["access"], amenities=checked["amenity"],
                   open_at=when, include_closed=include_closed)

    @property
    def status_only(self) -> bool:
        """Whether nothing but the open/closed status can drop a station (the common query)."""
        return not (self.types or self.access or self.amenities or self.open_at)


class FilterMasks:
    """The per-station facts filters test, as arrays; built once from a stations frame.

    Registers repeat a few amenity kits and opening-hours patterns many times, so each distinct
    string is parsed once: amenities become one bitmask per kit, and hours are evaluated per
    pattern and then spread to the stations that share it.
    """

    #: The columns the masks are made from: an index whose frame shares these with the
    #: previous index's shares its masks too.
    COLUMNS = frozenset({"status", "type", "access", "amenities", "opening_hours"})

    def __init__(self, stations: gpd.GeoDataFrame):
        self.active = (stations["status"] == "open").to_numpy()
        self.active_list: list[bool] = self.active.tolist()
        self._type = stations["type"].to_numpy(dtype=object)
        self._access = stations["access"].to_numpy(dtype=object)
        amenity_bit = {code: 1 << i for i, code in enumerate(vocab.AMENITIES)}
        # Distinct strings by hashing (pandas.factorize), not sorting (np.unique): a tenth of
        # the time at 186,100 stations, and this runs again at every register swap.
        kit_of, kits = pd.factorize(stations["amenities"].astype(str).to_numpy(dtype=object))
        kit_bits = np.array([sum(amenity_bit[c] for c in amenity_codes(k)) for k in kits], dtype=np.uint64)
        self._amenity_bits = kit_bits[kit_of] if len(kit_of) else np.zeros(0, dtype=np.uint64)
        self._amenity_bit = {code: np.uint64(bit) for code, bit in amenity_bit.items()}
        group, patterns = pd.factorize(stations["opening_hours"].astype(str).to_numpy(dtype=object))
        self._hours_group = group.astype(np.int64)
        self._hours_patterns = np.asarray(patterns, dtype=str) if len(patterns) else np.zeros(0, dtype=str)

    def admitted(self, positions: NDArray[np.int64], filters: Filters) -> NDArray[np.bool_]:
        """Which of ``positions`` pass ``filters`` (evaluated only on these stations)."""
        if not filters.include_closed:
            ok = self.active[positions]
        else:
            ok = np.ones(len(positions), dtype=bool)
        if filters.types:
            ok &= np.isin(self._type[positions], list(filters.types))
        if filters.access:
            ok &= np.isin(self._access[positions], list(filters.access))
        if filters.amenities:
            need = np.uint64(sum(self._amenity_bit[a] for a in filters.amenities))
            ok &= (self._amenity_bits[positions] & need) == need
        if filters.open_at is not None and ok.any():
            groups = self._hours_group[positions]
            wanted = np.unique(groups[ok])
            open_groups = np.zeros(len(self._hours_patterns), dtype=bool)
            open_groups[wanted] = hours.is_open(self._hours_patterns[wanted], filters.open_at)
            ok &= open_groups[groups]
        return ok
