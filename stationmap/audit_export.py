"""The audit as people read it: one line per field changed, and the CSV and Excel files of it.

The store keeps each audit entry's ``before`` and ``after`` as JSON (a station's fields, an
import's counts, an account's role and districts). :func:`field_changes` turns a pair into
``field: old → new`` lines, the same for the page, the CSV and the workbook, so what an
office prints is what it saw.

Every text cell of an export goes through :func:`stationmap.safetext.spreadsheet_cell`: a
station name or a reason such as ``=HYPERLINK("http://evil.example")`` came from a sheet or a
form and must stay text when the file is opened in Excel or WPS. CSV is UTF-8 with a BOM (Excel
on a Chinese Windows reads it right). Headers are Chinese then English (``时间 at``), so the
file reads in both languages and a script can still find its columns.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

from .safetext import spreadsheet_cell

#: (key, Chinese, English) of each exported column, in order.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("id", "编号", "id"), ("at", "时间", "at"), ("who", "操作人", "who"), ("role", "角色", "role"),
    ("source", "途径", "source"), ("address", "来源地址", "address"), ("action", "操作", "action"),
    ("outcome", "结果", "outcome"), ("target_kind", "对象类型", "target kind"), ("target_id", "对象", "target"),
    ("field", "字段", "field"), ("before", "原值", "before"), ("after", "新值", "after"),
    ("reason", "原因", "reason"), ("register_version", "登记版本", "register version"),
)
#: Keys of ``before``/``after`` that say nothing a reader needs field by field (an undo's
#: ``undone_version`` is in its reason too).
_QUIET = frozenset({"changed_in", "fid", "undone_version"})
#: Parts of key names never shown, should an entry ever carry one (the store writes none).
_SECRET = ("password", "hash", "secret")


def _shown(key: str) -> bool:
    return key not in _QUIET and not any(part in key.lower() for part in _SECRET)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return f"{float(value[0]):.7f},{float(value[1]):.7f}"           # a location: lon,lat
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def field_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[tuple[str, str, str]]:
    """``(field, old, new)`` for every field whose value differs between ``before`` and ``after``.

    >>> field_changes({"name": "旧站", "phone": "1"}, {"name": "新站", "phone": "1"})
    [('name', '旧站', '新站')]
    """
    before = dict(before) if isinstance(before, Mapping) else {}
    after = dict(after) if isinstance(after, Mapping) else {}
    out = []
    for key in [*before, *(k for k in after if k not in before)]:
        if not _shown(key):
            continue
        old, new = before.get(key), after.get(key)
        if old != new:
            out.append((key, _text(old), _text(new)))
    return out


def history_changes(changes: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``(field, old, new)`` from a station history entry's ``{field: [old, new]}``.

    >>> history_changes({"status": ["open", "closed"]})
    [('status', 'open', 'closed')]
    """
    return [(k, _text(v[0]), _text(v[1])) for k, v in changes.items()
            if _shown(k) and isinstance(v, list | tuple) and len(v) == 2]


def rows(entries: Iterable[Mapping[str, Any]]) -> list[list[Any]]:
    """One row per field changed (one row for an entry that changed no field: a refusal, a sign-in)."""
    table: list[list[Any]] = []
    for entry in entries:
        changes = field_changes(entry.get("before"), entry.get("after")) or [("", "", "")]
        for name, old, new in changes:
            values = dict(entry) | {"field": name, "before": old, "after": new}
            table.append([spreadsheet_cell(_text(values.get(key)) if key not in ("id", "register_version")
                                           else values.get(key)) for key, _, _ in COLUMNS])
    return table


def headers() -> list[str]:
    """The column headers, Chinese then English."""
    return [f"{zh} {en}" for _, zh, en in COLUMNS]


def to_csv(entries: Iterable[Mapping[str, Any]]) -> bytes:
    """The audit as CSV (UTF-8 with BOM), formula-like cells written as text."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(headers())
    writer.writerows(rows(entries))
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(entries: Iterable[Mapping[str, Any]], *, title: str = "审计") -> bytes:
    """The audit as an Excel workbook (one sheet), formula-like cells written as text.

    openpyxl would store a text starting with ``=`` as a formula; the apostrophe that
    :func:`spreadsheet_cell` adds keeps it text, and the cell is typed as a string explicitly.
    """
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(headers())
    for row in rows(entries):
        sheet.append(row)
    for cell in (c for line in sheet.iter_rows(min_row=2) for c in line):
        if isinstance(cell.value, str):
            cell.data_type = "s"
    for i, (_, zh, en) in enumerate(COLUMNS):
        sheet.column_dimensions[chr(ord("A") + i)].width = max(10, min(40, len(zh) * 2 + len(en) + 2))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
