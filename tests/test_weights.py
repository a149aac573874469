"""Models by name (model.weights): artefact folders written and read back, one-line errors."""
import numpy as np
import pytest

from model.base import ModelError
from model.network import ModelConfig
from model.weights import load_artefact, load_model, save_artefact

TINY = ModelConfig(layers=2, cells=16, mixtures=3)


@pytest.fixture(scope="module")
def tiny(random_model):
    return random_model(TINY)


def test_artefact_round_trip(tiny, tmp_path):
    save_artefact(tiny, TINY, tmp_path / "run", metrics={"nll": 1.5}, about={"credit": "test"})
    model, config = load_artefact(tmp_path / "run")
    assert config == TINY
    inputs = np.random.default_rng(1).normal(0, 1, (1, 12, 3)).astype(np.float32)
    np.testing.assert_array_equal(model.predict(inputs, verbose=0), tiny.predict(inputs, verbose=0))
    _loaded, _, about = load_model(str(tmp_path / "run"))
    assert about["credit"] == "test" and about["name"] == "run"


def test_load_model_errors_are_one_line(tmp_path):
    with pytest.raises(ModelError, match="not a model artefact") as error:
        load_model(str(tmp_path))
    assert "\n" not in str(error.value)


def test_a_missing_folder_is_named_as_missing(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        load_model(str(tmp_path / "typo"))


def test_a_file_given_for_a_models_folder_is_named_as_a_file(tmp_path):
    (tmp_path / "x.svg").write_text("<svg/>")
    with pytest.raises(ModelError, match=r"x.svg: a file, not a model's folder; give default, distill, writer"):
        load_model(str(tmp_path / "x.svg"))
