"""Colours and markers every map shares, so an HTML map, a picture and an embedded map of the
same data look the same.

Examples
--------
>>> coverage_colour(55.0) == COVERAGE_CLASSES[2][1]
True
"""

from __future__ import annotations

#: Colour classes of the district choropleth (share of area covered, %).
COVERAGE_CLASSES = ((0, "#b71c1c"), (20, "#e65100"), (40, "#f9a825"), (60, "#7cb342"), (80, "#1b5e20"))
#: Colour and matplotlib marker of each station type, shared by the HTML maps and the pictures
#: (colours chosen apart from the coverage classes' red-to-green ramp).
TYPE_STYLE = {"outdoor_worker_station": ("#1a5fb4", "o"), "new_employment_hub": ("#00897b", "p"),
              "driver_home": ("#e66100", "^"), "worker_home": ("#c2185b", "D"), "rest_room": ("#613583", "s")}


def coverage_colour(share: float) -> str:
    """The colour of the class a coverage share (%) falls in."""
    colour = COVERAGE_CLASSES[0][1]
    for floor, value in COVERAGE_CLASSES:
        if share >= floor:
            colour = value
    return colour
