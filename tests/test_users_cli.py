"""``stationmap users …`` and ``--as``, run as an operator runs them: real processes, a real terminal."""

from __future__ import annotations

import getpass
import io
import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest

from stationmap.store import Store

PASSWORD = "a long enough password"


def process(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """The command in a real process, standard input a pipe."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("STATIONMAP_")}
    return subprocess.run([sys.executable, "-m", "stationmap", *args], input=stdin, capture_output=True, text=True,
                          timeout=180, env=environment)


@pytest.fixture
def run(capsys, monkeypatch):
    """The command in this process (``stationmap.cli.main``): the same parsing and exit statuses,
    standard input a pipe-like text stream; returns what :func:`process` returns.
    """
    from stationmap.cli import main

    def running(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out, err)

    return running


@pytest.fixture
def database(store_url, run):
    made = run("db", "init", "--from", "data/shanghai_stations.geojson", "--database", store_url)
    assert made.returncode == 0, made.stderr
    return store_url


def _opened(url: str):
    return Store.open(url)


def test_the_first_admin_is_made_by_the_command_with_a_password_from_standard_input(database, run):
    listed = run("users", "list", "--database", database)
    assert listed.returncode == 0 and "no accounts yet" in listed.stdout
    added = process("users", "add", "chen", "--role", "admin", "--database", database, stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert PASSWORD not in added.stdout + added.stderr
    store = _opened(database)
    try:
        assert store.authenticate("chen", PASSWORD).role == "admin"
        assert store.audit(target_kind="account")[0].who == f"cli:{getpass.getuser()}"
    finally:
        store.close()


@pytest.mark.parametrize(("stdin", "message"), [("", "'password': is empty"), ("\n", "'password': is empty"),
                                                 ("short\n", "at least 10")])
def test_an_empty_or_short_password_is_refused_and_no_account_is_made(run, database, stdin, message):
    added = run("users", "add", "chen", "--role", "admin", "--database", database, stdin=stdin)
    assert added.returncode == 2 and message in added.stderr and "Traceback" not in added.stderr
    assert "no accounts yet" in run("users", "list", "--database", database).stdout


def test_a_district_editor_a_token_for_scripts_and_its_revocation(run, database):
    added = run("users", "add", "xu", "--role", "editor", "--adcode", "310104", "--adcode", "310115",
                "--database", database, stdin=PASSWORD)
    assert added.returncode == 0 and "310104, 310115" in added.stdout
    made = run("users", "token", "xu", "--label", "nightly sync", "--database", database)
    assert made.returncode == 0 and "shown once" in made.stderr
    token = made.stdout.strip()
    assert token.startswith("smt_") and len(made.stdout.splitlines()) == 1
    listed = run("users", "tokens", "xu", "--database", database).stdout
    assert "nightly sync" in listed and "active" in listed and token not in listed
    store = _opened(database)
    try:
        assert store.account_for_token(token).who == "token:xu/nightly sync"
        token_id = store.tokens("xu")[0].id
        assert run("users", "revoke-token", str(token_id), "--database", database).returncode == 0
        assert store.account_for_token(token) is None
    finally:
        store.close()
    assert "310104,310115" in run("users", "list", "--database", database).stdout
    bad = run("users", "add", "li", "--role", "editor", "--database", database, stdin=PASSWORD)
    assert bad.returncode == 2 and "'adcode'" in bad.stderr


def test_disable_enable_and_a_new_password(run, database):
    run("users", "add", "xu", "--role", "viewer", "--database", database, stdin=PASSWORD)
    assert run("users", "disable", "xu", "--database", database).returncode == 0
    assert "disabled" in run("users", "list", "--database", database).stdout
    store = _opened(database)
    try:
        assert store.authenticate("xu", PASSWORD) is None
        assert run("users", "enable", "xu", "--database", database).returncode == 0
        assert run("users", "passwd", "xu", "--database", database, stdin="another long password").returncode == 0
        assert store.authenticate("xu", PASSWORD) is None
        assert store.authenticate("xu", "another long password") is not None
    finally:
        store.close()
    missing = run("users", "passwd", "nobody", "--database", database, stdin=PASSWORD)
    assert missing.returncode == 2 and "no account 'nobody'" in missing.stderr


def _on_a_terminal(args: list[str], answers: list[str]) -> tuple[int, str]:
    """Run the command with a pseudo-terminal as its controlling terminal, answering each prompt
    (a prompt ends in ``: ``); the child is killed if it has not finished within three minutes.
    """
    pid, fd = pty.fork()
    if pid == 0:           # the child: its terminal is the pty
        os.execve(sys.executable, [sys.executable, "-m", "stationmap", *args],
                  {k: v for k, v in os.environ.items() if not k.startswith("STATIONMAP_")})
    output, given, finished = b"", 0, False
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:            # the child closed the terminal: it has ended
                finished = True
                break
            if not chunk:
                finished = True
                break
            output += chunk
            prompts = output.count(b"Password: ") + output.count(b"Again: ")
            while given < min(prompts, len(answers)):
                os.write(fd, answers[given].encode() + b"\n")
                given += 1
    finally:
        if not finished:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert finished, f"the command did not finish within 3 minutes: {output!r}"
    return os.waitstatus_to_exitcode(status), output.decode("utf-8", "replace")


def test_on_a_terminal_the_password_is_asked_twice_and_never_echoed(store_url):
    Store.open(store_url, upgrade=True).close()
    code, screen = _on_a_terminal(["users", "add", "chen", "--role", "admin", "--database", store_url],
                                  [PASSWORD, PASSWORD])
    assert code == 0, screen
    assert "Password:" in screen and "Again:" in screen and PASSWORD not in screen
    code, screen = _on_a_terminal(["users", "add", "li", "--role", "admin", "--database", store_url],
                                  [PASSWORD, PASSWORD + "x"])
    assert code == 2 and "the two passwords differ" in screen


def test_station_commands_act_as_the_operator_or_as_a_person_with_their_rights(run, database):
    run("users", "add", "xu", "--role", "editor", "--adcode", "310104", "--database", database, stdin=PASSWORD)
    store = _opened(database)
    try:
        pudong = next(s for s in store.load()[0]["id"] if s.startswith("SH-310115"))
        xuhui = next(s for s in store.load()[0]["id"] if s.startswith("SH-310104"))
        version = store.register_version()
        refused = run("station", "set", pudong, "phone=021-1", "--reason", "试", "--as", "xu", "--database", database)
        assert refused.returncode == 2 and "310115" in refused.stderr and "Traceback" not in refused.stderr
        assert store.register_version() == version
        assert store.audit(outcome="refused")[0].who == "user:xu"
        done = run("station", "close", xuhui, "--until", "2026-12-31", "--reason", "装修", "--as", "xu",
                   "--database", database)
        assert done.returncode == 0, done.stderr
        assert store.history(xuhui)[-1].who == "user:xu" and store.audit(station_id=xuhui)[0].source == "cli"
        assert run("station", "set", pudong, "phone=021-1", "--reason", "运营者", "--database",
                   database).returncode == 0
        assert store.history(pudong)[-1].who == f"cli:{getpass.getuser()}"
        reverted = run("import", "--revert", "1", "--as", "xu", "--database", database)
        assert reverted.returncode == 2 and "Forbidden" not in reverted.stderr and "310115" in reverted.stderr
    finally:
        store.close()
