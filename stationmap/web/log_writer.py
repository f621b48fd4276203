"""The access log's writer: a request hands its line over; one thread per process writes the
lines a batch at a time.

Why not the standard library's :class:`~logging.handlers.QueueHandler` and
:class:`~logging.handlers.QueueListener`, which the log used before: the listener wakes for
every line and writes and flushes each one, so under gunicorn's threaded worker every request
paid a thread wake-up, a hand-over of the GIL and two system calls on top of its answer. Here a
request appends its line to a
:class:`collections.deque` (atomic under the GIL, no lock, no wake-up) and the writer wakes
every :data:`EVERY` seconds and writes what has gathered, in as few system calls as keep each
line whole: gunicorn's workers share one stderr (or one file), and a write to a pipe is kept whole
only up to ``PIPE_BUF`` bytes, so lines go out in whole-line pieces of at most that size (before,
each line was one write of its own, whole for the same reason).

A line reaches the file at most :data:`EVERY` seconds after its request; at exit the writer
is stopped and everything still held is written (:func:`stationmap.web.serve._stop_access_writer`).

Measured (docs/benchmarks.md, issue 15, part 1, third pass): in process with 16 threads sharing
the requests, a nearest answer's CPU fell from 960 to 773 µs (log off: 756); under gunicorn, one
worker pinned, no difference was measurable within the runs' ±25 % spread.
"""

from __future__ import annotations

import collections
import logging
import os
import select
import sys
import threading
import weakref
from typing import TextIO

#: Seconds between the writer's batches: how late a line may reach the file.
EVERY = 0.2
#: Bytes one write may carry and still reach a pipe whole, not interleaved with another
#: process's (POSIX guarantees at least 512; Linux gives 4,096).
PIECE = getattr(select, "PIPE_BUF", 512)

#: The writer the access log's lines are handed to straight, without a logging record, when
#: ``stationmap serve`` writes the log (:func:`stationmap.web.serve._access_log` sets it;
#: :func:`stationmap.web.ops._finish` reads it). Why: a record costs more than the line it
#: carries (a dozen attributes, the caller's frame, the handler's lock): 40–80 µs of a nearest
#: answer's ~750 µs in process (docs/benchmarks.md, issue 15, fourth pass). Empty: the lines go
#: to the ``stationmap.access`` logger as records.
DIRECT: list[BatchedLines] = []


class BatchedLines(logging.Handler):
    r"""A logging handler that holds each record's message until this process's writer thread
    writes it to ``stream``. Messages are written as they are (the access log's lines are JSON
    built by :mod:`stationmap.web.ops`), one per line, in the order they were handed over.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> lines = BatchedLines(out)
    >>> lines.start()
    >>> log = logging.getLogger("doctest.batched")
    >>> log.addHandler(lines); log.setLevel(logging.INFO); log.propagate = False
    >>> log.info('{"n": 1}'); log.info('{"n": 2}')
    >>> lines.stop()
    >>> out.getvalue()
    '{"n": 1}\n{"n": 2}\n'
    """

    def __init__(self, stream: TextIO, *, every: float | None = None) -> None:
        super().__init__()
        self.stream = stream
        self.every = EVERY if every is None else every
        self._held: collections.deque[str] = collections.deque()
        self._stopping = threading.Event()
        self._writer: threading.Thread | None = None
        self._pid = os.getpid()
        adopt = weakref.WeakMethod(self._adopt)
        os.register_at_fork(after_in_child=lambda: (method := adopt()) is not None and method())

    def put(self, line: str) -> None:
        """Hold ``line`` (without its newline): no lock (``deque.append`` is atomic), no wake-up.

        The access log's lines come here straight from :mod:`stationmap.web.ops`, without a
        logging record (:data:`DIRECT`).
        """
        self._held.append(line)

    def handle(self, record: logging.LogRecord) -> bool:
        """Hold the record's message, as :meth:`put`."""
        if not self.filter(record):
            return False
        self._held.append(record.getMessage())
        return True

    def emit(self, record: logging.LogRecord) -> None:
        """As :meth:`handle` (for a caller that emits directly)."""
        self.handle(record)

    def _adopt(self) -> None:
        """In a forked child (run by :func:`os.register_at_fork`, and again by :meth:`start`): the
        parent's writer thread did not survive the fork, and the lines the parent held are the
        parent's to write, not the child's. The holder and the writer's event are new objects,
        not cleared ones: the child may have been forked while the parent's writer held the
        event's lock, which would then stay taken in the child for ever.
        """
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._held = collections.deque()
            self._stopping = threading.Event()
            self._writer = None

    def start(self) -> None:
        """Start this process's writer (again in a forked child, e.g. a gunicorn worker)."""
        self._adopt()
        if self._writer is None:
            self._stopping.clear()
            self._writer = threading.Thread(target=self._run, name="stationmap-access-log", daemon=True)
            self._writer.start()

    def stop(self) -> None:
        """End the writer and write everything still held (at exit, or when the log moves)."""
        self._adopt()
        writer, self._writer = self._writer, None
        if writer is not None:
            self._stopping.set()
            writer.join()
        self._write()

    def _run(self) -> None:
        while not self._stopping.wait(self.every):
            try:
                self._write()
            except Exception:          # noqa: BLE001 - nothing may end the writer: lines would pile up
                pass

    def _write(self) -> None:
        held, batch = self._held, []
        try:
            while True:
                batch.append(held.popleft())
        except IndexError:
            pass
        piece: list[str] = []
        size = 0
        for line in batch:
            length = len(line.encode()) + 1
            if piece and size + length > PIECE:
                self._put(piece)
                piece, size = [], 0
            piece.append(line)
            size += length
        if piece:
            self._put(piece)

    def _put(self, piece: list[str]) -> None:
        """One whole-line piece, one ``write`` system call (the flush sends it)."""
        try:
            self.stream.write("\n".join(piece) + "\n")
            self.stream.flush()
        except (OSError, ValueError) as error:     # a full disk or a closed file loses these lines, not the writer
            try:
                print(f"stationmap: {len(piece)} access log lines may not have been written "
                      f"(访问日志可能未写入): {error}", file=sys.stderr)
            except (OSError, ValueError):          # stderr itself is what failed (its reader gone)
                pass

    def close(self) -> None:
        """Stop the writer (writing what is held) and close the stream unless it is stderr/stdout."""
        self.stop()
        if self.stream not in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__):
            self.stream.close()
        super().close()
