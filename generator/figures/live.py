"""The live figures, where the model runs in the reader's browser: `continue` (the reader
writes, the model continues), `writes` (the model writes line after line) and `cells-live`
(all cell states react as the reader writes), after the Distill article by Carter, Ha,
Johnson and Olah (2016) on the model of Graves (2013, section 4.2).

The page does the sampling (templates/js/handwriting.js through model-client.js); the build
only gives each figure its settings, a short human line that writes itself until the reader
takes over, and, for `cells-live`, the cells' sorted order and colour scales and the cell it
starts on, one that the build measured as telling (generator/figures/cells.py, `live_view`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.figures import Figure, cells


@dataclass
class LiveConfig:
    # CSS pixels per model unit: the original's 18 for writing with the model, 10 for cells.
    continue_scale: float = 18.0
    cells_scale: float = 10.0
    writes_scale: float = 6.0  # a tall letter (about 10 units) then fits a row
    continue_height: int = 280  # CSS pixels
    cells_height: int = 200
    writes_rows: int = 5
    writes_row_height: int = 90
    predict: int = 80  # points the model adds to the reader's writing
    temperature: float = 0.65  # the article's default "variation"
    writes_temperature: float = 0.5  # neater, for writing on its own
    writes_chunk: int = 24  # points per request while writing
    demo_width: float = 16.0  # model units: the demonstration fits a phone's width at 18 px
    demo_points: int = 160


def demo_line(lines, config: LiveConfig) -> np.ndarray:
    """The first line's opening, in model units, cut after a pen lift once it is demo_width wide."""
    if not lines:
        return np.zeros((0, 3), np.float32)
    points = lines[0].model_inputs()[:config.demo_points]
    x = np.cumsum(points[:, 0])
    lifts = np.flatnonzero((points[:, 2] == 1) & (x - x.min() >= config.demo_width))
    return points[:lifts[0] + 1] if len(lifts) else points


def build(ctx) -> list[Figure]:
    config = LiveConfig()
    demo = demo_line(ctx.lines, config)
    measured = cells.live_view(ctx)
    settings = {"seed": ctx.seed, "temperature": config.temperature, "demo": demo.tolist()}
    return [
        Figure("continue", data={**settings, "scale": config.continue_scale, "height": config.continue_height,
                                 "predict": config.predict}),
        Figure("writes", data={"seed": ctx.seed, "temperature": config.writes_temperature, "scale": config.writes_scale,
                               "rows": config.writes_rows, "rowHeight": config.writes_row_height,
                               "chunk": config.writes_chunk}),
        Figure("cells-live", data={**settings, "scale": config.cells_scale, "height": config.cells_height,
                                   "cell": measured["start"]["cell"], **measured}),
    ]
