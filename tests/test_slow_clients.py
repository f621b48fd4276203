"""Slow clients never take the lookup down: 200 sockets trickling their headers and 200
trickling a body, against the real `stationmap serve` (default settings, 2 workers), while a
rider's nearest question keeps being answered, each within a bounded wait of 1 s.

A bounded wait, not a benchmark: docs/benchmarks.md has the figures (bench/slow_clients.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import Server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from slow_clients import attack, probe

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server():
    server = Server(workers=2)
    yield server
    server.stop()


def test_nearest_keeps_answering_while_200_slow_header_and_200_slow_body_clients_hang_on(server):
    probe(server.url, timeout=10)                                     # warm both workers' first answer
    probe(server.url, timeout=10)
    figures = attack(server.url, header_clients=200, body_clients=200, duration=6.0, interval=0.2,
                     probe_timeout=1.0)
    assert figures["slow_clients"]["connected"] == 400
    under = figures["under_attack"]
    assert under["probes"] >= 10 and under["failures"] == [] and under["ok"] == under["probes"], figures


def test_the_server_is_whole_after_the_slow_clients_leave(server):
    assert probe(server.url, timeout=5) < 5
