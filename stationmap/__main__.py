"""``python -m stationmap`` is the ``stationmap`` command."""

import sys

from .cli import main

sys.exit(main())
