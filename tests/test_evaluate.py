"""Evaluation: the zero-start NLL per point, batching that changes nothing, the CLI."""
import json

import numpy as np
import pytest

from model.base import Line
from model.corpus import synthesize
from model.data import write_json_lines
from model.evaluate import EvaluateConfig, aligned_share, evaluate, held_out_lines, main, measure_hands, written_in
from model.hands import hand_label, hand_of
from model.network import ModelConfig, nll_terms
from model.original import load_original
from model.train import main as train_main
from model.weights import save_artefact
from model.write import Written, load_writer

TINY = ModelConfig(layers=1, cells=8, mixtures=2)


def random_lines(count, seed=0):
    rng = np.random.default_rng(seed)
    lines = []
    for length in rng.integers(5, 60, count):
        xy = np.round(rng.normal(0, 30, (length, 2)))
        pen = (rng.random(length) < 0.15).astype(float)
        lines.append(Line(np.column_stack([xy, pen]).astype(np.float32), start=(100.0, 200.0)))
    return lines


@pytest.fixture(scope="module")
def tiny(random_model):
    return random_model(TINY, seed=1)


def test_scores_every_point_from_a_zero_start(tiny):
    lines = random_lines(7)
    total_xy = total_eos = 0.0
    for line in lines:  # one line at a time, no padding: the definition spelled out
        targets = line.model_inputs()
        inputs = np.vstack([np.zeros((1, 3), np.float32), targets[:-1]])
        nll_xy, nll_eos = nll_terms(tiny.predict(inputs[None], verbose=0)[0], targets)
        total_xy += float(np.sum(nll_xy))
        total_eos += float(np.sum(nll_eos))
    points = sum(len(line.points) for line in lines)
    for batch_lines in (1, 16):
        result = evaluate(tiny, lines, EvaluateConfig(batch_lines=batch_lines))
        assert result["points"] == points and result["lines"] == 7
        assert result["nll_xy"] == pytest.approx(total_xy / points, rel=1e-5)
        assert result["nll_eos"] == pytest.approx(total_eos / points, rel=1e-5)
        assert result["nll_per_point"] == pytest.approx(result["nll_xy"] + result["nll_eos"])


def test_cli_prints_one_json_line(tiny, tmp_path, capsys):
    save_artefact(tiny, TINY, tmp_path / "model")
    write_json_lines(random_lines(3, seed=2), tmp_path / "lines")
    assert main(["--weights", str(tmp_path / "model"), "--data", str(tmp_path / "lines")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"nll_per_point", "nll_xy", "nll_eos", "points", "lines"}
    assert result["lines"] == 3
    assert result == evaluate(tiny, random_lines(3, seed=2))


@pytest.mark.parametrize("args, message", [
    (["--weights", "/nonexistent/model"], "does not exist"),
    (["--weights", "default", "--data", "/nonexistent/lines"], "no such file or folder"),
    (["--weights", "default", "--batch-lines", "0"], "at least 1"),
])
def test_cli_errors_are_one_line(args, message, capsys):
    try:
        status = main(args)
    except SystemExit as exit:  # a bad argument ends in argparse, with the same one line
        status = exit.code
    assert status == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error and error.count("\n") == 1


def test_original_weights_on_the_articles_lines(distill):
    """The check value of the issue: -1.9104 nats per point over 93,429 points."""
    from model.data import load

    result = evaluate(load_original(), load("distill"))
    assert result["points"] == 93429 and result["lines"] == 145
    assert result["nll_per_point"] == pytest.approx(-1.9104, abs=5e-4)


@pytest.mark.parametrize("models", [["--weights", "no-model"], ["--weights", "writer", "--baseline", "no-model"]])
def test_models_are_checked_before_the_data_is_fetched(models, tmp_path, monkeypatch, capsys):
    """A newcomer without the article's files and without network: the wrong model is named,
    before the data is fetched (the article's lines, here absent) and scored."""
    monkeypatch.setenv("HANDWRITING_DISTILL", str(tmp_path / "absent"))
    monkeypatch.setenv("HANDWRITING_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    assert main([*models, "--data", "distill"]) == 2
    error = capsys.readouterr().err
    assert "no-model: does not exist" in error and error.count("\n") == 1


def test_a_text_model_is_scored_on_its_held_out_lines_beside_a_baseline_and_writes(tmp_path, capsys):
    """The measures of a text-conditional model: NLL on the lines its training held out (the
    same lines for the baseline), and the recogniser's reading of its writing of their texts."""
    data = ["--data", "synthetic:12:chars=2-4", "--cells", "8", "--mixtures", "2", "--epochs", "1",
            "--val-fraction", "0.25"]
    assert train_main([*data, "--text", "--window-mixtures", "2", "--out", str(tmp_path / "writer")]) == 0
    assert train_main([*data, "--out", str(tmp_path / "baseline")]) == 0
    capsys.readouterr()
    assert main(["--weights", str(tmp_path / "writer"), "--data", "held-out", "--baseline", str(tmp_path / "baseline"),
                 "--write", "2", "--bias", "2"]) == 0
    report = json.loads(capsys.readouterr().out)
    held_out = json.loads((tmp_path / "writer" / "metrics.json").read_text())
    assert report["lines"] == report["baseline"]["lines"] == held_out["val_lines"] == 3
    assert report["points"] == held_out["val_points"]
    assert report["nll_per_point"] == pytest.approx(held_out["best_val_nll"], abs=1e-4)  # the same lines, scored again
    assert report["text_lowers_nll_by"] == pytest.approx(report["baseline"]["nll_per_point"] - report["nll_per_point"])
    written = report["written"]
    assert written["texts"] == 2 and written["bias"] == 2.0 and 0 <= written["aligned_share"] <= 1
    assert written["aligned_within"] == 1.5
    assert written["cer"] > 0.5  # an untrained writer's scribble is not read as the text
    assert set(written["cer_by_class"]) == {"lower case", "capitals", "digits", "punctuation", "space"}
    texts = held_out_lines(str(tmp_path / "writer"))[:2]
    characters = {hand: sum(len(line.text) for line in texts if hand_label(line) == hand)
                  for hand in written["cer_by_hand"]}
    assert set(characters) == {hand_label(line) for line in texts}  # each line's own font
    assert sum(written["cer_by_hand"][hand] * count for hand, count in characters.items()) == \
        pytest.approx(written["cer"] * sum(characters.values()))  # the hands' rates make up the whole
    assert written["recogniser_cer_on_the_real_lines"] < 0.2  # while the real lines are
    assert written["writings"] == 1 and written["cer_by_writing"] == [written["cer"]]

    assert main(["--weights", str(tmp_path / "writer"), "--data", "held-out", "--write", "2", "--bias", "2",
                 "--writings", "2"]) == 0
    twice = json.loads(capsys.readouterr().out)["written"]
    assert twice["writings"] == 2 and twice["cer_by_writing"][0] == written["cer"]  # seed 0 first, as before
    assert twice["cer"] == pytest.approx(sum(twice["cer_by_writing"]) / 2)  # the same texts each time
    writer = load_writer(str(tmp_path / "writer"))
    first, second = (written_in(writer, ["ab"], [None], 2.0, seed=seed)[0].line.points for seed in (0, 1))
    assert not np.array_equal(first, second)  # the second writing is another draw

    assert main(["--weights", str(tmp_path / "writer"), "--data", "held-out", "--export", "uint8", "--write", "1"]) == 0
    as_the_page_has_it = json.loads(capsys.readouterr().out)
    assert as_the_page_has_it["export"] == "uint8" and as_the_page_has_it["written"]["texts"] == 1
    assert as_the_page_has_it["nll_per_point"] != report["nll_per_point"]  # the stored weights, not the trained
    assert as_the_page_has_it["nll_per_point"] == pytest.approx(report["nll_per_point"], abs=0.05)


def test_write_needs_a_text_model(capsys):
    assert main(["--weights", "default", "--data", "synthetic:2", "--write", "2"]) == 2
    assert "unconditional" in capsys.readouterr().err


class CopyingWriter:
    """Stands in for a writer: "writes" each text as a corpus line, after a prime in the hand
    `hand_of_writing` says, else in the hand it is told (a writer with `hands`)."""

    def __init__(self, hand_of_writing, corpus, hands=()):
        self.hand_of_writing = hand_of_writing
        self.corpus = corpus
        self.hands = list(hands)

    def write(self, texts, config, prime):
        assert all(text for text in texts) and (prime is None or len(prime) == len(texts))
        assert (prime is None) == (config.hand is not None), "told a hand, or primed"
        by_hand = {hand: [line for line in self.corpus if hand_of(line) == hand] for hand in map(hand_of, self.corpus)}
        hands = [self.hand_of_writing(one) for one in prime] if prime else [config.hand] * len(texts)
        return [Written(by_hand[hand][row], True, len(by_hand[hand][row].points)) for row, hand in enumerate(hands)]


@pytest.fixture(scope="module")
def corpus():
    return synthesize(240, 7), synthesize(60, 3)


@pytest.mark.parametrize("keeps_the_hand", [True, False])
def test_hands_rows_are_the_primes_hands_columns_what_the_writing_shows(keeps_the_hand, corpus):
    writings, lines = corpus
    hands = sorted({hand_of(line) for line in lines})
    one_hand = "timesi"  # the most distinct: the joined hands, alike, pass for one another
    writer = CopyingWriter(hand_of if keeps_the_hand else (lambda prime: one_hand), writings)
    report = measure_hands(writer, lines, per_hand=4, bias=1.0, training_lines=240)
    matrix = np.array(report["matrix"])
    assert report["hands"] == hands and report["primes"] == 4 * len(hands)
    assert (matrix.sum(axis=1) == 4).all()
    if keeps_the_hand:
        assert report["accuracy"] >= 0.6, report  # chance: 1 / hands; alike hands are confused
    else:  # every writing is in one hand: its column holds most of them, the diagonal little
        assert matrix[:, hands.index(one_hand)].sum() >= 0.75 * matrix.sum() and report["accuracy"] < 0.5, report
    assert "told" not in report, "a writer without hands is only primed"


def test_a_writer_with_hands_is_also_measured_told_each_hand(corpus):
    writings, lines = corpus
    hands = sorted({hand_of(line) for line in lines})
    writer = CopyingWriter(lambda prime: hands[0], writings, hands=hands)
    report = measure_hands(writer, lines, per_hand=4, bias=1.0, training_lines=240)
    assert report["accuracy"] < 0.5 and report["told"]["accuracy"] >= 0.6, report
    assert np.array(report["told"]["matrix"]).sum() == 4 * len(hands)


def test_a_text_is_aligned_when_it_stops_within_its_own_lines_length():
    """Measured against the held-out line of the same text, not the corpus's mean points per
    character: "TUESDAY" takes more points a character than "was" does, written or real."""
    def line(points: int, text: str) -> Line:
        return Line(np.zeros((points, 3), np.float32), text=text)

    lines = [line(300, "TUESDAY"), line(100, "was"), line(100, "was"), line(100, "was")]
    written = [Written(line(450, "TUESDAY"), stopped=True, points=450),  # 1.5 times its line: on time
               Written(line(151, "was"), stopped=True, points=151),  # too long
               Written(line(90, "was"), stopped=False, points=90),  # cut off: never stopped
               Written(line(60, "was"), stopped=True, points=60)]
    assert aligned_share(written, lines) == 0.5
