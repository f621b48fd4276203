"""The audit's CSV and Excel files: one row per field changed, headers in Chinese and English, and
nothing a spreadsheet would run."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from stationmap.audit_export import field_changes, headers, history_changes, to_csv, to_xlsx

EVIL = '=HYPERLINK("http://evil.example","点我")'
ENTRY = {"id": 7, "at": "2026-11-25 20:05:03", "who": "user:xuhui", "role": "editor", "source": "admin",
         "address": "203.0.113.9", "action": "station.update", "target_kind": "station", "target_id": "SH-1",
         "before": {"name": "旧站", "phone": "1"}, "after": {"name": EVIL, "phone": "2"}, "reason": "+1 @cmd",
         "outcome": "done", "register_version": 42}
REFUSED = ENTRY | {"id": 8, "before": None, "after": None, "outcome": "refused", "reason": "-2+3"}


def test_field_changes_reads_both_shapes_and_leaves_out_unchanged_fields_and_secrets():
    assert field_changes({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": None}) == [("b", "2", "3")]
    assert field_changes(None, {"adcodes": ["310104", "310115"]}) == [("adcodes", "", '["310104", "310115"]')]
    assert history_changes({"location": [[121.0, 31.0], [121.5, 31.25]]}) == [
        ("location", "121.0000000,31.0000000", "121.5000000,31.2500000")]
    assert field_changes({}, {"password_hash": "x", "role": "editor"}) == [("role", "", "editor")]


def test_csv_has_a_bom_bilingual_headers_a_row_per_field_and_formulas_as_text():
    body = to_csv([ENTRY, REFUSED])
    assert body.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert table[0] == headers() and table[0][1] == "时间 at" and table[0][2] == "操作人 who"
    assert len(table) == 4                    # two fields changed, one refusal with none
    by_field = {row[10]: row for row in table[1:3]}
    assert by_field["name"][12] == "'" + EVIL and by_field["name"][11] == "旧站"
    assert by_field["phone"][11:13] == ["1", "2"]
    assert table[1][13] == "'+1 @cmd" and table[3][13] == "'-2+3" and table[3][7] == "refused"
    assert all(not cell.startswith(("=", "+", "@")) for row in table[1:] for cell in row)


def test_the_workbook_holds_the_same_rows_with_no_formula_cell():
    book = load_workbook(io.BytesIO(to_xlsx([ENTRY, REFUSED])))
    sheet = book.active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == headers()
    assert "'" + EVIL in values[1] + values[2] and values[1][0] == 7
