"""Inside the model: a sign and an order for the LSTM's cells, and what each cell measurably does.

The Distill article (Carter, Ha, Johnson, Olah 2016, "Examining the internals of the model")
shows the cell state c of the 500 cells of the Graves (2013, section 4.2) handwriting LSTM as a
heatmap, reordered by a one-dimensional t-SNE so that cells that behave alike sit together, and
labels groups of rows by eye. This module does the same with numbers:

- `sign_flips`: a cell that is mostly negative is shown negated (the LSTM computes the same
  function with that cell's incoming and outgoing weights negated, so its sign is arbitrary).
- `tsne_order`: scikit-learn's 1-D t-SNE over neighbourhood-percentile features of the flipped
  activations (the original's trick: sorting the values inside a short sliding window, and a
  blurred copy of those tracks, so cells offset by a step or two still look alike).
- `point_signals` + `correlations`: every cell's Pearson correlation with interpretable signals
  of the pen path, pooled over several lines; `position_or_time` separates the two signals that
  always go together (horizontal position and elapsed time) by partial correlation.
- `find_groups`: contiguous runs of the sorted rows whose strongest signal family is the same.
- `compare_with_article`: the article's own claims, checked against these measurements.

Alignment: row k of a line's cell array is c just before point k is fed (it has read points
0..k-1), drawn on segment k. Signals describe point or segment k, so a cell correlating with
one of them either remembers the recent past or predicts the segment about to be drawn.
"""
from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np

# Display names of the signals (point_signals) and the family each belongs to; groups are found
# per family, because e.g. "pen lifts now" and "pen lifts soon" are the same behaviour seen twice.
SIGNALS = {
    "lift": ("the pen lifts after this point", "pen lifts"),
    "lift_soon": ("a pen lift within the next few points", "pen lifts"),
    "air": ("the pen moving in the air", "pen lifts"),
    "dir_right": ("writing rightward (cos of the direction)", "direction and curvature"),
    "dir_up": ("writing upward (sin of the direction)", "direction and curvature"),
    "curvature": ("curvature (turning left)", "direction and curvature"),
    "speed": ("speed (segment length)", "speed"),
    "x": ("horizontal position in the line", "horizontal position"),
    "time": ("time since the line started", "horizontal position"),
    "y": ("vertical position in the line", "vertical position"),
    "height": ("height above the local middle of the writing", "vertical position"),
    "word_position": ("position within a word", "position within a word"),
}

# The article's own reading of its sorted heatmap. Its numbers are rows of its sorted order
# (metadata.json sortOrder), inclusive ranges; used only to check our measurements against.
ARTICLE_CLAIMS = [
    ((11, 70), "direction and curvature", "cells 11-70 seem sensitive to directions and curvatures"),
    ((25, 25), "direction and curvature", "see in particular cell 25"),
    ((55, 55), "direction and curvature", "and cell 55"),
    ((427, 499), "pen lifts", "cells below 427 seem focused on pen lifts"),
    ((494, 494), "lift_soon", "cell 494 seems to predict whether the pen is about to be lifted"),
    ((133, 139), "horizontal position", "cell 136 and its neighbours: horizontal position"),
    ((233, 239), "vertical position", "cells around 236: vertical position"),
    ((242, 242), "word_position", "cell 242 appears to track position within a word"),
]


@dataclass(frozen=True)
class CellAnalysisConfig:
    """Settings of the cell analysis (saved beside its results)."""

    seed: int = 0
    perplexity: float = 50.0  # as the article's bin/sort: each cell weighs ~50 neighbours
    learning_rate: float = 10.0  # as the article's bin/sort (tsne.js epsilon), for its 500 cells
    early_exaggeration: float = 12.0  # scikit-learn's default
    window: int = 5  # points in the sliding window of the percentile features
    tsne_lines: int = 6  # the first lines give the signs and the order (the original used one)
    tsne_points: int = 370  # points per line the order is computed on (the original used 370)
    lookahead: int = 5  # "a pen lift within the next few points"
    curvature_points: int = 5  # turns averaged: one turn between two short segments is mostly noise
    baseline_points: int = 41  # running-median window for the local middle of the writing
    word_gap: float = 1.0  # a new word: a horizontal gap wider than this × median stroke height
    smooth_rows: int = 9  # rows averaged along the sorted order before labelling runs
    min_group_rows: int = 8  # shorter runs are not called groups
    min_group_r: float = 0.2  # a run's mean |r| for its family must reach this to be named


@dataclass
class Group:
    """A run of sorted rows first_row..last_row (inclusive) whose most distinctive family is
    `family` (see find_groups)."""

    first_row: int
    last_row: int
    family: str
    signal: str  # the family member with the largest mean |r| over the run
    mean_abs_r: float
    strongest_row: int
    strongest_cell: int  # raw cell index of strongest_row
    strongest_r: float

    def describe(self) -> str:
        return (f"rows {self.first_row}–{self.last_row}: {self.family} "
                f"({SIGNALS[self.signal][0]}), mean |r| {self.mean_abs_r:.2f}")


def sign_flips(cells_per_line: list[np.ndarray]) -> np.ndarray:
    """+1 or -1 per cell: -1 where the cell's values over all lines sum below zero."""
    total = sum(cells.sum(axis=0, dtype=np.float64) for cells in cells_per_line)
    return np.where(total < 0, -1, 1).astype(np.int8)


def neighbourhood_features(cells: np.ndarray, window: int) -> np.ndarray:
    """(cells, features): per cell, its values sorted inside each sliding window of `window`
    points (low to high percentile tracks), then the same tracks blurred along time.

    A cell that fires one or two steps later than another has nearly the same sorted windows,
    which is what lets the t-SNE put the two side by side.
    """
    windows = np.lib.stride_tricks.sliding_window_view(cells, window, axis=0)  # (T-w+1, N, w)
    tracks = np.sort(windows, axis=-1).transpose(1, 2, 0)  # (N, w, T-w+1)
    kernel = np.array([0.2, 0.4, 1.0, 0.4, 0.2])
    blurred = np.apply_along_axis(np.convolve, -1, tracks, kernel, mode="same")
    return np.concatenate([tracks, blurred], axis=1).reshape(len(tracks), -1)


def tsne_order(cells_per_line: list[np.ndarray], config: CellAnalysisConfig) -> np.ndarray:
    """A permutation of the cells (given sign-flipped): row k of the sorted heatmap shows raw
    cell order[k]."""
    from sklearn.manifold import TSNE  # slow to import; only builds that sort cells need it

    long_enough = [cells[:config.tsne_points] for cells in cells_per_line if len(cells) > config.window]
    if not long_enough:  # no line spans one window (two-point lines): no neighbourhoods to compare
        return np.arange(cells_per_line[0].shape[1])  # the cells as numbered
    features = np.concatenate([neighbourhood_features(cells, config.window) for cells in long_enough], axis=1)
    # Euclidean distances through the 500 x 500 Gram matrix: far cheaper than letting t-SNE
    # (or a PCA) touch the ~10^4-dimensional features again. (t-SNE squares them itself.)
    features = features.astype(np.float64)
    gram = features @ features.T
    norms = np.diag(gram)
    distances = np.sqrt(np.maximum(norms[:, None] + norms[None, :] - 2 * gram, 0.0))
    # Start from the first principal component (as init="pca" would), sign fixed so the largest
    # entry is positive: the same data always gives the same start.
    centred = gram - gram.mean(axis=0) - gram.mean(axis=1)[:, None] + gram.mean()
    _, vectors = np.linalg.eigh(centred)
    start = vectors[:, -1] * np.sign(vectors[np.abs(vectors[:, -1]).argmax(), -1])
    perplexity = min(config.perplexity, (len(features) - 1) / 3)  # small models have few cells
    # Each early step scales a cluster's spread by about 1 - rate x 4 x exaggeration / cells: at the
    # article's rate that is 0.04 for 500 cells but -19 for 24, an overshoot that grows last-bit
    # differences between BLAS kernels e-fold per step until clusters land elsewhere or split.
    # scikit-learn's own rule, cells / exaggeration / 4, never overshoots (10.4 at 500 cells).
    learning_rate = min(config.learning_rate, len(features) / config.early_exaggeration / 4)
    embedding = TSNE(n_components=1, perplexity=perplexity, metric="precomputed",
                     early_exaggeration=config.early_exaggeration,
                     init=(start / start.std() * 1e-4)[:, None], method="exact",
                     learning_rate=learning_rate, random_state=config.seed).fit_transform(distances)
    return np.argsort(embedding[:, 0], kind="stable")


def _strokes(pen_up: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) point ranges of the strokes: a stroke ends at a point with pen_up = 1."""
    stops = np.flatnonzero(pen_up > 0.5) + 1
    bounds = np.unique(np.r_[0, stops[stops < len(pen_up)], len(pen_up)])
    return list(itertools.pairwise(bounds))


def _word_position(xy: np.ndarray, strokes: list[tuple[int, int]], word_gap: float) -> np.ndarray:
    """0 at a word's first point to 1 at its last. Words are runs of strokes; a stroke starts a
    new word when it begins more than word_gap × (median stroke height) right of the word so far.
    """
    height = np.median([np.ptp(xy[start:stop, 1]) for start, stop in strokes]) or 1.0
    word_starts, right_edge = [], -np.inf
    for start, stop in strokes:
        if xy[start:stop, 0].min() - right_edge > word_gap * height:
            word_starts.append(start)
            right_edge = -np.inf
        right_edge = max(right_edge, xy[start:stop, 0].max())
    bounds = np.r_[word_starts, len(xy)]
    position = np.empty(len(xy))
    for start, stop in itertools.pairwise(bounds):
        position[start:stop] = np.linspace(0.0, 1.0, stop - start) if stop - start > 1 else 0.0
    return position


def point_signals(points: np.ndarray, config: CellAnalysisConfig) -> dict[str, np.ndarray]:
    """Interpretable signals of each point of a line: name -> (T,) floats, NaN where undefined.

    points: (T, 3) [dx, dy, pen_up] (any unit; correlations do not care). Positions and
    directions use y pointing up. Direction, curvature and speed are defined on drawn segments
    only (not on the pen's invisible moves between strokes).
    """
    points = np.asarray(points, np.float64)
    count = len(points)
    pen_up = points[:, 2] > 0.5
    xy = np.cumsum(points[:, :2] * [1.0, -1.0], axis=0)
    # segment k is a move in the air when the pen lifted after point k-1
    air = np.r_[False, pen_up[:-1]]
    drawn = ~air & (np.hypot(points[:, 0], points[:, 1]) > 0)
    angle = np.arctan2(-points[:, 1], points[:, 0])
    turn = np.angle(np.exp(1j * (angle[1:] - angle[:-1])))  # wrapped to (-pi, pi]
    turn = np.r_[np.nan, np.where(drawn[1:] & drawn[:-1], turn, np.nan)]
    half_turns = config.curvature_points // 2
    curvature = np.lib.stride_tricks.sliding_window_view(
        np.pad(turn, half_turns, constant_values=np.nan), 2 * half_turns + 1).mean(axis=1)

    lift_ahead = np.lib.stride_tricks.sliding_window_view(
        np.r_[pen_up, np.zeros(config.lookahead - 1, bool)], config.lookahead)
    half = config.baseline_points // 2
    padded_y = np.pad(xy[:, 1], half, mode="edge")
    local_middle = np.median(np.lib.stride_tricks.sliding_window_view(padded_y, 2 * half + 1), axis=1)

    def on_drawn(values):
        return np.where(drawn, values, np.nan)

    return {
        "lift": pen_up.astype(float),
        "lift_soon": lift_ahead.any(axis=1).astype(float),
        "air": air.astype(float),
        "dir_right": on_drawn(np.cos(angle)),
        "dir_up": on_drawn(np.sin(angle)),
        "curvature": curvature,
        "speed": on_drawn(np.hypot(points[:, 0], points[:, 1])),
        "x": xy[:, 0],
        "time": np.arange(count, dtype=float),
        "y": xy[:, 1],
        "height": xy[:, 1] - local_middle,
        "word_position": _word_position(xy, _strokes(points[:, 2]), config.word_gap),
    }


def correlations(cells_per_line: list[np.ndarray], signals_per_line: list[dict]) -> np.ndarray:
    """(signals, cells) Pearson r of every cell with every signal in SIGNALS order, pooled over
    the lines, each signal over the points where it is defined. A constant signal gives r = 0.
    """
    cells = np.concatenate(cells_per_line).astype(np.float64)
    result = np.zeros((len(SIGNALS), cells.shape[1]))
    for row, name in enumerate(SIGNALS):
        signal = np.concatenate([signals[name] for signals in signals_per_line])
        defined = ~np.isnan(signal)
        if not defined.any():  # no word or stroke to measure in lines this short: r = 0, as for a constant
            continue
        values, signal = cells[defined], signal[defined]
        values = values - values.mean(axis=0)
        signal = signal - signal.mean()
        scale = np.sqrt((values ** 2).sum(axis=0) * (signal ** 2).sum())
        result[row] = np.divide(signal @ values, scale, out=np.zeros(cells.shape[1]), where=scale > 0)
    return result


def position_or_time(r: np.ndarray, signals_per_line: list[dict]) -> tuple[float, np.ndarray]:
    """Horizontal position and time since the line began grow together, so a cell correlating
    with one correlates with the other. Partial correlations tell them apart: returns r(x, time)
    over the lines and (2, cells) [r with x given time, r with time given x]."""
    x, time = (np.concatenate([signals[name] for signals in signals_per_line]) for name in ("x", "time"))
    spread = x.std() * time.std()  # 0 for a pen that never moves, or a line of one point: r taken as 0
    x_time = float(np.mean((x - x.mean()) * (time - time.mean())) / spread) if spread > 0 else 0.0
    with_x, with_time = r[list(SIGNALS).index("x")], r[list(SIGNALS).index("time")]

    def partial(first, second):
        scale = np.sqrt(np.maximum((1 - second ** 2) * (1 - x_time ** 2), 1e-12))
        return (first - second * x_time) / scale

    return x_time, np.stack([partial(with_x, with_time), partial(with_time, with_x)])


def family_strength(r: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Families and (families, cells) max |r| over each family's signals."""
    families = list(dict.fromkeys(family for _, family in SIGNALS.values()))
    members = [[row for row, (_, family) in enumerate(SIGNALS.values()) if family == wanted]
               for wanted in families]
    return families, np.stack([np.abs(r[rows]).max(axis=0) for rows in members])


def distinctiveness(strength: np.ndarray) -> np.ndarray:
    """Family strength over that family's median over all cells: direction correlates a little
    with most cells, so raw |r| alone would call nearly every cell a direction cell."""
    median = np.median(strength, axis=1, keepdims=True)  # 0 when a family correlates with no cell at all
    return np.divide(strength, median, out=np.zeros_like(strength), where=median > 0)


def find_groups(r: np.ndarray, order: np.ndarray, config: CellAnalysisConfig) -> list[Group]:
    """Contiguous runs of sorted rows that share their most distinctive signal family.

    A row's label is its most distinctive family (`distinctiveness`, smoothed over smooth_rows
    rows of the order). A run is named when it is at least min_group_rows long and its mean |r|
    for the family reaches min_group_r.
    """
    families, strength = family_strength(r)
    relative = distinctiveness(strength)[:, order]
    kernel = np.ones(config.smooth_rows) / config.smooth_rows
    smooth = np.stack([np.convolve(np.pad(row, config.smooth_rows // 2, mode="edge"), kernel, "valid")
                       for row in relative])
    label = smooth.argmax(axis=0)
    names = list(SIGNALS)
    groups = []
    run_starts = np.flatnonzero(np.r_[True, label[1:] != label[:-1]])
    for start, stop in zip(run_starts, np.r_[run_starts[1:], len(label)]):
        family = families[label[start]]
        run_cells = order[start:stop]
        members = [row for row, name in enumerate(names) if SIGNALS[name][1] == family]
        member_means = np.abs(r[np.ix_(np.array(members, dtype=int), run_cells)]).mean(axis=1)
        if stop - start < config.min_group_rows or member_means.max() < config.min_group_r:
            continue
        signal = members[int(member_means.argmax())]
        strongest = start + int(np.abs(r[signal, run_cells]).argmax())
        groups.append(Group(
            first_row=int(start), last_row=int(stop - 1), family=family,
            signal=names[signal], mean_abs_r=round(float(member_means.max()), 3),
            strongest_row=strongest, strongest_cell=int(order[strongest]),
            strongest_r=round(float(r[signal, order[strongest]]), 3)))
    return groups


def compare_with_article(r: np.ndarray, article_order: np.ndarray) -> list[dict]:
    """Each of the article's claims, measured over the claimed rows of the article's own order:
    the mean |r| of the claimed behaviour, its percentile among all cells and the family that is
    most distinctive there. A claim `agrees` when that family is the claimed one or the claimed
    behaviour is in the top tenth of all cells."""
    families, strength = family_strength(r)
    relative = distinctiveness(strength)
    names = list(SIGNALS)
    results = []
    for (first, last), claimed, text in ARTICLE_CLAIMS:
        cells = np.asarray(article_order[first:last + 1])
        family = claimed if claimed in families else SIGNALS[claimed][1]
        per_cell = strength[families.index(claimed)] if claimed in families \
            else np.abs(r[names.index(claimed)])
        mean = float(per_cell[cells].mean())
        found = families[int(relative[:, cells].mean(axis=1).argmax())]
        results.append({
            "rows": [first, last], "claim": text, "claimed": claimed,
            "claimed_label": SIGNALS[claimed][0] if claimed in SIGNALS else claimed,
            "mean_abs_r": round(mean, 3),
            "percentile": round(float((per_cell < mean).mean() * 100), 1),
            "most_distinctive": found, "agrees": bool(found == family or mean >= np.percentile(per_cell, 90)),
        })
    return results


@dataclass
class CellAnalysis:
    """Everything the cell figures show about the cells, JSON-able via to_json()."""

    config: CellAnalysisConfig
    signs: np.ndarray  # (cells,) ±1
    order: np.ndarray  # (cells,) raw cell index of each sorted row
    r: np.ndarray  # (signals, cells) in SIGNALS order, on the flipped (shown) values
    groups: list[Group]
    x_time_r: float  # position_or_time
    partial: np.ndarray  # (2, cells): r with x given time, r with time given x

    def to_json(self) -> dict:
        return {
            "config": asdict(self.config),
            "signs": self.signs.tolist(),
            "order": self.order.tolist(),
            "signals": {name: {"label": label, "family": family} for name, (label, family) in SIGNALS.items()},
            "r": np.round(self.r, 3).tolist(),
            "x_time_r": round(self.x_time_r, 3),
            "partial_x_given_time": np.round(self.partial[0], 3).tolist(),
            "partial_time_given_x": np.round(self.partial[1], 3).tolist(),
            "groups": [asdict(group) | {"text": group.describe(), "label": SIGNALS[group.signal][0]}
                       for group in self.groups],
        }


def analyse(cells_per_line: list[np.ndarray], points_per_line: list[np.ndarray],
            config: CellAnalysisConfig = CellAnalysisConfig()) -> CellAnalysis:
    """Sign, order, correlations and groups of the cells over the given lines (signs and order
    from the first config.tsne_lines of them, correlations from all).

    cells_per_line[i]: (T_i, cells) c before each point of line i; points_per_line[i]: that
    line's (T_i, 3) points.
    """
    if len(cells_per_line) != len(points_per_line) or not cells_per_line:
        raise ValueError(f"cell analysis needs the same non-zero number of cell arrays and lines, "
                         f"got {len(cells_per_line)} and {len(points_per_line)}")
    signs = sign_flips(cells_per_line[:config.tsne_lines])
    shown = [cells * signs for cells in cells_per_line]
    order = tsne_order(shown[:config.tsne_lines], config)
    signals = [point_signals(points, config) for points in points_per_line]
    r = correlations(shown, signals)
    return CellAnalysis(config, signs, order, r, find_groups(r, order, config), *position_or_time(r, signals))
