"""Every figure module builds with a tiny model, and what it returns is fit for the page.

Each module in generator/figures/ gets a BuildContext with the tiny model and lines of
conftest.py and no disk cache. Its figures must have known, unique names; data and files must
be writable as the build writes them (finite numbers, JSON-able); and every Vega-Lite spec
must validate against the Vega-Lite schema that Altair bundles (and Vega must draw it).
"""
import json
import re
from pathlib import Path

import altair
import jsonschema
import pytest
from test_writer_js import ALPHABET, MEASURED, tiny_writer

from generator import figures as figure_package
from generator.assets import render_charts
from generator.cache import Cache
from generator.figures import FIGURE_NAMES, BuildContext, Figure, TextModel
from generator.figures.model_card import duration, hershey_fonts, learned_from, training_curve
from generator.render import to_json
from model.corpus import SynthConfig

VEGA_LITE_SCHEMA = Path(altair.__file__).parent / "vegalite" / "v6" / "schema" / "vega-lite-schema.json"
MODULES = figure_package.modules()


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(VEGA_LITE_SCHEMA.read_text())
    return jsonschema.validators.validator_for(schema)(schema)


@pytest.fixture(scope="module")
def tiny_context(tiny_artefact, tiny_lines):
    from model.data import load
    from model.weights import load_model

    model, config, about = load_model(str(tiny_artefact))
    # test_writer_js's tiny text model: write-anything reads its alphabet and data, the model card its shape
    writer = TextModel(model=tiny_writer(), alphabet=ALPHABET, about={"name": "tiny-writer", "measured": MEASURED},
                       trained_on="synthetic:10:chars=3-12")
    return BuildContext(model=model, config=config, about=about, lines=load(tiny_lines), seed=0,
                        cache=Cache(None, "tiny"), data_source=str(tiny_lines), writer=writer)


def check_spec(spec: dict, validator) -> None:
    errors = sorted(validator.iter_errors(spec), key=lambda error: list(error.path))
    assert not errors, "; ".join(f"{list(error.path)}: {error.message[:200]}" for error in errors[:3])
    json.loads(to_json(spec))


@pytest.mark.parametrize("module", MODULES, ids=[module.__name__.rsplit(".", 1)[-1] for module in MODULES])
def test_figure_module_builds_valid_output(module, tiny_context, validator):
    built = module.build(tiny_context)
    assert built and all(isinstance(figure, Figure) for figure in built)
    for figure in built:
        assert figure.name in FIGURE_NAMES
        if figure.data is not None:
            json.loads(to_json(figure.data))
        for path, value in figure.files.items():
            assert not Path(path).is_absolute() and ".." not in Path(path).parts, path
            if not isinstance(value, bytes):
                json.loads(to_json(value))
        if figure.spec is not None:
            check_spec(figure.spec, validator)
    names = [figure.name for figure in built]
    assert len(names) == len(set(names))


def test_training_curve_spec_is_valid_and_drawn(validator):
    epochs = [{"epoch": 1, "train_nll": -0.5, "val_nll": -0.4}, {"epoch": 2, "train_nll": -0.9, "val_nll": -0.7}]
    spec = training_curve(epochs).to_dict()
    check_spec(spec, validator)
    [chart] = render_charts([spec])
    svg = chart["svg"]
    assert svg.startswith("<svg") and svg.count("<path") >= 2 and "validation" in svg


def test_training_curve_labels_whole_epochs_only():
    for count in (1, 2, 3, 7):
        epochs = [{"epoch": epoch, "train_nll": -epoch / 10, "val_nll": -epoch / 20} for epoch in range(1, count + 1)]
        [chart] = render_charts([training_curve(epochs).to_dict()])
        texts = re.findall(r"<text[^>]*>([^<]*)</text>", chart["svg"])
        assert texts[:texts.index("epoch")] == [str(epoch) for epoch in range(1, count + 1)]


@pytest.mark.parametrize("seconds, words", [(0.2, "under a second"), (1, "1 second"), (10.4, "10 seconds"),
                                            (59.6, "1 minute"), (170, "3 minutes"), (3569, "59 minutes"),
                                            (3600, "1 hour"), (9000, "2.5 hours")])
def test_training_time_in_words(seconds, words):
    assert duration(seconds) == words


def test_a_synthetic_source_names_the_corpus_fonts_by_kind(monkeypatch):
    for spec in ("synthetic:30000:chars=10-50", "synthetic:30000:chars=10-50:seed=1",
                 "synthetic:30000:chars=10-50:capitals=8:seed=2"):
        assert learned_from(spec) == (
            "synthetic handwriting, written by a program in six of A. V. Hershey’s fonts — three scripts, a print, "
            "a roman and an italic — with a pen’s rhythm, in lines of about 10 to 50 characters")
    monkeypatch.setattr(SynthConfig, "fonts", ("cursive", "timesi", "scripts"))  # counted, not written down
    assert hershey_fonts() == {"count": 3, "kinds": "two scripts and an italic"}


def test_model_card_says_how_long_training_took(tiny_context, monkeypatch):
    from generator.figures import model_card

    metrics = {"epochs": [{"epoch": 1, "train_nll": -0.5, "val_nll": -0.4}], "train_seconds": 10.2, "data": "x"}
    monkeypatch.setitem(tiny_context.about, "metrics", metrics)
    monkeypatch.setattr(model_card, "held_out_from_training", lambda metrics: {})
    assert model_card.build(tiny_context)[0].data["training"]["duration"] == "10 seconds"


def test_the_validator_rejects_a_broken_spec(validator):
    with pytest.raises(AssertionError):
        check_spec({"mark": "not-a-mark", "encoding": {"x": {"field": "a", "type": "sideways"}}}, validator)


def test_model_card_measures_nll_without_metrics(tiny_context):
    from generator.figures import model_card

    card = model_card.build(tiny_context)[0]
    held_out = card.data["held_out"]
    assert held_out["points"] == sum(len(line.points) for line in tiny_context.lines)
    assert held_out["nll_per_point"] == pytest.approx(held_out["nll_xy"] + held_out["nll_eos"])
    assert card.data["parameters"] == tiny_context.model.count_params()


def test_model_card_covers_the_text_model(tiny_context, monkeypatch):
    from generator.figures import model_card

    writer = model_card.build(tiny_context)[0].data["writer"]
    assert writer["architecture"] == {"layers": 2, "cells": 6, "mixtures": 3, "outputs": 19, "window_mixtures": 3,
                                      "alphabet_size": ALPHABET.size}
    assert writer["parameters"] == tiny_context.writer.model.count_params()
    assert writer["trained_on"] == "synthetic:10:chars=3-12" and writer["measured"] == MEASURED
    assert writer["longest_text"] == 12  # the synthetic corpus's chars=3-12, without model.train's record
    monkeypatch.setitem(tiny_context.writer.about, "metrics", {"longest_text": 37})
    assert model_card.build(tiny_context)[0].data["writer"]["longest_text"] == 37
    monkeypatch.setattr(tiny_context, "writer", None)
    assert model_card.build(tiny_context)[0].data["writer"] is None


def test_pickers_name_each_human_line_alike(tiny_context):
    from generator.figures import cells, possibilities

    cell_figure = next(figure for figure in cells.build(tiny_context) if figure.name == "cells")
    cell_lines = [line["name"] for line in cell_figure.data["lines"]]
    possible = possibilities.build(tiny_context)[0].data["lines"]
    human = [line["name"].removeprefix(tiny_context.words["picker"]) for line in possible if line["kind"] == "human"]
    assert human and human == [name.removeprefix("line") for name in cell_lines[:len(human)]]
