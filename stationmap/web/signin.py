"""Who is making this request: sessions for people (Flask-Login), bearer tokens for scripts, and
the CSRF check (Flask-WTF) that every cookie-authenticated form passes.

Sessions
--------
Flask's signed session cookie (``HttpOnly``, ``SameSite=Lax``, ``Secure`` with
``SECURE_COOKIES``) holds the account's id and *session epoch* (:attr:`Account.session_epoch`).
The user loader reads the account from the store on **every** request, so a disabled account,
or one whose epoch moved on (sign-out, a new password, "sign out everywhere"), is signed out at
once in every worker of every server: there is no per-process cache to go stale.

- **Rotation at sign-in**: the session is emptied before the account goes in, so nothing from
  before sign-in (a planted cookie, the old CSRF token) carries over.
- **Sign-out** bumps the account's epoch: a copy of the cookie kept anywhere (another browser,
  a thief) is dead too, not just the one this browser deletes.
- **Idle expiry**: ``ADMIN_IDLE_MINUTES`` after the last request the session ends, checked on
  the server (the cookie's own expiry is the browser's business, not a guarantee).

Flask-Login's own "session protection" (a hash of the client's address and user agent) is off:
it reads ``X-Forwarded-For`` as the client sends it, and signs out staff whose phone moves from
Wi-Fi to 4G; the epoch and the idle limit do the job without either flaw.

CSRF
----
``CSRFProtect`` covers every POST/PUT/PATCH/DELETE of the app; only the JSON blueprints (those
under ``/api/`` and ``/ogc``, and any named with :func:`exempt_blueprint`) are left out: they are
anonymous or take bearer tokens only, never cookies, so a forged cross-site request carries
nothing that they trust. :func:`current_account` ignores the session cookie on those blueprints,
so exempting them can never open a door.

The secret key
--------------
``SECRET_KEY`` (``STATIONMAP_SECRET_KEY``) signs cookies and CSRF tokens. Without one,
``create_app`` makes a random key for this process: enough for ``stationmap serve --dev`` (one
process; sessions end when it stops) and tests, and never a fixed default that someone could
know. ``stationmap serve`` in production does not start the admin with such a key
(:func:`require_secret_key`): each gunicorn worker would otherwise share a key nobody can rotate
or keep across restarts, and a second app server would reject the first one's cookies.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode, urlsplit

from flask import Flask, Request, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect

from ..accounts import Account
from . import editing, problems

#: URL prefixes of blueprints that carry no cookie authority (anonymous JSON, bearer-token
#: writes): no CSRF check, and no session either.
JSON_PREFIXES = ("/api/", "/ogc")
_EXEMPT = "stationmap.csrf_exempt"         # app.extensions: names of the exempt blueprints
#: ``app.config`` flag set when production has no secret key: the admin answers 503.
ADMIN_OFF = "STATIONMAP_ADMIN_OFF"
_SEEN = "seen"              # session key: when this session last made a request (Unix seconds)
_CACHE = "stationmap_account"

login_manager = LoginManager()
login_manager.session_protection = None       # see the module's text
csrf = CSRFProtect()

View = TypeVar("View", bound=Callable[..., Any])


class SignedIn(UserMixin):
    """A signed-in account as Flask-Login sees it: its id string carries the session epoch."""

    def __init__(self, account: Account):
        self.account = account

    def get_id(self) -> str:
        """``"ID.EPOCH"``: a session stays valid only while the account's epoch is unchanged."""
        return f"{self.account.id}.{self.account.session_epoch}"


def idle_limit() -> float:
    """Seconds without a request after which a session ends."""
    return float(current_app.config["ADMIN_IDLE_MINUTES"]) * 60


@login_manager.user_loader
def _load(user_id: str) -> SignedIn | None:
    """The session's account, fresh from the store; ``None`` (signed out) if it is gone, disabled,
    at another epoch, or the session was idle too long.
    """
    store = editing.store()
    number, _, epoch = user_id.partition(".")
    if store is None or not number.isdigit() or not epoch.lstrip("-").isdigit():
        return None
    now = time.time()
    if now - float(session.get(_SEEN, 0)) > idle_limit():
        g.stationmap_expired = True
        return None
    account = store.account_by_id(int(number))
    if account is None or account.disabled or account.session_epoch != int(epoch):
        return None
    if now - float(session.get(_SEEN, 0)) > 30:        # not every request rewrites the cookie
        session[_SEEN] = int(now)
    return SignedIn(account)


def _bearer_account() -> Account | None:
    if "api_account" in g:                 # the write APIs looked the token up already (tokens.authorise)
        return cast(Account, g.api_account)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    store = editing.store()
    if scheme.lower() != "bearer" or not token.strip() or store is None:
        return None
    return store.account_for_token(token.strip())


def current_account() -> Account | None:
    """The account this request acts for: the bearer token's, else the signed-in person's
    (never the session's on a CSRF-exempt blueprint), else ``None``.
    """
    if _CACHE in g:
        return cast(Account | None, g.get(_CACHE))
    account = _bearer_account()
    if account is None and request.blueprint not in current_app.extensions[_EXEMPT] and current_user.is_authenticated:
        account = cast(SignedIn, current_user._get_current_object()).account
    setattr(g, _CACHE, account)
    return account


def wants_json() -> bool:
    """Whether the client asked for JSON rather than a page (scripts, ``fetch``)."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json", problems.MIMETYPE])
    return best in ("application/json", problems.MIMETYPE) or request.path.startswith("/api/")


def login_url(next_path: str | None = None, **extra: str) -> str:
    """The sign-in page, to come back to ``next_path`` (this request's path by default)."""
    target = next_path if next_path is not None else request.full_path.rstrip("?")
    query = {"next": target, **extra} if safe_next(target) else dict(extra)
    lang = request.args.get("lang")
    if lang:
        query["lang"] = lang
    return url_for("admin.login") + ("?" + urlencode(query) if query else "")


def signed_in(view: View) -> View:
    """Only for a signed-in account (or a valid bearer token): pages redirect to the sign-in
    page with ``?next=``, JSON clients get a 401 problem.
    """
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_account() is None:
            if wants_json():
                return problems.problem(401, "Unauthorized", "sign in first (请先登录)",
                                        headers={"WWW-Authenticate": 'Bearer realm="stationmap"'})
            reason = {"expired": "1"} if g.get("stationmap_expired") else {}
            return redirect(login_url(**reason), 303)
        return view(*args, **kwargs)
    return cast(View, wrapper)


def safe_next(target: str | None) -> bool:
    r"""Whether ``target`` is a path on this site, safe to send a person to after sign-in.

    Refused: absolute URLs (``https://evil.example``), scheme-relative ones (``//evil.example``
    and ``/\evil.example``, which browsers read as ``//``), other schemes (``javascript:``),
    and anything with control characters or spaces, which browsers strip before reading the URL
    (``/<TAB>/evil.example`` is ``//evil.example`` to them).

    >>> [safe_next(t) for t in ("/admin/stations/A-1?lang=en", "https://evil.example", "//evil.example",
    ...                         "/\\evil.example", "javascript:alert(1)", "/\t/evil.example", "")]
    [True, False, False, False, False, False, False]
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def sign_in(account: Account) -> None:
    """Start a fresh session for ``account``: the old session's contents are dropped first
    (rotation against session fixation), then the account and the time go in.
    """
    session.clear()
    login_user(SignedIn(account))
    session.permanent = True
    session[_SEEN] = int(time.time())
    g.pop(_CACHE, None)


def sign_out() -> None:
    """End this session and every copy of it: the account's epoch moves on, the cookie is emptied."""
    account = current_account()
    store = editing.store()
    if account is not None and account.id is not None and store is not None:
        store.bump_session_epoch(account.name)
    logout_user()
    session.clear()
    g.pop(_CACHE, None)


def exempt_blueprint(app: Flask, name: str) -> None:
    """Leave a bearer-token or anonymous blueprint out of the CSRF check, and out of sessions."""
    app.extensions[_EXEMPT].add(name)
    csrf.exempt(app.blueprints[name])


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without making the signer for a request that brings no
    session cookie: a rider's nearest lookup, an embed, any API call. Flask's own
    ``open_session`` builds an ``itsdangerous`` serializer (key derivation included) on every
    request before it looks for the cookie: about a tenth of a nearest answer's CPU. A request
    with no cookie gets an empty session, as Flask would give it; one with a cookie is read by
    Flask unchanged.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def _configure_session(app: Flask) -> None:
    app.session_interface = _SessionInterface()
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secrets.token_urlsafe(32)     # this process only: see the module's text
        app.config["SECRET_KEY_EPHEMERAL"] = True
    app.config.update(SESSION_COOKIE_NAME="stationmap_session", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=bool(app.config["SECURE_COOKIES"]),
                      SESSION_COOKIE_PATH="/",
                      PERMANENT_SESSION_LIFETIME=timedelta(minutes=int(app.config["ADMIN_IDLE_MINUTES"])),
                      REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SECURE=bool(app.config["SECURE_COOKIES"]),
                      WTF_CSRF_SSL_STRICT=True)


def require_secret_key(app: Flask) -> str | None:
    """For ``stationmap serve`` (gunicorn): without a configured secret key the admin stays off
    (its pages answer 503 naming the setting); returns the warning to log, or ``None``.
    """
    if app.config.get("SECRET_KEY_EPHEMERAL"):
        app.config[ADMIN_OFF] = True
        return ("STATIONMAP_SECRET_KEY is not set: the admin pages (/admin) are off "
                "(管理页面未启用：请设置 STATIONMAP_SECRET_KEY)")
    return None


def init_app(app: Flask) -> None:
    """Sessions, the user loader and CSRF on ``app`` (after every blueprint is registered)."""
    _configure_session(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    app.extensions[_EXEMPT] = set()
    for name, blueprint in app.blueprints.items():
        if (blueprint.url_prefix or "").startswith(JSON_PREFIXES):
            exempt_blueprint(app, name)
