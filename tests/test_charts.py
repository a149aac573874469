"""The charts in the page: drawn at build time, then live (Vega in headless Chromium).

The model card's training curve (the tiny artefact's metrics.json has two epochs) is first
the SVG drawn at build time; scrolled near, it becomes a live vega.View, Vega's runtime
fetched once from site/assets/vendor/; hovering shows the nearest epoch's rule and a
tooltip with both NLLs, and clicking a legend entry fades the other series.
"""
import json

CHART = '[data-chart="model-card"]'


def test_chart_is_drawn_at_build_time_with_its_vega_spec(tiny_site):
    html = (tiny_site / "index.html").read_text()
    start = html.index('<div class="chart" data-chart="model-card">')
    chart = html[start:html.index("</div>", start)]
    assert "<svg" in chart and "validation" in chart  # the static first view
    spec = json.loads(chart.split('<script type="application/json">')[1].split("</script>")[0])
    assert {"hovered", "series"} <= {signal["name"] for signal in spec["signals"]}  # the compiled selections
    assert (tiny_site / "assets" / "vendor" / "vega.min.js").is_file()


def _opacities(page, mark_class):
    return page.eval_on_selector_all(f"{CHART} .{mark_class} path, {CHART} .{mark_class} line",
                                     "marks => marks.map(mark => mark.getAttribute('opacity') ?? '1')")


def test_chart_comes_alive_near_the_viewport_and_answers_the_pointer(tiny_site, serve, page):
    vega_fetches = []
    page.on("request", lambda request: request.url.endswith("/vega.min.js") and vega_fetches.append(request.url))
    page.set_viewport_size({"width": 1000, "height": 800})
    page.goto(serve(tiny_site))
    page.wait_for_load_state("networkidle")
    assert vega_fetches == [], "Vega loaded before any chart came near the viewport"
    assert page.locator(f"{CHART}[data-live]").count() == 0

    page.locator(CHART).scroll_into_view_if_needed()
    page.wait_for_selector(f'{CHART}[data-live="true"]', timeout=15_000)
    assert len(vega_fetches) == 1
    assert page.locator(f"{CHART} > script + div svg, {CHART} > div > svg").count() == 1  # static SVG replaced

    tooltip = page.locator(f"{CHART} .chart-tooltip")
    assert not tooltip.is_visible()
    box = page.locator(f"{CHART} svg").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5)
    tooltip.wait_for(state="visible", timeout=5_000)
    assert "train NLL" in tooltip.inner_text() and "validation NLL" in tooltip.inner_text()
    assert "0.7" in _opacities(page, "mark-rule")  # the hovered epoch's rule shows

    page.mouse.move(box["x"] + 2, box["y"] + box["height"] + 200)  # away: rule and tooltip go
    page.wait_for_function(f"!document.querySelector('{CHART} .chart-tooltip').offsetParent")

    assert "0.15" not in _opacities(page, "mark-line")
    page.locator(f"{CHART} .role-legend-symbol path, {CHART} .role-legend-label text").first.click()
    page.wait_for_function(f"[...document.querySelectorAll('{CHART} .mark-line path')]"
                           ".some(path => path.getAttribute('opacity') === '0.15')")
    assert page.console_errors == []
    assert page.foreign_requests == []


def test_every_chart_comes_alive_with_a_tooltip(tiny_site, serve, page):
    page.goto(serve(tiny_site))
    charts = page.locator("[data-chart]")
    names = [charts.nth(index).get_attribute("data-chart") for index in range(charts.count())]
    assert names == ["cells-sorted", "model-card"]  # the strongest cells' bars, the training curve
    for name in names:
        chart = f'[data-chart="{name}"]'
        page.locator(chart).scroll_into_view_if_needed()
        page.wait_for_selector(f'{chart}[data-live="true"]', timeout=15_000)
        page.locator(f"{chart} .mark-rect path, {chart} .mark-line path").first.hover(force=True)
        page.locator(f"{chart} .chart-tooltip").wait_for(state="visible", timeout=5_000)
    assert "signal:" in page.locator('[data-chart="cells-sorted"] .chart-tooltip').inner_text()
    assert page.console_errors == []
