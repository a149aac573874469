"""The in-page model (templates/js/handwriting.js) against the Keras model, in headless Chromium.

A tiny tf-keras model (model.network.build_model) is exported with tensorflowjs beside the
page's modules and vendor libraries; the page's explicit TF.js LSTM steps must reproduce
Keras's mixture parameters and cell states, sample reproducibly with the article's
temperature, keep TF.js memory flat, and fall back to the cpu backend without WebAssembly.
Its samplers (temperature, and the writer's bias) must match an analytic mixture's statistics
and, fed the same uniforms, draw exactly what model.network.sample_points draws.
"""
from pathlib import Path

import numpy as np
import pytest

from generator import assets
from model.base import MODEL_UNIT
from model.export import export_tfjs
from model.network import tf

TINY = dict(layers=2, cells=24, mixtures=3)
STEPS = 40


def assemble_site(folder: Path, model) -> Path:
    """The site's layout with only what the model needs (assets/, model/), the model exported
    (model.export) in float32: the site's quantised export would hide small numeric errors."""
    assets.copy_vendor(folder)
    assets.copy_page_files(folder)
    export_tfjs(model, folder / "model")
    (folder / "index.html").write_text(
        "<!doctype html><meta charset=utf-8><link rel=icon href='data:,'><title>model</title>")
    return folder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, random_model):
    from model.network import ModelConfig

    model = random_model(ModelConfig(**TINY), seed=5)
    return model, assemble_site(tmp_path_factory.mktemp("site"), model)


@pytest.fixture
def model_page(tiny, serve, page):
    page.goto(serve(tiny[1]))
    return page


def input_points():
    rng = np.random.default_rng(1)
    points = rng.normal(0, 1.5, (STEPS, 3)).astype(np.float32)
    points[:, 2] = (rng.random(STEPS) < 0.2).astype(np.float32)
    return points


def keras_params(y, mixtures):
    """The article's activations of raw head outputs y (T, 1 + 6M), in NumPy."""
    M = mixtures
    logits = y[:, 1:1 + M]
    pi = np.exp(logits - logits.max(1, keepdims=True))
    return dict(eos=1 / (1 + np.exp(-y[:, 0])), pi=pi / pi.sum(1, keepdims=True), mu1=y[:, 1 + M:1 + 2 * M],
                mu2=y[:, 1 + 2 * M:1 + 3 * M], sigma1=np.exp(y[:, 1 + 3 * M:1 + 4 * M]),
                sigma2=np.exp(y[:, 1 + 4 * M:1 + 5 * M]), rho=np.tanh(y[:, 1 + 5 * M:]))


TRACE_IN_PAGE = """async ([points, backend, viaWorker]) => {
  const plain = (x) => x instanceof Float32Array ? Array.from(x) : Array.isArray(x) ? x.map(plain)
    : x && typeof x === "object" ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)])) : x;
  const model = viaWorker ? await (await import("/assets/js/model-client.js")).getModel()
    : await (await import("/assets/js/handwriting.js")).loadModel("/model/model.json", {backend});
  const first = await model.step([points[0]], await model.zeroState(1));
  return plain({info: model.info, trace: await model.trace(points), first});
}"""


@pytest.mark.parametrize("backend,via_worker", [("wasm", False), ("cpu", False), ("wasm", True)])
def test_page_step_reproduces_keras(tiny, model_page, backend, via_worker):
    from model.network import Runner

    model, _ = tiny
    points = input_points()
    expected = Runner(model).run(points)
    got = model_page.evaluate(TRACE_IN_PAGE, [points.tolist(), backend, via_worker])
    assert got["info"] == {"backend": backend, **TINY, "modelUnit": MODEL_UNIT}
    M, cells, layers = TINY["mixtures"], TINY["cells"], TINY["layers"]
    for name, values in keras_params(expected.y, M).items():
        page_values = np.array(got["trace"]["params"][name]).reshape(values.shape)
        np.testing.assert_allclose(page_values, values, atol=1e-4, err_msg=name)
        np.testing.assert_allclose(np.array(got["first"]["params"][name]).reshape(values[:1].shape), values[:1],
                                   atol=1e-4, err_msg=f"step {name}")
    np.testing.assert_allclose(np.array(got["trace"]["c"]).reshape(STEPS, layers, cells), expected.c, atol=1e-4)
    for layer, (h, c) in enumerate(expected.state):
        np.testing.assert_allclose(got["trace"]["state"]["h"][layer], h, atol=1e-4)
        np.testing.assert_allclose(got["trace"]["state"]["c"][layer], c, atol=1e-4)
    np.testing.assert_allclose(got["first"]["state"]["c"][0], expected.c[0, 0], atol=1e-4)
    assert model_page.console_errors == [] and model_page.foreign_requests == []


def test_original_weights_in_the_page_match_the_original_article(distill, tmp_path, serve, page):
    """The article's own numbers (golden-public.json, float64 numjs) from the original weights."""
    import json

    from model.original import load_original

    golden = json.loads((distill / "golden-public.json").read_text())["cases"][0]
    page.goto(serve(assemble_site(tmp_path, load_original())))
    got = page.evaluate(TRACE_IN_PAGE, [golden["inputs"], "wasm", False])
    expected = golden["expected"]
    for name, key in [("eos", "eos"), ("pi", "pi"), ("mu1", "mu1"), ("mu2", "mu2"), ("sigma1", "sigma1"),
                      ("sigma2", "sigma2"), ("rho", "corr")]:
        np.testing.assert_allclose(np.array(got["trace"]["params"][name]).reshape(np.shape(expected[key])),
                                   expected[key], atol=1e-4, err_msg=name)
    np.testing.assert_allclose(got["trace"]["state"]["h"][0], expected["h_final"], atol=1e-4)
    np.testing.assert_allclose(got["trace"]["state"]["c"][0], expected["c_final"], atol=1e-4)


SAMPLING = """async () => {
  const {loadModel} = await import("/assets/js/handwriting.js");
  const model = await loadModel("/model/model.json");
  const tensors = model.memory();
  const a = model.sample(30, {batch: 2, seed: 11});
  const b = model.sample(30, {batch: 2, seed: 11});
  const c = model.sample(30, {batch: 2, seed: 12});
  // Near-zero temperature: the most likely component's mean, exactly.
  const start = model.step([[0, 0, 0]]);
  const greedy = model.sample(1, {temperature: 1e-4, seed: 3});
  // eos is not tempered: at a low temperature pens still lift with probability eos.
  const lifts = model.sample(1, {batch: 4000, temperature: 0.1, seed: 4});
  const liftRate = lifts.filter((entry) => entry[0][2] === 1).length / lifts.length;
  const generated = model.generate(10, {seed: 5});
  const continued = model.sample(5, {seed: 6, state: generated.state});
  const fanned = model.sample(5, {seed: 6, state: generated.state, batch: 3});
  // The same three entries as plain rows: the first step's shared product must change nothing.
  const threeRows = (values) => Float32Array.from({length: 3 * values.length}, (_, k) => values[k % values.length]);
  const fannedRows = model.sample(5, {seed: 6, state: {
    batch: 3, h: generated.state.h.map(threeRows), c: generated.state.c.map(threeRows)}});
  const seen = [];
  const controller = new AbortController();
  const line = model.sample(6, {seed: 8})[0];
  const futures = {steps: 4, count: 7, seed: 1};
  const finished = await model.futures(line, futures, (i, f) => seen.push([i, f]));
  const cancelled = await model.futures(line, {...futures, signal: controller.signal},
    (i) => i === 1 && controller.abort());
  const again = [];
  await model.futures(line.slice(0, 2), futures, (i, f) => again.push([i, f]));
  const {pi, mu1, mu2, eos} = start.params;
  return {a, b, c, start: {pi: Array.from(pi), mu1: Array.from(mu1), mu2: Array.from(mu2), eos: eos[0]},
          greedy, liftRate, continued, fanned, fannedRows, finished, cancelled, seen, again,
          leaked: model.memory() - tensors};
}"""


def test_sampling_is_seeded_tempered_cancellable_and_leak_free(model_page):
    got = model_page.evaluate(SAMPLING)
    assert got["a"] == got["b"] and got["a"] != got["c"]
    assert np.array(got["a"]).shape == (2, 30, 3) and np.isfinite(got["a"]).all()
    assert {point[2] for entry in got["a"] for point in entry} <= {0, 1}
    best = int(np.argmax(got["start"]["pi"]))
    start = got["start"]
    np.testing.assert_allclose(got["greedy"][0][0][:2], [start["mu1"][best], start["mu2"][best]], atol=1e-3)
    assert abs(got["liftRate"] - got["start"]["eos"]) < 0.03
    assert np.array(got["continued"]).shape == (1, 5, 3)
    assert np.array(got["fanned"]).shape == (3, 5, 3) and got["fanned"][0] != got["fanned"][1]
    np.testing.assert_allclose(got["fanned"], got["fannedRows"], atol=1e-5)
    assert got["finished"] is True and [i for i, _ in got["seen"]] == list(range(6))
    assert all(np.array(futures).shape == (7, 4, 3) for _, futures in got["seen"])
    assert got["cancelled"] is False
    assert got["again"] == got["seen"][:2], "each point's futures depend only on the seed and the line so far"
    assert got["leaked"] == 0
    assert model_page.console_errors == []


def test_cpu_fallback_without_webassembly(tiny, serve, page):
    page.add_init_script("delete window.WebAssembly")
    page.goto(serve(tiny[1]))
    got = page.evaluate("""async () => {
      const {loadModel} = await import("/assets/js/handwriting.js");
      const model = await loadModel("/model/model.json");
      const client = await (await import("/assets/js/model-client.js")).getModel();
      return {direct: model.info.backend, worker: client.info.backend, points: await client.sample(5, {seed: 1})};
    }""")
    assert got["direct"] == "cpu" and got["worker"] == "cpu"
    assert np.array(got["points"]).shape == (1, 5, 3)
    assert page.console_errors == []


def test_missing_model_is_one_clear_error(tiny, serve, page):
    page.goto(serve(tiny[1]))
    message = page.evaluate("""async () => {
      try { await (await import("/assets/js/model-client.js")).getModel({url: "/nowhere/model.json"}); }
      catch (error) { return error.message; }
    }""")
    assert "nowhere/model.json" in message and "404" in message and "\n" not in message


def test_worker_cancels_only_the_aborted_request(model_page):
    got = model_page.evaluate("""async () => {
      const model = await (await import("/assets/js/model-client.js")).getModel();
      const line = (await model.sample(8, {seed: 2}))[0];
      const controller = new AbortController();
      const seen = {kept: 0, cancelled: 0};
      const cancelled = model.futures(line, {steps: 3, count: 5, signal: controller.signal}, () => {
        seen.cancelled++;
        controller.abort();
      });
      const kept = model.futures(line, {steps: 3, count: 5}, () => seen.kept++);
      const meanwhile = await model.sample(3, {seed: 4});
      return {cancelled: await cancelled, kept: await kept, seen, meanwhile: meanwhile[0].length};
    }""")
    assert got["cancelled"] is False and got["seen"]["cancelled"] == 1
    assert got["kept"] is True and got["seen"]["kept"] == 8
    assert got["meanwhile"] == 3
    assert model_page.console_errors == []


@pytest.mark.parametrize("cores,workers", [(2, 2), (8, 4)])
def test_futures_over_workers_match_one_thread(tiny, serve, page, cores, workers):
    """futures() fans out over workers (one per core on two, one core left to the page on more);
    each point's random stream comes from (seed, point) alone, so they give exactly what one
    thread gives, handed on in order."""
    page.add_init_script(f"""
      Object.defineProperty(Navigator.prototype, "hardwareConcurrency", {{get: () => {cores}}});
      window.workersStarted = 0;
      window.Worker = class extends window.Worker {{
        constructor(...args) {{ super(...args); window.workersStarted++; }}
      }};""")
    page.goto(serve(tiny[1]))
    got = page.evaluate("""async () => {
      const direct = await (await import("/assets/js/handwriting.js")).loadModel("/model/model.json");
      const line = direct.sample(9, {seed: 3})[0];
      const options = {steps: 3, count: 4, temperature: 0.8, seed: 5};
      const one = [];
      await direct.futures(line, options, (i, futures) => one.push([i, futures]));
      const client = await (await import("/assets/js/model-client.js")).getModel();
      const beforeFutures = window.workersStarted;
      const two = [];
      const finished = await client.futures(line, options, (i, futures) => two.push([i, futures]));
      const again = [];
      await client.futures(line, options, (i, futures) => again.push([i, futures]));
      return {one, two, again, finished, beforeFutures, workers: window.workersStarted};
    }""")
    assert (got["beforeFutures"], got["workers"]) == (1, workers), "the others start with the first futures"
    assert got["finished"] is True and [i for i, _ in got["two"]] == list(range(9))
    assert got["two"] == got["one"] and got["again"] == got["one"]
    assert np.array(got["one"][0][1]).shape == (4, 3, 3)
    assert page.console_errors == []


DRAWS_IN_PAGE = """async ([y, rows, temperature, bias, uniforms]) => {
  const {headLayout, mulberry32, newMixture, readMixture, sampleMixture} = await import("/assets/js/handwriting.js");
  const {sampleBiased} = await import("/assets/js/writer-model.js");
  const head = headLayout((y.length - 1) / 6);
  let used = 0;
  const random = uniforms ? () => uniforms[used++] : mulberry32(9);
  const points = [];
  for (let row = 0; row < rows; row++) {
    const point = new Float32Array(3);
    if (bias === null) sampleMixture(readMixture(y, 0, head, temperature, newMixture(head.mixtures)), random, point, 0);
    else point.set(sampleBiased(head, y, bias, random));
    points.push(Array.from(point));
  }
  return {points, used};
}"""


@pytest.mark.parametrize("temperature,bias", [(1.0, None), (0.5, None), (1.0, 0.0), (1.0, 1.0)])
def test_page_draws_have_the_mixtures_statistics(model_page, fixed_mixture, temperature, bias):
    """The page's samplers (the article's temperature, and the writer's bias) against the same
    analytic mixture as model.network.sample_points (test_network.py), correlation included."""
    y, check = fixed_mixture
    got = model_page.evaluate(DRAWS_IN_PAGE, [y.tolist(), 20000, temperature, bias, None])
    check(got["points"], temperature, bias or 0.0)


@pytest.mark.parametrize("temperature,bias", [(0.5, None), (1.0, None), (1.0, 1.0), (1.0, 0.5)])
def test_python_and_the_page_draw_the_same_points_from_the_same_uniforms(model_page, fixed_mixture, monkeypatch,
                                                                         temperature, bias):
    """One stream of uniforms drives both samplers: per point the page takes one for the
    component (its cumulative weights), two for the normals (Box-Muller) and one for the pen;
    model.network.sample_points gets the same through stand-ins for TensorFlow's stateless
    draws (inverse CDF of its own tempered logits, the same Box-Muller, the same uniform), so
    the two must agree point for point on the mixture, temperature and bias."""
    from model.network import sample_points

    y, _ = fixed_mixture
    rows = 400
    uniforms = np.random.default_rng(3).random((rows, 4))
    got = model_page.evaluate(DRAWS_IN_PAGE, [y.tolist(), rows, temperature, bias, uniforms.ravel().tolist()])
    assert got["used"] == uniforms.size
    pick, radius, angle, pen = uniforms.T
    radius = np.sqrt(-2 * np.log(1 - radius))

    def categorical(logits, samples, seed):
        weights = np.exp(logits - np.max(logits, axis=1, keepdims=True))
        cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
        return tf.constant(np.minimum((cumulative <= pick[:, None]).sum(axis=1), logits.shape[1] - 1)[:, None])

    monkeypatch.setattr(tf.random, "stateless_categorical", categorical)
    monkeypatch.setattr(tf.random, "stateless_normal", lambda shape, seed: tf.constant(
        np.stack([radius * np.cos(2 * np.pi * angle), radius * np.sin(2 * np.pi * angle)], axis=1), tf.float32))
    monkeypatch.setattr(tf.random, "stateless_uniform", lambda shape, seed: tf.constant(pen, tf.float32))
    python = sample_points(np.repeat(y[None], rows, axis=0), temperature, np.zeros((3, 2), np.int32), rows,
                           bias=bias or 0.0)
    page = np.array(got["points"])
    assert 0.1 < (page[:, 0] < 0).mean() < 0.9 and 0.02 < page[:, 2].mean() < 0.5  # both components, both pens
    np.testing.assert_allclose(np.asarray(python), page, atol=2e-5)
