"""Shared test settings: where the original article's files are, and skipping without them."""
import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import pytest

from generator.serve import CHROMIUM, CHROMIUM_ARGS  # Debian's chromium, shared with the benchmarks
from model.base import distill_dir


@pytest.fixture(scope="session")
def distill():
    """The folder of the original article's files (HANDWRITING_DISTILL), or skip."""
    path = distill_dir()
    if not (path / "b64_weights.json").is_file():
        pytest.skip(f"the original article's weights and lines are not in {path}: put its files there "
                    "(../shared/distill beside the checkout) or set HANDWRITING_DISTILL to their folder")
    return path


def pytest_terminal_summary(terminalreporter):
    """How many cases tests/test_fuzz.py generated, when it ran."""
    fuzz = sys.modules.get("test_fuzz")
    if fuzz is not None and fuzz.CASES:
        terminalreporter.write_line(fuzz.summary())


def pytest_collection_modifyitems(items):
    """Marks the tests that drive Chromium `browser`, so a quick pass can leave them out (-m 'not browser')."""
    for item in items:
        if {"browser", "page"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium driven by Playwright (one per test session)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not installed (bash setup.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def serve():
    """serve(folder) -> base URL of a local static server for that folder."""
    from generator.serve import start

    servers = []

    def _serve(folder):
        server, url = start(folder)
        servers.append(server)
        return url

    yield _serve
    for server in servers:
        server.shutdown()


@pytest.fixture
def page(browser):
    """A fresh page that records console errors, failed requests and requests to other hosts."""
    context = browser.new_context()
    page = context.new_page()
    page.console_errors = []
    page.foreign_requests = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    page.on("request", lambda req: req.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            or page.foreign_requests.append(req.url))
    yield page
    context.close()


@pytest.fixture(scope="session")
def random_model():
    """random_model(config, seed) -> a built model.network model, every weight (biases too)
    drawn from N(0, 0.3^2): unlike a fresh init, each part of the network changes the output."""
    import numpy as np

    from model.network import build_model

    def make(config, seed=0):
        model = build_model(config)
        rng = np.random.default_rng(seed)
        model.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in model.get_weights()])
        return model

    return make


# --- a tiny built site for everyone's browser tests (build.py) ----------------------------------

TINY_MODEL = {"layers": 1, "cells": 16, "mixtures": 3}


def _looped_line(points: int, phase: float):
    """A cursive-like line of loops in raw units, the pen lifting every 45 points."""
    import numpy as np

    from model.base import Line

    t = np.arange(points + 1) * 0.35 + phase
    xy = np.stack([9.0 * t + 14.0 * np.cos(t), 20.0 * np.sin(t) + 3.0 * np.sin(t / 7)], axis=1).round()
    offsets = np.diff(xy, axis=0)
    pen_up = (np.arange(points) % 45 == 44).astype(np.float32)
    return Line(np.column_stack([offsets, pen_up]).astype(np.float32), start=(float(xy[0, 0]), 300.0 + xy[0, 1]))


@pytest.fixture(scope="session")
def tiny_artefact(tmp_path_factory, tiny_lines):
    """A model artefact folder of a tiny model trained for two epochs on `tiny_lines` by
    model.train (config.json, weights, metrics.json with a training curve), seed 0."""
    from model.network import ModelConfig
    from model.train import TrainConfig, train

    folder = tmp_path_factory.mktemp("tiny-model")
    config = TrainConfig(data=str(tiny_lines), model=ModelConfig(**TINY_MODEL), epochs=2, batch_size=4, seq_len=60,
                         seed=0)
    train(config, folder, verbose=0)
    return folder


@pytest.fixture(scope="session")
def tiny_writer_artefact(tmp_path_factory):
    """A text model's artefact folder: test_writer_js's tiny writer (random weights), its
    alphabet.json and an about.json with the figures model.evaluate measures."""
    from test_writer_js import ALPHABET, CONFIG, MEASURED, tiny_writer

    from model.weights import save_artefact

    folder = tmp_path_factory.mktemp("tiny-writer")
    save_artefact(tiny_writer(), CONFIG, folder, about={"name": "tiny-writer", "source": "test", "credit": "",
                                                        "measured": MEASURED})
    ALPHABET.save(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_lines(tmp_path_factory):
    """A folder of four short JSON lines (model.data.write_json_lines)."""
    from model.data import write_json_lines

    folder = tmp_path_factory.mktemp("tiny-lines")
    write_json_lines([_looped_line(120 + 30 * index, phase=index) for index in range(4)], folder)
    return folder


@pytest.fixture(scope="session")
def tiny_site(tmp_path_factory, tiny_artefact, tiny_lines):
    """site/ built by build.py from the tiny model and lines: the folder (serve it with `serve`)."""
    import build

    root = tmp_path_factory.mktemp("tiny-site")
    config = build.BuildConfig(weights=str(tiny_artefact), data=str(tiny_lines), seed=0,
                               out=str(root / "site"), cache=str(root / "cache"))
    build.build(config, say=lambda message: None)
    return root / "site"


# --- one mixture, drawn from by Python and by the page ------------------------------------------

# Two well separated components (mu1 -10 and 10), correlations of both signs, eos 0.2: the
# draws' statistics pin down every part of a sampler, the sign of rho included.
FIXED_MIXTURE = {"pi": [0.7, 0.3], "mu1": [-10.0, 10.0], "mu2": [1.0, -2.0], "sigma1": [0.5, 2.0],
                 "sigma2": [1.0, 1.5], "rho": [0.8, -0.6], "eos": 0.2}


@pytest.fixture(scope="session")
def fixed_mixture():
    """(y, check): y (1 + 6 * 2,) raw head outputs of FIXED_MIXTURE, and check(points,
    temperature, bias) asserting that draws (N, 3) from y have the analytic statistics: each
    component's share (softmax(log pi (1 + bias) / temperature)), means, sigmas (times
    temperature exp(-bias)) and correlation, and the pen-lift rate (sigmoid(logit (1 + bias)):
    temperature leaves it alone)."""
    import numpy as np

    m = FIXED_MIXTURE
    y = np.concatenate([[np.log(m["eos"] / (1 - m["eos"]))], np.log(m["pi"]), m["mu1"], m["mu2"],
                        np.log(m["sigma1"]), np.log(m["sigma2"]), np.arctanh(m["rho"])]).astype(np.float32)

    def check(points, temperature=1.0, bias=0.0):
        points = np.asarray(points, np.float64)
        weights = np.array(m["pi"]) ** ((1 + bias) / temperature)
        spread = temperature * np.exp(-bias)
        first = points[:, 0] < 0
        assert first.mean() == pytest.approx(weights[0] / weights.sum(), abs=0.015)
        for k, drawn in enumerate([points[first], points[~first]]):
            assert drawn[:, 0].mean() == pytest.approx(m["mu1"][k], abs=0.1)
            assert drawn[:, 1].mean() == pytest.approx(m["mu2"][k], abs=0.1)
            assert drawn[:, 0].std() == pytest.approx(m["sigma1"][k] * spread, rel=0.05)
            assert drawn[:, 1].std() == pytest.approx(m["sigma2"][k] * spread, rel=0.05)
            assert np.corrcoef(drawn[:, 0], drawn[:, 1])[0, 1] == pytest.approx(m["rho"][k], abs=0.03), k
        lift = m["eos"] ** (1 + bias) / (m["eos"] ** (1 + bias) + (1 - m["eos"]) ** (1 + bias))
        assert points[:, 2].mean() == pytest.approx(lift, abs=0.015)

    return y, check


@pytest.fixture(scope="session")
def textbook_nll():
    """textbook_nll(y, targets) -> (nll_xy, nll_eos) per point: Graves 2013 eqs. 23-26 term by
    term in float64, from raw head outputs y (..., 1 + 6M) and targets (..., 3)."""
    import numpy as np

    def nll(y, targets):
        y, targets = np.asarray(y, np.float64), np.asarray(targets, np.float64)
        m = (y.shape[-1] - 1) // 6
        eos = 1 / (1 + np.exp(-y[..., 0]))
        pi = np.exp(y[..., 1:1 + m]) / np.exp(y[..., 1:1 + m]).sum(-1, keepdims=True)
        mu1, mu2 = y[..., 1 + m:1 + 2 * m], y[..., 1 + 2 * m:1 + 3 * m]
        s1, s2 = np.exp(y[..., 1 + 3 * m:1 + 4 * m]), np.exp(y[..., 1 + 4 * m:1 + 5 * m])
        rho = np.tanh(y[..., 1 + 5 * m:])
        z1 = (targets[..., :1] - mu1) / s1
        z2 = (targets[..., 1:2] - mu2) / s2
        z = z1 ** 2 + z2 ** 2 - 2 * rho * z1 * z2
        density = np.exp(-z / (2 * (1 - rho ** 2))) / (2 * np.pi * s1 * s2 * np.sqrt(1 - rho ** 2))
        nll_eos = -np.log(np.where(targets[..., 2] == 1, eos, 1 - eos))
        return -np.log((pi * density).sum(-1)), nll_eos

    return nll
