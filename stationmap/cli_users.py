"""``stationmap users …``: the people who keep the register, from the command line.

The command line is the operator of the server (whoever can run it can already reach the
database), so it acts as an admin, recorded as ``cli:OSUSER`` in the audit. That is how the first
admin is made: there is never a default account or a default password.

Passwords are never arguments (they would stay in the shell's history and show in ``ps``): on a
terminal they are asked for twice with :func:`getpass.getpass`; otherwise the first line of
standard input is the password (``printf '%s' "$PW" | stationmap users add …`` in a script).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from .errors import InputError
from .safetext import for_terminal

_DATABASE_HELP = "store URL (default: $STATIONMAP_DATABASE_URL, else register.gpkg in the instance folder)"


def add_parsers(commands: Any) -> None:
    """Add ``users`` and its sub-commands to the ``stationmap`` parser."""
    users = commands.add_parser("users", help="accounts of the people who keep the register, and API tokens",
                                description="Admins (everything), district editors (--adcode), viewers. "
                                            "Passwords are asked for, or read from standard input.")
    sub = users.add_subparsers(dest="users_command", required=True, parser_class=type(users))
    add = sub.add_parser("add", help="add an account: users add NAME --role editor --adcode 310104")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("admin", "editor", "viewer"))
    add.add_argument("--adcode", action="append", default=[], metavar="ADCODE",
                     help="an editor's district (6 digits); repeat for several")
    passwd = sub.add_parser("passwd", help="set a new password (the account's sessions end)")
    disable = sub.add_parser("disable", help="disable an account: its sessions and tokens stop at once")
    enable = sub.add_parser("enable", help="enable a disabled account")
    token = sub.add_parser("token", help="make an API token for scripts (printed once: keep it safe)")
    token.add_argument("--label", default="", help="what the token is for (shown in the audit)")
    for parser in (passwd, disable, enable, token):
        parser.add_argument("name")
    listing = sub.add_parser("list", help="every account: role, districts, disabled, tokens")
    listing.add_argument("--json", action="store_true", help="print JSON")
    tokens = sub.add_parser("tokens", help="the API tokens of an account (never the tokens themselves)")
    tokens.add_argument("name", nargs="?")
    revoke = sub.add_parser("revoke-token", help="revoke an API token at once (its id from `users tokens`)")
    revoke.add_argument("id", type=int)
    for parser in (add, passwd, disable, enable, token, listing, tokens, revoke):
        parser.add_argument("--database", metavar="URL", help=_DATABASE_HELP)


def read_password(*, confirm: bool) -> str:
    """The new password: asked twice on a terminal, else the first line of standard input."""
    from .accounts import check_new_password

    if sys.stdin.isatty():
        password = getpass.getpass("密码 Password: ")
        if confirm and getpass.getpass("再次输入 Again: ") != password:
            raise InputError("the two passwords differ (两次输入的密码不一致)", field="password")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise InputError("is empty: type it when asked, or give it on standard input (密码不能为空)",
                         field="password")
    check_new_password(password)
    return password


def run(args: argparse.Namespace) -> int:
    """Run a ``users`` command; returns the exit status."""
    from .accounts import Account
    from .cli_store import database_url
    from .store import Store, current_user

    operator = Account.operator(current_user())
    store = Store.open(database_url(args.database))
    try:
        command = args.users_command
        if command == "add":
            password = read_password(confirm=True)
            account = store.add_account(args.name, args.role, args.adcode, password=password, actor=operator)
            where = f" ({', '.join(account.adcodes)})" if account.adcodes else ""
            print(f"{for_terminal(account.name)}: {account.role}{where} added (账户已添加)")
        elif command == "passwd":
            store.account(args.name)          # an unknown name fails before the password is asked for
            store.set_password(args.name, read_password(confirm=True), actor=operator)
            print(f"{for_terminal(args.name)}: password changed; every session ended (密码已更改)")
        elif command in ("disable", "enable"):
            (store.disable_account if command == "disable" else store.enable_account)(args.name, actor=operator)
            print(f"{for_terminal(args.name)}: {command}d ({'已停用' if command == 'disable' else '已启用'})")
        elif command == "token":
            token = store.new_token(args.name, args.label, actor=operator)
            print("this token is shown once: keep it where your script reads it (令牌只显示这一次，请妥善保存)",
                  file=sys.stderr)
            print(token)
        elif command == "revoke-token":
            store.revoke_token(args.id, actor=operator)
            print(f"token {args.id} revoked (令牌已撤销)")
        elif command == "tokens":
            _tokens(store, args.name)
        else:
            _list(store, args.json)
        return 0
    finally:
        store.close()


def _list(store, as_json: bool) -> None:
    accounts = store.accounts()
    live: dict[str, int] = {}
    for token in store.tokens():
        if token.revoked is None:
            live[token.account] = live.get(token.account, 0) + 1
    if as_json:
        print(json.dumps([a.as_json() | {"tokens": live.get(a.name, 0)} for a in accounts], ensure_ascii=False,
                         indent=2))
        return
    if not accounts:
        print("no accounts yet: stationmap users add NAME --role admin (还没有账户)")
    for a in accounts:
        state = "disabled 已停用" if a.disabled else "enabled"
        print(f"{for_terminal(a.name)}\t{a.role}\t{','.join(a.adcodes) or '-'}\t{state}\t"
              f"{live.get(a.name, 0)} token(s)")


def _tokens(store, name: str | None) -> None:
    for t in store.tokens(name):
        state = f"revoked {t.revoked:%Y-%m-%d %H:%M}" if t.revoked else "active"
        used = f"{t.last_used:%Y-%m-%d %H:%M}" if t.last_used else "never"
        print(f"{t.id}\t{for_terminal(t.account)}\t{for_terminal(t.label) or '-'}\t{state}\tlast used {used}")
