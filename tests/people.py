"""Accounts and API tokens for tests, made through the store as an operator would make them."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from stationmap.accounts import Account
from stationmap.store import Store

OPERATOR = Account.operator("tests")


def token_for(url: str, name: str, role: str = "admin", adcodes: Iterable[str] = (), label: str = "tests") -> str:
    """A new account (a random password nobody knows) and an API token for it; returns the token."""
    store = Store.open(url)
    try:
        known = {a.name for a in store.accounts()}
        if name not in known:
            store.add_account(name, role, tuple(adcodes), password=secrets.token_urlsafe(16), actor=OPERATOR)
        return store.new_token(name, label, actor=OPERATOR)
    finally:
        store.close()
