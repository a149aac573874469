"""model/recognizer.py: CTC decoding and loss, the character error rate, training and the artefact."""
import errno
import json
import shutil

import numpy as np
import pytest

from model.alphabet import Alphabet
from model.base import Line, ModelError, UserError
from model.data import load
from model.network import tf
from model.recognizer import (
    RecognizerConfig,
    RecognizerTrainConfig,
    batch_inputs,
    best_path,
    character_error_rate,
    class_errors,
    class_rates,
    ctc_loss,
    edit_distance,
    fits,
    frames,
    load_recognizer,
    main,
    read_texts,
    save_recognizer,
    train,
)

ALPHABET = Alphabet.default()
TINY = RecognizerConfig(conv_layers=2, filters=8, kernel=3, lstm_layers=1, cells=8)


def path_for(text: str, blank: int, rng) -> np.ndarray:
    """A frame path CTC maps to the text: each code held 1-3 frames, blanks around and between repeats."""
    frames_ = [blank] * rng.integers(0, 3)
    codes = ALPHABET.encode(text)
    for index, code in enumerate(codes):
        if index and codes[index - 1] == code:
            frames_.append(blank)
        frames_ += [int(code)] * rng.integers(1, 4)
        frames_ += [blank] * rng.integers(0, 2)
    return np.array(frames_)


def test_best_path_decodes_any_path_of_a_text_back_to_it():
    rng = np.random.default_rng(0)
    for text in ["hello", "see all the ballooon", "a", "Mississippi, it is."]:
        for _ in range(5):
            assert ALPHABET.decode(best_path(path_for(text, TINY.blank, rng), TINY.blank)) == text
    assert best_path(np.array([TINY.blank] * 4), TINY.blank).size == 0


def test_ctc_loss_is_low_for_the_text_a_path_spells_and_high_for_another():
    rng = np.random.default_rng(1)
    path = path_for("good", TINY.blank, rng)
    logits = tf.constant(20.0 * np.eye(TINY.classes, dtype=np.float32)[path][None])
    points = len(path) * 4  # two stride-2 convolutions: four points per frame
    assert frames(points, TINY) == len(path)

    def loss(text):
        codes = ALPHABET.encode(text)[None]
        return float(ctc_loss(logits, codes, np.array([len(text)]), np.array([points]), TINY))

    assert loss("good") < 1e-3
    assert loss("god") > 10 and loss("goad") > 10


def test_fits_counts_the_blank_that_separates_repeated_letters():
    # 40 points make 10 frames through two stride-2 convolutions.
    assert fits("abcdefghij", 40, TINY) and not fits("abcdefghijk", 40, TINY)
    assert fits("aabbcdef", 40, TINY) and not fits("aabbcdefg", 40, TINY)
    assert not fits("", 40, TINY)


class Reads:
    """A recogniser that reads each line as the text stored in its meta."""

    def read(self, lines):
        return [line.meta["read"] for line in lines]


def line(text, read):
    return Line(np.zeros((4, 3), np.float32), text=text, meta={"read": read})


def test_character_error_rate_is_edit_distance_over_the_true_length():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3 and edit_distance("abc", "") == 3
    assert edit_distance("flaw", "lawn") == 2
    lines = [line("sitting", "kitten"), line("lawn", "flaw"), line("same", "same")]
    assert character_error_rate(Reads(), lines) == pytest.approx((3 + 2 + 0) / (7 + 4 + 4))
    # (line, text) pairs: what a model wrote and the text it was asked to write
    pairs = [(line("", "abd"), "abc"), (line("", "xyz"), "xyz")]
    assert character_error_rate(Reads(), pairs) == pytest.approx(1 / 6)


def test_errors_by_character_class_add_up_to_the_edit_distance():
    counts = class_errors("Helo, 3", "hello. 34")  # read, then true
    assert counts == {"lower case": [2, 5], "capitals": [0, 0], "digits": [1, 2], "punctuation": [1, 1],
                      "space": [0, 1]}
    for read, truth in [("kitten", "sitting"), ("A+B", "a & b"), ("", "Zoe's #3"), ("x?", "")]:
        assert sum(errors for errors, _ in class_errors(read, truth).values()) == edit_distance(read, truth)
    rates = class_rates(*read_texts(Reads(), [line("Ab 12!", "ab 12?"), line("cd", "cd")]))
    assert rates == {"lower case": 0.0, "capitals": 1.0, "digits": 0.0, "punctuation": 1.0, "space": 0.0}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("recognizer") / "run"
    config = RecognizerTrainConfig(data="synthetic:24", val_lines=4, test_lines=4, epochs=4, batch_size=8,
                                   lr=1e-2, patience=10)
    return out, train(config, TINY, out, log=lambda text: None)


def test_training_lowers_the_ctc_loss_and_saves_a_small_float16_artefact(trained):
    import h5py

    out, metrics = trained
    losses = [epoch["train_ctc"] for epoch in metrics["epochs"]]
    assert len(losses) == 4 and losses[-1] < 0.8 * losses[0], losses
    assert metrics["train_lines"] + metrics["val_lines"] + metrics["test_lines"] <= 24
    assert {path.name for path in out.iterdir()} == {"config.json", "train.json", "metrics.json",
                                                      "alphabet.json", "weights.h5"}
    with h5py.File(out / "weights.h5") as file:
        assert {file[name].dtype for name in file} == {np.dtype(np.float16)}
    assert json.loads((out / "metrics.json").read_text())["test_cer"] == metrics["test_cer"]


def test_a_loaded_recogniser_reads_as_the_saved_one_measured(trained):
    out, _metrics = trained
    recognizer = load_recognizer(out)
    assert recognizer.config == TINY and recognizer.alphabet == ALPHABET
    lines = load("synthetic:3")
    assert len(recognizer.read(lines)) == 3
    # a line gives the same frames alone as in a batch with longer lines (padding is masked)
    shortest = min(lines, key=lambda line: len(line.points))
    alone = recognizer.model(batch_inputs([shortest], TINY))[0]
    batched = recognizer.model(batch_inputs([shortest, *lines], TINY))[0]
    used = frames(len(shortest.points), TINY)
    np.testing.assert_allclose(alone[:used], batched[:used], atol=1e-5)


def test_cli_measures_and_fails_in_one_line(trained, tmp_path, capsys):
    out, _ = trained
    assert main(["cer", "--weights", str(out), "--data", "synthetic:2"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"cer", "lines"}
    assert main(["cer", "--weights", str(tmp_path), "--data", "synthetic:2"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error: ") and "not a recogniser" in error[0]
    assert main(["train", "--out", str(out), "--data", "synthetic:2"]) == 2
    assert "not empty" in capsys.readouterr().err


@pytest.mark.parametrize("spoil", [lambda data: data[:len(data) // 2], lambda data: b"not weights"],
                         ids=["cut short", "not HDF5"])
def test_a_damaged_recogniser_weights_file_is_one_line(trained, tmp_path, spoil):
    out, _metrics = trained
    copy = shutil.copytree(out, tmp_path / "recogniser")
    (copy / "weights.h5").write_bytes(spoil((copy / "weights.h5").read_bytes()))
    with pytest.raises(ModelError, match="damaged") as raised:
        load_recognizer(copy)
    assert "\n" not in str(raised.value) and "config" not in str(raised.value)


def test_a_full_disk_leaves_no_half_written_recogniser(trained, tmp_path, monkeypatch):
    import h5py

    recognizer = load_recognizer(trained[0])

    def full_disk(*args, **kwargs):  # as h5py reports it: errno set, a report of several lines as strerror
        raise OSError(errno.ENOSPC, "Unable to synchronously create file (file write failed: time = Mon\n"
                                    ", errno = 28, error message = 'No space left on device')")

    monkeypatch.setattr(h5py, "File", full_disk)
    with pytest.raises(UserError) as raised:
        save_recognizer(recognizer, tmp_path / "new recogniser", metrics={})
    assert str(raised.value) == (f"{tmp_path / 'new recogniser'}: cannot write (No space left on device); nothing "
                                 "was written: free some space or choose another place, then run the command again")
    assert list(tmp_path.iterdir()) == [], "config.json and alphabet.json were written before the weights failed"
