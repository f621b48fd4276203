"""Who is changing the register through the web's write APIs: the bearer token's account.

Clients send ``Authorization: Bearer TOKEN``, a token made for a person's account
(``stationmap users token NAME``, or the admin pages): it acts with that person's rights, no more,
and the audit names it (``token:NAME/LABEL``). :func:`authorise` runs before every route of the
JSON write API and of OGC API – Features Part 4, before the body is read, and looks the token up
in the store on every request (by its SHA-256 digest, the only form the store keeps): a revoked
token or a disabled account is refused at once, by every worker of every server, with no cache
to expire. Whether the account may make the change it asks for is decided by the store itself,
inside the change's transaction (:mod:`stationmap.permissions`); a refusal becomes a 403 problem
in :func:`stationmap.web.editing.translated`.
"""

from __future__ import annotations

from flask import Response, g, request

from ..accounts import Account
from . import editing, problems

REALM = "stationmap"
#: The action a refused request would have been, for the audit.
_ACTIONS = {"POST": "station.create", "PUT": "station.update", "PATCH": "station.update",
            "DELETE": "station.delete"}


def _source() -> str:
    return "ogc" if request.path.startswith("/ogc") else "api"


def _unauthorised(detail: str, error: str | None) -> Response:
    challenge = f'Bearer realm="{REALM}"' + (f', error="{error}"' if error else "")
    return problems.problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": challenge})


def authorise() -> Response | None:
    """Check the request's bearer token: ``None`` if it belongs to an enabled account (then
    ``g.api_account``), else the 401 problem to send. Registered as ``before_request`` on every
    blueprint that writes, so it runs before the body is even read.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _unauthorised("this request changes the register: send Authorization: Bearer TOKEN "
                             "(修改站点需要授权令牌)", None)
    store = editing.store()
    if store is None:                  # a read-only server has no accounts: say it is read-only
        return editing.read_only()
    account = store.account_for_token(token.strip())
    if account is None:
        store.refuse_token(token.strip(), _ACTIONS.get(request.method, "station.update"), source=_source(),
                           address=request.remote_addr or "")
        return _unauthorised("the token is not valid, was revoked, or its account is disabled "
                             "(令牌无效、已撤销或账户已停用)", "invalid_token")
    g.api_account = account
    return None


def actor(source: str) -> Account:
    """The account this request acts as, with where it came from (``api`` or ``ogc``, the client address)."""
    account: Account = g.api_account
    return account.acting_from(source, request.remote_addr or "")


def who() -> str:
    """How a change made by this request's client is recorded in history (``token:NAME/LABEL``)."""
    return actor("api").who
