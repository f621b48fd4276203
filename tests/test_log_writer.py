"""The access log's batched writer: every line written once, whole, in order, from any thread
and across a fork; written in whole-line pieces a pipe keeps whole."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import threading

from stationmap.web.log_writer import PIECE, BatchedLines


class _Writes(io.StringIO):
    """A stream that remembers what each flush sent: one piece per system call."""

    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[str] = []
        self._since = 0

    def flush(self) -> None:
        text = self.getvalue()
        if len(text) > self._since:
            self.pieces.append(text[self._since:])
            self._since = len(text)


def _logger(name: str, handler: logging.Handler) -> logging.Logger:
    log = logging.getLogger(f"test.log_writer.{name}")
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False
    return log


def test_lines_from_many_threads_are_each_written_once_whole_and_in_each_threads_order():
    out = _Writes()
    lines = BatchedLines(out, every=0.01)
    lines.start()
    log = _logger("threads", lines)

    def send(thread: int) -> None:
        for n in range(2000):
            log.info(json.dumps({"thread": thread, "n": n, "pad": "x" * (n % 300)}))

    threads = [threading.Thread(target=send, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    lines.stop()
    written = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(written) == 8 * 2000
    for thread in range(8):
        assert [w["n"] for w in written if w["thread"] == thread] == list(range(2000))


def test_each_write_is_whole_lines_within_what_a_pipe_keeps_whole_and_a_longer_line_goes_alone():
    out = _Writes()
    lines = BatchedLines(out, every=3600)           # nothing written until stop: one batch
    lines.start()
    log = _logger("pieces", lines)
    sent = [json.dumps({"n": n, "route": "/api/v1/stations/nearest", "名": "站" * (n % 40)}) for n in range(500)]
    long = json.dumps({"n": "long", "pad": "y" * (3 * PIECE)})
    sent.insert(250, long)
    for line in sent:
        log.info(line)
    lines.stop()
    assert "".join(out.pieces).splitlines() == sent
    assert len(out.pieces) > 1
    for piece in out.pieces:
        assert piece.endswith("\n")
        assert len(piece.encode()) <= PIECE or piece == long + "\n"


def test_a_forked_child_writes_none_of_the_lines_its_parent_held(tmp_path):
    log = tmp_path / "access.log"
    script = f"""
import logging, os
from stationmap.web import log_writer, serve
log_writer.EVERY = 3600
serve._access_log({str(log)!r})
access = logging.getLogger("stationmap.access")
for n in range(50):
    access.info('{{"who": "parent", "n": %d}}', n)
child = os.fork()
if child == 0:                              # as gunicorn's post_fork: the child's own writer
    serve._start_access_writer()
    for n in range(20):
        access.info('{{"who": "child", "n": %d}}', n)
    serve._stop_access_writer()
    os._exit(0)
os.waitpid(child, 0)
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    written = [json.loads(line) for line in log.read_text().splitlines()]
    assert [w["n"] for w in written if w["who"] == "parent"] == list(range(50))
    assert [w["n"] for w in written if w["who"] == "child"] == list(range(20))


def test_a_write_that_fails_loses_that_piece_and_says_so_and_the_writer_goes_on(capsys):
    class Full(io.StringIO):
        fail = True

        def write(self, text: str) -> int:
            if self.fail:
                raise OSError(28, "No space left on device")
            return super().write(text)

    out = Full()
    lines = BatchedLines(out, every=3600)
    log = _logger("full", lines)
    log.info('{"n": 1}')
    lines.stop()
    assert "access log lines not written" in capsys.readouterr().err
    out.fail = False
    log.info('{"n": 2}')
    lines.stop()
    assert out.getvalue() == '{"n": 2}\n'
