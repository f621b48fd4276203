"""People, tokens and the audit in the store, on both backends (a GeoPackage and a real PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from stationmap.accounts import Account, check_password, hash_password
from stationmap.errors import InputError
from stationmap.store import NotFound, Store
from stationmap.store.people import digest
from stationmap.store.schema import accounts, api_tokens

OP = Account.operator("root")
PASSWORD = "correct horse battery"


@pytest.fixture
def store(store_url):
    store = Store.open(store_url, upgrade=True)
    yield store
    store.close()


def test_a_password_is_kept_only_as_an_argon2id_hash_and_checked_against_it():
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert check_password(hashed, PASSWORD) and not check_password(hashed, PASSWORD + "!")
    assert not check_password("not a hash", PASSWORD)


def test_the_first_admin_is_made_by_the_operator_and_signs_in_with_the_password_given(store):
    assert store.accounts() == []          # no default account, no default password
    admin = store.add_account("chen", "admin", password=PASSWORD, actor=OP)
    assert admin.who == "user:chen" and admin.role == "admin" and admin.adcodes == ()
    assert store.authenticate("chen", PASSWORD) == admin
    assert store.authenticate("chen", "wrong password") is None
    assert store.authenticate("nobody", PASSWORD) is None
    with store.engine.connect() as c:
        stored = c.execute(sa.select(accounts.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    [entry] = store.audit(target_kind="account")
    assert (entry.who, entry.action, entry.target_id, entry.outcome, entry.source) == (
        "cli:root", "account.manage", "chen", "done", "cli")
    assert "password" not in repr(entry.after)


def test_bad_account_fields_are_refused_naming_the_field(store):
    for args, field in [(("", "admin", ()), "name"), (("a b", "admin", ()), "name"), (("x", "boss", ()), "role"),
                        (("x", "editor", ()), "adcode"), (("x", "editor", ("3101",)), "adcode"),
                        (("x", "viewer", ("310104",)), "adcode")]:
        with pytest.raises(InputError) as error:
            store.add_account(*args, password=PASSWORD, actor=OP)
        assert error.value.field == field
    for short in ("", "short", "         x"):
        with pytest.raises(InputError, match="at least 10") as error:
            store.add_account("x", "admin", password=short, actor=OP)
        assert error.value.field == "password"
    store.add_account("x", "admin", password=PASSWORD, actor=OP)
    with pytest.raises(InputError, match="already exists"):
        store.add_account("x", "viewer", password=PASSWORD, actor=OP)
    assert [a.name for a in store.accounts()] == ["x"]


def test_only_an_admin_manages_accounts_and_each_person_their_own_password(store):
    from stationmap.permissions import Forbidden

    admin = store.add_account("chen", "admin", password=PASSWORD, actor=OP)
    editor = store.add_account("xu", "editor", ("310104",), password=PASSWORD, actor=admin)
    viewer = store.add_account("wang", "viewer", password=PASSWORD, actor=admin)
    for actor in (editor, viewer):
        with pytest.raises(Forbidden):
            store.add_account("mallory", "admin", password=PASSWORD, actor=actor)
        with pytest.raises(Forbidden):
            store.disable_account("chen", actor=actor)
        with pytest.raises(Forbidden):
            store.set_password("chen", "taken over by me", actor=actor)
    assert [a.name for a in store.accounts()] == ["chen", "wang", "xu"]
    assert store.authenticate("chen", PASSWORD) is not None
    refused = store.audit(outcome="refused")
    assert len(refused) == 6 and {e.who for e in refused} == {"user:xu", "user:wang"}
    store.set_password("xu", "a new long password", actor=editor)         # their own: allowed
    assert store.authenticate("xu", PASSWORD) is None
    assert store.authenticate("xu", "a new long password").session_epoch == 1   # old sessions die


def test_a_disabled_account_cannot_sign_in_or_act_and_its_sessions_end(store):
    from stationmap.permissions import Forbidden, authorise

    store.add_account("xu", "editor", ("310104",), password=PASSWORD, actor=OP)
    store.disable_account("xu", actor=OP)
    xu = store.account("xu")
    assert xu.disabled and xu.session_epoch == 1
    assert store.authenticate("xu", PASSWORD) is None
    with pytest.raises(Forbidden, match="disabled"):
        authorise(xu, "station.update", before={"adcode": "310104"}, after={"adcode": "310104"})
    store.enable_account("xu", actor=OP)
    assert store.authenticate("xu", PASSWORD) is not None
    assert store.bump_session_epoch("xu") == 2 and store.account_by_id(xu.id).session_epoch == 2
    assert store.account_by_id(10_000) is None
    with pytest.raises(NotFound):
        store.account("nobody")


def test_a_token_is_shown_once_stored_as_a_digest_and_refused_once_revoked_or_its_account_disabled(store):
    store.add_account("xu", "editor", ("310104",), password=PASSWORD, actor=OP)
    token = store.new_token("xu", "nightly sync", actor=OP)
    with store.engine.connect() as c:
        kept = c.execute(sa.select(api_tokens.c.digest)).scalar_one()
    assert kept == digest(token) and token not in kept
    acting = store.account_for_token(token)
    assert acting is not None and acting.who == "token:xu/nightly sync" and acting.adcodes == ("310104",)
    [described] = store.tokens("xu")
    assert described.label == "nightly sync" and described.revoked is None and described.last_used is not None
    assert store.account_for_token(token + "x") is None and store.account_for_token("") is None
    store.disable_account("xu", actor=OP)
    assert store.account_for_token(token) is None
    store.enable_account("xu", actor=OP)
    assert store.account_for_token(token) is not None
    store.revoke_token(described.id, actor=OP)
    assert store.account_for_token(token) is None and store.tokens("xu")[0].revoked is not None
    assert [e.reason for e in store.audit(target_id="xu")][:2] == ["API token revoked", "account enabled"]


def test_a_person_makes_and_revokes_their_own_tokens_but_nobody_else_s(store):
    from stationmap.permissions import Forbidden

    xu = store.add_account("xu", "editor", ("310104",), password=PASSWORD, actor=OP)
    li = store.add_account("li", "editor", ("310115",), password=PASSWORD, actor=OP)
    mine = store.new_token("xu", "mine", actor=xu)
    with pytest.raises(Forbidden):
        store.new_token("xu", "stolen", actor=li)
    with pytest.raises(Forbidden):
        store.revoke_token(store.tokens("xu")[0].id, actor=li)
    assert store.account_for_token(mine) is not None and len(store.tokens("xu")) == 1
    store.revoke_token(store.tokens("xu")[0].id, actor=xu)
    assert store.account_for_token(mine) is None
    with pytest.raises(NotFound):
        store.revoke_token(999, actor=OP)
