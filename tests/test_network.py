"""The network contract: head layout, the one NLL, Runner traces and sampling."""
import math

import numpy as np
import pytest

from model.network import ModelConfig, Runner, build_model, mixture, nll_terms, sample_points

TINY = ModelConfig(layers=2, cells=16, mixtures=3)


@pytest.fixture(scope="module")
def tiny(random_model):
    return random_model(TINY)


def points(steps, seed=1):
    rng = np.random.default_rng(seed)
    xy = rng.normal(0, 1, (steps, 2))
    pen = rng.random(steps) < 0.1
    return np.column_stack([xy, pen]).astype(np.float32)


def test_layout_matches_the_original():
    model = build_model(ModelConfig())
    assert [layer.name for layer in model.layers[1:]] == ["lstm_0", "mixture"]
    assert model.output_shape == (None, None, 121)
    assert model.get_layer("lstm_0").get_weights()[1].shape == (500, 2000)


def test_nll_matches_the_textbook_formula(textbook_nll):
    rng = np.random.default_rng(2)
    y = rng.normal(0, 1, (4, 30, TINY.outputs)).astype(np.float32)
    targets = np.stack([points(30, seed) for seed in range(4)])
    nll_xy, nll_eos = (np.asarray(t) for t in nll_terms(y, targets))
    expected_xy, expected_eos = textbook_nll(y, targets)
    assert nll_xy.shape == nll_eos.shape == (4, 30)
    np.testing.assert_allclose(nll_xy, expected_xy, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(nll_eos, expected_eos, rtol=1e-5, atol=1e-5)


def test_nll_stays_finite_where_the_naive_formula_breaks():
    y = np.zeros((3, TINY.outputs), np.float32)
    y[0, 1 + 5 * 3:] = 40.0  # rho rounds to 1 in float32
    y[1, 1 + 3 * 3:1 + 5 * 3] = -20.0  # tiny sigmas: the target is far in the tail
    y[2, 0] = 200.0  # certain pen lift, then the pen stays down
    targets = np.array([[0.1, -0.1, 0], [1.0, 1.0, 0], [0, 0, 0]], np.float32)
    nll_xy, nll_eos = (np.asarray(t) for t in nll_terms(y, targets))
    assert np.isfinite(nll_xy).all() and np.isfinite(nll_eos).all()
    assert nll_eos[2] == pytest.approx(200.0)
    assert nll_xy[1] > 1e15


def test_mixture_activations():
    y = np.random.default_rng(3).normal(0, 1, (5, TINY.outputs)).astype(np.float32)
    params = mixture(y)
    np.testing.assert_allclose(np.exp(params.log_pi).sum(-1), 1, rtol=1e-6)
    np.testing.assert_array_equal(params.mu1, y[:, 4:7])
    np.testing.assert_allclose(params.rho, np.tanh(y[:, 16:19]), rtol=1e-6)


def test_runner_trace_is_the_model(tiny):
    inputs = points(40)
    runner = Runner(tiny)
    trace = runner.run(inputs)
    assert trace.h.shape == trace.c.shape == (40, 2, 16)
    np.testing.assert_allclose(trace.y, tiny.predict(inputs[None], verbose=0)[0], atol=1e-6)
    np.testing.assert_allclose(trace.state[1][1], trace.c[-1, 1], atol=1e-7)
    np.testing.assert_allclose(trace.y, np.asarray(tiny.get_layer("mixture")(trace.h[:, 1])), atol=1e-6)
    assert not np.allclose(trace.c, trace.h)  # c really is the cell state, not h again
    head = runner.run(inputs[:25])
    tail = runner.run(inputs[25:], head.state)
    np.testing.assert_allclose(tail.y, trace.y[25:], atol=1e-5)


def test_sampling_is_seeded_and_continues_a_state(tiny):
    runner = Runner(tiny)
    first = runner.sample(30, batch=4, seed=5)
    assert first.shape == (4, 30, 3)
    np.testing.assert_array_equal(first, runner.sample(30, batch=4, seed=5))
    assert not np.array_equal(first, runner.sample(30, batch=4, seed=6))
    assert set(np.unique(first[..., 2])) <= {0.0, 1.0}
    state = runner.run(points(20)).state
    continued = runner.sample(10, batch=3, seed=5, state=state)
    assert continued.shape == (3, 10, 3) and not np.array_equal(continued[0], continued[1])


def test_temperature_as_in_the_article():
    """A head that ignores the LSTM fixes the distribution, so the draws can be checked."""
    config = ModelConfig(layers=1, cells=4, mixtures=2)
    model = build_model(config)
    kernel, bias = model.get_layer("mixture").get_weights()
    bias[:] = 0
    bias[0] = math.log(0.2 / 0.8)  # P(pen up) = 0.2
    bias[1:3] = np.log([0.7, 0.3])
    bias[3:5] = [-10.0, 10.0]  # mu1 tells the components apart
    bias[7:9] = np.log([0.5, 2.0])  # sigma1
    bias[9:11] = np.log([1.0, 1.0])  # sigma2
    model.get_layer("mixture").set_weights([np.zeros_like(kernel), bias])
    tau = 0.5
    drawn = Runner(model).sample(1, batch=20000, temperature=tau, seed=0)[:, 0]
    first = drawn[:, 0] < 0
    expected_share = 0.7 ** (1 / tau) / (0.7 ** (1 / tau) + 0.3 ** (1 / tau))
    assert first.mean() == pytest.approx(expected_share, abs=0.015)
    assert drawn[first, 0].std() == pytest.approx(0.5 * tau, rel=0.05)
    assert drawn[~first, 0].std() == pytest.approx(2.0 * tau, rel=0.05)
    assert drawn[:, 1].std() == pytest.approx(tau, rel=0.05)
    assert drawn[:, 2].mean() == pytest.approx(0.2, abs=0.015)  # eos: no temperature


@pytest.mark.parametrize("temperature,bias", [(1.0, 0.0), (0.5, 0.0), (1.0, 1.0)])
def test_draws_have_the_mixtures_statistics_correlation_included(fixed_mixture, temperature, bias):
    """sample_points against the analytic mixture, with correlations of both signs (a head
    with rho = 0 would hide a sign error in the correlated normal)."""
    y, check = fixed_mixture
    rows = 20000
    seeds = np.array([[7, 0], [7, 1], [7, 2]], np.int32)
    check(np.asarray(sample_points(np.repeat(y[None], rows, axis=0), temperature, seeds, rows, bias=bias)),
          temperature, bias)
