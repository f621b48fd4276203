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
    lines = BatchedLines(out, every=1e-4)
    lines.start()
    log = _logger("threads", lines)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)             # threads taking turns as often as they can: a racy drain loses lines

    def send(thread: int) -> None:
        for n in range(2000):
            log.info(json.dumps({"thread": thread, "n": n, "pad": "x" * (n % 300)}))

    threads = [threading.Thread(target=send, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    try:
        for t in threads:
            t.join(timeout=60)
    finally:
        sys.setswitchinterval(switch)
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
    assert "access log lines may not have been written" in capsys.readouterr().err
    out.fail = False
    log.info('{"n": 2}')
    lines.stop()
    assert out.getvalue() == '{"n": 2}\n'


def test_the_writer_outlives_a_stderr_whose_reader_has_gone():
    script = """
import logging, os, sys, time
from stationmap.web.log_writer import BatchedLines
read, write = os.pipe()
os.close(read)
os.dup2(write, 2)                           # stderr: a pipe nobody reads any more (EPIPE)
lines = BatchedLines(sys.stderr, every=0.01)
lines.start()
log = logging.getLogger("gone")
log.addHandler(lines); log.setLevel(logging.INFO); log.propagate = False
for n in range(100):
    log.info('{"n": %d}' % n)
    time.sleep(0.001)
time.sleep(0.3)
print(lines._writer.is_alive(), len(lines._held))
"""
    done = subprocess.run([sys.executable, "-c", script], timeout=60, capture_output=True, text=True)
    assert done.stdout.split() == ["True", "0"]


def test_a_child_forked_while_the_parents_writer_held_its_event_lock_still_starts_its_writer():
    script = """
import io, os, signal
from stationmap.web.log_writer import BatchedLines
lines = BatchedLines(io.StringIO(), every=3600)
lines.start()
lines._stopping._cond.acquire()             # as the parent's writer holds it, returning from its wait
child = os.fork()
if child == 0:
    signal.alarm(5)                         # a hang ends the child by SIGALRM, not the test by its timeout
    lines.start()
    lines.stop()
    os._exit(0)
lines._stopping._cond.release()
_, status = os.waitpid(child, 0)
print(os.waitstatus_to_exitcode(status))
"""
    done = subprocess.run([sys.executable, "-c", script], timeout=60, capture_output=True, text=True)
    assert done.stdout.split() == ["0"]
