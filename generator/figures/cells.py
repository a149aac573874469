"""Inside the model: the `cells` and `cells-sorted` heatmaps and the measured cell behaviours.

The Distill article (Carter, Ha, Johnson, Olah 2016) shows the cell state c of the handwriting
LSTM (Graves 2013, section 4.2) over a human line: one row per cell, one column per point, the
strokes above coloured by one chosen cell. `cells` shows the cells in their own order,
`cells-sorted` flipped and reordered by 1-D t-SNE and annotated with the groups the build
measures (generator/cell_analysis.py).

Shipping: per offered line one binary file site/data/cells/line-N.bin, fetched when the reader
picks the line (both figures read the same files), laid out little-endian as
    uint32 points T, uint32 cells N,
    int16 (T, 3) the line's [dx, dy, pen_up] in raw pen units,
    int8 (N, T) cell-major steps of q along each cell's row (q[0], q[1] - q[0], ...),
    value = q / LEVELS * scale[cell]; steps gzip to 11% less than q itself.
`scale` is each cell's largest |c| over the offered lines (so nothing is clipped); the colour
saturates at each cell's 99th percentile of |c| (`colour_range`), so quiet cells still show
their pattern, or, on the one shared scale a reader may choose, at the 99th percentile over
every cell (`shared_range`). LEVELS = 31 steps each side of zero are finer than a colour
scale can show and gzip to 58% of the size that 127 steps take (the largest download of the page).
"""
from __future__ import annotations

import json
import struct
from dataclasses import asdict, dataclass
from pathlib import Path

import altair as alt
import numpy as np

from generator import cell_analysis, precompute
from generator.cache import fingerprint
from generator.figures import Figure, line_label
from model.base import distill_dir

LEVELS = 31  # quantisation steps on each side of zero
# What the live figure may start on: behaviours a reader sees in the colours as they write.
TELLING_FAMILIES = ("direction and curvature", "pen lifts")


@dataclass
class CellsConfig:
    """Settings of the cell figures (saved as data/cells/config.json)."""

    lines: int = 8  # lines offered by the line picker: the first of the build's lines
    max_points: int = 600  # points shown per line (the original's figure assets keep 599)
    measure_lines: int = 24  # lines the correlations are measured on
    colour_percentile: float = 99.0


def pack_line(points: np.ndarray, cells: np.ndarray, scale: np.ndarray) -> bytes:
    """One line's binary file (layout in the module docstring)."""
    count, width = cells.shape
    offsets = np.clip(np.rint(points), -32768, 32767).astype("<i2")
    quantised = np.clip(np.rint(cells.T / scale[:, None] * LEVELS), -LEVELS, LEVELS).astype(np.int8)
    steps = np.diff(quantised, axis=1, prepend=np.int8(0))  # within +-2 LEVELS: int8
    return struct.pack("<II", count, width) + offsets.tobytes() + steps.tobytes()


def article_sort_order(cells: int) -> np.ndarray | None:
    """The original article's sorted order (metadata.json), when it fits this model."""
    path = distill_dir() / "metadata.json"
    if not path.is_file():
        return None
    order = np.asarray(json.loads(path.read_text())["sortOrder"])
    return order if len(order) == cells else None


def measure(ctx, config: CellsConfig, analysis_config: cell_analysis.CellAnalysisConfig):
    """The cell analysis over the build's first measure_lines lines (cached)."""
    lines = ctx.lines[:config.measure_lines]

    def compute():
        states = precompute.cell_states(ctx, lines, limit=config.max_points)
        return cell_analysis.analyse(states, [line.points[:config.max_points] for line in lines], analysis_config)

    # the build's key already covers the model and the lines; the analysis code is added here
    code = Path(cell_analysis.__file__).read_bytes()
    return ctx.cache.memo("cell-analysis", [config.measure_lines, config.max_points, asdict(analysis_config),
                                            fingerprint(code)], compute)


def strongest_cells(analysis: cell_analysis.CellAnalysis) -> list[dict]:
    """Per signal, the cell with the largest |r| and its row in the sorted order."""
    rows = np.argsort(analysis.order)
    result = []
    for index, (name, (label, family)) in enumerate(cell_analysis.SIGNALS.items()):
        cell = int(np.abs(analysis.r[index]).argmax())
        result.append({"signal": name, "label": label, "family": family, "cell": cell,
                       "row": int(rows[cell]), "r": round(float(analysis.r[index, cell]), 3)})
    return result


def telling_cell(analysis: cell_analysis.CellAnalysis) -> dict:
    """The cell the live figure colours the writing by at first: of the pen-direction and
    pen-lift signals, the one a single cell follows most closely (largest |r|), and that cell."""
    candidates = [best for best in strongest_cells(analysis) if best["family"] in TELLING_FAMILIES]
    return max(candidates, key=lambda best: abs(best["r"]))


def colour_ranges(states: list[np.ndarray], config: CellsConfig) -> tuple[np.ndarray, np.ndarray, float]:
    """Over the offered lines: each cell's largest |c| (the quantisation scale), each cell's
    colour_percentile of |c| (where its own colour saturates) and that percentile over every
    cell at once (where one shared scale saturates)."""
    every_value = np.abs(np.concatenate(states))
    scale = np.maximum(every_value.max(axis=0), 1e-6)
    colour_range = np.maximum(np.percentile(every_value, config.colour_percentile, axis=0), 1e-6)
    shared_range = max(float(np.percentile(every_value, config.colour_percentile)), 1e-6)
    return scale, colour_range, round(shared_range, 4)


def live_view(ctx, config: CellsConfig | None = None,
              analysis_config: cell_analysis.CellAnalysisConfig | None = None) -> dict:
    """What `cells-live` (generator/figures/live.py) shows of the measurements: the sorted
    order and signs, the colour ranges of the heatmaps and the telling cell it starts on."""
    config = config or CellsConfig()
    analysis = measure(ctx, config, analysis_config or cell_analysis.CellAnalysisConfig(seed=ctx.seed))
    states = precompute.cell_states(ctx, ctx.lines[:config.lines], limit=config.max_points)
    _, colour_range, shared_range = colour_ranges(states, config)
    return {"order": analysis.order, "signs": analysis.signs, "colourRange": np.round(colour_range, 4),
            "sharedRange": shared_range, "start": telling_cell(analysis)}


def strongest_chart(strongest: list[dict]) -> dict:
    """Vega-Lite bars (Altair): per signal, how closely its strongest cell follows it (|r|)."""
    hovered = alt.selection_point(name="hovered", on="pointerover", clear="pointerout", empty=False)
    bars = [{**best, "abs_r": abs(best["r"])} for best in strongest]
    return alt.Chart(alt.Data(values=bars)).mark_bar().encode(
        # labels at the body text's small size; long ones are cut (the tooltip names them whole)
        y=alt.Y("label:N", title=None, sort="-x", axis=alt.Axis(labelLimit=200, labelFontSize=12)),
        # the title ends where the axis does: centred, it ran past a phone's edge when the labels are long
        x=alt.X("abs_r:Q", title="|r| of the cell that follows it most closely", scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(titleAnchor="end", labelFontSize=11, titleFontSize=12)),
        # the key below the bars, one column, so that it fits a phone's width
        color=alt.Color("family:N", title="behaviour", legend=alt.Legend(
            orient="bottom", direction="vertical", labelFontSize=12, titleFontSize=12, labelLimit=180)),
        opacity=alt.when(hovered).then(alt.value(1)).otherwise(alt.value(0.7)),
        tooltip=[alt.Tooltip("label:N", title="signal"), alt.Tooltip("family:N", title="behaviour"),
                 alt.Tooltip("cell:Q"), alt.Tooltip("row:Q", title="sorted row"), alt.Tooltip("r:Q", format=".2f")],
    ).add_params(hovered).properties(  # the page refits the width to the column
        width=560, height=alt.Step(20), autosize=alt.AutoSizeParams(type="fit-x", contains="padding"),
    ).to_dict()


def position_cells(analysis: cell_analysis.CellAnalysis, count: int = 5) -> list[dict]:
    """The cells most correlated with horizontal position, with their partial correlations
    (position given time, time given position) and what that makes them."""
    names = list(cell_analysis.SIGNALS)
    with_x, with_time = analysis.r[names.index("x")], analysis.r[names.index("time")]
    rows = np.argsort(analysis.order)
    result = []
    for cell in np.argsort(-np.abs(with_x), kind="stable")[:count]:
        given_time, given_x = analysis.partial[:, cell]
        result.append({"cell": int(cell), "row": int(rows[cell]), "r_x": round(float(with_x[cell]), 3),
                       "r_time": round(float(with_time[cell]), 3), "x_given_time": round(float(given_time), 3),
                       "time_given_x": round(float(given_x), 3),
                       "follows": _position_or_time(given_time, given_x)})
    return result


def _position_or_time(x_given_time: float, time_given_x: float, margin: float = 0.05) -> str:
    if abs(abs(x_given_time) - abs(time_given_x)) < margin:
        return "both alike"
    return "position" if abs(x_given_time) > abs(time_given_x) else "time"


def build(ctx, config: CellsConfig | None = None,
          analysis_config: cell_analysis.CellAnalysisConfig | None = None) -> list[Figure]:
    config = config or CellsConfig()
    analysis_config = analysis_config or cell_analysis.CellAnalysisConfig(seed=ctx.seed)
    analysis = measure(ctx, config, analysis_config)
    offered = ctx.lines[:config.lines]
    states = precompute.cell_states(ctx, offered, limit=config.max_points)
    scale, colour_range, shared_range = colour_ranges(states, config)

    files = {"config.json": asdict(config), "analysis.json": analysis.to_json()}
    menu = []
    for index, (line, cells) in enumerate(zip(offered, states)):
        files[f"line-{index}.bin"] = pack_line(line.points[:config.max_points, :], cells, scale)
        menu.append({"name": line_label(line, index), "points": len(cells), "file": f"line-{index}.bin"})
    shared = {"lines": menu, "cells": int(scale.size), "levels": LEVELS, "scale": np.round(scale, 4),
              "colourRange": np.round(colour_range, 4), "sharedRange": shared_range}

    strongest = strongest_cells(analysis)
    overall = int(np.abs(analysis.r).max(axis=0).argmax())
    cells_data = {**shared, "defaultCell": overall}

    article_order = article_sort_order(scale.size) if ctx.about.get("name") == "distill" else None
    comparison = cell_analysis.compare_with_article(analysis.r, article_order) if article_order is not None else []
    best_group = max(analysis.groups, key=lambda group: group.mean_abs_r, default=None)
    sorted_data = {
        **shared, "order": analysis.order, "signs": analysis.signs,
        "defaultCell": best_group.strongest_cell if best_group else int(analysis.order[0]),
        "groups": analysis.to_json()["groups"], "strongest": strongest, "comparison": comparison,
        "positionOrTime": {"xTimeR": round(analysis.x_time_r, 3), "cells": position_cells(analysis)},
        "rowSignal": [_row_signal(analysis, cell) for cell in analysis.order],
        "signalLabels": {name: label for name, (label, _) in cell_analysis.SIGNALS.items()},
        "analysis": asdict(analysis.config),
        "measuredOn": {"lines": min(config.measure_lines, len(ctx.lines)),
                       "tsneLines": min(analysis.config.tsne_lines, len(ctx.lines))},
    }
    return [Figure("cells", data=cells_data, files=files),
            Figure("cells-sorted", data=sorted_data, spec=strongest_chart(strongest))]


def _row_signal(analysis: cell_analysis.CellAnalysis, cell: int) -> list:
    """[signal name, r] of a cell's strongest signal, for the sorted heatmap's hover text."""
    index = int(np.abs(analysis.r[:, cell]).argmax())
    return [list(cell_analysis.SIGNALS)[index], round(float(analysis.r[index, cell]), 2)]
