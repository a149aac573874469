"""The possibility-space figure: the colouring rule, the build's data, the figure in Chromium."""
import base64
import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
from tqdm import tqdm

from generator.cache import Cache
from generator.figures import BuildContext, possibilities
from model.base import Line

FIGURE_JS = Path(__file__).resolve().parent.parent / "templates" / "js" / "figures" / "possibilities.js"
BLUE, ORANGE = "hsl(205 ", "hsl(28 "
FIGURE = '[data-figure="possibilities"]'


def run_node(body: str):
    """Runs an ES module body that imports the figure's exports; returns what it prints as JSON."""
    script = f"import {{veerColour, ellipseAxes, unpack, pointMajor}} from {json.dumps(str(FIGURE_JS))};\n{body}"
    result = subprocess.run(["node", "--no-warnings", "--experimental-detect-module", "--input-type=module",
                             "-e", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_colouring_rule_on_constructed_paths():
    # A pen moving right along y = 0, and futures leaving point 1. On screen y grows downward,
    # so a future bending towards +y turns clockwise: to the pen's right, green.
    colours = run_node("""
    const path = [[0, 0], [1, 0], [2, 0], [3, 0], [4, 0]];
    const colour = (future, sign) => future.map(([x, y], k) => {
      const [px, py] = path[Math.min(1 + k + 1, path.length - 1)];
      return veerColour(px - path[1][0], py - path[1][1], x - path[1][0], sign * y);
    });
    const turning = [[2, 0.2], [2.8, 0.8], [3.3, 1.6]];
    // heading down the page, the pen's right is towards -x
    const down = (dx, dy) => veerColour(0, 1, dx, dy);
    console.log(JSON.stringify({
      right: colour(turning, 1), left: colour(turning, -1),
      downRight: down(-0.5, 1), downLeft: down(0.5, 1),
      slight: veerColour(1, 0, 1, 0.05), sharp: veerColour(1, 0, 0.1, 1), none: veerColour(0, 0, 1, 1),
    }));
    """)
    assert all(colour.startswith(BLUE) for colour in colours["right"])
    assert all(colour.startswith(ORANGE) for colour in colours["left"])
    assert colours["downRight"].startswith(BLUE) and colours["downLeft"].startswith(ORANGE)

    def saturation(colour):
        return int(colour.split()[1].rstrip("%"))

    assert saturation(colours["sharp"]) > saturation(colours["slight"])
    assert saturation(colours["right"][2]) > saturation(colours["right"][0])  # the turn grows
    assert not colours["none"].startswith((BLUE, ORANGE))


def test_mixture_ellipse_axes():
    axes = run_node("console.log(JSON.stringify("
                    "[ellipseAxes(2, 1, 0), ellipseAxes(1, 1, 0.6), ellipseAxes(1, 3, -0.3)]))")
    assert axes[0] == {"rx": 2, "ry": 1, "angle": 0}
    assert axes[1]["angle"] == pytest.approx(math.pi / 4)  # positive correlation: along y = x
    for (s1, s2, rho), got in zip([(2, 1, 0), (1, 1, 0.6), (1, 3, -0.3)], axes):
        # the product of the radii is the square root of the covariance's determinant
        assert got["rx"] * got["ry"] == pytest.approx(s1 * s2 * math.sqrt(1 - rho * rho))


def test_a_views_futures_file_reads_back_in_javascript_as_the_model_drew_them():
    """Sorted and stored step-major by the build, each future comes back whole in the figure's
    order (points, futures, steps, 2), its pen lifts beside it."""
    rng = np.random.default_rng(0)
    futures = rng.integers(-60, 60, (3, 5, 4, 2)) / possibilities.FUTURE_SCALE
    pen = rng.integers(0, 2, (3, 5, 4))
    pen[..., :3] = (futures[..., 0] > 0)[..., :3]  # a pen that can only follow its own future
    view = {"futures": possibilities.pack(futures, possibilities.FUTURE_SCALE, "int8"),
            "futurePen": possibilities.pack_bits(pen)}
    data = possibilities.futures_file(view, "futures-0.bin")
    read = run_node(f"""
    const stored = unpack({json.dumps(view["futures"])}, Uint8Array.from({json.dumps(list(data))}));
    console.log(JSON.stringify({{futures: Array.from(pointMajor(stored, {view["futures"]["shape"]})),
                                pen: Array.from(unpack({json.dumps(view["futurePen"])}))}}));
    """)
    scale = possibilities.FUTURE_SCALE
    got = np.rint(np.array(read["futures"]).reshape(3, 5, 4, 2) * scale) / scale  # float32 in the page
    got_pen = np.array(read["pen"][:pen.size]).reshape(pen.shape)
    for point in range(3):  # the same futures, reordered with their pens
        drawn = sorted(map(repr, zip(futures[point].tolist(), pen[point].tolist())))
        assert sorted(map(repr, zip(got[point].tolist(), got_pen[point].tolist()))) == drawn
        assert (np.diff(got[point, :, 0, 0]) >= 0).all()
    np.testing.assert_array_equal(got_pen[..., :3], got[..., :3, 0] > 0)


def test_packed_arrays_read_back_in_javascript():
    values = np.array([[0.5, -1.25], [3.2, np.nan], [-7.0, 400.0]])
    flags = np.array([1, 0, 0, 1, 1, 0, 0, 0, 1, 1])
    packed = {"int16": possibilities.pack(values, 100), "int8": possibilities.pack(values, 20, "int8"),
              "bits": possibilities.pack_bits(flags)}
    read = run_node(f"""
    const packed = {json.dumps(packed)};
    const out = {{}};
    for (const [name, value] of Object.entries(packed)) {{
      out[name] = Array.from(unpack(value), (v) => Number.isNaN(v) ? "NaN" : v);
    }}
    console.log(JSON.stringify(out));
    """)
    assert read["int16"] == pytest.approx([0.5, -1.25, 3.2, "NaN", -7.0, 327.67])  # clipped at int16
    assert read["int8"] == pytest.approx([0.5, -1.25, 3.2, "NaN", -6.35, 6.35])  # clipped, not NaN
    assert read["bits"][:len(flags)] == flags.tolist()


@pytest.fixture(scope="module")
def tiny_build():
    """The figure built with a tiny untrained model and two short looped lines."""
    import tf_keras as keras

    from model import network

    keras.utils.set_random_seed(0)
    config = network.ModelConfig(layers=1, cells=16, mixtures=3)
    t = np.arange(61) * 0.4
    xy = np.stack([10 * t + 12 * np.cos(t), 18 * np.sin(t)], axis=1).round()
    points = np.column_stack([np.diff(xy, axis=0), np.arange(60) % 25 == 24]).astype(np.float32)
    lines = [Line(points, text="loops"), Line(points[:45])]
    model = network.build_model(config)
    head = model.get_layer("mixture")
    kernel, bias = head.get_weights()
    kernel[:, 1 + config.mixtures:1 + 3 * config.mixtures] *= 30  # means that differ visibly by state
    head.set_weights([kernel, bias])
    ctx = BuildContext(model, config, {}, lines, 3, Cache(None, "tests"))
    settings = possibilities.PossibilitiesConfig(sample_points=30, straight_points=100, points_per_batch=16)
    return ctx, settings, possibilities.build(ctx, settings)


def test_build_offers_samples_a_straight_line_and_human_lines(tiny_build):
    _ctx, settings, figures = tiny_build
    [figure] = figures
    assert figure.name == "possibilities"
    kinds = [line["kind"] for line in figure.data["lines"]]
    assert kinds == ["sample"] * 5 + ["straight"] + ["human"] * 2
    assert [line["points"] for line in figure.data["lines"]] == [30] * 5 + [100, 60, 45]
    first_futures = figure.data["first"]["futures"]
    assert first_futures["shape"] == [settings.steps, 2, 30, 50] and "data" not in first_futures
    # Each view's futures are raw int8 in a file of their own, step-major, each point's sorted by
    # their first step: what gzip compresses best.
    futures = possibilities.unpack(first_futures, figure.files[first_futures["file"]]).transpose(2, 3, 0, 1)
    assert futures.shape == (30, 50, settings.steps, 2) and np.abs(futures).max() > 0.1
    first_steps = futures[:, :, 0, 0]
    assert (np.diff(first_steps, axis=1) >= 0).all() and np.ptp(first_steps, axis=1).min() > 0
    straight = figure.files["line-5.json"]
    assert straight["points"]["shape"] == [100, 2] and straight["futures"]["file"] == "futures-5.bin"
    assert len(figure.files["futures-5.bin"]) == 100 * 50 * settings.steps * 2
    assert set(figure.files) == {"config.json", *(f"line-{k}.json" for k in range(1, 8)),
                                 *(f"mixture-{k}.json" for k in range(8)), *(f"futures-{k}.bin" for k in range(8))}
    assert figure.files["config.json"]["futures"] == 50
    # Before any hover the view carries the pen-lift chances and the middle point's mixture.
    first, mixture = figure.data["first"], figure.files["mixture-0.json"]
    assert first["eos"] == mixture["eos"] and first["middle"]["index"] == 15
    for name, packed in mixture.items():
        middle = possibilities.unpack(first["middle"]["mixture"][name])
        assert middle.tolist() == possibilities.unpack(packed)[15:16].tolist()
    json.dumps([figure.data, {name: value for name, value in figure.files.items() if name.endswith(".json")}],
               allow_nan=False)  # inlined and written as strict JSON


def test_futures_start_from_the_state_after_each_point(tiny_build):
    """At a very low temperature every future's first step lands on a component mean of the
    mixture stored for its point (the state after feeding that point), not a neighbour's."""
    ctx, _settings, _ = tiny_build
    from model.network import Runner

    cold = possibilities.PossibilitiesConfig(temperature=0.01, steps=2, points_per_batch=16)
    points = ctx.lines[0].model_inputs()
    computed = possibilities.compute_view(Runner(ctx.model), points, cold, seed=1, progress=tqdm(disable=True))

    def read(packed):
        raw = np.frombuffer(base64.b64decode(packed["data"]), packed["dtype"])
        return raw.reshape(packed["shape"]) / packed["scale"]

    first_steps = read(computed["view"]["futures"])[:, :, 0, :]  # (T, 50, 2)
    means = np.stack([read(computed["mixture"]["mu1"]), read(computed["mixture"]["mu2"])], axis=-1)  # (T, M, 2)
    assert np.ptp(means, axis=0).min() > 0.5  # the states differ from point to point

    def on_a_mean(shift):
        steps = first_steps[max(shift, 0):len(points) + min(shift, 0)]
        centres = means[max(-shift, 0):len(points) - max(shift, 0)]
        error = np.abs(steps[:, :, None, :] - centres[:, None, :, :]).max(axis=-1).min(axis=-1)
        return np.mean(error < 0.15)

    assert on_a_mean(0) > 0.95
    assert on_a_mean(1) < 0.5 and on_a_mean(-1) < 0.5


# --- in the page (the tiny site of tests/conftest.py) ---------------------------------------


def open_figure(page, serve, tiny_site):
    page.goto(serve(tiny_site))
    figure = page.locator(FIGURE)
    figure.scroll_into_view_if_needed()
    page.wait_for_selector(f'{FIGURE}[data-state="done"]', timeout=15000)
    return figure


def show(page, line=None, steps=None, variation=None, timeout=60000):
    """Sets the controls given, then waits until the figure has drawn exactly that setting."""
    figure = page.locator(FIGURE)
    if line is not None:
        figure.locator(".poss-line-select").select_option(str(line))
    for selector, value in ((".poss-steps", steps), (".poss-variation", variation)):
        if value is not None:
            figure.locator(selector).fill(str(value))
    shown = "/".join(figure.locator(selector).input_value()
                     for selector in (".poss-line-select", ".poss-steps", ".poss-variation"))
    page.wait_for_selector(f'{FIGURE}[data-state="done"][data-shown="{shown}"]', timeout=timeout)


def drawn(figure):
    points = int(figure.get_attribute("data-drawn-points"))
    return points, int(figure.get_attribute("data-drawn-futures")), figure.locator(".poss-futures").evaluate(
        "canvas => canvas.toDataURL()")


def line_lengths(page):
    data = json.loads(page.locator("#figure-data-possibilities").text_content())
    return [line["points"] for line in data["lines"]]


def test_default_view_draws_fifty_futures_per_point(tiny_site, serve, page):
    figure = open_figure(page, serve, tiny_site)
    lengths = line_lengths(page)
    points, futures, _ = drawn(figure)
    assert points == lengths[0] and futures == 50 * points
    assert figure.locator(".poss-status").text_content() == "sampled ahead of time"
    assert page.console_errors == [] and page.foreign_requests == []


def test_changing_each_control_redraws(tiny_site, serve, page):
    figure = open_figure(page, serve, tiny_site)
    lengths = line_lengths(page)
    _, _, before = drawn(figure)

    show(page, variation=1.1)  # computed in the page by the model
    points, futures, hotter = drawn(figure)
    assert (points, futures) == (lengths[0], 50 * lengths[0]) and hotter != before
    assert "sampled in your browser" in figure.locator(".poss-status").text_content()

    show(page, steps=7)
    points, futures, longer = drawn(figure)
    assert (points, futures) == (lengths[0], 50 * lengths[0]) and longer != hotter

    human = len(lengths) - 1
    show(page, line=human)
    points, futures, _ = drawn(figure)
    assert (points, futures) == (lengths[human], 50 * lengths[human])
    assert page.console_errors == [] and page.foreign_requests == []


def test_a_new_setting_cancels_the_one_in_flight(tiny_site, serve, page):
    figure = open_figure(page, serve, tiny_site)
    lengths = line_lengths(page)
    straight = [line["kind"] for line in json.loads(
        page.locator("#figure-data-possibilities").text_content())["lines"]].index("straight")
    # The moment the 10-step run starts computing, pick another line: a tiny model can finish
    # a run before a test polling from outside the page would see it in flight.
    page.evaluate("""([figureSelector, line]) => {
      const figure = document.querySelector(figureSelector);
      new MutationObserver((changes, observer) => {
        if (figure.dataset.state !== "computing") return;
        observer.disconnect();
        figure.dataset.cancelledInFlight = "yes";
        const select = figure.querySelector(".poss-line-select");
        select.value = String(line);
        select.dispatchEvent(new Event("change"));
      }).observe(figure, {attributes: true, attributeFilter: ["data-state"]});
    }""", [FIGURE, straight])
    figure.locator(".poss-steps").fill("10")
    page.wait_for_selector(f'{FIGURE}[data-cancelled-in-flight="yes"]', timeout=10000)
    show(page, line=straight)  # still at 10 steps
    page.wait_for_timeout(300)  # a late point of the cancelled run would show up here
    points, futures, _ = drawn(figure)
    assert (points, futures) == (lengths[straight], 50 * lengths[straight])
    assert page.console_errors == []


@pytest.mark.parametrize("gesture", ["hover", "tap"])
def test_pointing_at_a_point_shows_its_mixture(tiny_site, serve, page, gesture):
    figure = open_figure(page, serve, tiny_site)
    kinds = [line["kind"] for line in json.loads(page.locator("#figure-data-possibilities").text_content())["lines"]]
    straight = kinds.index("straight")
    show(page, line=straight)
    # Before any pointing, the inset already shows the prediction at the line's middle point.
    page.wait_for_function("document.querySelector('.poss-readout').textContent.startsWith('Point ')")
    before = figure.locator(".poss-readout").text_content()
    blank = figure.locator(".poss-mixture").evaluate("canvas => canvas.toDataURL()")
    canvas = figure.locator(".poss-futures")
    box = canvas.bounding_box()
    middle = {"x": box["width"] / 4, "y": box["height"] / 2}  # on the straight line, a quarter along
    if gesture == "hover":
        canvas.hover(position=middle)
    else:  # a touch screen: no hover, only the touch's pointerdown
        canvas.dispatch_event("pointerdown", {"clientX": box["x"] + middle["x"], "clientY": box["y"] + middle["y"],
                                              "pointerType": "touch"})
    page.wait_for_function("(before) => document.querySelector('.poss-readout').textContent !== before", arg=before)
    assert "pen lifts next" in figure.locator(".poss-readout").text_content()
    assert figure.locator(".poss-mixture").evaluate("canvas => canvas.toDataURL()") != blank
    assert page.console_errors == []


def test_no_hair_is_cut_off_at_ten_steps_and_full_variation(tiny_site, serve, page):
    figure = open_figure(page, serve, tiny_site)
    show(page, steps=10, variation=1.0)
    left, right, top, bottom = map(float, figure.get_attribute("data-hairs-box").split())
    size = figure.locator(".poss-futures").evaluate("canvas => [canvas.clientWidth, canvas.clientHeight]")
    assert 0 <= left < right <= size[0] and 0 <= top < bottom <= size[1]
    assert page.console_errors == []


def test_a_phone_keeps_the_scale_and_cuts_nothing_off(tiny_site, serve, browser):
    """At 390 px a long line is drawn at the scale it has at 1280 px (it scrolls sideways instead
    of shrinking), and every key, legend and control lies within the screen, none cut off."""
    scales = {}
    for width in (1280, 390):
        page = browser.new_page(viewport={"width": width, "height": 800})
        page.goto(serve(tiny_site))
        figure = page.locator(FIGURE)
        figure.scroll_into_view_if_needed()
        page.wait_for_selector(f'{FIGURE}[data-state="done"]', timeout=15000)
        menu = json.loads(page.locator("#figure-data-possibilities").text_content())["lines"]
        show(page, line=[line["kind"] for line in menu].index("straight"))  # 50 model units long
        scales[width] = figure.locator(".poss-futures").evaluate("canvas => canvas.clientHeight")
        outside = figure.evaluate("""(root) => [...root.querySelectorAll(
            '.poss-controls > *, .poss-keys > span, .poss-strip-legend > span, .poss-inset, figcaption, .poss-scroll')]
            .filter((element) => { const box = element.getBoundingClientRect();
                                   return box.left < 0 || box.right > innerWidth + 0.5; })
            .map((element) => element.className || element.tagName)""")
        assert outside == [], (width, outside)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if width == 390:  # the drawing is wider than the screen: it scrolls, the strip with it
            scroller = figure.locator(".poss-scroll")
            assert scroller.evaluate("element => element.scrollWidth > element.clientWidth")
            assert figure.locator(".poss-strip").evaluate("strip => strip.clientWidth") == \
                figure.locator(".poss-futures").evaluate("canvas => canvas.clientWidth")
        numbers = figure.locator(".poss-strip-legend").inner_text()
        assert numbers.count("bits") == 2 and sum(char.isdigit() for char in numbers) >= 4
        page.close()
    assert scales[390] == scales[1280]


def test_the_fork_is_found_with_each_bundle_counted_and_aimed():
    """Futures that split 40 rightward, 10 downward at one point of the second line: that point,
    that line, each bundle's count and mean end, as the figure draws them."""
    rng = np.random.default_rng(0)
    views, lines = [], []
    for index in range(2):
        futures = rng.normal(0, 0.3, (30, 50, 4, 2)) / 4  # a fan with no two bundles
        if index == 1:
            futures[12] = rng.normal(0, 0.02, (50, 4, 2))
            futures[12, :40] += [0.5, 0.0]
            futures[12, 40:] += [0.0, 0.5]
        views.append({"futures": possibilities.pack(futures, possibilities.FUTURE_SCALE, "int8"),
                      "futurePen": possibilities.pack_bits(np.zeros((30, 50, 4))),
                      "pen": possibilities.pack_bits(np.zeros(30))})
        lines.append({"name": f"line {index}", "kind": "sample"})
    fork = possibilities.observations(lines, views)["fork"]
    assert (fork["line"], fork["lineIndex"], fork["point"]) == ("line 1", 1, 13)
    assert [bundle["count"] for bundle in fork["bundles"]] == fork["sizes"] == [40, 10]
    assert np.allclose([bundle["end"] for bundle in fork["bundles"]], [[2, 0], [0, 2]], atol=0.1)


def show_a_fork(route, fork):
    """Serves the page as if the build had measured `fork` (the tiny model's futures never split)."""
    html = route.fetch().text()
    start = html.index(">", html.index('id="figure-data-possibilities"')) + 1
    end = html.index("</script>", start)
    data = json.loads(html[start:end])
    data["observed"]["fork"] = fork
    button = '<button type="button" class="poss-fork-button">Show the fork</button>'
    html = html[:start] + json.dumps(data) + html[end:]
    route.fulfill(body=html.replace('<span class="poss-status"', button + '<span class="poss-status"', 1),
                  content_type="text/html")


def test_the_forks_line_carries_the_forks_mixture_for_the_inset(tiny_build, monkeypatch):
    """The inset opens on the fork's point: the view of its line carries that point's mixture,
    so the page fetches no mixture file before a hover (bench/page_weight.py's budget)."""
    ctx, settings, _ = tiny_build
    fork = {"line": "x", "lineIndex": 1, "point": 7, "sizes": [40, 10]}
    monkeypatch.setattr(possibilities, "observations", lambda lines, views: {"fork": fork, "surprise": None})
    [figure] = possibilities.build(ctx, settings)
    shown = figure.files["line-1.json"]["middle"]
    assert shown["index"] == 6
    mixture = figure.files["mixture-1.json"]
    for name, packed in shown["mixture"].items():
        np.testing.assert_array_equal(possibilities.unpack(packed), possibilities.unpack(mixture[name])[6:7])


def test_the_fork_the_article_names_is_marked_and_in_view(tiny_site, serve, page):
    """The fork button shows the fork's line at the default settings, scrolled to the fork (here
    near the end of the straight line, wider than a phone), its prediction in the inset."""
    url = serve(tiny_site)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(url)
    menu = json.loads(page.locator("#figure-data-possibilities").text_content())["lines"]
    straight = [line["kind"] for line in menu].index("straight")
    fork = {"line": menu[straight]["name"], "lineIndex": straight, "point": menu[straight]["points"] - 5,
            "sizes": [40, 10], "angle": 90, "rejoined": None,
            "bundles": [{"count": 40, "end": [1.0, 0.0]}, {"count": 10, "end": [0.0, 1.0]}]}
    page.route(url, lambda route: show_a_fork(route, fork))
    page.goto(url)
    figure = page.locator(FIGURE)
    figure.scroll_into_view_if_needed()
    page.wait_for_selector(f'{FIGURE}[data-state="done"][data-fork=""]', timeout=15000)
    figure.locator(".poss-steps").fill("2")  # another setting: the fork is not marked on it
    page.wait_for_selector(f'{FIGURE}[data-state="done"][data-shown="0/2/0.65"][data-fork=""]', timeout=60000)
    figure.locator(".poss-fork-button").click()
    page.wait_for_selector(f'{FIGURE}[data-state="done"][data-shown="{straight}/4/0.65"]', timeout=60000)
    x, _ = map(float, figure.get_attribute("data-fork").split())
    scroll, visible, wide = figure.locator(".poss-scroll").evaluate(
        "element => [element.scrollLeft, element.clientWidth, element.scrollWidth]")
    assert wide > visible and scroll > 0 and scroll <= x <= scroll + visible
    page.wait_for_function("(point) => document.querySelector('.poss-readout').textContent"
                           ".startsWith(`Point ${point} `)", arg=fork["point"])
    assert page.console_errors == []
