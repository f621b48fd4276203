"""Errors that carry what a person needs to fix their input: the field, the row, the reason."""

from __future__ import annotations


class StationmapError(Exception):
    """Base class for every error stationmap raises on purpose."""


class InputError(StationmapError, ValueError):
    """A value a user gave is unusable.

    ``field`` names the parameter or column, ``row`` the 1-based data row of a file (the
    header is not counted) when the value came from one.
    """

    def __init__(self, reason: str, *, field: str | None = None, row: int | None = None,
                 source: str | None = None):
        self.reason = reason
        self.field = field
        self.row = row
        self.source = source
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The problem as one line: where (file, row, field) and why."""
        where = []
        if self.source:
            where.append(str(self.source))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field {self.field!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.reason}" if prefix else self.reason


class DataFileError(StationmapError):
    """A stations or districts file is unreadable or has invalid records.

    ``problems`` lists every :class:`InputError` found (not just the first), so a planner can
    fix a spreadsheet in one pass.
    """

    def __init__(self, source: str, problems: list[InputError]):
        self.source = source
        self.problems = problems
        shown = "\n".join(f"  - {p.message}" for p in problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{source}: {len(problems)} {noun}\n{shown}{more}")
