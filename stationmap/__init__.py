"""stationmap: union rest stations for China's outdoor workers, and where stations are missing.

The core (stations, coordinate systems, index, coverage) never imports Flask; the web layer,
map rendering and CLI sit on top of it.
"""

__version__ = "0.1.0"
