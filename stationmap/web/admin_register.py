"""The admin's import page and the undo buttons: upload a sheet, read its dry run, apply or cancel;
undo one change of a station, or a whole import.

Only translation lives here: the plan is :mod:`stationmap.registers.importing`'s (the same
reader and messages as ``stationmap import``), the rule of who may apply it is the store's
(:mod:`stationmap.permissions`, checked inside the write), and the promise that what is applied
is what was shown is :mod:`stationmap.registers.staging`'s fingerprint plus the store's
``expected=`` versions. Every POST here is behind sign-in and Flask-WTF's CSRF check (app-wide,
:mod:`stationmap.web.signin`); a refusal is a page with status 403 and an audit entry (written by
the store), a conflict a page with 409, never a 500.

Uploads wait in ``<instance>/uploads`` (never served), at most ``IMPORT_MAX_BYTES`` each, for at
most ``IMPORT_KEEP_S`` seconds; they are deleted when applied or cancelled.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, redirect, request, send_file, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .. import coords
from ..accounts import Account
from ..errors import DataFileError, InputError
from ..permissions import Forbidden, may
from ..registers import importing, staging
from ..registers.applying import current_register, plan_frame
from ..registers.plan_report import _field_label, xlsx_report
from ..registers.sheets import SPREADSHEETS, read_table_bytes
from ..store import Conflict, NotFound, Store
from ..texts_admin_register import page_text
from . import admin, editing
from ._common import page_language
from .signin import current_account, signed_in

bp = Blueprint("admin_import", __name__, url_prefix="/admin")

#: Settings of this page and their defaults (checked when the app starts).
DEFAULTS = {"IMPORT_MAX_BYTES": 8 * 1024 * 1024, "IMPORT_KEEP_S": staging.KEEP_S}
#: What the file input offers (any file ``stationmap import`` reads is accepted).
ACCEPT = ",".join((*SPREADSHEETS, ".csv"))


# -- what every view here needs --------------------------------------------------------------------

def store() -> Store:
    """The app's store (a read-only server has no admin writes: 404)."""
    found = editing.store()
    if found is None:
        abort(404)
    return found


def actor() -> Account:
    """The signed-in account, marked as acting through the admin pages from this client's address."""
    account = current_account()
    assert account is not None            # every view is behind @signed_in
    return account.acting_from("admin", request.remote_addr or "")


def words(page: str = "admin_import") -> tuple[str, dict[str, str]]:
    """The page's language and its words."""
    lang = page_language()
    return lang, page_text(page, lang)


def page(template: str, status: int = 200, **context: Any) -> Response:
    """An admin page (:func:`stationmap.web.admin.render`) with this module's words as ``t`` and
    ``lq``, the query that keeps the page's language in links.
    """
    lang = page_language()
    context.setdefault("t", page_text(context.pop("words", "admin_import"), lang))
    return admin.render(template, status, lq={"lang": "en"} if request.args.get("lang") == "en" else {}, **context)


def refusal(status: int, title: str, message: str, back: str) -> Response:
    """A page saying why an action was refused (403), conflicts (409) or names nothing (404)."""
    return page("admin/refused.html", status, words="admin_audit", title=title, message=message, back=back)


def forbidden_text(error: Forbidden, lang: str) -> str:
    """The store's refusal in the page's language."""
    return error.message_zh if lang == "zh" else error.message_en


def staging_area() -> staging.Staging:
    """Where uploads wait: ``<instance>/uploads``, outside every served folder."""
    keep = float(current_app.config["IMPORT_KEEP_S"])
    return staging.Staging(Path(current_app.instance_path) / "uploads", keep_s=keep)


def lang_url(endpoint: str, **values: Any) -> str:
    """``url_for`` keeping the page's language (see :func:`stationmap.web.admin.admin_url`)."""
    return admin.admin_url(endpoint, **values)


# -- the import page ------------------------------------------------------------------------------

@dataclass
class Preview:
    """A staged upload planned against the register as it is now."""

    staged: staging.Staged
    plan: importing.ImportPlan
    current: Any
    versions: dict[str, int]
    fingerprint: str
    outside: dict[str, set[str]]
    may_import: bool

    @property
    def can_apply(self) -> bool:
        """Whether an Apply button makes sense (the store still decides)."""
        return self.may_import and self.plan.ok and not self.plan.nothing_to_do and not self.outside


def preview(staged: staging.Staged, who: Account) -> Preview:
    """Read the staged file (as ``stationmap import`` does) and plan it against the live register."""
    data = Path(staged.path).read_bytes()
    table = read_table_bytes(data, staged.name, sheet=staged.sheet, path=Path(staged.path))
    current = current_register(store())
    chosen = staged.coordsys or ("wgs84" if table.kind == "geo" else "gcj02")
    plan = importing.plan_rows(table, current, mode=staged.mode, adcode=staged.adcode, coordsys=chosen)
    versions = staging.planned_versions(plan, current)
    touched = staging.touched_adcodes(plan, current)
    if plan.mode == "replace-area" and plan.adcode:
        touched.setdefault(plan.adcode, set())
    outside = {} if who.role == "viewer" else {
        code: ids for code, ids in touched.items() if not may(who, "import.apply", adcodes=[code])}
    return Preview(staged, plan, current, versions, staging.fingerprint(plan, versions), outside,
                   may(who, "import.apply"))


def report_page(view: Preview, status: int = 200, *, notice: str = "", error: str = "") -> Response:
    """The dry-run report of ``view`` with the Apply and Cancel buttons."""
    plan = view.plan
    lang = page_language()
    added = [plan.row_of(s) for s in plan.add]
    changes = [(sid, [(_field_label(c.field, lang), c.old, c.new, c.row) for c in cs])
               for sid, cs in plan.change.items()]
    outside = ""
    if view.outside:
        t = page_text("admin_import", lang)
        ids = sorted({i for group in view.outside.values() for i in group})
        shown = ", ".join(ids[:20]) + (" …" if len(ids) > 20 else "")
        outside = t["outside"].format(codes=", ".join(sorted(c or "—" for c in view.outside)), ids=shown)
    return page("admin/import_report.html", status, view=view, plan=plan, counts=plan.counts(), added=added,
                changes=changes, outside=outside, notice=notice, error=error,
                viewer=actor().role == "viewer")


def _form_choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.form.get(name, default) or default
    if value not in allowed:
        raise InputError(f"must be one of {', '.join(allowed)}", field=name)
    return value


def upload_settings() -> dict[str, Any]:
    """The form's mode, area, coordinate system and sheet, checked (:class:`InputError` names the field)."""
    mode = _form_choice("mode", importing.MODES, "upsert")
    adcode = (request.form.get("adcode") or "").strip() or None
    if mode == "replace-area" and not (adcode and re.fullmatch(r"\d{6}", adcode)):
        raise InputError("replace-area needs the 6-digit code of the area it replaces (替换地区需要 6 位地区代码)",
                         field="adcode")
    if mode != "replace-area":
        adcode = None
    coordsys = _form_choice("coordsys", ("", *coords.COORDSYS), "") or None
    sheet = (request.form.get("sheet") or "").strip() or None
    return {"mode": mode, "adcode": adcode, "coordsys": coordsys, "sheet": sheet}


def _form_page(status: int = 200, *, errors: list[str] | None = None) -> Response:
    imports = store().imports()[:20]
    done = request.args.get("done", type=int)
    finished = next((i for i in imports if i["id"] == done), None) if done else None
    who = current_account()
    return page("admin/import.html", status, errors=errors or [], imports=imports, finished=finished,
                accept=ACCEPT, coordsys=coords.COORDSYS, limit=_size(current_app.config["IMPORT_MAX_BYTES"]),
                may_revert=who is not None and who.role != "viewer")


def _size(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n / 1024:.0f} KB"


@bp.get("/import")
@signed_in
def upload():
    """The upload form and the recent imports (each with its undo button)."""
    return _form_page()


@bp.post("/import")
@signed_in
def upload_file():
    """Keep the uploaded file, then show its dry run (a redirect: reloading never uploads twice)."""
    _, t = words()
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        return _form_page(400, errors=[t["no_file"]])
    limit = int(current_app.config["IMPORT_MAX_BYTES"])
    data = sent.stream.read(limit + 1)
    if len(data) > limit:
        return _form_page(413, errors=[t["too_large"].format(limit=_size(limit))])
    try:
        settings = upload_settings()
        table = read_table_bytes(data, sent.filename, sheet=settings["sheet"])     # unreadable: say so now
    except InputError as error:
        return _form_page(400, errors=[error.message])
    except DataFileError as error:
        return _form_page(400, errors=[f"{t['unreadable']}: {p.message}" for p in error.problems])
    del table
    staged = staging_area().put(data, sent.filename, who=actor().who, **settings)
    return redirect(lang_url("admin_import.report", token=staged.token), 303)


def _staged(token: str) -> staging.Staged:
    try:
        return staging_area().get(token, who=actor().who)
    except InputError:
        abort(404)


@bp.get("/import/<token>")
@signed_in
def report(token: str):
    """The dry-run report of an uploaded file, against the register as it is now."""
    staged = _staged(token)
    try:
        return report_page(preview(staged, actor()))
    except (DataFileError, ValueError) as error:
        staging_area().discard(token)
        problems = error.problems if isinstance(error, DataFileError) else [InputError(str(error))]
        return _form_page(400, errors=[p.message for p in problems])


@bp.get("/import/<token>/report.xlsx")
@signed_in
def report_xlsx(token: str) -> Response:
    """The dry-run report as the Excel workbook ``stationmap import --report`` writes."""
    staged = _staged(token)
    view = preview(staged, actor())
    stem = re.sub(r"[^\w.-]+", "_", Path(staged.name).stem)[:60] or "upload"
    return send_file(io.BytesIO(xlsx_report(view.plan)), as_attachment=True,
                     download_name=f"导入预览-{stem}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.post("/import/<token>/cancel")
@signed_in
def cancel(token: str):
    """Forget an upload: its file is deleted now."""
    staging_area().discard(_staged(token).token)
    return redirect(lang_url("admin_import.upload"), 303)


@bp.post("/import/<token>/apply")
@signed_in
def apply(token: str):
    """Apply exactly the plan that was shown, all or nothing; if the register moved on, show the new plan."""
    lang, t = words()
    staged = _staged(token)
    who = actor()
    view = preview(staged, who)
    if not view.plan.ok:
        return report_page(view, 400)
    if request.form.get("plan", "") != view.fingerprint:
        return report_page(view, 409, notice=t["changed_since"])
    frame, _ = plan_frame(view.plan, view.current)
    try:
        result = store().apply_import(frame, actor=who, mode=view.plan.mode, adcode=view.plan.adcode,
                                      reason=(request.form.get("reason") or "").strip(), file_name=staged.name,
                                      digest=view.plan.digest, fields=view.plan.fields, expected=view.versions)
    except Conflict:
        return report_page(preview(staged, who), 409, notice=t["changed_since"])
    except Forbidden as error:
        return report_page(view, 403, error=forbidden_text(error, lang))
    except DataFileError as error:
        return report_page(view, 400, error="; ".join(p.message for p in error.problems))
    staging_area().discard(token)
    return redirect(lang_url("admin_import.upload", done=result.import_id), 303)


# -- undo ---------------------------------------------------------------------------------------

def _reason() -> str:
    return (request.form.get("reason") or "").strip()[:500]


@bp.post("/imports/<int(max=2147483647):import_id>/revert")
@signed_in
def revert(import_id: int):
    """Undo a whole import as new versions of the stations it touched (all or nothing)."""
    lang = page_language()
    t = page_text("admin_audit", lang)
    back = lang_url("admin_audit.audit")
    try:
        version = store().revert_import(import_id, actor=actor(), reason=_reason())
    except Forbidden as error:
        return refusal(403, t["forbidden_title"], forbidden_text(error, lang), back)
    except NotFound:
        return refusal(404, t["missing_title"], t["missing_import"].format(id=import_id), back)
    except (Conflict, InputError) as error:
        return refusal(409, t["conflict_title"], _conflict_text(error, lang), back)
    return redirect(lang_url("admin_audit.audit", done="reverted", done_id=import_id, done_version=version), 303)


@bp.post("/changes/<station_id>/<int(max=2147483647):version>/undo")
@signed_in
def undo(station_id: str, version: int):
    """Undo one change of a station as a new version; ``expected_version`` is the version the page showed."""
    lang = page_language()
    t = page_text("admin_audit", lang)
    back = lang_url("admin_audit.audit", station=station_id)
    expected = request.form.get("expected_version", type=int)
    if expected is None:
        return refusal(400, t["conflict_title"], t["no_version"], back)
    try:
        new = store().undo_change(station_id, version, expected_version=expected, actor=actor(), reason=_reason())
    except Forbidden as error:
        return refusal(403, t["forbidden_title"], forbidden_text(error, lang), back)
    except NotFound:
        return refusal(404, t["missing_title"], t["missing_version"].format(id=station_id, version=version), back)
    except Conflict as error:
        return refusal(409, t["conflict_title"], _conflict_text(error, lang), back)
    return redirect(lang_url("admin_audit.audit", station=station_id, done="undone", done_version=new), 303)


def _conflict_text(error: Exception, lang: str) -> str:
    """Why an undo cannot be made, in words a union office can act on."""
    later = getattr(error, "later", None)
    if later:
        shown = "; ".join(f"{'第' if lang == 'zh' else 'version '}{v}{'版' if lang == 'zh' else ''}: {', '.join(f)}"
                          for v, f in sorted(later.items()))
        if lang == "zh":
            return f"之后的版本又修改了相同的字段（{shown}），撤销会抹掉这些修改。请先撤销之后的版本，或直接编辑站点。"
        return (f"Later versions changed the same fields ({shown}); undoing would throw those edits away. "
                "Undo the later versions first, or edit the station by hand.")
    if isinstance(error, Conflict):
        if lang == "zh":
            return (f"站点 {error.station_id} 在您打开本页之后被修改过（现在是第 {error.actual} 版）。"
                    "请刷新页面，核对后再撤销。")
        return (f"Station {error.station_id} changed after this page was opened (it is now at version "
                f"{error.actual}). Reload the page and check before undoing.")
    if isinstance(error, InputError) and error.field == "revert":       # the import was already reverted
        return str(error) if lang != "zh" else "这次导入已经撤销过了，无需再次撤销。"
    if lang == "zh":
        return f"无法撤销：{error}"
    return f"Cannot undo: {error}"


# -- the app -------------------------------------------------------------------------------------

def _too_large(error: RequestEntityTooLarge):
    """An oversized upload is a page that says the limit, not a JSON problem."""
    t = page_text("admin_import", page_language())
    return refusal(413, t["title"], t["too_large"].format(limit=_size(current_app.config["IMPORT_MAX_BYTES"])),
                   url_for("admin_import.upload"))


def share_the_admin_shell(blueprint: Blueprint) -> None:
    """What the ``admin`` blueprint does for its own pages, for ``blueprint``'s: off without a secret
    key or a store, CSRF failures and HTTP errors as admin pages.
    """
    blueprint.before_request(admin._available)
    blueprint.register_error_handler(CSRFError, admin._csrf_failed)
    blueprint.register_error_handler(RequestEntityTooLarge, _too_large)
    blueprint.register_error_handler(HTTPException, admin._http_error)


share_the_admin_shell(bp)


def check_settings(config: Any) -> None:
    """The import limits: whole numbers ≥ 1 (an :class:`InputError` naming the setting, at start)."""
    for name, default in DEFAULTS.items():
        value = config.setdefault(name, default)
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 1:
            raise InputError(f"must be a number ≥ 1, not {value!r}", field=name)


def init_app(app: Flask) -> None:
    """Register the import and undo routes, and the history include's helper for templates."""
    from . import admin_history

    check_settings(app.config)
    app.register_blueprint(bp)
    admin_history.init_app(app)
