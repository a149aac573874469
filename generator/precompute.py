"""Shared precomputes: what several figures need from the model, computed once and cached.

Everything here runs the Keras model through model.network.Runner (the same weights the page
runs in TensorFlow.js) and goes through `ctx.cache.memo`, keyed by the model, the lines, the
seed and these functions' arguments, so a rebuild that changes only templates reads it all
back in seconds.

Conventions (../shared/distill/README.md):
- cell states as the original article shows them: from the zero state, feed [0, 0, 0] twice,
  then the points; the value shown for point t is c just before point t is fed.
"""
from __future__ import annotations

import numpy as np
from tqdm import tqdm

from generator.cache import fingerprint

# The original article's cell figures feed the start point twice before the line.
CELL_LEAD_IN = 2


def _line_key(line, limit) -> str:
    return fingerprint(line.points, list(line.start), limit)


def _cells_before_each_point(ctx, line, limit):
    points = line.model_inputs()[:limit]
    inputs = np.concatenate([np.zeros((CELL_LEAD_IN, 3), np.float32), points[:-1]])
    c = ctx.runner.run(inputs).c[CELL_LEAD_IN - 1:]  # c after the lead-in = before point 0
    return c.reshape(len(points), -1).astype(np.float32)


def cell_states(ctx, lines, limit: int | None = None) -> list[np.ndarray]:
    """Per line, (T, layers * cells) float32: row t is the cell state c just before point t is
    fed, as the original article shows it (layers side by side). `limit` keeps the first points."""
    return [ctx.cache.memo("cells", [_line_key(line, limit)],
                           lambda line=line: _cells_before_each_point(ctx, line, limit))
            for line in tqdm(lines, desc="cell states", unit="line", leave=False)]
