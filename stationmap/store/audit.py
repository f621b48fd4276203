"""The audit: every change to stations, imports and accounts, and every refusal, with who, when,
from where (the request's source and client address), before → after and why.

A change writes its row in its own transaction, so the row exists exactly when the change does.
A refusal (:class:`~stationmap.permissions.Forbidden`) rolls the change back and is written in a
transaction of its own afterwards: the attempt is kept even though nothing changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..accounts import Account
from .engine import WRITE
from .schema import audit

if TYPE_CHECKING:
    from ..permissions import Forbidden
    from .register import Store

TARGET_KINDS = ("station", "import", "account", "report")


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit (see :data:`stationmap.store.schema.audit`)."""

    id: int
    at: datetime
    who: str
    role: str
    source: str
    address: str
    action: str
    target_kind: str
    target_id: str
    before: Any
    after: Any
    reason: str
    outcome: str
    register_version: int | None

    def as_json(self) -> dict[str, Any]:
        """The entry as JSON-ready data (time in ISO 8601)."""
        return {"id": self.id, "at": self.at.isoformat(), "who": self.who, "role": self.role,
                "source": self.source, "address": self.address, "action": self.action,
                "target_kind": self.target_kind, "target_id": self.target_id, "before": self.before,
                "after": self.after, "reason": self.reason, "outcome": self.outcome,
                "register_version": self.register_version}


def write(c: sa.Connection, actor: Account, action: str, kind: str, target: str | int | None, *,
          before: Any = None, after: Any = None, reason: str = "", outcome: str = "done",
          register_version: int | None = None, at: datetime | None = None) -> None:
    """Add one audit row on connection ``c`` (inside the caller's transaction)."""
    if kind not in TARGET_KINDS:
        raise ValueError(f"unknown audit target kind {kind!r}")
    c.execute(audit.insert().values(
        at=at or datetime.now(UTC), who=actor.who, role=actor.role, source=actor.source or "cli",
        address=actor.address or "", action=action, target_kind=kind, target_id="" if target is None else str(target),
        before=_plain(before), after=_plain(after), reason=reason or "", outcome=outcome,
        register_version=register_version))


def refused(store: Store, actor: Account, refusal: Forbidden, kind: str, target: str | int | None, *,
            before: Any = None, after: Any = None, reason: str = "") -> None:
    """Record a refusal in a transaction of its own (the refused change has been rolled back)."""
    with store.engine.connect() as c:
        c.execution_options(**WRITE)
        with c.begin():
            write(c, actor, refusal.action, kind, target, before=before, after=after,
                  reason=f"{refusal}" + (f" — {reason}" if reason else ""), outcome="refused")


def _plain(value: Any) -> Any:
    """A JSON-ready copy: tuples as lists, anything else unknown as text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def entries(store: Store, *, station_id: str | None = None, who: str | None = None, action: str | None = None,
            outcome: str | None = None, since: datetime | None = None, until: datetime | None = None,
            target_kind: str | None = None, target_id: str | None = None, limit: int = 200,
            offset: int = 0) -> list[AuditEntry]:
    """The audit, newest first, filtered by whichever of the arguments are given."""
    query = sa.select(audit)
    if station_id is not None:
        query = query.where(audit.c.target_kind == "station", audit.c.target_id == station_id)
    for column, value in (("who", who), ("action", action), ("outcome", outcome), ("target_kind", target_kind),
                          ("target_id", target_id)):
        if value is not None:
            query = query.where(audit.c[column] == value)
    if since is not None:
        query = query.where(audit.c.at >= since)
    if until is not None:
        query = query.where(audit.c.at < until)
    query = query.order_by(audit.c.at.desc(), audit.c.id.desc()).limit(limit).offset(offset)
    with store.engine.connect() as c:
        rows = c.execute(query).mappings().all()
    return [AuditEntry(r["id"], r["at"] if r["at"].tzinfo else r["at"].replace(tzinfo=UTC), r["who"], r["role"],
                       r["source"], r["address"], r["action"], r["target_kind"], r["target_id"], r["before"],
                       r["after"], r["reason"], r["outcome"], r["register_version"]) for r in rows]
