"""Slow clients against a running server: does nearest keep answering them all.

Opens ``--header-clients`` sockets that send their request headers one byte at a time (never
finishing) and ``--body-clients`` sockets that send complete headers of a ``POST`` and then
trickle the body one byte at a time, on the server's loopback address; meanwhile one probe asks
``/api/v1/stations/nearest`` every ``--interval`` seconds and records how long it took. Before the
slow clients connect the same probe runs alone: that is the baseline of the ratios.

Everything is bounded: the attack lasts ``--duration`` seconds, each probe waits at most
``--probe-timeout`` seconds, and every socket is closed at the end.

    python bench/slow_clients.py --url http://127.0.0.1:8000 [--header-clients 200] [--body-clients 200]

Prints one JSON object: probe latencies (p50/p99/max, failures) alone and under attack, and how
many slow sockets the server had closed by the end. :mod:`tests.test_slow_clients` uses
:func:`attack` with the same defaults.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

PROBE = "/api/v1/stations/nearest?lat=31.2397&lon=121.4998&k=3"
BODY_PATH = "/api/v1/stations/along-route"
BODY_LENGTH = 100_000


@dataclass
class Probes:
    """Latencies (s) of the probes that answered 200, and what happened to the others."""

    seconds: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, float | int | list[str]]:
        """Count, failures and latency percentiles of the probes."""
        ordered = sorted(self.seconds)

        def pick(q: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1) if ordered else float("nan")

        return {"probes": len(self.seconds) + len(self.failures), "ok": len(self.seconds),
                "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else float("nan"),
                "p99_ms": pick(0.99), "max_ms": pick(1.0), "failures": self.failures[:5]}


def probe(url: str, timeout: float) -> float:
    """Seconds one nearest question took (raises on anything but a 200 within ``timeout``)."""
    start = time.monotonic()
    with urllib.request.urlopen(url + PROBE, timeout=timeout) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"status {response.status}")
    return time.monotonic() - start


def run_probes(url: str, seconds: float, interval: float, timeout: float,
               stop: threading.Event | None = None) -> Probes:
    """Probe every ``interval`` seconds for ``seconds`` seconds."""
    result = Probes()
    end = time.monotonic() + seconds
    while time.monotonic() < end and not (stop and stop.is_set()):
        try:
            result.seconds.append(probe(url, timeout))
        except (OSError, RuntimeError) as exc:     # a failed probe is a finding, not a crash
            result.failures.append(f"{type(exc).__name__}: {exc}")
        time.sleep(interval)
    return result


def _open(host: str, port: int, first: bytes) -> socket.socket | None:
    try:
        sock = socket.create_connection((host, port), timeout=2)
        sock.sendall(first)
        sock.setblocking(False)
        return sock
    except OSError:
        return None


def attack(url: str, *, header_clients: int = 200, body_clients: int = 200, duration: float = 10.0,
           interval: float = 0.2, probe_timeout: float = 5.0, trickle_every: float = 0.5) -> dict:
    """Probe ``url`` while slow clients hold sockets open; return the figures as a dict."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    head = f"GET /healthz HTTP/1.1\r\nHost: {parts.netloc}\r\n".encode()
    body_head = (f"POST {BODY_PATH} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {BODY_LENGTH}\r\n\r\n[").encode()
    sockets: list[socket.socket] = []
    opened = time.monotonic()
    for i in range(header_clients + body_clients):
        sock = _open(host, port, head[:1] if i < header_clients else body_head)
        if sock is not None:
            sockets.append(sock)
    connected = len(sockets)
    stop = threading.Event()
    closed_by_server = 0

    def trickle() -> None:
        nonlocal closed_by_server
        while not stop.wait(trickle_every):
            for sock in list(sockets):
                try:
                    sock.send(b"X" if sock.fileno() >= 0 else b"")
                except BlockingIOError:
                    pass
                except OSError:
                    closed_by_server += 1
                    sockets.remove(sock)
                    sock.close()

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        probes = run_probes(url, duration, interval, probe_timeout)
    finally:
        stop.set()
        trickler.join(timeout=5)
        for sock in sockets:
            sock.close()
    return {"slow_clients": {"header": header_clients, "body": body_clients, "connected": connected,
                             "connect_seconds": round(time.monotonic() - opened - duration, 1),
                             "closed_by_server": closed_by_server},
            "under_attack": probes.summary()}


def main() -> None:
    """Parse the command line, open the slow clients, probe, and print the summary as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--header-clients", type=int, default=200)
    parser.add_argument("--body-clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--probe-timeout", type=float, default=5.0)
    args = parser.parse_args()
    alone = run_probes(args.url, args.duration, args.interval, args.probe_timeout).summary()
    figures = attack(args.url, header_clients=args.header_clients, body_clients=args.body_clients,
                     duration=args.duration, interval=args.interval, probe_timeout=args.probe_timeout)
    print(json.dumps({"alone": alone, **figures}, indent=1))


if __name__ == "__main__":
    main()
