"""The admin pages' shell: the ``admin`` blueprint at ``/admin``, sign-in and sign-out, and what
every admin page shares (language, the signed-in account, the navigation, notices, errors).

Other admin pages (the station list and form, import, audit, reports) add their views to
:data:`bp` or to a blueprint of their own under ``/admin/…``, decorate them with
:func:`~stationmap.web.signin.signed_in`, and render with :func:`render`, which fills
``templates/admin/base.html``. Admin pages are never cached or framed, and carry the CSRF token
in every form (``{{ csrf_token() }}``).

Failed sign-ins are counted per account name and per client address (Flask-Limiter, settings
``RATELIMIT_SIGNIN_ACCOUNT`` and ``RATELIMIT_SIGNIN_CLIENT``); past either limit the sign-in is
refused with 429 *before* the password is looked at, so guessing costs the guesser a lockout
and the server no hashing. Successful sign-ins count nothing.
"""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    g,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from ..districts import outlines
from ..texts import ADMIN
from . import editing, problems, signin
from ._common import content_language, page_language

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: The navigation: (text key, endpoint); an entry shows once its endpoint exists.
NAV = (("nav_stations", "admin.stations"), ("nav_import", "admin_import.upload"),
       ("nav_audit", "admin_audit.audit"), ("nav_reports", "admin_reports.queue"))


def text() -> dict[str, str]:
    """The admin words in this request's language."""
    return ADMIN[page_language()]


def district_names(lang: str) -> dict[str, str]:
    """Adcode → district name (in ``lang``) of the served area, for lists and pickers."""
    features = outlines(current_app.config["DISTRICTS_ADCODE"], "wgs84")["features"]
    return {f["properties"]["adcode"]: (f["properties"]["name"] if lang == "zh"
                                        else f["properties"]["name_en"] or f["properties"]["name"])
            for f in features}


def admin_url(endpoint: str, **values: Any) -> str:
    """``url_for`` that keeps the page's language (``?lang=en``) when it is not the default."""
    lang = request.args.get("lang")
    if lang and lang != current_app.config["DEFAULT_LANG"] and "lang" not in values:
        values["lang"] = lang
    return url_for(endpoint, **values)


def notify(key: str, kind: str = "ok", **params: Any) -> None:
    """A notice for the next admin page this person sees (after a redirect): ``ADMIN[lang][key]``,
    kept as its key and values so that it is shown in the language of that page.
    """
    flash(json.dumps({"key": key, "params": params}, ensure_ascii=False), kind)


def _notices(words: dict[str, str]) -> list[tuple[str, str]]:
    shown: list[tuple[str, str]] = []
    flashed: list[tuple[str, str]] = get_flashed_messages(with_categories=True)  # type: ignore[assignment]
    for kind, message in flashed:
        try:
            notice = json.loads(message)
            shown.append((kind, words[notice["key"]].format(**notice["params"])))
        except (ValueError, KeyError, TypeError):
            continue
    return shown


def _nav(words: dict[str, str]) -> list[dict[str, Any]]:
    views = current_app.view_functions
    return [{"label": words[key], "url": admin_url(endpoint), "current": request.endpoint == endpoint}
            for key, endpoint in NAV if endpoint in views]


def render(template: str, status: int = 200, **context: Any) -> Response:
    """An admin page: ``template`` (extending ``admin/base.html``) with the shared context."""
    lang = page_language()
    words = ADMIN[lang]
    account = signin.current_account()
    notices = _notices(words) + list(context.pop("notices", []))
    html = render_template(template, lang=lang, text=words, other_lang="en" if lang == "zh" else "zh",
                           account=account, role=words.get(f"role_{account.role}", "") if account else "",
                           admin_nav=_nav(words) if account else [], notices=notices, admin_url=admin_url,
                           **context)
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Content-Language"] = content_language(lang)
    return response


@bp.before_request
def _available() -> Response | None:
    """No admin without a secret key in production, nor on a read-only (file) server."""
    if current_app.config.get(signin.ADMIN_OFF):
        return problems.problem(503, "Service Unavailable", f"{ADMIN['zh']['admin_off']} {ADMIN['en']['admin_off']}")
    if editing.store() is None:
        return problems.problem(503, "Service Unavailable", f"{ADMIN['zh']['no_store']} {ADMIN['en']['no_store']}")
    return None


@bp.after_app_request
def _private(response: Response) -> Response:
    """Admin answers hold register data and tokens: never stored by a browser or proxy."""
    if request.path.startswith("/admin"):
        response.headers["Cache-Control"] = "no-store"
        response.vary.add("Cookie")
    return response


@bp.get("/login")
def login() -> BaseResponse:
    """The sign-in form (already signed in: straight on to ``next``)."""
    target = request.args.get("next", "")
    if signin.current_account() is not None:
        return redirect(target if signin.safe_next(target) else admin_url("admin.stations"), 303)
    notices = [("info", text()[key]) for key in ("expired", "signed_out") if request.args.get(key)]
    return render("admin/login.html", next=target if signin.safe_next(target) else "", notices=notices)


@bp.post("/login")
def login_post() -> BaseResponse:
    """Check the name and password (the CSRF token was checked before this runs)."""
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    target = request.form.get("next", "")
    store = editing.store()
    account = store.authenticate(name, password) if store is not None and name and password else None
    if account is None:
        g.stationmap_signin_failed = True
        return render("admin/login.html", status=200, next=target if signin.safe_next(target) else "", name=name,
                      notices=[("error", text()["bad_login"])])
    signin.sign_in(account)
    return redirect(target if signin.safe_next(target) else admin_url("admin.stations"), 303)


@bp.post("/logout")
def logout() -> BaseResponse:
    """Sign out: this session and every copy of it end (the account's session epoch moves on)."""
    signin.sign_out()
    return redirect(admin_url("admin.login", signed_out="1"), 303)


@bp.errorhandler(CSRFError)
def _csrf_failed(error: CSRFError) -> Response:
    """A form without this session's token (forged, or the session ended): 400, nothing done."""
    if signin.wants_json():
        return problems.problem(400, "Bad Request", f"{error.description} ({ADMIN['zh']['csrf_failed']})")
    return render("admin/error.html", status=400, message=text()["csrf_failed"])


@bp.errorhandler(RateLimitExceeded)
def _too_many(error: RateLimitExceeded) -> Response:
    """Locked out of signing in for a while: say for how long (the password was not checked)."""
    window = getattr(getattr(error, "limit", None), "limit", None)
    retry = int(window.get_expiry()) if window is not None else 60
    minutes = max(1, -(-retry // 60))
    response = render("admin/login.html", status=429, next="", notices=[("error", text()["too_many"].format(
        minutes=minutes))])
    response.headers["Retry-After"] = str(retry)
    return response


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    """Errors of admin pages as pages (a person is reading), of their JSON as problems."""
    if signin.wants_json() or not request.path.startswith("/admin"):
        return problems.from_http_exception(error)
    return render("admin/error.html", status=error.code or 500, message=error.description or error.name)


def _signin_failed(_response: Response) -> bool:
    return bool(g.get("stationmap_signin_failed"))


def _account_key() -> str:
    """Failed sign-ins are counted per account name as typed (case and spaces folded)."""
    return "account:" + request.form.get("name", "").strip().casefold()[:200]


def init_limits(app: Flask, limiter: Limiter) -> None:
    """Count failed sign-ins per client and per account name (after ``ratelimits.init_app``)."""
    view = app.view_functions["admin.login_post"]
    for setting, key in (("RATELIMIT_SIGNIN_CLIENT", get_remote_address), ("RATELIMIT_SIGNIN_ACCOUNT", _account_key)):
        limit = limiter.limit(str(app.config[setting]), key_func=key, scope=setting, methods=["POST"],
                              deduct_when=_signin_failed)
        view = limit(view)  # type: ignore[assignment]  # Flask-Limiter types its wrapper as possibly async
    app.view_functions["admin.login_post"] = view


def init_app(app: Flask) -> None:
    """Register the admin blueprint (its pages' modules, imported by ``create_app``, added their views)."""
    app.register_blueprint(bp)
