"""The live figures (writes, continue, cells-live) in the built tiny site, in headless Chromium.

Each must draw (data-drawn-points grows), the reader's pointer strokes must get a
continuation and a downloadable line that model.data loads back, the page must stay on its
own host without console errors, and it must work on a phone with touch and without
WebAssembly (the cpu backend).
"""
import json
import math
import re

import pytest

LIVE_FIGURES = ("continue", "writes", "cells-live")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}


def drawn(page, name):
    return int(page.get_attribute(f'[data-figure="{name}"]', "data-drawn-points"))


def wait_drawn(page, name, more_than=0, timeout=30_000):
    page.locator(f'[data-figure="{name}"]').scroll_into_view_if_needed()
    figure = f"""document.querySelector('[data-figure="{name}"]')"""
    page.wait_for_function(f"Number({figure}.dataset.drawnPoints) > {more_than}", timeout=timeout)
    return drawn(page, name)


def write_with_mouse(page, selector, strokes=2):
    """Loops written with the mouse, one stroke at a time, on the canvas at selector."""
    box = page.locator(selector).bounding_box()
    for stroke in range(strokes):
        x0, y0 = box["x"] + 30 + 70 * stroke, box["y"] + box["height"] / 2
        page.mouse.move(x0, y0)
        page.mouse.down()
        for step in range(1, 25):
            page.mouse.move(x0 + 2.2 * step, y0 + 18 * ((step % 6) / 3 - 1), steps=2)
        page.mouse.up()


def reader_ink_in(page, selector, left, top, right, bottom):
    """Dark (reader's, not the model's pink) pixels on the canvas at selector inside a box in CSS
    pixels from its left edge and its vertical middle. write_with_mouse's first stroke ends at
    (82.8, -18) and its second starts at (100, 0): between them only the move in the air."""
    return page.locator(selector).evaluate("""(canvas, [left, top, right, bottom]) => {
      const ratio = canvas.width / canvas.clientWidth, middle = canvas.clientHeight / 2;
      const [x, y] = [Math.round(left * ratio), Math.round((middle + top) * ratio)];
      const {data} = canvas.getContext("2d").getImageData(
        x, y, Math.round(right * ratio) - x, Math.round((middle + bottom) * ratio) - y);
      let dark = 0;
      for (let i = 0; i < data.length; i += 4) dark += data[i + 3] > 0 && data[i] < 120;
      return dark;
    }""", [left, top, right, bottom])


def reader_settled(page, name):
    """Waits until the figure shows the reader's writing (the demonstration is gone)."""
    page.wait_for_function(f"""document.querySelector('[data-figure="{name}"]').dataset.source === 'reader'""")


@pytest.fixture
def site_page(tiny_site, serve, page):
    page.goto(serve(tiny_site))
    return page


def test_every_live_figure_draws_and_keeps_drawing(site_page):
    for name in LIVE_FIGURES:
        wait_drawn(site_page, name)
    first = drawn(site_page, "writes")
    assert wait_drawn(site_page, "writes", more_than=first) > first
    assert site_page.console_errors == [] and site_page.foreign_requests == []


def test_reader_strokes_get_a_continuation_and_download(site_page, tmp_path):
    from model.data import load

    wait_drawn(site_page, "continue")
    write_with_mouse(site_page, ".continue-canvas")
    reader_settled(site_page, "continue")
    predicted = int(site_page.input_value(".continue-length"))
    site_page.wait_for_function(f"""() => {{
      const root = document.querySelector('[data-figure="continue"]');
      return root.dataset.source === 'reader' && Number(root.dataset.drawnPoints) > {predicted};
    }}""")
    # the pen's move in the air between the two strokes is drawn (dotted), as in the other figures
    assert reader_ink_in(site_page, ".continue-canvas", 86, -16, 97, -2) > 0
    first = save_download(site_page, ".continue-download", tmp_path)
    rows = json.loads(first.read_text())
    [line] = load(first)
    assert len(line.points) == len(rows) - 1 and len(rows) - 1 + 1 + predicted == drawn(site_page, "continue")
    assert line.points[:, 2].sum() == 2, "each mouse stroke ends with a pen lift"
    # A second line goes beside the first: a folder of them is what model.train reads.
    site_page.click(".continue-clear")
    write_with_mouse(site_page, ".continue-canvas", strokes=1)
    second = save_download(site_page, ".continue-download", tmp_path)
    assert (first.name, second.name) == ("my-handwriting-1.json", "my-handwriting-2.json")
    assert [int(line.points[:, 2].sum()) for line in load(tmp_path)] == [2, 1]
    assert site_page.console_errors == []


def save_download(page, button, folder):
    with page.expect_download() as download_info:
        page.click(button)
    path = folder / download_info.value.suggested_filename
    download_info.value.save_as(path)
    return path



def test_a_long_continuation_stops_at_the_box_edge(site_page):
    wait_drawn(site_page, "continue")
    write_with_mouse(site_page, ".continue-canvas")
    reader_settled(site_page, "continue")
    site_page.locator(".continue-length").fill("400")
    site_page.wait_for_function("""() => {
      const root = document.querySelector('[data-figure="continue"]');
      return root.dataset.source === 'reader' && Number(root.dataset.drawnPoints) > 400;
    }""")
    x, y = map(float, site_page.get_attribute('[data-figure="continue"]', "data-prediction-end").split())
    width, height = site_page.locator(".continue-canvas").evaluate("c => [c.clientWidth, c.clientHeight]")
    assert 0 <= x <= width and 0 <= y <= height
    assert site_page.console_errors == []


def test_pauses_restarts_and_saves_svg(site_page, tmp_path):
    wait_drawn(site_page, "writes")
    site_page.click(".writes-play")
    paused = drawn(site_page, "writes")
    site_page.wait_for_timeout(500)
    assert drawn(site_page, "writes") == paused
    site_page.click(".writes-restart")
    assert wait_drawn(site_page, "writes") > 0
    svg = save_download(site_page, ".writes-save", tmp_path).read_text()
    assert svg.startswith("<svg") and '<path d="M' in svg


def first_stroke(path):
    """The (x, y) points of an SVG path's first stroke: its first move and the lines after it."""
    moves = re.findall(r"([ML])(-?[\d.]+) (-?[\d.]+)", path)
    stroke = [moves[0]]
    for move in moves[1:]:
        if move[0] == "M":
            break
        stroke.append(move)
    return [(float(x), float(y)) for _, x, y in stroke]


def test_written_lines_sit_on_their_rows(site_page, tmp_path):
    """Each line is placed by its first stroke: left edge on the margin, lowest point on a row's
    baseline (three quarters down the row), however far from there the model's pen started."""
    row_height = json.loads(site_page.locator("#figure-data-writes").text_content())["rowHeight"]
    wait_drawn(site_page, "writes", more_than=400)
    site_page.click(".writes-play")
    svg = save_download(site_page, ".writes-save", tmp_path).read_text()
    lines = re.findall(r'<path d="([^"]*)"', svg)[:-1]  # the last line may be mid-stroke
    assert len(lines) >= 2
    for line in lines:
        xs, ys = zip(*first_stroke(line))
        assert min(xs) == pytest.approx(16, abs=0.11)
        rows_down = max(ys) / row_height - 0.75
        assert rows_down == pytest.approx(round(rows_down), abs=0.01)


# Every segment drawn on the writes canvas, checked as it is drawn: both ends, with half the
# line's width around them, inside the canvas (CSS pixels, as paintPoints's moveTo/lineTo take them).
CHECK_WRITES_INK = """(() => {
  const context = CanvasRenderingContext2D.prototype, {moveTo, lineTo} = context;
  window.writesInk = {segments: 0, outside: []};
  context.moveTo = function (x, y) { this.segmentStart = [x, y]; return moveTo.call(this, x, y); };
  context.lineTo = function (x, y) {
    if (this.canvas.classList.contains("writes-canvas")) {
      const half = this.lineWidth / 2 - 0.01, {clientWidth: width, clientHeight: height} = this.canvas;
      for (const [px, py] of [this.segmentStart, [x, y]]) {
        if (px < half || px > width - half || py < half || py > height - half) window.writesInk.outside.push([px, py]);
      }
      window.writesInk.segments++;
    }
    return lineTo.call(this, x, y);
  };
})();"""


def test_no_ink_is_cut_off_at_the_highest_variation(site_page):
    """At the slider's highest variation (where the tiny model's pen strays furthest), every
    segment the writes figure draws lies inside its canvas."""
    site_page.add_init_script(CHECK_WRITES_INK)
    site_page.reload()
    variation = site_page.locator(".writes-variation")
    variation.evaluate("input => { input.value = input.max; input.dispatchEvent(new Event('input')); }")
    site_page.click(".writes-restart")  # new writing, sampled from its start at that variation
    wait_drawn(site_page, "writes")
    site_page.wait_for_function("window.writesInk.segments > 300", timeout=60_000)
    assert site_page.evaluate("window.writesInk.outside") == []
    assert site_page.console_errors == []


def test_cells_follow_the_reader_and_a_chosen_cell(site_page):
    wait_drawn(site_page, "cells-live")
    write_with_mouse(site_page, ".cells-live-canvas", strokes=1)
    reader_settled(site_page, "cells-live")
    wait_drawn(site_page, "cells-live", more_than=10)
    first = json.loads(site_page.locator("#figure-data-cells-live").text_content())["order"][0]
    box = site_page.locator(".cells-live-grid").bounding_box()
    site_page.mouse.click(box["x"] + 5, box["y"] + 5)  # the grid's first square: the first sorted row
    site_page.wait_for_function(
        f"document.querySelector('.cells-live-readout').textContent.includes('row 0 (cell {first})')")
    assert site_page.console_errors == []


def test_live_heatmap_grows_a_column_per_point_and_air_moves_are_dotted(site_page):
    """Every point the reader writes adds one painted column to the live heatmap (the rest stay
    blank), the step marker names that step, and the pen's move in the air between two strokes
    is drawn dotted: some pixels along it inked, some not."""
    wait_drawn(site_page, "cells-live")
    write_with_mouse(site_page, ".cells-live-canvas", strokes=2)
    reader_settled(site_page, "cells-live")
    site_page.wait_for_function("""() => {
      const root = document.querySelector('[data-figure="cells-live"]');
      return Number(root.dataset.steps) > 0 && Number(root.dataset.steps) === Number(root.dataset.drawnPoints) - 1;
    }""")
    steps = int(site_page.get_attribute('[data-figure="cells-live"]', "data-steps"))
    painted = site_page.eval_on_selector(".cells-live-heatmap", """canvas => {
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, 1).data;
      let count = 0;
      for (let t = 0; t < canvas.width; t++) count += pixels[4 * t] !== 236 || pixels[4 * t + 1] !== 236;
      return count;
    }""")
    assert painted == steps
    assert f"step {steps}" in site_page.locator(".cells-live-now").inner_text()
    # the move in the air: from the first stroke's end to the second's start (write_with_mouse)
    box = site_page.locator(".cells-live-canvas").bounding_box()
    start, end = (30 + 2.2 * 24, box["height"] / 2 - 18), (30 + 70, box["height"] / 2)
    inked = site_page.eval_on_selector(".cells-live-canvas", """(canvas, [start, end]) => {
      const ratio = canvas.width / canvas.clientWidth;
      const context = canvas.getContext('2d');
      const alphas = [];
      for (let k = 5; k <= 35; k++) {
        const [x, y] = [start[0] + (end[0] - start[0]) * k / 40, start[1] + (end[1] - start[1]) * k / 40];
        alphas.push(context.getImageData(Math.round(x * ratio), Math.round(y * ratio), 1, 1).data[3] > 0);
      }
      return alphas;
    }""", [start, end])
    assert 0 < sum(inked) < len(inked), inked


def test_phone_with_touch(tiny_site, serve, browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(serve(tiny_site))
    wait_drawn(page, "continue")
    assert page.locator(".continue-canvas").bounding_box()["width"] <= 390
    # A finger stroke through the browser's touch input (Chrome DevTools Protocol).
    touch = context.new_cdp_session(page)
    box = page.locator(".continue-canvas").bounding_box()
    for i, kind in enumerate(["touchStart"] + ["touchMove"] * 30 + ["touchEnd"]):
        point = {"x": box["x"] + 20 + 6 * i, "y": box["y"] + 80 + 25 * math.sin(i / 2)}
        touch.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [] if kind == "touchEnd" else [point]})
    reader_settled(page, "continue")
    predicted = int(page.input_value(".continue-length"))
    page.wait_for_function(
        f"Number(document.querySelector('[data-figure=\"continue\"]').dataset.drawnPoints) > {predicted + 15}")
    touch_action = "getComputedStyle(document.querySelector('%s')).touchAction"
    assert page.evaluate(touch_action % ".continue-canvas") == "none"
    assert page.evaluate(touch_action % ".cells-live-grid") == "pan-y", "the cell grid must not trap scrolling"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []
    context.close()


def test_cpu_fallback_without_webassembly_draws(tiny_site, serve, page):
    page.add_init_script("delete window.WebAssembly")
    page.goto(serve(tiny_site))
    for name in LIVE_FIGURES:
        wait_drawn(page, name)
    backend = "async () => (await (await import('/assets/js/model-client.js')).getModel()).info.backend"
    assert page.evaluate(backend) == "cpu"
    assert page.console_errors == []
