"""Colours and markers every map shares, so the planner page, the self-contained ``map.html``,
the embedded map and the coverage picture speak one visual language.

The heat layer shows, for every H3 cell, the minutes to the nearest station open at the chosen
time, in five equal bands from 0 to the threshold (ColorBrewer's sequential *Blues*, light =
near, dark = at the edge of reach), and everything beyond the threshold in one colour no band
resembles: Okabe–Ito vermillion. Blues and vermillion stay apart for the common colour-vision
deficiencies (deuteranopia, protanopia: ``tests/test_style.py`` simulates them), and the bands
differ in lightness, which every reader sees.

Examples
--------
>>> [round(lo) for lo, hi, colour in heat_bands(15)]
[0, 3, 6, 9, 12, 15]
>>> heat_colour(16, 15) == GAP_COLOUR, heat_colour(0.5, 15) == HEAT_COLOURS[0]
(True, True)
>>> coverage_colour(55.0) == COVERAGE_CLASSES[2][1]
True
"""

from __future__ import annotations

import math

#: Sequential blues, light → dark: minutes to the nearest open station, in five equal bands up
#: to the threshold (classes of ColorBrewer *Blues* 9 chosen for even lightness steps, L* 92 → 21: every
#: neighbouring pair stays ≥ 14 ΔE apart under deuteranopia, protanopia and tritanopia, tests/test_style.py).
HEAT_COLOURS = ("#deebf7", "#9ecae1", "#6baed6", "#2171b5", "#08306b")
#: Okabe–Ito vermillion: cells beyond the threshold (gaps), and cells no station reaches at all.
GAP_COLOUR = "#d55e00"
#: District outlines drawn over the heat layer, and the halo behind their labels.
OUTLINE_COLOUR = "#222222"
#: Recommended new sites: Okabe–Ito bluish green, apart from the blues and the vermillion.
SITE_COLOUR = "#009e73"
#: The difference map of two scenarios (:mod:`stationmap.scenarios`), in the heat layer's language:
#: blues are covered, vermillion is a gap; the cells that *changed* are the strong colours (dark
#: blue gained, vermillion lost), the unchanged ones pale tints of the same. Every pair stays ≥ 29 ΔE
#: apart under deuteranopia, protanopia and tritanopia, gained and lost ≥ 95 (tests/test_style.py).
DIFF_COLOURS = {"covered": "#c6dbef", "gap": "#f5c9ae", "lost": GAP_COLOUR, "gained": "#08519c"}
#: How opaque the heat layer is over a base map (the base map's streets stay readable).
HEAT_OPACITY = 0.72

#: Colour classes of a district choropleth (share of area covered, %): kept for the embed's
#: district layer; the planner's maps draw districts as outlines labelled with their share.
COVERAGE_CLASSES = ((0, "#b71c1c"), (20, "#e65100"), (40, "#f9a825"), (60, "#7cb342"), (80, "#1b5e20"))
#: Colour and matplotlib marker of each station type, shared by the HTML maps and the pictures.
TYPE_STYLE = {"outdoor_worker_station": ("#1a5fb4", "o"), "new_employment_hub": ("#00897b", "p"),
              "driver_home": ("#e66100", "^"), "worker_home": ("#c2185b", "D"), "rest_room": ("#613583", "s")}


def heat_bands(threshold: float) -> list[tuple[float, float | None, str]]:
    """``(low, high, colour)`` per band: five equal bands up to ``threshold``, then the gap band
    (``high`` ``None``). The threshold is always a band edge, so the legend shows it.
    """
    step = threshold / len(HEAT_COLOURS)
    bands: list[tuple[float, float | None, str]] = [(i * step, (i + 1) * step, colour)
                                                    for i, colour in enumerate(HEAT_COLOURS)]
    bands.append((float(threshold), None, GAP_COLOUR))
    return bands


def heat_colour(value: float, threshold: float) -> str:
    """The colour of ``value`` (minutes or metres, as ``threshold``); beyond it or unknown: the gap colour."""
    if value is None or not math.isfinite(value) or value > threshold:
        return GAP_COLOUR
    band = min(int(value / threshold * len(HEAT_COLOURS)), len(HEAT_COLOURS) - 1)
    return HEAT_COLOURS[max(band, 0)]


def palette() -> dict:
    """The palette as JSON, for the pages' scripts (one source of truth)."""
    return {"heat": list(HEAT_COLOURS), "gap": GAP_COLOUR, "outline": OUTLINE_COLOUR, "site": SITE_COLOUR,
            "opacity": HEAT_OPACITY, "diff": dict(DIFF_COLOURS)}


def coverage_colour(share: float) -> str:
    """The colour of the class a coverage share (%) falls in."""
    colour = COVERAGE_CLASSES[0][1]
    for floor, value in COVERAGE_CLASSES:
        if share >= floor:
            colour = value
    return colour
