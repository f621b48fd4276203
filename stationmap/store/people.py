"""Accounts and API tokens in the store (the rules they obey are in :mod:`stationmap.permissions`).

Account changes do not bump the register version: the register version says which stations an
answer comes from, and a new password changes no station. Each change is checked by
:func:`~stationmap.permissions.authorise` and written to the audit in its own transaction.

API tokens are 256 random bits shown once; the store keeps only their SHA-256 digest (a slow
hash would add nothing against a brute force of 2^256, and every API request looks one up).
Each request looks its token up again, so a revoked token or a disabled account is refused at
once by every worker of every server.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..accounts import ROLES, Account, check_new_password, check_password, hash_password, needs_rehash
from ..errors import InputError
from ..permissions import Forbidden, authorise
from . import audit
from .engine import WRITE
from .schema import accounts, api_tokens

if TYPE_CHECKING:
    from .register import Store

TOKEN_PREFIX = "smt_"          # lets secret scanners (and people) recognise a leaked token
_NAME = re.compile(r"^[\w.@-]{1,64}$")
_ADCODE = re.compile(r"^\d{6}$")
#: ``last_used`` is written at most this often per token: not a database write per request.
LAST_USED_EVERY = timedelta(minutes=1)
#: Verified against when the name is unknown, so an unknown name costs as much as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class ApiToken:
    """One API token as the store describes it (never the token itself)."""

    id: int
    account: str
    label: str
    created: datetime
    revoked: datetime | None
    last_used: datetime | None

    def as_json(self) -> dict[str, Any]:
        """The token's description as JSON-ready data."""
        return {"id": self.id, "account": self.account, "label": self.label, "created": self.created.isoformat(),
                "revoked": _iso(self.revoked), "last_used": _iso(self.last_used)}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def digest(token: str) -> str:
    """The SHA-256 hex digest a token is stored as."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _account(row: Any, **extra: Any) -> Account:
    return Account(id=int(row["id"]), name=row["name"], role=row["role"], adcodes=tuple(row["adcodes"] or ()),
                   disabled=bool(row["disabled"]), session_epoch=int(row["session_epoch"]), **extra)


@contextmanager
def _writing(store: Store, actor: Account, action: str, target: str, *,
             before: Any = None) -> Iterator[sa.Connection]:
    """A write transaction for an account change: checked first; a refusal audited on its own."""
    try:
        with store.engine.connect() as c:
            c.execution_options(**WRITE)
            with c.begin():
                authorise(actor, action, before=before)
                yield c
    except Forbidden as refusal:
        audit.refused(store, actor, refusal, "account", target)
        raise


def check_account_fields(name: str, role: str, adcodes: Iterable[str]) -> tuple[str, ...]:
    """Refuse a bad name, role or district list (every problem named); returns the adcodes."""
    codes = tuple(dict.fromkeys(str(a).strip() for a in adcodes))
    if not _NAME.match(name or ""):
        raise InputError("must be 1-64 letters, digits or . _ @ - (账户名只能包含字母、数字和 . _ @ -)", field="name")
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; one of {', '.join(ROLES)}", field="role")
    bad = [a for a in codes if not _ADCODE.match(a)]
    if bad:
        raise InputError(f"not a 6-digit adcode: {', '.join(bad)}", field="adcode")
    if role == "editor" and not codes:
        raise InputError("an editor needs at least one district (--adcode 310104) (编辑至少需要一个区县)",
                         field="adcode")
    if role != "editor" and codes:
        raise InputError(f"only editors are bound to districts; a {role} sees them all", field="adcode")
    return codes


def add_account(store: Store, name: str, role: str, adcodes: Iterable[str] = (), *, password: str,
                actor: Account) -> Account:
    """Create an account (``InputError`` for a bad field or a name already taken)."""
    codes = check_account_fields(name, role, adcodes)
    check_new_password(password)
    hashed = hash_password(password)
    with _writing(store, actor, "account.manage", name) as c:
        if c.execute(sa.select(accounts.c.id).where(accounts.c.name == name)).first() is not None:
            raise InputError(f"an account {name!r} already exists (账户已存在)", field="name")
        now = datetime.now(UTC)
        new_id = int(c.execute(accounts.insert().values(
            name=name, password_hash=hashed, role=role, adcodes=list(codes), disabled=False, session_epoch=0,
            created=now).returning(accounts.c.id)).scalar_one())
        created = Account(id=new_id, name=name, role=role, adcodes=codes)
        audit.write(c, actor, "account.manage", "account", name, after=created.as_json(), reason="account added",
                    at=now)
    return created


def _row(c: sa.Connection, name: str) -> Any:
    from .register import NotFound

    row = c.execute(sa.select(accounts).where(accounts.c.name == name)).mappings().first()
    if row is None:
        raise NotFound(f"no account {name!r}")
    return row


def set_password(store: Store, name: str, password: str, *, actor: Account) -> None:
    """Change a password (an admin, or the account itself); every session of the account ends."""
    check_new_password(password)
    hashed = hash_password(password)
    target = _lookup(store, name)
    with _writing(store, actor, "account.self", name, before={"account_id": target.id}) as c:
        _row(c, name)
        c.execute(accounts.update().where(accounts.c.name == name)
                  .values(password_hash=hashed, session_epoch=accounts.c.session_epoch + 1))
        audit.write(c, actor, "account.self", "account", name, reason="password changed")


def set_disabled(store: Store, name: str, disabled: bool, *, actor: Account) -> None:
    """Disable (every session and token refused at once) or enable an account (admins only)."""
    with _writing(store, actor, "account.manage", name) as c:
        row = _row(c, name)
        values: dict[str, Any] = {"disabled": disabled}
        if disabled:
            values["session_epoch"] = accounts.c.session_epoch + 1
        c.execute(accounts.update().where(accounts.c.name == name).values(**values))
        audit.write(c, actor, "account.manage", "account", name, before={"disabled": bool(row["disabled"])},
                    after={"disabled": disabled}, reason="account disabled" if disabled else "account enabled")


def bump_session_epoch(store: Store, name: str) -> int:
    """End every session of an account ("sign out everywhere"); returns the new epoch."""
    with store.engine.connect() as c:
        c.execution_options(**WRITE)
        with c.begin():
            _row(c, name)
            return int(c.execute(accounts.update().where(accounts.c.name == name)
                                 .values(session_epoch=accounts.c.session_epoch + 1)
                                 .returning(accounts.c.session_epoch)).scalar_one())


def all_accounts(store: Store) -> list[Account]:
    """Every account, by name."""
    with store.engine.connect() as c:
        return [_account(r) for r in c.execute(sa.select(accounts).order_by(accounts.c.name)).mappings()]


def _lookup(store: Store, name: str) -> Account:
    with store.engine.connect() as c:
        return _account(_row(c, name))


def account_by_id(store: Store, account_id: int) -> Account | None:
    """The account with this id, or ``None`` (a session naming a deleted id)."""
    with store.engine.connect() as c:
        row = c.execute(sa.select(accounts).where(accounts.c.id == account_id)).mappings().first()
    return None if row is None else _account(row)


def authenticate(store: Store, name: str, password: str) -> Account | None:
    """The account if ``password`` is its password and it is enabled; else ``None``.

    An unknown name is checked against a dummy hash, so it takes as long as a wrong password and
    a timing attacker learns no names. An outdated hash is replaced on success.
    """
    with store.engine.connect() as c:
        row = c.execute(sa.select(accounts).where(accounts.c.name == name)).mappings().first()
    if row is None:
        check_password(_DUMMY_HASH, password)
        return None
    if not check_password(row["password_hash"], password) or row["disabled"]:
        return None
    if needs_rehash(row["password_hash"]):
        with store.engine.connect() as c:
            c.execution_options(**WRITE)
            with c.begin():
                c.execute(accounts.update().where(accounts.c.id == row["id"])
                          .values(password_hash=hash_password(password)))
    return _account(row)


def new_token(store: Store, name: str, label: str = "", *, actor: Account) -> str:
    """A new API token for the account (an admin, or the account itself); returned once, stored as a digest."""
    target = _lookup(store, name)
    label = (label or "").strip()[:100]
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with _writing(store, actor, "account.self", name, before={"account_id": target.id}) as c:
        now = datetime.now(UTC)
        token_id = int(c.execute(api_tokens.insert().values(
            account_id=target.id, digest=digest(token), label=label, created=now).returning(api_tokens.c.id))
            .scalar_one())
        audit.write(c, actor, "account.self", "account", name, after={"token_id": token_id, "label": label},
                    reason="API token created", at=now)
    return token


def revoke_token(store: Store, token_id: int, *, actor: Account) -> None:
    """Revoke a token at once (an admin, or the account it belongs to)."""
    from .register import NotFound

    with store.engine.connect() as c:
        row = c.execute(sa.select(api_tokens.c.account_id, accounts.c.name)
                        .join(accounts, accounts.c.id == api_tokens.c.account_id)
                        .where(api_tokens.c.id == token_id)).first()
    if row is None:
        raise NotFound(f"no API token {token_id}")
    with _writing(store, actor, "account.self", row.name, before={"account_id": row.account_id}) as c:
        c.execute(api_tokens.update().where(api_tokens.c.id == token_id, api_tokens.c.revoked.is_(None))
                  .values(revoked=datetime.now(UTC)))
        audit.write(c, actor, "account.self", "account", row.name, after={"token_id": token_id, "revoked": True},
                    reason="API token revoked")


def tokens(store: Store, name: str | None = None) -> list[ApiToken]:
    """The tokens of one account (or of everyone), oldest first."""
    query = (sa.select(api_tokens, accounts.c.name).join(accounts, accounts.c.id == api_tokens.c.account_id)
             .order_by(api_tokens.c.id))
    if name is not None:
        query = query.where(accounts.c.name == name)
    with store.engine.connect() as c:
        rows = c.execute(query).mappings().all()
    return [ApiToken(r["id"], r["name"], r["label"], _utc(r["created"]) or datetime.now(UTC), _utc(r["revoked"]),
                     _utc(r["last_used"])) for r in rows]


def account_for_token(store: Store, token: str) -> Account | None:
    """The account a token acts for (``who`` = ``token:NAME/LABEL``), or ``None`` when the token is
    unknown or revoked or its account disabled.
    """
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    query = (sa.select(accounts, api_tokens.c.id.label("token_id"), api_tokens.c.label,
                       api_tokens.c.last_used)
             .join(api_tokens, api_tokens.c.account_id == accounts.c.id)
             .where(api_tokens.c.digest == digest(token), api_tokens.c.revoked.is_(None)))
    with store.engine.connect() as c:
        row = c.execute(query).mappings().first()
    if row is None or row["disabled"]:
        return None
    now = datetime.now(UTC)
    last = _utc(row["last_used"])
    if last is None or now - last > LAST_USED_EVERY:
        with store.engine.connect() as c:
            c.execution_options(**WRITE)
            with c.begin():
                c.execute(api_tokens.update().where(api_tokens.c.id == row["token_id"]).values(last_used=now))
    return _account(row, token_label=row["label"] or str(row["token_id"]), source="api")


def refuse_token(store: Store, token: str, action: str, *, source: str, address: str = "") -> bool:
    """Audit a request made with a known but revoked token, or a token of a disabled account
    (someone still holds it: the operator should know); ``False`` for a token never issued.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return False
    query = (sa.select(accounts, api_tokens.c.id.label("token_id"), api_tokens.c.label, api_tokens.c.revoked)
             .join(api_tokens, api_tokens.c.account_id == accounts.c.id).where(api_tokens.c.digest == digest(token)))
    with store.engine.connect() as c:
        row = c.execute(query).mappings().first()
    if row is None:
        return False
    holder = _account(row, token_label=row["label"] or str(row["token_id"]), source=source, address=address)
    why = (("the token was revoked", "令牌已撤销") if row["revoked"] is not None
           else ("the account is disabled", "账户已停用"))
    refusal = Forbidden(action, why[0], why[1])
    audit.refused(store, holder, refusal, "account", row["name"], reason=f"token {row['token_id']}")
    return True
