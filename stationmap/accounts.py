"""The people who keep the register: who they are, what role they hold, how their passwords are kept.

An :class:`Account` is what every write to the store carries as its ``actor``: the store asks
:mod:`stationmap.permissions` whether that account may make that change, inside the change's own
transaction, so no page, API route or command can skip the question.

Passwords are hashed with Argon2id (argon2-cffi's :class:`~argon2.PasswordHasher`, its defaults:
RFC 9106's low-memory profile), a memory-hard function: a stolen database costs an attacker
memory as well as time for every guess. The hash string carries its own salt and parameters, so
raising the parameters later re-hashes each password at its owner's next sign-in
(:func:`needs_rehash`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

ROLES = ("admin", "editor", "viewer")
SOURCES = ("web", "api", "ogc", "cli", "admin")
MIN_PASSWORD = 10

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Account:
    """A person (or the command-line operator) acting on the register.

    ``adcodes`` are an editor's districts (6-digit adcodes; empty for admins and viewers).
    ``session_epoch`` is bumped by "sign out everywhere", a password change and disabling: a
    session remembers the epoch it began in and dies when it no longer matches.
    ``token_label`` is set when the account acts through an API token (the audit names the
    token); ``source`` and ``address`` say where the request came from (``web``, ``api``, ``ogc``,
    ``cli``, ``admin``; the client address as the request gives it) and are written to the audit.
    """

    id: int | None          # None for the command-line operator
    name: str
    role: str               # one of ROLES
    adcodes: tuple[str, ...] = ()
    disabled: bool = False
    session_epoch: int = 0
    token_label: str | None = None
    source: str = ""
    address: str = ""

    @property
    def who(self) -> str:
        """How history and the audit record this actor: ``user:NAME``, ``token:NAME/LABEL``, ``cli:OSUSER``."""
        if self.id is None:
            return f"cli:{self.name}"
        if self.token_label is not None:
            return f"token:{self.name}/{self.token_label}"
        return f"user:{self.name}"

    @classmethod
    def operator(cls, os_user: str) -> Account:
        """The command line: whoever can run it on the server can already read and write the
        database directly, so it acts as an admin, recorded as ``cli:OSUSER``.
        """
        return cls(id=None, name=os_user, role="admin", source="cli")

    def acting_from(self, source: str, address: str = "") -> Account:
        """The same account with the request's source and client address, for the audit."""
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}; one of {', '.join(SOURCES)}")
        return dataclasses.replace(self, source=source, address=address or "")

    def as_json(self) -> dict[str, object]:
        """The account as JSON-ready data (never a password hash: the account holds none)."""
        return {"id": self.id, "name": self.name, "role": self.role, "adcodes": list(self.adcodes),
                "disabled": self.disabled}


def hash_password(password: str) -> str:
    """The Argon2id hash string of ``password`` (salted; parameters in the string)."""
    return _hasher.hash(password)


def check_password(hash_: str, password: str) -> bool:
    """Whether ``password`` matches ``hash_``; a malformed or foreign hash is simply ``False``."""
    try:
        return _hasher.verify(hash_, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(hash_: str) -> bool:
    """Whether ``hash_`` was made with weaker parameters than today's (re-hash at the next sign-in)."""
    try:
        return _hasher.check_needs_rehash(hash_)
    except InvalidHashError:
        return True


def check_new_password(password: str) -> None:
    """Refuse a password too short to resist guessing (``InputError`` naming the field)."""
    from .errors import InputError

    if len(password.strip()) < MIN_PASSWORD:
        raise InputError(f"must have at least {MIN_PASSWORD} characters (密码至少 {MIN_PASSWORD} 个字符)",
                         field="password")
