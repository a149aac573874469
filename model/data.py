"""Handwriting lines: one representation, every source that provides them, and a writer.

A line is a sequence of pen points, each stored as the offset (dx, dy) from the previous
point in raw pen units plus a pen-lift flag that is 1 on the last point of a stroke
(Graves 2013, section 4.2). Loaders return points exactly as stored; `clean` is the
separate, explicit clean-up step used before training.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Raw pen units per model unit: the model reads and writes offsets divided by this.
MODEL_UNIT = 40.0

REPO_ROOT = Path(__file__).resolve().parent.parent


def distill_dir() -> Path:
    """Where the original article's files live locally (weights, human lines, golden outputs).

    One setting for the whole project: the HANDWRITING_DISTILL environment variable, by
    default ../shared/distill beside the checkout.
    """
    return Path(os.environ.get("HANDWRITING_DISTILL", REPO_ROOT.parent / "shared" / "distill"))


class DataError(ValueError):
    """Bad input data. Its message is one line: where (file and position), what, what to do."""


@dataclass
class Line:
    """One line of handwriting.

    points: float32 array (T, 3) of [dx, dy, pen_up] in raw units; dx, dy is the offset
        from the previous point (for the first point, from `start`); y grows downward.
    start: absolute position (x, y) the first offset is taken from, in raw units.
    """

    points: np.ndarray
    start: tuple[float, float] = (0.0, 0.0)
    text: str = ""
    source: str = ""
    meta: dict = field(default_factory=dict)

    def model_inputs(self) -> np.ndarray:
        """The (T, 3) float32 sequence the model reads: offsets in model units, pen flag kept."""
        scaled = self.points.astype(np.float32).copy()
        scaled[:, :2] /= MODEL_UNIT
        return scaled

    def absolute(self) -> np.ndarray:
        """(T, 2) absolute pen positions in raw units."""
        return np.asarray(self.start, np.float64) + np.cumsum(self.points[:, :2], axis=0, dtype=np.float64)
