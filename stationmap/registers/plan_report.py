"""An import plan as people read it: a text report (zh or en) and an Excel report for the union office.

The Excel report has Chinese headers (汇总, 新增, 修改, 删除, 问题) and every cell written
through :func:`stationmap.safetext.spreadsheet_cell`, since station names come from
untrusted sheets and a name such as ``=HYPERLINK(...)`` must stay text.
"""

from __future__ import annotations

import io

from openpyxl import Workbook

from ..safetext import for_terminal, spreadsheet_cell
from . import headers
from .importing import ImportPlan

_SUMMARY = (
    ("rows_read", "读取行数", "rows read"), ("add", "新增", "to add"), ("change", "修改", "to change"),
    ("leave", "不变", "to leave"), ("remove", "删除", "to remove"), ("needs_location", "待定位", "need a location"),
    ("problems", "错误", "problems"), ("warnings", "提示", "warnings"),
)


def _field_label(name: str, lang: str) -> str:
    if name == "geometry":
        return "位置（经度,纬度 WGS-84）" if lang == "zh" else "location (lon,lat WGS-84)"
    return headers.header(name, lang) if name in headers.FIELDS else name


def text_report(plan: ImportPlan, lang: str = "zh", *, limit: int = 200) -> str:
    """The plan as plain text for a terminal; untrusted text shown with escapes visible."""
    zh = lang == "zh"
    counts = plan.counts()
    lines = [f"{'导入文件' if zh else 'File'}: {for_terminal(plan.source)}"
             + (f" [{for_terminal(plan.sheet)}]" if plan.sheet else ""),
             f"{'方式' if zh else 'Mode'}: {plan.mode}" + (f" {plan.adcode}" if plan.adcode else "")
             + f"; {'坐标系' if zh else 'coordinates'}: {plan.coordsys}"]
    lines.append("  ".join(f"{z if zh else e} {counts[k]}" for k, z, e in _SUMMARY))
    if not plan.ok:
        lines.append("有错误，不能导入；请改正后重试。" if zh
                     else "There are problems: nothing can be imported until they are fixed.")
    elif plan.nothing_to_do:
        lines.append("没有需要修改的内容。" if zh else "Nothing to change.")
    shown = 0
    for sid in plan.add:
        if shown < limit:
            row = plan.row_of(sid)
            where = f"第{row['row']}行" if zh else f"row {row['row']}"
            lines.append(f"+ {for_terminal(sid)} {for_terminal(row['name'])} ({where})")
        shown += 1
    for sid, changes in plan.change.items():
        for c in changes:
            if shown < limit:
                lines.append(f"~ {for_terminal(sid)} {_field_label(c.field, lang)}: "
                             f"{for_terminal(c.old) or '—'} → {for_terminal(c.new)}")
            shown += 1
    for sid in plan.remove:
        if shown < limit:
            lines.append(f"- {for_terminal(sid)}")
        shown += 1
    if shown > limit:
        lines.append(f"… {'另有' if zh else 'and'} {shown - limit} {'条' if zh else 'more'}")
    for title, findings in ((("错误", "Problems"), plan.problems), (("提示", "Warnings"), plan.warnings)):
        if findings:
            lines.append(f"{title[0] if zh else title[1]} ({len(findings)}):")
            lines.extend(f"  {for_terminal(f.text(lang))}" for f in findings[:limit])
    return "\n".join(lines) + "\n"


def _sheet(book: Workbook, title: str, header: list[str], rows: list[list]) -> None:
    sheet = book.create_sheet(title)
    sheet.append(header)
    for row in rows:
        sheet.append([spreadsheet_cell(v) for v in row])
    for i, name in enumerate(header):
        sheet.column_dimensions[chr(ord("A") + i)].width = max(10, min(60, 2 * len(name) + 6))


def xlsx_report(plan: ImportPlan) -> bytes:
    """The plan as an Excel workbook with Chinese headers."""
    book = Workbook()
    book.remove(book.active)
    counts = plan.counts()
    _sheet(book, "汇总", ["项目", "数量", "Item"], [[z, counts[k], e] for k, z, e in _SUMMARY]
           + [["文件", plan.source, "file"], ["工作表", plan.sheet or "", "sheet"], ["SHA-256", plan.digest, "digest"],
              ["方式", plan.mode + (f" {plan.adcode}" if plan.adcode else ""), "mode"],
              ["坐标系", plan.coordsys, "coordinate system"],
              ["可以导入", "是" if plan.ok else "否（有错误）", "can be applied"]])
    _sheet(book, "新增", ["行号", "站点编号", "站点名称", "详细地址", "所属区", "待定位"],
           [[int(r["row"]), r["id"], r["name"], r["address"], r["adcode"], "是" if r["needs_location"] else ""]
            for r in (plan.row_of(s) for s in plan.add)])
    _sheet(book, "修改", ["行号", "站点编号", "字段", "原值", "新值"],
           [[c.row, c.station_id, _field_label(c.field, "zh"), c.old, c.new]
            for changes in plan.change.values() for c in changes])
    _sheet(book, "删除", ["站点编号"], [[s] for s in plan.remove])
    _sheet(book, "问题", ["级别", "工作表", "行号", "列", "站点编号", "问题", "Problem"],
           [["错误" if f.severity == "error" else "提示", f.sheet or "", f.row or "", f.column or "",
             f.station_id or "", f.zh, f.en] for f in [*plan.problems, *plan.warnings]])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
