"""The suite's own report hook (tests/conftest.py): a failed test's report carries the end of
what each server logged during that test, and nothing from servers that logged nothing then; a
log that cannot be read is said so, and never stops the run.
"""

from __future__ import annotations

from pathlib import Path

pytest_plugins = ["pytester"]

CONFTEST = (Path(__file__).parent / "conftest.py").read_text(encoding="utf-8")


def _section(output: str, test: str) -> str:
    """The failure's text of ``test`` in pytest's output."""
    after = output.split(f" {test} _", 1)[1]
    return after.split("\n____", 1)[0].split("short test summary info", 1)[0]


def test_a_server_that_never_started_is_not_shown_with_a_later_unrelated_failure(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_it="""
        import pytest
        from conftest import Server

        def test_a_server_that_cannot_start():
            with pytest.raises(RuntimeError):
                Server("--stations", "/nonexistent/stations.csv")

        def test_a_later_failure_with_no_server():
            assert False
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    assert "stationmap serve on port" not in _section(result.stdout.str(), "test_a_later_failure_with_no_server")


def test_a_server_whose_log_is_gone_is_reported_so_and_the_run_goes_on(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_it="""
        import os
        import pytest
        import conftest

        def test_a_failure_whose_server_log_is_gone():
            with pytest.raises(RuntimeError):
                conftest.Server("--stations", "/nonexistent/stations.csv")
            os.remove(conftest.SERVERS[-1]._log_path)
            assert False

        def test_the_run_goes_on():
            pass
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    assert "its log cannot be read" in _section(result.stdout.str(), "test_a_failure_whose_server_log_is_gone")


def test_a_failure_shows_what_a_longer_lived_server_logged_during_it_and_not_before(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_it="""
        import urllib.request
        import pytest
        from conftest import Server

        @pytest.fixture(scope="module")
        def server():
            server = Server(workers=1)
            yield server.url
            server.stop()

        def get(url):
            with urllib.request.urlopen(url) as response:
                response.read()

        def test_an_earlier_test(server):
            get(f"{server}/readyz")

        def test_a_failure_after_a_request(server):
            get(f"{server}/api/v1/stations/nearest?lat=31.2397&lon=121.4998")
            assert False

        def test_a_failure_with_no_request(server):
            assert False
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    output = result.stdout.str()
    during = _section(output, "test_a_failure_after_a_request")
    assert "/api/v1/stations/nearest" in during and "/readyz" not in during and "/healthz" not in during
    assert "stationmap serve on port" not in _section(output, "test_a_failure_with_no_request")


def test_a_server_that_does_not_stop_is_a_failure_naming_what_ran_and_is_killed():
    """Before, the harness's wait ran out with a bare ``TimeoutExpired`` and left the server
    running (CI on 2026-11-26)."""
    import os
    import signal
    import time

    import pytest
    from conftest import Server, _process_tree, running

    server = Server(workers=1)
    _, pids = _process_tree(server.process.pid)
    assert len(pids) >= 3                                # the master, its worker, the pool service (and its own)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)                     # stopped, none can act on SIGTERM or see its master go
    with pytest.raises(AssertionError) as failure:
        server.stop(timeout=2)
    said = str(failure.value)
    assert "did not stop within 2 s of SIGTERM" in said
    assert f"{server.process.pid} state T" in said and " -m stationmap serve " in said
    assert all(f"{pid} state " in said for pid in pids)
    assert server.process.returncode == -signal.SIGKILL

    deadline = time.monotonic() + 10                     # killed: none of them outlives the test
    while any(running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in pids if running(pid)]


def test_a_test_that_fails_and_then_cannot_stop_its_server_reports_both(pytester):
    """The stop's failure is chained to the test's own: called in a ``finally``, it must not
    hide why the test failed (the reviewer's catch: ``from None`` cut the chain)."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_it="""
        import os, signal
        from conftest import Server

        def test_it():
            server = Server(workers=1)
            try:
                os.kill(server.process.pid, signal.SIGSTOP)
                assert 1 == 2, "the test's own " + "failure"     # split: the source shown is not the message
            finally:
                server.stop(timeout=1)
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "AssertionError: the test's own failure" in output and "did not stop within 1 s of SIGTERM" in output
