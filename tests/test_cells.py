"""The cell figures: generator/cell_analysis.py on planted data, and `cells` / `cells-sorted` in
headless Chromium on the tiny site (conftest.py), and the original weights' groups.

Planted data: cells made from a few known patterns (some shifted by a step, some negated) must
be flipped and sorted into contiguous runs, deterministically; cells made from a known pen
signal must correlate with that signal and be found as a group.
"""
import itertools
import json
import struct

import numpy as np
import pytest

from generator import cell_analysis
from generator.cell_analysis import CellAnalysisConfig
from generator.figures import cells as cells_figure

CONFIG = CellAnalysisConfig(perplexity=5.0, smooth_rows=3, min_group_rows=4, tsne_lines=3)


def looped_points(count: int, seed: int) -> np.ndarray:
    """A handwriting-like line in raw units: loops moving right, the pen lifting now and then,
    a word gap after some lifts."""
    rng = np.random.default_rng(seed)
    t = np.arange(count + 1) * 0.4
    xy = np.stack([6 * t + 12 * np.cos(t), 18 * np.sin(t)], axis=1)
    points = np.column_stack([np.diff(xy, axis=0), np.zeros(count)])
    lifts = rng.choice(np.arange(10, count - 10), size=count // 40, replace=False)
    points[lifts, 2] = 1
    points[lifts[::2] + 1, 0] += 120  # the move after some lifts jumps: a new word
    return np.rint(points)


def planted_cells(seed: int, lines: int = 3, length: int = 160):
    """Per line (length, 24) activations: 4 base patterns x 6 cells each (cells 6k..6k+5 follow
    pattern k; odd members are negated, members 2 and 3 lag one and two steps), plus noise."""
    rng = np.random.default_rng(seed)
    result = []
    for _ in range(lines):
        base = np.cumsum(rng.normal(size=(length + 2, 4)), axis=0)
        base = (base - base.mean(axis=0)) / base.std(axis=0) + 1.5  # mostly positive patterns
        columns = []
        for pattern in range(4):
            for member in range(6):
                lag = {2: 1, 3: 2}.get(member, 0)
                sign = -1 if member % 2 else 1
                columns.append(sign * base[2 - lag:2 - lag + length, pattern])
        result.append(np.stack(columns, axis=1) + 0.05 * rng.normal(size=(length, 24)))
    return result


def test_sign_flips_make_every_cell_mostly_positive():
    states = planted_cells(seed=1)
    signs = cell_analysis.sign_flips(states)
    assert signs.tolist() == [-1 if member % 2 else 1 for _ in range(4) for member in range(6)]
    assert all((np.concatenate(states) * signs).sum(axis=0) > 0)


def test_order_is_deterministic_and_groups_shifted_and_flipped_cells():
    states = planted_cells(seed=2)
    signs = cell_analysis.sign_flips(states)
    shown = [cells * signs for cells in states]
    order = cell_analysis.tsne_order(shown, CONFIG)
    assert sorted(order.tolist()) == list(range(24))
    assert np.array_equal(order, cell_analysis.tsne_order(shown, CONFIG))
    # every pattern's six cells (two of them lagging, three negated) occupy six adjacent rows
    rows_of_pattern = [sorted(np.flatnonzero(order // 6 == pattern)) for pattern in range(4)]
    assert all(rows[-1] - rows[0] == 5 for rows in rows_of_pattern), rows_of_pattern


def test_order_does_not_hinge_on_the_last_bits():
    """BLAS kernels (OpenBLAS's Haswell, SkylakeX ...) sum in different orders, so the same cells
    reach the t-SNE some ulps apart on different processors: the order must not notice."""
    rng = np.random.default_rng(0)
    for seed in range(4):
        states = planted_cells(seed=seed)
        signs = cell_analysis.sign_flips(states)
        shown = [cells * signs for cells in states]
        nudged = [cells * (1 + 1e-13 * rng.standard_normal(cells.shape)) for cells in shown]
        assert np.array_equal(cell_analysis.tsne_order(nudged, CONFIG), cell_analysis.tsne_order(shown, CONFIG))


def test_neighbourhood_features_barely_change_when_a_cell_lags_a_step():
    cells = planted_cells(seed=3, lines=1)[0]
    features = cell_analysis.neighbourhood_features(cells, window=5)
    lagging = np.linalg.norm(features[0] - features[2])  # member 2 lags member 0 by one step
    other = np.linalg.norm(features[0] - features[6])  # another pattern
    plain = np.linalg.norm(cells[1:-1, 0] - cells[1:-1, 2]) * np.sqrt(features.shape[1] / len(cells))
    assert lagging < other / 3
    assert lagging < plain


def test_point_signals_on_a_known_path():
    # a counter-clockwise circle (y up), one lift, then a jump far right starts a new word
    angles = np.linspace(0, 2 * np.pi, 41)
    circle = np.stack([10 * np.cos(angles), -10 * np.sin(angles)], axis=1)  # raw rows have y down
    points = np.column_stack([np.diff(circle, axis=0), np.zeros(40)])
    points[19, 2] = 1
    points[20, 0] += 200
    signals = cell_analysis.point_signals(points, CONFIG)
    assert signals["lift"][19] == 1 and signals["lift"].sum() == 1
    assert signals["air"][20] == 1 and signals["air"].sum() == 1
    assert np.isnan(signals["speed"][20]) and np.isnan(signals["dir_up"][20])
    assert np.nanmin(signals["curvature"]) > 0  # turning left all the way round
    assert signals["lift_soon"][15:20].all() and not signals["lift_soon"][:15].any()
    assert signals["word_position"][0] == 0 and signals["word_position"][19] == 1
    assert signals["word_position"][20] == 0  # the jump starts a new word
    assert signals["dir_up"][1] > 0.9  # the circle starts going up at angle 0


def test_correlations_recover_planted_signals_and_groups():
    rng = np.random.default_rng(4)
    lines = [looped_points(300, seed) for seed in range(3)]
    signals = [cell_analysis.point_signals(points, CONFIG) for points in lines]
    names = list(cell_analysis.SIGNALS)
    states = []
    for line_signals in signals:
        noise = rng.normal(size=(300, 30))
        cells = noise.copy()
        for cell in range(5):  # cells 0-4: pen lift soon, with noise of their own
            cells[:, cell] = line_signals["lift_soon"] * 2 + 0.5 * noise[:, cell]
        cells[:, 10] = -0.01 * line_signals["x"] + 0.3 * noise[:, 10]
        cells[:, 11] = 0.02 * line_signals["time"] + 0.3 * noise[:, 11]
        states.append(cells)
    r = cell_analysis.correlations(states, signals)
    assert r.shape == (len(names), 30)
    assert np.argmax(np.abs(r[names.index("lift_soon")])) in range(5)
    assert r[names.index("lift_soon"), :5].min() > 0.7
    assert r[names.index("x"), 10] < -0.95
    assert np.abs(r[:, 15:]).max() < 0.3  # pure noise correlates with nothing much

    # position and time go together, yet the partial correlations tell cell 10 from cell 11
    x_time, (x_given_time, time_given_x) = cell_analysis.position_or_time(r, signals)
    assert x_time > 0.9 and r[names.index("time"), 10] < -0.8
    assert x_given_time[10] < -0.5 and abs(time_given_x[10]) < 0.3
    assert time_given_x[11] > 0.5 and abs(x_given_time[11]) < 0.3

    order = np.r_[np.arange(5), np.arange(5, 30)]
    groups = cell_analysis.find_groups(r, order, CONFIG)
    lifts = [group for group in groups if group.family == "pen lifts"]
    assert lifts and lifts[0].first_row == 0 and lifts[0].last_row >= 3
    assert lifts[0].signal == "lift_soon" and lifts[0].mean_abs_r > 0.6


def test_analyse_end_to_end_flips_sorts_and_names_the_planted_cells():
    """analyse() alone, from raw cell states, on cells whose signs, groups and signals are known:
    six follow the pen's horizontal position and six a coming pen lift, half of each negated,
    scattered among noise. analyse must flip the negated ones itself, bring each six to adjacent
    rows, name the position run at those rows, and tell position from time."""
    position, lift = [2, 7, 13, 19, 24, 29], [0, 5, 10, 16, 21, 26]
    negated = set(position[1::2] + lift[::2] + list(range(1, 30, 4)))
    signs = np.array([-1 if cell in negated else 1 for cell in range(30)])
    rng = np.random.default_rng(5)
    lines = [looped_points(300, seed) for seed in range(3)]
    states = []
    for points in lines:
        signals = cell_analysis.point_signals(points, CONFIG)
        cells = 1 + rng.normal(size=(300, 30))
        cells[:, position] = 1 + signals["x"][:, None] / 100 + 0.1 * rng.normal(size=(300, 6))
        cells[:, lift] = 1 + 2 * signals["lift_soon"][:, None] + 0.3 * rng.normal(size=(300, 6))
        states.append(cells * signs)
    analysis = cell_analysis.analyse(states, lines, CONFIG)
    assert analysis.signs.tolist() == signs.tolist()
    names = list(cell_analysis.SIGNALS)
    assert analysis.r[names.index("x"), position].min() > 0.9  # on the flipped values
    assert analysis.r[names.index("lift_soon"), lift].min() > 0.7
    for planted in (position, lift):
        rows = np.flatnonzero(np.isin(analysis.order, planted))
        assert rows[-1] - rows[0] == 5, (planted, analysis.order.tolist())
    rows = np.flatnonzero(np.isin(analysis.order, position))
    named = [group for group in analysis.groups if group.family == "horizontal position"]
    assert len(named) == 1 and named[0].first_row <= rows[0] + 1 and named[0].last_row >= rows[-1] - 1, named
    assert named[0].strongest_cell in position and analysis.order[named[0].strongest_row] == named[0].strongest_cell
    shown = analysis.to_json()
    assert min(shown["partial_x_given_time"][cell] for cell in position) > 0.5
    assert max(abs(shown["partial_time_given_x"][cell]) for cell in position) < 0.3


def test_pack_line_layout():
    points = np.array([[3, -4, 0], [5, 6, 1], [-7, 8, 0]], np.float32)
    cells = np.array([[0.5, -1.0], [1.0, 0.25], [-0.5, 0.0]], np.float32)
    scale = np.abs(cells).max(axis=0)
    packed = cells_figure.pack_line(points, cells, scale)
    assert struct.unpack("<II", packed[:8]) == (3, 2)
    assert np.frombuffer(packed[8:26], "<i2").reshape(3, 3).tolist() == points.astype(int).tolist()
    steps = np.frombuffer(packed[26:], np.int8).reshape(2, 3)  # along each cell's row
    values = np.cumsum(steps, axis=1).T / cells_figure.LEVELS * scale
    np.testing.assert_allclose(values, cells, atol=scale.max() / (2 * cells_figure.LEVELS))


# --- in the page -----------------------------------------------------------------------------

def strokes_pixels(page, name):
    return page.eval_on_selector(f'[data-figure="{name}"] .cells-strokes', "canvas => canvas.toDataURL()")


def row_position(page, name, row):
    """Where row `row` is, relative to the heatmap (Playwright finds the heatmap at click time:
    figures above it may still change their height)."""
    box = page.locator(f'[data-figure="{name}"] .cells-heatmap').bounding_box()
    rows = int(page.eval_on_selector(f'[data-figure="{name}"] .cells-number', "input => input.max")) + 1
    return {"x": box["width"] / 2, "y": (row + 0.5) * box["height"] / rows}


@pytest.mark.parametrize("name", ["cells", "cells-sorted"])
def test_heatmap_choosing_a_row_recolours_the_strokes(tiny_site, serve, page, name):
    page.goto(serve(tiny_site))
    root = page.locator(f'[data-figure="{name}"]')
    root.scroll_into_view_if_needed()
    page.wait_for_selector(f'[data-figure="{name}"][data-state="ready"]', timeout=15000)
    first_line_points = page.eval_on_selector(
        f"#figure-data-{name}", "script => JSON.parse(script.textContent).lines[0].points")
    assert root.get_attribute("data-drawn-points") == str(first_line_points)

    before = strokes_pixels(page, name)
    row = int(root.get_attribute("data-row"))
    target = 0 if row > 0 else 1
    heatmap = root.locator(".cells-heatmap")
    heatmap.click(position=row_position(page, name, target))
    assert root.get_attribute("data-row") == str(target)
    chosen_cell = root.get_attribute("data-cell")
    assert strokes_pixels(page, name) != before
    # the chosen row is outlined across the whole heatmap, around that row
    outline, box = root.locator(".cells-row-outline").bounding_box(), heatmap.bounding_box()
    assert outline["x"] <= box["x"] and outline["x"] + outline["width"] >= box["x"] + box["width"]
    assert outline["y"] <= box["y"] + row_position(page, name, target)["y"] <= outline["y"] + outline["height"]

    # keyboard: the arrow key moves the choice one row down and recolours again
    coloured = strokes_pixels(page, name)
    heatmap.focus()
    page.keyboard.press("ArrowDown")
    assert root.get_attribute("data-row") == str(target + 1)
    assert strokes_pixels(page, name) != coloured

    # the number input chooses a cell (or, sorted, a row); the pointer leaving the heatmap
    # meanwhile (focusing the input may scroll it away) keeps the typed number; hovering reads a value
    root.locator(".cells-number").fill(str(target))
    heatmap.dispatch_event("mouseleave")
    root.locator(".cells-number").dispatch_event("change")
    assert root.get_attribute("data-row") == str(target) and root.get_attribute("data-cell") == chosen_cell
    heatmap.hover(position=row_position(page, name, target))
    assert "c = " in root.locator(".cells-readout").inner_text()

    # the key names its scale: the unsorted map opens on the shared one (in the model's order,
    # rows each on their own scale read as noise), the sorted on each row's; the other one
    # recolours the heatmap and says so in the key
    shared = json.loads(page.locator(f"#figure-data-{name}").text_content())["sharedRange"]
    first, other = ("shared", "row") if name == "cells" else ("row", "shared")
    for scale in (first, other):
        if scale == other:
            pixels = root.locator(".cells-heatmap").evaluate("canvas => canvas.toDataURL()")
            root.locator(f".cells-key input[value={scale}]").check()
            assert root.locator(".cells-heatmap").evaluate("canvas => canvas.toDataURL()") != pixels
        assert root.get_attribute("data-scale") == scale
        if scale == "shared":
            assert float(root.locator(".cells-key-high").inner_text()) == pytest.approx(shared, rel=0.01)
        else:
            assert root.locator(".cells-key-high").inner_text() == "+1"
            assert "own scale" in root.locator(".cells-key-meaning").inner_text()

    # another line keeps the chosen cell
    root.locator(".cells-line").select_option("1")
    page.wait_for_selector(f'[data-figure="{name}"][data-line="1"][data-state="ready"]')
    assert root.get_attribute("data-cell") == chosen_cell
    assert float(root.get_attribute("data-recolour-ms")) >= 0
    assert page.console_errors == []


def test_group_labels_never_overlap_and_stay_beside_the_heatmap(tiny_site, serve, page):
    """Crowded groups (three bands within a few rows, two at the foot): the labels are laid out
    apart, inside the heatmap's height, each joined to its band by a leader."""
    page.goto(serve(tiny_site))
    boxes = page.evaluate("""async () => {
        const {placeGroupLabels} = await import("./assets/js/figures/heatmap.js");
        const root = document.createElement("div");
        root.innerHTML = '<div class="cells-groups" style="position: relative; height: 300px; width: 11rem">'
          + [0.10, 0.11, 0.12, 0.5, 0.98, 0.99].map((centre) => `<button class="cells-group"
              style="position: absolute; left: 1rem; font-size: 12px" data-centre="${centre}">group</button>`).join("")
          + "</div>";
        document.body.append(root);
        placeGroupLabels(root, 300);
        const top = root.firstElementChild.getBoundingClientRect().top;
        return {labels: [...root.querySelectorAll(".cells-group")].map((label) => {
                  const box = label.getBoundingClientRect();
                  return [box.top - top, box.bottom - top];
                }),
                leaders: root.querySelectorAll(".cells-group-leaders polyline").length};
    }""")
    labels = sorted(boxes["labels"])
    assert all(bottom <= next_top + 0.5 for (_, bottom), (next_top, _) in itertools.pairwise(labels)), labels
    assert labels[0][0] >= -0.5 and labels[-1][1] <= 300.5, labels
    assert boxes["leaders"] == 6


def test_sorted_text_comes_from_the_measurements(tiny_site):
    html = (tiny_site / "index.html").read_text()
    assert "What the cells measurably do" in html
    assert "The single cells that follow each signal most closely" in html
    assert "the article says" not in html  # the tiny model is not the article's model


def test_a_table_button_brings_the_heatmap_into_view(tiny_site, serve, page):
    page.goto(serve(tiny_site))
    page.wait_for_selector('[data-figure="cells-sorted"][data-state="ready"]', timeout=15000)
    # the tiny model has no named groups, so no table of them: a row button far below stands in
    page.eval_on_selector('[data-figure="cells-sorted"] .cells-measured', """measured => measured.insertAdjacentHTML(
      'beforeend', '<div style="height: 3000px"></div><button type="button" data-choose-cell="3">row</button>')""")
    button = page.locator('[data-figure="cells-sorted"] .cells-measured button[data-choose-cell]').last
    button.scroll_into_view_if_needed()
    assert not in_view(page, '[data-figure="cells-sorted"] .cells-heatmap')
    button.click()
    page.wait_for_function("""() => {
      const box = document.querySelector('[data-figure="cells-sorted"] .cells-heatmap').getBoundingClientRect();
      return box.top >= 0 && box.top < innerHeight;
    }""", timeout=5000)
    assert page.get_attribute('[data-figure="cells-sorted"]', "data-cell") == button.get_attribute("data-choose-cell")


def in_view(page, selector):
    return page.eval_on_selector(
        selector, "el => { const b = el.getBoundingClientRect(); return b.bottom > 0 && b.top < innerHeight; }")


def figure_data(site, name):
    import re

    html = (site / "index.html").read_text()
    found = re.search(rf'<script type="application/json" id="figure-data-{name}">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_live_cells_share_the_sorted_order_and_start_on_a_telling_cell(tiny_site):
    """cells-live shows the cells in the sorted figure's order and starts on the cell that,
    of all the pen-direction and pen-lift signals, follows one most closely, named."""
    live, sorted_ = figure_data(tiny_site, "cells-live"), figure_data(tiny_site, "cells-sorted")
    assert live["order"] == sorted_["order"] and live["signs"] == sorted_["signs"]
    assert live["sharedRange"] == sorted_["sharedRange"] > 0
    telling = [best for best in sorted_["strongest"] if best["family"] in cells_figure.TELLING_FAMILIES]
    assert live["start"] == max(telling, key=lambda best: abs(best["r"]))
    assert live["cell"] == live["start"]["cell"] and live["start"]["label"]


def test_original_weights_have_named_groups_that_match_the_article(distill):
    """The original model's cells, over a few lines: the t-SNE order has at least three named
    groups, and most of the article's claims hold for its own published order."""
    import json

    from model.data import load
    from model.network import Runner
    from model.weights import load_model

    model, _, _ = load_model("distill")
    runner = Runner(model)
    lines = load("distill", limit=6)
    states, points = [], []
    for line in lines:
        inputs = np.concatenate([np.zeros((2, 3), np.float32), line.model_inputs()[:299]])
        states.append(runner.run(inputs).c[1:, 0])
        points.append(line.points[:300])
    analysis = cell_analysis.analyse(states, points, CellAnalysisConfig(tsne_lines=3, tsne_points=300))
    assert len(analysis.groups) >= 3
    assert len({group.family for group in analysis.groups}) >= 2
    article_order = np.asarray(json.loads((distill / "metadata.json").read_text())["sortOrder"])
    checks = cell_analysis.compare_with_article(analysis.r, article_order)
    assert sum(check["agrees"] for check in checks) >= 5, checks
