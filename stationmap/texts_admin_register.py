"""The words of the admin's import, audit and undo pages, in Chinese and English (same keys, tested).

Kept beside :mod:`stationmap.texts` rather than in it so that the admin pages, written at the
same time as other pages, do not all edit one dictionary. Words with ``{name}`` fields are
formatted by the page; the values put in are escaped by the template like any other text.
"""

from __future__ import annotations

IMPORT = {
    "zh": {
        "title": "导入登记表", "upload": "上传登记表", "file": "文件（XLSX、XLS、ODS、CSV）",
        "mode": "方式", "mode_upsert": "新增和修改（表中未列出的站点不变）",
        "mode_replace": "替换地区（删除该地区表中未列出的站点）", "adcode": "地区代码（替换地区时填写）",
        "coordsys": "表中坐标的坐标系", "coordsys_auto": "自动（表格默认高德 GCJ-02）", "sheet": "工作表名称（可不填）",
        "check": "检查（不会修改任何站点）", "report": "导入预览", "counts": "汇总",
        "rows_read": "读取行数", "add": "新增", "change": "修改", "leave": "不变", "remove": "删除",
        "needs_location": "待定位", "problems": "错误", "warnings": "提示",
        "row": "行号", "id": "站点编号", "name": "站点名称", "address": "地址", "district": "所属区",
        "field": "字段", "old": "原值", "new": "新值", "column": "列", "reason_col": "原因",
        "bad": "表中有错误，不能导入。请改正下面列出的所有问题后重新上传。",
        "nothing": "没有需要修改的内容。", "ready": "请核对以上内容。确认无误后点击“确认导入”。",
        "reason": "导入原因（记入审计）", "apply": "确认导入", "cancel": "取消", "xlsx": "下载预览（Excel）",
        "changed_since": "预览之后登记已被修改，下面是按当前登记重新生成的预览。请重新核对后再导入。",
        "outside": "本次导入涉及您无权修改的地区（{codes}），不能导入；涉及的站点：{ids}。"
                   "请只上传本辖区的站点，或请市级管理员导入。",
        "viewer": "您是查看者：可以检查登记表，但不能导入。",
        "done": "导入 {id} 已完成：新增 {added}，修改 {changed}，恢复 {restored}，删除 {removed}；登记版本 {version}。",
        "recent": "最近的导入", "when": "时间", "who": "操作人", "file_name": "文件", "result": "结果",
        "reverted": "已撤销", "revert": "撤销此导入", "revert_reason": "撤销原因",
        "none_yet": "还没有导入。", "unreadable": "无法读取该文件", "too_large": "文件太大：上限为 {limit}。",
        "no_file": "请选择要上传的文件。", "audit": "审计记录",
        "mode_note": "只导入表中有的列；空单元格不会清除已有内容；没有坐标的行保留原位置。",
    },
    "en": {
        "title": "Import a register", "upload": "Upload a register", "file": "File (XLSX, XLS, ODS, CSV)",
        "mode": "Mode", "mode_upsert": "Add and change (stations the sheet does not name are left alone)",
        "mode_replace": "Replace an area (remove the area's stations the sheet does not name)",
        "adcode": "Area code (for replace an area)", "coordsys": "Coordinate system of the sheet",
        "coordsys_auto": "Automatic (sheets: AMap GCJ-02)", "sheet": "Sheet name (optional)",
        "check": "Check (changes nothing)", "report": "Import preview", "counts": "Summary",
        "rows_read": "Rows read", "add": "To add", "change": "To change", "leave": "Unchanged", "remove": "To remove",
        "needs_location": "Need a location", "problems": "Problems", "warnings": "Warnings",
        "row": "Row", "id": "Station id", "name": "Name", "address": "Address", "district": "District",
        "field": "Field", "old": "Before", "new": "After", "column": "Column", "reason_col": "Reason",
        "bad": "The sheet has problems and cannot be imported. Fix every problem listed below and upload it again.",
        "nothing": "Nothing to change.", "ready": "Check the above. If it is right, choose Apply.",
        "reason": "Why (kept in the audit)", "apply": "Apply", "cancel": "Cancel",
        "xlsx": "Download the preview (Excel)",
        "changed_since": "The register changed after the preview: below is the preview made again against the "
                         "register as it is now. Check it again before applying.",
        "outside": "This import touches districts you may not change ({codes}), so it cannot be applied; stations: "
                   "{ids}. Upload only your districts' stations, or ask a city administrator to import it.",
        "viewer": "You are a viewer: you may check a sheet but not apply it.",
        "done": "Import {id} applied: {added} added, {changed} changed, {restored} restored, {removed} removed; "
                "register version {version}.",
        "recent": "Recent imports", "when": "When", "who": "Who", "file_name": "File", "result": "Result",
        "reverted": "reverted", "revert": "Undo this import", "revert_reason": "Why undo",
        "none_yet": "No imports yet.", "unreadable": "The file cannot be read",
        "too_large": "File too large: the limit is {limit}.",
        "no_file": "Choose a file to upload.", "audit": "Audit",
        "mode_note": "Only the sheet's columns are imported; an empty cell never erases a value; a row without "
                     "coordinates keeps the stored position.",
    },
}

AUDIT = {
    "zh": {
        "title": "审计记录", "station_title": "站点 {id} 的记录", "filters": "筛选", "station": "站点编号",
        "who": "操作人", "action": "操作", "outcome": "结果", "since": "开始日期", "until": "结束日期",
        "any": "全部", "done": "已完成", "refused": "被拒绝", "apply": "筛选", "reset": "清除筛选",
        "csv": "导出 CSV", "xlsx": "导出 Excel", "when": "时间", "from": "来源", "target": "对象",
        "changes": "修改内容", "reason": "原因", "none": "没有符合条件的记录。", "newer": "较新", "older": "较早",
        "history": "版本历史", "version": "版本", "undo": "撤销此修改", "undo_reason": "撤销原因",
        "revert": "撤销此导入", "revert_reason": "撤销原因", "all": "全部记录",
        "undone": "已撤销：站点 {id} 现在是第 {version} 版。", "reverted": "已撤销导入 {id}；登记版本 {version}。",
        "conflict_title": "无法撤销", "forbidden_title": "无权操作", "missing_title": "找不到",
        "missing_import": "没有编号为 {id} 的导入，未做任何修改。",
        "missing_version": "站点 {id} 没有第 {version} 版的修改记录，未做任何修改。",
        "editor_note": "您是区级编辑：这里只显示您辖区站点的记录，以及您本人的操作。",
        "back": "返回审计记录", "import_n": "导入 {id}", "created": "新建", "updated": "修改", "deleted": "删除",
        "restored": "恢复", "current": "当前", "import": "导入",
        "no_version": "请求缺少站点当前版本（expected_version），未做任何修改。请从页面上的按钮撤销。",
    },
    "en": {
        "title": "Audit", "station_title": "Record of station {id}", "filters": "Filter", "station": "Station id",
        "who": "Who", "action": "Action", "outcome": "Outcome", "since": "From date", "until": "To date",
        "any": "any", "done": "done", "refused": "refused", "apply": "Filter", "reset": "Clear filters",
        "csv": "Export CSV", "xlsx": "Export Excel", "when": "When", "from": "From", "target": "Target",
        "changes": "Changes", "reason": "Reason", "none": "No entries match.", "newer": "Newer", "older": "Older",
        "history": "Versions", "version": "Version", "undo": "Undo this change", "undo_reason": "Why undo",
        "revert": "Undo this import", "revert_reason": "Why undo", "all": "All entries",
        "undone": "Undone: station {id} is now at version {version}.",
        "reverted": "Import {id} undone; register version {version}.",
        "conflict_title": "Cannot undo", "forbidden_title": "Not allowed", "missing_title": "Not found",
        "missing_import": "There is no import number {id}; nothing was changed.",
        "missing_version": "Station {id} has no version {version} in its history; nothing was changed.",
        "editor_note": "You are a district editor: only entries about your districts' stations, and your own "
                       "actions, are shown.",
        "back": "Back to the audit", "import_n": "Import {id}", "created": "created", "updated": "changed",
        "deleted": "deleted", "restored": "restored", "current": "current", "import": "import",
        "no_version": "The request did not say which version of the station it saw (expected_version); "
                      "nothing was changed. Undo with the page's button.",
    },
}

PAGES: dict[str, dict[str, dict[str, str]]] = {"admin_import": IMPORT, "admin_audit": AUDIT}


def page_text(page: str, lang: str) -> dict[str, str]:
    """The words of ``page`` (a key of :data:`PAGES`) in ``lang`` (``zh`` or ``en``)."""
    return PAGES[page]["en" if lang == "en" else "zh"]
