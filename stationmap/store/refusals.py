"""What the store refuses with: an edit that started from a version the station has left
(:class:`Conflict`, :class:`UndoConflict`), a station or import that is not there
(:class:`NotFound`), a database this stationmap cannot use as it is (:class:`SchemaError`).

Each is a :class:`~stationmap.errors.StationmapError`: one clear message, never a traceback.
"""

from __future__ import annotations

from ..errors import StationmapError


class Conflict(StationmapError):
    """The station changed since the version an edit started from (HTTP 412 on the web)."""

    def __init__(self, station_id: str, expected: int | None, actual: int | None):
        self.station_id, self.expected, self.actual = station_id, expected, actual
        super().__init__(f"station {station_id!r} is at version {actual}, not {expected}: "
                         "it was changed meanwhile; reload it and apply your edit again")


class UndoConflict(Conflict):
    """A later version changed a field an undo would put back (see :mod:`.undo`)."""

    def __init__(self, station_id: str, version: int, later: dict[int, list[str]], actual: int):
        self.later, self.undone = later, version
        super().__init__(station_id, None, actual)
        shown = "; ".join(f"version {v}: {', '.join(fields)}" for v, fields in sorted(later.items()))
        self.args = (f"station {station_id!r}: version {version} cannot be undone because a later change altered "
                     f"the same fields ({shown}); undo those first or edit the station by hand "
                     "(之后的更改修改了相同字段，不能撤销)",)


class NotFound(StationmapError, KeyError):
    """No station with that id (or no import with that number)."""

    def __str__(self) -> str:
        return str(self.args[0])


class SchemaError(StationmapError):
    """The store's schema is missing or older than this stationmap: run ``stationmap db upgrade``."""
