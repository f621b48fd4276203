"""``python -m stationmap`` is the ``stationmap`` command."""

import sys

try:
    from .cli import main

    sys.exit(main())
except KeyboardInterrupt:                 # Ctrl-C while the command was still starting
    print("stationmap: interrupted", file=sys.stderr)
    sys.exit(130)
