"""The one palette every map uses stays readable for colour-blind readers.

Colour-vision deficiency is simulated with the matrices of Machado, Oliveira and Fernandes
(2009, severity 1.0) applied to linear RGB; distances are CIE76 ΔE in CIELAB (D65).
"""

import itertools

import numpy as np
import pytest

from stationmap.maps.style import (
    GAP_COLOUR,
    HEAT_COLOURS,
    SITE_COLOUR,
    heat_bands,
    heat_colour,
)

MACHADO = {
    "normal": np.eye(3),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def rgb(hex_colour):
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0


def linear(c):
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def lab(lin):
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ lin
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen(hex_colour, deficiency):
    return lab(np.clip(MACHADO[deficiency] @ linear(rgb(hex_colour)), 0, 1))


def delta_e(a, b, deficiency):
    return float(np.linalg.norm(seen(a, deficiency) - seen(b, deficiency)))


@pytest.mark.parametrize("deficiency", ["normal", "deuteranopia", "protanopia", "tritanopia"])
def test_neighbouring_bands_and_the_gap_colour_stay_apart_under_colour_blindness(deficiency):
    # Neighbouring bands: a step a reader sees (ΔE ≥ 10); the gap: unmistakable from every band (ΔE ≥ 30).
    steps = [delta_e(a, b, deficiency) for a, b in itertools.pairwise(HEAT_COLOURS)]
    assert min(steps) >= 10, steps
    assert min(delta_e(GAP_COLOUR, c, deficiency) for c in HEAT_COLOURS) >= 30
    assert min(delta_e(SITE_COLOUR, c, deficiency) for c in (*HEAT_COLOURS, GAP_COLOUR)) >= 10


@pytest.mark.parametrize("deficiency", ["normal", "deuteranopia", "protanopia"])
def test_the_bands_run_light_to_dark_for_every_reader(deficiency):
    lightness = [seen(c, deficiency)[0] for c in HEAT_COLOURS]
    assert lightness == sorted(lightness, reverse=True)


def test_the_simulation_is_machado_s_a_red_and_a_green_look_alike_to_a_deuteranope():
    # The reference check of the matrices: pure red and a green of equal lightness collapse.
    assert delta_e("#ff0000", "#00ff00", "normal") > 80
    assert delta_e("#d55e00", "#009e73", "deuteranopia") < delta_e("#d55e00", "#009e73", "normal")


@pytest.mark.parametrize("threshold", [10, 15, 7.5, 962.0])
def test_the_threshold_is_a_band_edge_and_beyond_it_is_the_gap_colour(threshold):
    bands = heat_bands(threshold)
    assert bands[0][0] == 0 and bands[-1] == (threshold, None, GAP_COLOUR)
    assert bands[-2][1] == pytest.approx(threshold)
    assert heat_colour(threshold, threshold) == HEAT_COLOURS[-1]
    assert heat_colour(threshold * 1.0001, threshold) == GAP_COLOUR
    assert heat_colour(float("inf"), threshold) == GAP_COLOUR
    for low, high, colour in bands[:-1]:                       # brute force: the middle of each band
        assert heat_colour((low + high) / 2, threshold) == colour


@pytest.mark.parametrize("deficiency", ["normal", "deuteranopia", "protanopia", "tritanopia"])
def test_the_difference_map_s_gained_and_lost_stay_apart_under_colour_blindness(deficiency):
    from stationmap.maps.style import DIFF_COLOURS

    # Every change from every other: a step a reader sees (ΔE ≥ 25); gained from lost: unmistakable.
    assert all(delta_e(a, b, deficiency) >= 25 for a, b in itertools.combinations(DIFF_COLOURS.values(), 2))
    assert delta_e(DIFF_COLOURS["gained"], DIFF_COLOURS["lost"], deficiency) >= 90
    # In the heat layer's language: lost is the gap colour, gained is one of the covered blues' family.
    assert DIFF_COLOURS["lost"] == GAP_COLOUR
