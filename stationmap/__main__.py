"""``python -m stationmap`` is the ``stationmap`` command."""

import os
import signal
import sys

try:
    from .cli import main

    status = main()
    # The work is done (or refused): a Ctrl-C from now on must not turn a finished command into
    # the interpreter's SIGINT death while it shuts down (Python restores the default handler
    # for signals it handled during finalisation, but leaves an ignored one ignored).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
except KeyboardInterrupt:                 # Ctrl-C while the command was still starting
    print("stationmap: interrupted", file=sys.stderr)
    status = 130
if status == 130:
    # Every ``finally`` (temporary files and directories) has run by now; leave with 130 as
    # shells expect, not with the interpreter's own SIGINT death, which a late Ctrl-C caught
    # during start-up otherwise turns into.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)
sys.exit(status)
