"""The in-page synthesis network (templates/js/writer-model.js) against Keras, in headless Chromium.

A tiny text model (model.text_network) with two hands and random weights is exported in float32
as weights only (model.export) beside the page's modules; fed the same points, text and hand,
the page's window and head must reproduce WindowCell.step's phi, kappa and mixture parameters, and
writing a word must end by the stop rule (Graves 2013, section 5.3): at exactly the point
where model.write's Writer, fed the page's draws, ends it. The page wraps a text into rows,
and scales model units, as Python does.
"""
from dataclasses import replace

import numpy as np
import pytest

from generator import assets
from model.alphabet import Alphabet
from model.base import MODEL_UNIT, Line
from model.export import export_tfjs
from model.network import ModelConfig, keras, mixture, tf
from model.text_network import build_synthesis_model, one_hot_text, window_cell
from model.write import FOLLOWED_NLL, GIVE_UP_POINTS_PER_CHARACTER, READ_HAND_POINTS, WriteConfig, Writer, Written

ALPHABET = Alphabet(" abhi")
CONFIG = ModelConfig(layers=2, cells=6, mixtures=3, window_mixtures=3, alphabet_size=ALPHABET.size,
                     hands=["upright", "slanted"])
WITHOUT_HANDS = replace(CONFIG, hands=[])
TEXT = "hi ab\u00e9ba hi"  # \u00e9 is outside the alphabet: the placeholder, code 0
STEPS = 40
FOLLOWS_ANY = 1e9  # a FOLLOWED_NLL no prime misses: JSON has no infinity
# What model.evaluate measured of a text model, as about.json records it for the model card
# (models/writer/about.json): made-up figures, for the tiny model of the tests that build a page
MEASURED = {"held_out": {"nll_per_point": -4.25, "nll_xy": -4.3, "nll_eos": 0.05, "points": 3000, "lines": 10},
            "baseline": {"nll_per_point": -2.75, "epochs": 2, "this_model_after_as_many": -3.0},
            "written": {"texts": 10, "bias": 1.0, "cer": 0.125, "recogniser_cer_on_the_real_lines": 0.01,
                        "aligned_share": 0.9, "aligned_within": 1.5}}
PAGE = "<!doctype html><meta charset=utf-8><link rel=icon href='data:,'><title>writer</title>"


def tiny_writer(kappa_bias: float = np.log(0.3), config: ModelConfig = CONFIG) -> keras.Model:
    """Every weight random (N(0, 0.3^2)), the window's larger, and kappa's bias set so the
    window crosses the text in about STEPS points: every term of the window matters. A much
    lower kappa_bias makes a writer whose window never reaches the end of a text."""
    keras.utils.set_random_seed(6)
    model = build_synthesis_model(config)
    rng = np.random.default_rng(6)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in model.get_weights()])
    dense = window_cell(model).window
    kernel, bias = dense.get_weights()
    K = CONFIG.window_mixtures
    bias = np.concatenate([rng.normal(0, 0.5, 2 * K), kappa_bias + rng.normal(0, 0.1, K)])
    dense.set_weights([rng.normal(0, 0.5, kernel.shape).astype(np.float32), bias.astype(np.float32)])
    return model


def stuck_writer() -> keras.Model:
    """A writer whose window never reaches the end of a text; one without hands."""
    return tiny_writer(kappa_bias=-12.0, config=WITHOUT_HANDS)


@pytest.fixture(scope="module")
def writer(tmp_path_factory):
    model = tiny_writer()
    folder = tmp_path_factory.mktemp("writer-site")
    assets.copy_vendor(folder)
    assets.copy_page_files(folder)
    export_tfjs(model, folder / "writer", None, alphabet=ALPHABET)
    export_tfjs(stuck_writer(), folder / "stuck", None, alphabet=ALPHABET)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("model.export.FOLLOWED_NLL", FOLLOWS_ANY)
        export_tfjs(model, folder / "follows-any", None, alphabet=ALPHABET)
    (folder / "index.html").write_text(PAGE)
    return model, folder


@pytest.fixture
def writer_page(writer, serve, page):
    page.goto(serve(writer[1]))
    return page


def keras_trace(model, points, text, hand):
    """Per step phi (T, U+1), kappa (T, K) and activated mixture parameters, teacher-forced
    with WindowCell.step and the head, as model/write.py steps the network, in the named hand."""
    cell, head = window_cell(model), model.get_layer("mixture")
    one_hot = one_hot_text(ALPHABET.encode(text)[None], ALPHABET.size)
    hand_one_hot = one_hot_text([CONFIG.hands.index(hand)], len(CONFIG.hands))
    states = [tf.zeros((1, size)) for size in cell.state_size]
    phis, kappas, ys = [], [], []
    for x in points:
        output, states, phi = cell.step(tf.constant(x[None]), states, one_hot, hand_one_hot)
        phis.append(phi[0].numpy()), kappas.append(states[-2][0].numpy()), ys.append(head(output)[0].numpy())
    params = mixture(np.array(ys))
    activated = dict(eos=tf.sigmoid(params.eos_logit[:, 0]), pi=tf.exp(params.log_pi), mu1=params.mu1,
                     mu2=params.mu2, sigma1=tf.exp(params.log_sigma1), sigma2=tf.exp(params.log_sigma2),
                     rho=params.rho)
    return np.array(phis), np.array(kappas), {name: np.asarray(value) for name, value in activated.items()}


TRACE_IN_PAGE = """async ([text, points, backend, hand]) => {
  const {loadWriter} = await import("/assets/js/writer-model.js");
  const writer = await loadWriter("/writer/model.json", {backend});
  const {params, phi, kappa} = writer.trace(text, points, hand);
  const plain = (values) => Array.from(values);
  return {info: writer.info, codes: plain(writer.encode(text)), phi: plain(phi), kappa: plain(kappa),
    params: Object.fromEntries(Object.entries(params).map(([name, values]) => [name, plain(values)]))};
}"""


@pytest.mark.parametrize("backend", ["wasm", "cpu"])
def test_page_window_and_head_reproduce_keras(writer, writer_page, backend):
    model, _ = writer
    rng = np.random.default_rng(7)
    points = np.column_stack([rng.normal(0, 1.5, (STEPS, 2)), rng.random(STEPS) < 0.2]).astype(np.float32)
    hand = CONFIG.hands[1]  # not the default, the first
    phi, kappa, params = keras_trace(model, points, TEXT, hand)
    got = writer_page.evaluate(TRACE_IN_PAGE, [TEXT, points.tolist(), backend, hand])
    assert got["info"] == {"backend": backend, "layers": 2, "cells": 6, "mixtures": 3, "windowMixtures": 3,
                           "alphabet": ALPHABET.chars, "modelUnit": MODEL_UNIT, "hands": CONFIG.hands}
    assert got["codes"] == ALPHABET.encode(TEXT).tolist() and 0 in got["codes"]
    differences = {"phi": np.abs(np.array(got["phi"]).reshape(phi.shape) - phi).max(),
                   "kappa": np.abs(np.array(got["kappa"]).reshape(kappa.shape) - kappa).max()}
    for name, values in params.items():
        differences[name] = np.abs(np.array(got["params"][name]).reshape(values.shape) - values).max()
    print(backend, "max abs difference vs Keras:", {name: f"{value:.2g}" for name, value in differences.items()})
    assert max(differences.values()) < 1e-4, differences
    # The window sweeps the whole text within the steps, so every character's phi was compared.
    assert kappa[-1].max() > len(TEXT) + 1 and phi[:, :-1].max(axis=0).min() > 0.05
    assert writer_page.console_errors == [] and writer_page.foreign_requests == []


WRITE_IN_PAGE = """async () => {
  const primedInParts = (writer, prime) => {
    const writing = writer.start("hi", {seed: 3, prime});
    let partReads = 0;
    while (!writing.read(1)) partReads++;
    const first = writing.step();
    const points = [first.point];
    for (let step = writing.step(); !step.done; step = writing.step()) points.push(step.point);
    return {partReads, primeLength: prime.points.length, firstPhi: first.phi.length, codes: writing.codes.length,
      inParts: points, whole: writer.write("hi", {seed: 3, prime}).points};
  };
  const {loadWriter} = await import("/assets/js/writer-model.js");
  const writer = await loadWriter("/writer/model.json");
  const tensors = writer.memory();
  const steps = [];
  const writing = writer.start("hi", {bias: 1, seed: 3});
  for (let step = writing.step(); !step.done; step = writing.step()) steps.push(step);
  const last = steps[steps.length - 1];
  return {
    steps: steps.length, finished: writing.step(), points: steps.map((step) => step.point),
    lastPhi: Array.from(last.phi), again: writer.write("hi", {bias: 1, seed: 3}).points,
    other: writer.write("hi", {bias: 1, seed: 4}).points,
    primed: writer.write("hi", {seed: 3, prime: {text: "ab", points: steps.map((step) => step.point)}}),
    ...primedInParts(writer, {text: "a much longer prime than its strokes", points: steps.map((step) => step.point)}),
    unknownHand: (() => {
      try {
        writer.start("hi", {hand: "cursive"});
      } catch (error) {
        return error.message;
      }
    })(),
    leaked: writer.memory() - tensors,
  };
}"""


def test_writing_a_word_stops_by_the_stop_rule(writer_page):
    got = writer_page.evaluate(WRITE_IN_PAGE)
    print("wrote 'hi' in", got["steps"], "points; primed:", len(got["primed"]["points"]))
    assert got["finished"] == {"done": True, "stopped": True}
    assert 0 < got["steps"] == len(got["points"]) < 3 * 27 * 2
    assert np.isfinite(got["points"]).all() and np.array(got["points"]).shape == (got["steps"], 3)
    phi = got["lastPhi"]
    assert phi[2] <= max(phi[:2]), "the last written point's window had not passed the end yet"
    assert got["again"] == got["points"] and got["other"] != got["points"], "a seed decides the line"
    assert got["primed"]["stopped"] and np.isfinite(got["primed"]["points"]).all()
    # A prime is read a point at a time when asked, then the window starts at the new text alone
    # (its phi spans "hi" and the place past its end), whatever the prime's text was.
    assert got["partReads"] == got["primeLength"] - 1 and (got["codes"], got["firstPhi"]) == (2, 3)
    assert got["inParts"] == got["whole"]
    assert got["unknownHand"] == "write: cursive is not one of the writer's hands (upright, slanted)"
    assert got["leaked"] == 0
    assert writer_page.console_errors == [] and writer_page.foreign_requests == []


WRITES_IN_PAGE = """async ([folder, cases]) => {
  const {loadWriter} = await import("/assets/js/writer-model.js");
  const writer = await loadWriter(`/${folder}/model.json`);
  return cases.map(([text, bias, seed]) => writer.write(text, {bias, seed}));
}"""


def replaying(monkeypatch, points):
    """Makes model.write's sampler hand out `points` in turn (then zeros), whatever the head
    says: Python's Writer then draws what the page drew, so both stop rules see one stream."""
    table = tf.constant(np.concatenate([np.reshape(points, (-1, 3)), np.zeros((1, 3))]).astype(np.float32))
    drawn = tf.Variable(0)

    def replay(y, temperature, seeds, batch, bias=0.0):
        return tf.gather(table, tf.minimum(drawn.assign_add(1) - 1, len(table) - 1))[None]

    monkeypatch.setattr("model.write.sample_points", replay)


AFTER_PRIME_IN_PAGE = """async ([points, cases]) => {
  const {loadWriter} = await import("/assets/js/writer-model.js");
  const kappas = [];
  for (const [folder, text] of cases) {
    const writer = await loadWriter(`/${folder}/model.json`, {backend: "cpu"});
    kappas.push(Array.from(writer.start("hi", {seed: 3, prime: {points, text}, hand: "upright"}).step().kappa));
  }
  return kappas;
}"""


def test_after_a_prime_the_page_sets_the_window_as_python_does(writer, writer_page, monkeypatch):
    """The writer's own "hi" read as a prime. Followed (its text read to the end, and its points
    likely enough, as they are to an export that follows any), the state goes on and the window
    keeps its place less the prime's length; with a longer text than its strokes, or read by the
    export whose FOLLOWED_NLL the tiny writer's points miss, the writer starts from the zero
    state. Both are compared on the first point written after the prime, told its hand."""
    keras_writer = Writer(writer[0], ALPHABET)
    points = keras_writer.write(["hi"], WriteConfig(seed=3))[0].line.model_inputs()
    cases = [("follows-any", "hi", FOLLOWS_ANY), ("follows-any", "a much longer prime than its strokes", FOLLOWS_ANY),
             ("writer", "hi", FOLLOWED_NLL)]
    bias = tf.constant(1.0)
    one_hot = one_hot_text(ALPHABET.encode("hi")[None], ALPHABET.size)
    hand = keras_writer.hand_one_hot("upright", None, 1)  # the hand "hi" was written in
    zero = [tf.zeros((1, size)) for size in keras_writer.cell.state_size]
    _, unprimed, _, _ = keras_writer._step(np.zeros((1, 3), np.float32), zero, one_hot, hand, bias,
                                           keras_writer._seeds(3, 0))
    read, expected = [], []
    for _, text, followed_nll in cases:
        monkeypatch.setattr("model.write.FOLLOWED_NLL", followed_nll)
        prime = Line(points * [MODEL_UNIT, MODEL_UNIT, 1], text=text)
        states, fed = keras_writer._read_primes([prime], zero, hand, bias, seed=3)
        read.append(states[-2][0].numpy())
        _, states, _, _ = keras_writer._step(fed, states, one_hot, hand, bias, keras_writer._seeds(3, 0))
        expected.append(states[-2][0].numpy())
    assert read[0].min() < 0, "followed, the window keeps its place"
    for afresh in expected[1:]:
        np.testing.assert_array_equal(afresh, unprimed[-2][0].numpy(), "not followed, it starts from zero")
    got = writer_page.evaluate(AFTER_PRIME_IN_PAGE, [points.tolist(), [case[:2] for case in cases]])
    np.testing.assert_allclose(got, expected, atol=1e-4)


READ_HAND_IN_PAGE = """async (primes) => {
  const {loadWriter} = await import("/assets/js/writer-model.js");
  const writer = await loadWriter("/writer/model.json", {backend: "cpu"});
  return primes.map(([points, text]) => writer.readHand({points, text}));
}"""


def test_the_page_reads_a_primes_hand_as_python_does(writer, writer_page):
    """Random primes, with a text, another or none, some longer than the points a hand is read
    from: the page names the hand model/write.py's read_hand names, and both hands are named."""
    keras_writer = Writer(writer[0], ALPHABET)
    rng = np.random.default_rng(11)
    primes = [(np.column_stack([rng.normal(0, 1.5, (length, 2)), rng.random(length) < 0.2]).astype(np.float32),
               text) for length, text in zip(rng.integers(5, READ_HAND_POINTS + 60, 16), ["hi", "", "ab hi", "b"] * 4)]
    expected = [keras_writer.read_hand(Line(points * [MODEL_UNIT, MODEL_UNIT, 1], text=text))
                for points, text in primes]
    assert sorted(set(expected)) == sorted(CONFIG.hands), expected
    got = writer_page.evaluate(READ_HAND_IN_PAGE, [[points.tolist(), text] for points, text in primes])
    assert got == expected


@pytest.mark.parametrize("folder,cases", [
    ("writer", [("hi", 1.0, 3), ("hi ab", 0.5, 4), ("b", 0.0, 5)]),
    ("stuck", [("hi", 1.0, 3)]),
])
def test_python_and_the_page_stop_at_the_same_point(writer, writer_page, monkeypatch, folder, cases):
    """model.write's Writer, fed the page's draws, must end each text exactly where the page's
    writer ended it: by section 5.3's stop rule, or (the stuck writer) cut off after the same
    number of points, the give-up pace both read from one place."""
    model = writer[0] if folder == "writer" else stuck_writer()
    written = writer_page.evaluate(WRITES_IN_PAGE, [folder, [list(case) for case in cases]])
    for (text, bias, _), page_wrote in zip(cases, written):
        replaying(monkeypatch, page_wrote["points"])
        python_wrote, = Writer(model, ALPHABET).write([text], WriteConfig(bias=bias))
        print(folder, repr(text), "page:", len(page_wrote["points"]), page_wrote["stopped"],
              "python:", python_wrote.points, python_wrote.stopped)
        assert (python_wrote.points, python_wrote.stopped) == (len(page_wrote["points"]), page_wrote["stopped"])
        assert page_wrote["stopped"] == (folder == "writer")
        assert python_wrote.points > len(text)
    if folder == "stuck":
        assert len(written[0]["points"]) == int(GIVE_UP_POINTS_PER_CHARACTER * 2)


# What readers type: capitals, digits, punctuation, runs of spaces, words longer than a row, hyphens.
TYPED = ["write what you like", "Capitals, digits 1234 and more!?", "  spaces   between   words  ",
         "exactly twelve chars", "x", "a verylongwordindeed", "Capitals, digits 1234 and punctuation!?",
         "a state-of-the-art pen", "It's 3:00 am; go home, KAYAK! internationalization--and fifty-five"]
SHARED_IN_PAGE = """async ([text, width]) => {
  const {wrap} = await import("/assets/js/figures/write-anything.js");
  const {RAW_PER_MODEL_UNIT} = await import("/assets/js/ink.js");
  const {loadWriter} = await import("/assets/js/writer-model.js");
  const {info} = await loadWriter("/writer/model.json");
  return {rows: wrap(text, width), inkUnit: RAW_PER_MODEL_UNIT, info};
}"""


def python_rows(model, text: str, width: int, monkeypatch) -> list[str]:
    """The rows model.write's write_text writes a text in, `width` characters at most."""
    rows_written = []
    monkeypatch.setattr(Writer, "write", lambda self, rows, config, prime: rows_written.append(rows) or [
        Written(Line(np.array([[1, 0, 1]], np.float32)), stopped=True, points=1) for _ in rows])
    Writer(model, Alphabet.default()).write_text(text, WriteConfig(width=width))
    return rows_written[0]


@pytest.mark.parametrize("width", [5, 12, 40])
@pytest.mark.parametrize("text", TYPED)
def test_the_page_wraps_and_scales_as_python_does(writer, writer_page, monkeypatch, text, width):
    """Rows: the page's wrap against model.write's write_text, at several widths; units: the
    page's drawing kit against model.base.MODEL_UNIT, which the export hands the page's models."""
    got = writer_page.evaluate(SHARED_IN_PAGE, [text, width])
    assert got["info"]["modelUnit"] == got["inkUnit"] == MODEL_UNIT
    assert got["rows"] == python_rows(writer[0], text, width, monkeypatch)
