"""Telling hands apart: a small classifier of writing style, the yardstick of priming.

Graves (2013, section 5.5) primes the synthesis network with a real line so that it writes a
new text "in the style of" that line. To measure whether the hand carries, this module learns
to tell the synthetic corpus's hands apart (model/corpus.py: each line's `meta["writer"]["font"]`)
from statistics of the strokes alone, and then labels what the writer wrote after a prime.

The statistics ignore what is written and how large: the slant of the down-strokes, how often
the pen lifts, how long strokes run and how sharply they turn, the spread of the pen's
directions and speeds, all measured in units of the line's own letter height. A scikit-learn
random forest reads them; it trains in seconds on a few thousand corpus lines, so it is
trained where it is used (seeded) rather than committed.

    classifier = train_hand_classifier(corpus_lines, seed=0)
    classifier.predict([line])   # ['timesi']
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.base import DataError, Line

DIRECTIONS = 8  # bins of the pen's direction, weighted by distance travelled
MIN_POINTS = 8


def letter_height(xy: np.ndarray, pen_down: np.ndarray) -> float:
    """A line's letter height (raw units): the spread of the middle 60% of its pen-down points'
    heights, which ascenders and descenders hardly move."""
    y = xy[pen_down, 1] if pen_down.any() else xy[:, 1]
    return float(max(np.percentile(y, 80) - np.percentile(y, 20), 1.0))


def stroke_features(line: Line) -> np.ndarray:
    """The statistics of one line's strokes (module docstring), as a flat float vector."""
    points = line.points
    if len(points) < MIN_POINTS:
        raise DataError(f"{line.source}: {len(points)} points are too few to tell a hand by")
    xy = np.cumsum(points[:, :2].astype(np.float64), axis=0)
    step = np.diff(xy, axis=0)
    # A step is drawn when the pen was down at the point it starts from.
    drawn = points[:-1, 2] < 0.5
    height = letter_height(xy, np.r_[drawn, False])
    step /= height
    length = np.hypot(*step.T)
    down = drawn & (length > 1e-6)
    strokes = max(int(points[:, 2].sum()), 1)
    width = max(float(np.ptp(xy[:, 0])) / height, 1e-6)

    # Slant: how far x moves per unit of y on the steps that move y most (the down- and
    # up-strokes); chosen by y alone, so a shear x += s y adds exactly s.
    rise = np.abs(step[:, 1])
    vertical = down & (rise >= np.percentile(rise[down], 70)) if down.any() else down
    slant = float(np.sum(step[vertical, 0] * step[vertical, 1]) / max(np.sum(step[vertical, 1] ** 2), 1e-9))

    angle = np.arctan2(step[down, 1], step[down, 0])
    directions = np.histogram(angle, DIRECTIONS, (-np.pi, np.pi), weights=length[down])[0]
    directions = directions / max(directions.sum(), 1e-9)
    turn = np.abs(np.angle(np.exp(1j * np.diff(angle)))) if len(angle) > 1 else np.zeros(1)
    speed = length[down] if down.any() else np.zeros(1)
    stroke_of_step = np.r_[0, np.cumsum(points[:-2, 2])].astype(int)
    stroke_lengths = np.bincount(stroke_of_step[down], weights=length[down]) if down.any() else np.zeros(1)
    stroke_lengths = stroke_lengths[stroke_lengths > 0] if (stroke_lengths > 0).any() else np.zeros(1)
    return np.array([
        slant,
        strokes / width,  # pen lifts per letter height of width
        len(points) / strokes,  # points per stroke
        np.median(stroke_lengths), np.percentile(stroke_lengths, 90),
        np.mean(turn), np.mean(turn > np.pi / 3), np.mean(turn > 2 * np.pi / 3),
        np.median(speed), np.std(speed) / max(np.mean(speed), 1e-9),
        float(np.ptp(xy[:, 1])) / height,
        length[down].sum() / width,  # ink per unit of width
        *directions,
    ], np.float64)


@dataclass
class HandClassifier:
    """A fitted forest and the hands it knows, in order."""

    forest: object
    hands: tuple[str, ...]

    def predict(self, lines: list[Line]) -> list[str | None]:
        """Each line's hand; None for one of fewer than MIN_POINTS points, too short to tell (a
        writer can stop at once)."""
        labels: list[str | None] = [None] * len(lines)
        readable = [index for index, line in enumerate(lines) if len(line.points) >= MIN_POINTS]
        if readable:
            features = np.stack([stroke_features(lines[index]) for index in readable])
            for index, found in zip(readable, self.forest.predict(features)):  # type: ignore[attr-defined]
                labels[index] = self.hands[found]
        return labels


def hand_label(line: Line) -> str | None:
    """The hand a line was written in: the synthetic corpus's font, else None."""
    writer = line.meta.get("writer")
    return writer.get("font") if isinstance(writer, dict) else None


def hand_of(line: Line) -> str:
    hand = hand_label(line)
    if hand is None:
        raise DataError(f"{line.source}: the line has no hand label (meta writer font); give synthetic corpus lines")
    return hand


def train_hand_classifier(lines: list[Line], seed: int = 0, trees: int = 200) -> HandClassifier:
    """A classifier of the lines' hands, trained on all of them."""
    from sklearn.ensemble import RandomForestClassifier

    hands = tuple(sorted({hand_of(line) for line in lines}))
    if len(hands) < 2:
        raise DataError(f"{len(hands)} hand among the lines: a classifier needs lines of at least two")
    labels = np.array([hands.index(hand_of(line)) for line in lines])
    forest = RandomForestClassifier(trees, random_state=seed, min_samples_leaf=2, n_jobs=1)
    forest.fit(np.stack([stroke_features(line) for line in lines]), labels)
    return HandClassifier(forest, hands)


def confusion(truth: list[str], predicted: list[str | None], hands: tuple[str, ...]) -> dict:
    """{"hands", "matrix" (rows: the true hand, columns: the label given), "accuracy", and
    "too_short": how many writings were too short to label (in no column; never right)}."""
    matrix = np.zeros((len(hands), len(hands)), int)
    for want, got in zip(truth, predicted):
        if got is not None:
            matrix[hands.index(want), hands.index(got)] += 1
    return {"hands": list(hands), "matrix": matrix.tolist(), "accuracy": float(np.trace(matrix) / max(len(truth), 1)),
            "too_short": sum(got is None for got in predicted)}
