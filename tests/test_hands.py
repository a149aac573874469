"""The hand classifier (model/hands.py): what priming is measured by. Its statistics don't
depend on size, it tells the corpus's hands apart, and it refuses what it can't read."""
import numpy as np
import pytest

from model.base import DataError, Line
from model.corpus import SynthConfig, synthesize
from model.hands import confusion, hand_of, stroke_features, train_hand_classifier


@pytest.fixture(scope="module")
def two_hands():
    """Lines of an upright print hand and a slanted joined script, alternating."""
    print_hand = synthesize(120, 11, SynthConfig(fonts=("futural",), slant_degrees=(-5.0, 5.0)))
    script = synthesize(120, 12, SynthConfig(fonts=("scriptc",), slant_degrees=(15.0, 25.0)))
    return [line for pair in zip(print_hand, script) for line in pair]


def test_the_statistics_ignore_size_and_place(two_hands):
    line = two_hands[0]
    larger = Line(line.points * np.array([2.5, 2.5, 1.0], np.float32), start=(900.0, -40.0), text=line.text)
    np.testing.assert_allclose(stroke_features(larger), stroke_features(line), rtol=1e-4, atol=1e-6)


def test_slant_is_read_from_the_strokes(two_hands):
    line = two_hands[0]
    sheared = line.points.copy()
    sheared[:, 0] += 0.5 * sheared[:, 1]  # x moves half a unit right per unit down
    assert stroke_features(Line(sheared))[0] == pytest.approx(stroke_features(line)[0] + 0.5, abs=0.05)


def test_it_tells_held_out_lines_of_two_hands_apart(two_hands):
    classifier = train_hand_classifier(two_hands[:160], seed=0, trees=50)
    held_out = two_hands[160:]
    report = confusion([hand_of(line) for line in held_out], classifier.predict(held_out), classifier.hands)
    assert report["hands"] == ["futural", "scriptc"]
    assert report["accuracy"] >= 0.95, report


def test_a_writing_too_short_to_tell_counts_in_no_hand(two_hands):
    """A writer can stop at once; its few points are labelled None, and the confusion matrix
    counts them apart, never as right."""
    classifier = train_hand_classifier(two_hands[:160], seed=0, trees=50)
    stub = Line(np.zeros((4, 3), np.float32))
    lines = [two_hands[160], stub, two_hands[161]]
    predicted = classifier.predict(lines)
    assert predicted[1] is None and predicted[0::2] == classifier.predict(lines[0::2])
    truth = [hand_of(two_hands[160]), hand_of(two_hands[160]), hand_of(two_hands[161])]
    report = confusion(truth, predicted, classifier.hands)
    assert report["too_short"] == 1 and sum(map(sum, report["matrix"])) == 2
    assert report["accuracy"] == pytest.approx(sum(p == t for p, t in zip(predicted, truth)) / 3)


def test_lines_it_cannot_read_are_refused(two_hands):
    with pytest.raises(DataError, match="too few"):
        stroke_features(Line(np.zeros((3, 3), np.float32)))
    with pytest.raises(DataError, match="no hand label"):
        hand_of(Line(two_hands[0].points))
    with pytest.raises(DataError, match="at least two"):
        train_hand_classifier(two_hands[1::2])
