"""The synthetic corpus (model/corpus.py): deterministic, valid, human-like in its numbers, in six
hands, with texts that use every character of the model's alphabet.

The statistics and the two-thirds power law are measured on the output lines, the same way
they would be measured on a digitiser's recording.
"""
import json
import re
from dataclasses import asdict

import numpy as np
import pytest

from model.alphabet import Alphabet
from model.base import DataError
from model.corpus import DOT_SIZE, WORDS_FILE, SynthConfig, _font, _line_text, _lists, _plan, synthesize, write
from model.data import load, stats

HANDS = ("scripts", "scriptc", "cursive", "futural", "timesr", "timesi")


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


def test_text_is_what_was_written(lines):
    listed = [w for w in WORDS_FILE.read_text().splitlines() if not w.startswith("#")]
    assert len(listed) > 2000
    vocabulary = {w.lower() for w in listed} | {w.lower() for kind in _lists().values() for w in kind}
    vocabulary |= {"st", "nd", "rd", "th", "s", "am", "pm", "see", "sons", "co", "km", "h"}
    for line in lines:
        assert Alphabet.default().unknown(line.text) == [], line.text
        # Every run of letters is a listed word or name, a possessive, or a number's suffix.
        for run in re.findall(r"[A-Za-z]+(?:['-][A-Za-z]+)*", line.text):
            run = run.lower()
            assert run in vocabulary or run.removesuffix("'s") in vocabulary or \
                all(part in vocabulary for part in run.split("-")), (run, line.text)
    # Longer texts take more points: the text is what was rendered.
    lengths = np.array([len(line.text) for line in lines])
    sizes = np.array([len(line.points) for line in lines])
    assert np.corrcoef(lengths, sizes)[0, 1] > 0.6


def character_shares(n_lines=2000, config=SynthConfig()):
    """For each character of the alphabet, the share of n_lines texts that hold it."""
    texts = [" ".join(_line_text(config, np.random.default_rng([0, index]))) for index in range(n_lines)]
    return {char: sum(char in text for text in texts) / n_lines for char in Alphabet.default().chars}


def test_every_character_of_the_alphabet_is_in_half_a_percent_of_lines():
    shares = character_shares()
    assert min(shares.values()) >= 0.005, {char: share for char, share in shares.items() if share < 0.005}
    # Lines are mostly prose: spaces and lower-case letters lead.
    assert shares[" "] > 0.95 and shares["e"] > 0.8
    # The test can tell: ordinary words alone leave out digits, capitals and most marks.
    words_only = character_shares(300, SynthConfig(phrases=(("word", 1.0),), capital_first_word=0.0))
    assert min(words_only.values()) < 0.005


def test_lines_reach_45_characters_and_a_chars_range_holds():
    texts = [" ".join(_line_text(SynthConfig(), np.random.default_rng([0, index]))) for index in range(300)]
    assert max(map(len, texts)) >= 45 and min(map(len, texts)) >= 6
    short = SynthConfig(chars_per_line=(3, 12))
    texts = [" ".join(_line_text(short, np.random.default_rng([0, index]))) for index in range(300)]
    assert 3 <= np.median(list(map(len, texts))) <= 14


@pytest.mark.parametrize("hand", HANDS)
def test_every_hand_has_ink_for_every_character(hand):
    glyphs = _font(hand).glyphs
    assert all(glyphs[char].segments for char in Alphabet.default().chars if char != " ")
    text = "Anna's \"x-ray\" at 9:15 (#3) & more!"
    line = write(text, hand)
    assert line.meta["writer"]["font"] == hand and line.text == text


def test_the_hands_differ_and_print_keeps_every_bar():
    # scripts and cursive share their letters; cursive's digits and marks are futural's.
    shapes = {hand: np.vstack([np.vstack(_font(hand).glyphs[char].segments) for char in "a7?"]) for hand in HANDS}
    assert all(len(shapes[a]) != len(shapes[b]) or not np.allclose(shapes[a], shapes[b])
               for a in HANDS for b in HANDS if a < b)
    # A bar that ends on the stems is drawn (a doubled stroke is not): H, A, F keep their bars.
    for hand in ("futural", "timesr", "timesi"):
        for char in "HAF":
            bars = [s for s in _font(hand).glyphs[char].segments
                    if np.ptp(s[:, 1]) < 1 and np.ptp(s[:, 0]) >= 5 and s[:, 1].max() > -12]
            assert bars, (hand, char)


def pieces(hand: str, word: str) -> list[tuple[str, np.ndarray, bool]]:
    """A word's pen pieces in writing order: (its letter, its points, goes on from the piece before)."""
    plan = _plan(hand, word)
    return [(word[plan.letter[plan.piece == index][0]], plan.points[plan.piece == index], bool(goes_on))
            for index, goes_on in enumerate(plan.continues)]


@pytest.mark.parametrize("hand", HANDS)
def test_dots_and_crosses_are_strokes_of_their_own_in_the_order_people_write(hand):
    written = pieces(hand, "limit")
    x_top = 9.0 - _font(hand).x_height
    dots = [position for position, (letter, points, _) in enumerate(written)
            if letter == "i" and np.ptp(points, axis=0).max() <= DOT_SIZE]
    crosses = [position for position, (letter, points, _) in enumerate(written)
               if letter == "t" and len(points) == 2 and abs(points[1, 1] - points[0, 1]) < 1]
    assert len(dots) == 2 and len(crosses) == 1
    assert all(written[position][1][:, 1].max() < x_top for position in dots), "a dot sits above the x-height"
    assert not any(written[position][2] for position in dots + crosses), "the pen lifts for each"
    letters = [letter for letter, _, _ in written]
    # Each dot or cross is the last piece of its letter, made before the next letter begins.
    assert all(letters[position - 1] == letters[position]
               and (position == len(written) - 1 or letters[position + 1] != letters[position])
               for position in dots + crosses)
    firsts = [position for position, letter in enumerate(letters) if position == 0 or letters[position - 1] != letter]
    assert [letters[position] for position in firsts] == list("limit")
    # Joined, the pen runs on into the next letter (l into i, m into i), but after a dot or a
    # cross it starts the letter afresh; in print every letter starts afresh.
    goes_on = [written[position][2] for position in firsts]
    assert goes_on == ([False, True, False, True, False] if hand in ("scripts", "scriptc", "cursive") else [False] * 5)


@pytest.mark.parametrize("hand", ["scripts", "cursive"])
def test_a_cursive_x_is_crossed_before_the_next_letter(hand):
    written = pieces(hand, "taxi")
    assert [letter for letter, _, _ in written] == list("tttaxxii")
    assert [letter for letter, _, goes_on in written if not goes_on] == list("ttaxii")


def test_config_is_json_and_bad_font_or_phrase_is_one_line_error():
    assert json.loads(json.dumps(asdict(SynthConfig())))["fonts"] == list(HANDS)
    with pytest.raises(DataError, match=r"^SynthConfig.fonts: 'nope' is not a Hershey font: use .*$"):
        synthesize(1, seed=0, config=SynthConfig(fonts=("nope",)))
    with pytest.raises(DataError, match=r"^SynthConfig.phrases: 'poem' is not a kind of phrase: use .*$"):
        synthesize(1, seed=0, config=SynthConfig(phrases=(("poem", 1.0),)))


def test_a_corpus_has_every_hand():
    assert {line.meta["writer"]["font"] for line in synthesize(40, seed=1)} == set(HANDS)


def test_hands_that_share_glyphs_differ_by_habit():
    """cursive and scripts have the same letters; their writers slant and widen them apart."""
    writers = [line.meta["writer"] for line in synthesize(120, seed=2)]
    habits = {hand: [(w["slant"], w["letter_width"]) for w in writers if w["font"] == hand]
              for hand in ("cursive", "scripts")}
    cursive, scripts = (np.array(habits[hand]) for hand in ("cursive", "scripts"))
    assert cursive[:, 0].min() > scripts[:, 0].max() and cursive[:, 1].max() < scripts[:, 1].min()
    config = SynthConfig()
    assert all(config.slant_degrees[0] <= w["slant"] <= config.slant_degrees[1] for w in writers)


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
