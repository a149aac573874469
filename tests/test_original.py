"""The imported original weights against the original article JavaScript's own outputs."""
import json

import numpy as np
import pytest

from model.base import ModelError
from model.network import Runner, mixture, nll_terms
from model.original import decode, load_original, weights_file

TOLERANCE = 1e-4  # float32 against the original's float64


@pytest.fixture(scope="module")
def golden(distill):
    return json.loads((distill / "golden-public.json").read_text())["cases"][0]


@pytest.fixture(scope="module")
def trace(golden):
    return Runner(load_original()).run(np.array(golden["inputs"], np.float32))


def test_every_output_matches_the_original_javascript(golden, trace):
    params = mixture(trace.y)
    ours = {
        "eos": 1 / (1 + np.exp(-np.asarray(params.eos_logit[:, 0], np.float64))),
        "pi": np.exp(params.log_pi), "mu1": params.mu1, "mu2": params.mu2,
        "sigma1": np.exp(params.log_sigma1), "sigma2": np.exp(params.log_sigma2), "corr": params.rho,
        "h_final": trace.state[0][0], "c_final": trace.state[0][1],
    }
    assert set(ours) == set(golden["expected"])
    errors = {name: float(np.abs(np.asarray(value, np.float64) - golden["expected"][name]).max())
              for name, value in ours.items()}
    print("max abs error vs golden:", json.dumps(errors))
    assert max(errors.values()) < TOLERANCE, errors


def test_the_one_nll_matches_the_reference(golden, trace):
    nll_xy, nll_eos = nll_terms(trace.y, np.array(golden["targets"], np.float32))
    reference = golden["nll_reference"]
    np.testing.assert_allclose(nll_xy, reference["nll_xy"], atol=TOLERANCE)
    np.testing.assert_allclose(nll_eos, reference["nll_eos"], atol=TOLERANCE)
    mean = float(np.mean(np.asarray(nll_xy, np.float64) + np.asarray(nll_eos, np.float64)))
    assert mean == pytest.approx(reference["mean_total"], abs=TOLERANCE)


def test_decoding_follows_the_file_format(distill):
    arrays = decode(distill / "b64_weights.json")
    whh = arrays["LSTM_Whh"]
    assert whh.shape == (500, 2000) and whh.dtype == np.float32
    assert np.abs(whh).max() == pytest.approx(0.8)
    assert int((np.abs(whh) == np.float32(0.8)).sum()) == 1089  # the README's clipped entries


def test_a_broken_weights_file_is_a_one_line_error(tmp_path):
    broken = tmp_path / "b64_weights.json"
    broken.write_text(json.dumps(["AAAA"] * 5))
    with pytest.raises(ModelError, match="output_w") as error:
        load_original(broken)
    assert "\n" not in str(error.value)
    with pytest.raises(ModelError, match="no such weights file"):
        load_original(tmp_path / "missing.json")


def test_a_url_is_fetched_once_and_checked_against_the_pin(distill, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # the Keras download cache lives under ~/.keras
    (tmp_path / ".keras").mkdir()  # else Keras falls back to /tmp/.keras
    fetched = weights_file((distill / "b64_weights.json").as_uri())
    assert fetched.parent == tmp_path / ".keras" / "handwriting"
    assert fetched.read_bytes() == (distill / "b64_weights.json").read_bytes()
    fetched.unlink()
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes((distill / "b64_weights.json").read_bytes().replace(b"A", b"B", 1))
    with pytest.raises(ModelError, match="fetching the weights failed") as error:
        weights_file(tampered.as_uri())
    assert "\n" not in str(error.value)


def test_samples_at_temperature_one_move_like_the_human_lines(distill):
    """The whole chain (import, Runner, sampling) at once: 50 lines of 200 points drawn from
    the original weights step and lift the pen as the article's 145 human lines do."""
    from model.data import load

    human = np.concatenate([line.model_inputs() for line in load("distill")])
    drawn = Runner(load_original()).sample(200, batch=50, temperature=1.0, seed=0).reshape(-1, 3)
    assert np.median(np.hypot(drawn[:, 0], drawn[:, 1])) == pytest.approx(
        np.median(np.hypot(human[:, 0], human[:, 1])), rel=0.15)
    assert drawn[:, 2].mean() == pytest.approx(human[:, 2].mean(), abs=0.01)
    assert np.median(drawn[:, 0]) > 0.03  # left to right, as written
