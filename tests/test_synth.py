"""The synthetic cursive corpus (model/synth.py): deterministic, valid, human-like in its numbers.

The statistics and the two-thirds power law are measured on the output lines, the same way
they would be measured on a digitiser's recording.
"""
import json
import re
from dataclasses import asdict

import numpy as np
import pytest

from model.base import DataError
from model.data import load, stats
from model.synth import WORDS_FILE, SynthConfig, synthesize


@pytest.fixture(scope="module")
def lines():
    return synthesize(12, seed=3)


def test_same_seed_same_lines_other_seed_other_lines(lines):
    again = synthesize(12, seed=3)
    for a, b in zip(lines, again):
        np.testing.assert_array_equal(a.points, b.points)
        assert (a.start, a.text) == (b.start, b.text)
    other = synthesize(12, seed=4)
    assert not any(np.array_equal(a.points, b.points) for a, b in zip(lines, other))
    assert [a.text for a in lines] != [b.text for b in other]


def test_a_line_depends_only_on_seed_and_index(lines):
    np.testing.assert_array_equal(synthesize(3, seed=3)[2].points, lines[2].points)


def test_lines_are_valid_raw_unit_lines(lines):
    for line in lines:
        points = line.points
        assert points.dtype == np.float32 and points.ndim == 2 and points.shape[1] == 3
        assert np.isfinite(points).all()
        assert set(np.unique(points[:, 2])) <= {0.0, 1.0}
        assert points[-1, 2] == 1, "the last point ends a stroke"
        np.testing.assert_array_equal(points[:, :2], np.round(points[:, :2]))  # whole pen units
        assert line.source == "synthetic"
        # A pen lift between words at least; every stroke has a point.
        assert points[:, 2].sum() >= len(line.text.split())
        starts = np.r_[0, np.flatnonzero(points[:-1, 2]) + 1]
        assert (np.diff(np.r_[starts, len(points)]) >= 1).all()


def test_text_is_the_words_written(lines):
    listed = [w for w in WORDS_FILE.read_text().splitlines() if not w.startswith("#")]
    assert len(listed) > 2000
    vocabulary = {w.lower() for w in listed}
    for line in lines:
        words = line.text.split(" ")
        assert words and all(re.sub(r"[,.]$", "", w).lower() in vocabulary for w in words), line.text
    # Longer texts take more points: the text is what was rendered.
    lengths = np.array([len(line.text) for line in lines])
    sizes = np.array([len(line.points) for line in lines])
    assert np.corrcoef(lengths, sizes)[0, 1] > 0.6


def test_config_is_json_and_bad_font_is_one_line_error():
    assert json.loads(json.dumps(asdict(SynthConfig())))["fonts"] == ["scripts", "scriptc", "cursive"]
    with pytest.raises(DataError, match=r"^SynthConfig.fonts: 'nope' is not a Hershey font: use .*$"):
        synthesize(1, seed=0, config=SynthConfig(fonts=("nope",)))


def test_statistics_within_a_factor_of_the_human_lines(distill):
    human = stats(load(distill / "validation-data"))
    synthetic = stats(synthesize(150, seed=0))
    for name in ("median_step_raw", "median_points_per_stroke", "mean_points_per_line"):
        ratio = synthetic[name] / human[name]
        assert 1 / 1.5 < ratio < 1.5, f"{name}: synthetic {synthetic[name]} vs human {human[name]}"


def power_law_slope(lines, margin=3):
    """Slope of log speed against log curvature over the samples of some lines.

    Speed is the distance per sample (mean of the steps either side); curvature that of the
    circle through three successive samples. Samples near the ends of strokes (speeding up,
    slowing down) are left out.
    """
    curvatures, speeds = [], []
    for line in lines:
        xy = line.absolute()
        lift = line.points[:, 2].astype(int)
        stroke = np.r_[0, np.cumsum(lift)[:-1]]
        starts, ends = np.r_[0, np.flatnonzero(lift[:-1]) + 1], np.flatnonzero(lift)
        index = np.arange(len(xy))
        inside = (index - starts[stroke] >= margin) & (ends[stroke] - index >= margin)
        a, b, c = xy[:-2], xy[1:-1], xy[2:]
        ab, bc, ac = (np.hypot(*(q - p).T) for p, q in ((a, b), (b, c), (a, c)))
        twice_area = np.abs((b - a)[:, 0] * (c - b)[:, 1] - (b - a)[:, 1] * (c - b)[:, 0])
        curvature = 2 * twice_area / np.maximum(ab * bc * ac, 1e-9)
        speed = (ab + bc) / 2
        usable = inside[1:-1] & (curvature > 1e-4) & (speed > 3)
        curvatures.append(curvature[usable])
        speeds.append(speed[usable])
    return np.polyfit(np.log(np.concatenate(curvatures)), np.log(np.concatenate(speeds)), 1)[0]


def test_speed_follows_the_two_thirds_power_law(lines):
    assert -0.4 < power_law_slope(lines) < -0.22
    # The measurement can tell: a pen at constant speed shows a much flatter slope (about
    # -0.11, not 0: between two samples the chords cut a tight curve short).
    assert power_law_slope(synthesize(12, seed=3, config=SynthConfig(curvature_exponent=0.0))) > -0.17
