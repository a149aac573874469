"""model/train.py on a tiny real Keras model: learning, resumption after SIGKILL, the guards."""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from model.alphabet import Alphabet
from model.base import Line
from model.data import split_lines, write_json_lines
from model.evaluate import evaluate, held_out_lines
from model.synthesis import TEXT_PADDING
from model.train import FINE_TUNE_DEFAULTS, TrainConfig, line_batch, line_dataset, main, windows
from model.weights import load_model

REPO = Path(__file__).resolve().parent.parent
TINY = ["--data", "synthetic:6", "--cells", "16", "--mixtures", "3", "--seq-len", "50", "--lr", "3e-3"]


def metrics(out) -> dict:
    return json.loads((Path(out) / "metrics.json").read_text())


def one_line_error(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("train") / "run"
    assert main([*TINY, "--out", str(out), "--epochs", "3"]) == 0
    return out


def test_windows_teacher_force_and_mask_padding():
    points = np.arange(21, dtype=np.float32).reshape(7, 3) * 40
    inputs, targets = windows([Line(points)], seq_len=4)
    assert inputs.shape == (2, 4, 3) and targets.shape == (2, 4, 4)
    fed, expected = inputs.reshape(-1, 3), targets.reshape(-1, 4)
    np.testing.assert_array_equal(fed[0], [0, 0, 0])  # zero start
    np.testing.assert_array_equal(fed[1:7, :2], points[:6, :2] / 40)  # each point, then the next is due
    np.testing.assert_array_equal(expected[:7, :2], points[:, :2] / 40)
    np.testing.assert_array_equal(expected[:, 3], [1] * 7 + [0])  # the padding is masked out


def test_split_is_by_line_and_seeded():
    lines = [Line(np.full((3, 3), i, np.float32)) for i in range(20)]
    train, val = split_lines(lines, 0.25, seed=1)
    assert len(val) == 5 and len(train) == 15
    assert {id(line) for line in train}.isdisjoint(id(line) for line in val)
    assert [line.points[0, 0] for line in val] == [line.points[0, 0] for line in split_lines(lines, 0.25, seed=1)[1]]


def test_copies_of_a_line_fall_on_the_same_side_of_the_split():
    lines = [Line(np.full((3, 3), i % 10, np.float32)) for i in range(20)]  # every line twice
    for seed in range(5):
        train, val = split_lines(lines, 0.25, seed)
        assert len(train) + len(val) == 20 and len(val) >= 5
        assert {line.points[0, 0] for line in train}.isdisjoint(line.points[0, 0] for line in val)


def test_training_learns_and_writes_an_artefact(trained):
    record = metrics(trained)
    epochs = record["epochs"]
    assert [epoch["epoch"] for epoch in epochs] == [1, 2, 3]
    assert epochs[-1]["train_nll"] < epochs[0]["train_nll"] - 0.05
    assert epochs[-1]["val_nll"] < epochs[0]["val_nll"] - 0.05
    assert record["finished"] == "all epochs" and record["best_epoch"] == 3
    assert all(epoch["seconds"] > 0 for epoch in epochs) and record["val_points"] > 0
    assert record["initial_val_nll"] > epochs[-1]["val_nll"] + 0.05  # scored before the first step
    assert json.loads((trained / "train.json").read_text())["model"]["cells"] == 16
    assert sorted(path.name for path in trained.glob("epoch-*.weights.h5")) == [
        "epoch-001.weights.h5", "epoch-002.weights.h5", "epoch-003.weights.h5"]
    model, config, _ = load_model(str(trained))
    assert (config.layers, config.cells, config.mixtures) == (1, 16, 3)
    assert model.output_shape[-1] == 1 + 6 * 3


def test_a_finished_run_is_not_repeated_and_its_settings_are_kept(trained, capsys):
    before = metrics(trained)
    assert main([*TINY, "--out", str(trained), "--epochs", "3"]) == 0
    assert metrics(trained) == before
    assert main([*TINY, "--out", str(trained), "--epochs", "3", "--seed", "5"]) == 2
    assert "seed 0 -> 5" in one_line_error(capsys)


def test_publish_writes_a_small_float16_copy(trained, tmp_path):
    published = tmp_path / "published"
    assert main([*TINY, "--out", str(trained), "--epochs", "3", "--publish", str(published)]) == 0
    assert not list(published.glob("epoch-*")) and metrics(published) == metrics(trained)
    stored = []
    with h5py.File(published / "weights.h5", "r") as weights:
        weights.visititems(lambda name, item: stored.append(item.dtype) if isinstance(item, h5py.Dataset) else None)
    assert stored and set(stored) == {np.dtype(np.float16)}
    full, small = load_model(str(trained))[0], load_model(str(published))[0]
    points = np.random.default_rng(0).normal(size=(1, 40, 3)).astype(np.float32)
    np.testing.assert_allclose(small(points), full(points), atol=2e-3)


def wait_for_checkpoint(process: subprocess.Popen, path: Path) -> None:
    deadline = time.monotonic() + 900  # a safety net for a stuck run, far above a busy machine's minute
    while not path.exists():
        assert process.poll() is None and time.monotonic() < deadline, f"training did not get to {path.name}"
        time.sleep(0.05)


def test_sigkill_mid_run_then_the_same_command_resumes(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "model.train", *TINY, "--out", str(out), "--epochs", "40"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_checkpoint(process, out / "epoch-002.weights.h5")  # exists only after epoch 1 was backed up
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    killed = metrics(out)
    assert not (out / "weights.h5").exists()

    # The same arguments (a shorter --epochs is allowed) continue after the last backed-up epoch.
    assert main([*TINY, "--out", str(out), "--epochs", str(killed["epochs"][-1]["epoch"] + 2)]) == 0
    resumed = metrics(out)
    assert resumed["starts"][0] == 1 and resumed["starts"][-1] >= 2
    assert resumed["epochs"][0] == killed["epochs"][0]  # epoch 1 was not trained again
    assert [epoch["epoch"] for epoch in resumed["epochs"]] == list(range(1, len(resumed["epochs"]) + 1))
    assert (out / "weights.h5").exists() and resumed["finished"]


def test_ctrl_c_ends_in_one_line_that_says_how_to_resume(tmp_path):
    out = tmp_path / "run"
    # far more epochs and patience than a tiny model needs: it is still training when the signal comes
    command = [sys.executable, "-m", "model.train", *TINY, "--out", str(out), "--epochs", "1000", "--patience", "1000"]
    # Ctrl-C's signal, as a terminal sends it (a shell's background job starts with SIGINT ignored)
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        wait_for_checkpoint(process, out / "epoch-001.weights.h5")
    finally:
        process.send_signal(signal.SIGINT)
        stderr = process.communicate(timeout=120)[1]
    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == (f"error: interrupted; the same command resumes the run in {out} "
                                               "after its last finished epoch")


def test_a_run_that_fails_before_training_leaves_no_run_behind(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*TINY, "--data", "synthetic:1", "--out", str(out)]) == 2
    assert "at least 2" in one_line_error(capsys)
    assert not (out / "train.json").exists()
    # so the same --out takes the corrected command as a new run
    assert main([*TINY, "--out", str(out), "--epochs", "1"]) == 0
    assert json.loads((out / "train.json").read_text())["data"] == "synthetic:6"


def test_non_finite_loss_stops_with_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*TINY, "--out", str(out), "--epochs", "2", "--lr", "1e9", "--clip", "1e9"]) == 2
    assert "non-finite in epoch 1" in one_line_error(capsys)
    assert not (out / "weights.h5").exists()


def test_init_fine_tunes_from_an_artefact(trained, tmp_path, capsys):
    out = tmp_path / "tuned"
    tiny_data = TINY[:2] + TINY[6:]  # the shape comes from the init model
    assert main([*tiny_data, "--out", str(out), "--epochs", "1", "--init", str(trained)]) == 0
    assert json.loads((out / "train.json").read_text())["model"]["cells"] == 16
    # Fine-tuning starts from the trained weights: same lines, same split, the same score.
    assert metrics(out)["initial_val_nll"] == pytest.approx(metrics(trained)["best_val_nll"], abs=1e-4)
    assert metrics(out)["init"] == str(trained) and "init" not in metrics(trained)  # for the model card
    assert main([*tiny_data, "--out", str(tmp_path / "other"), "--init", str(trained), "--cells", "32"]) == 2
    assert "--init" in one_line_error(capsys)


def test_init_takes_the_fine_tuning_defaults_it_is_not_given(trained, tmp_path):
    out = tmp_path / "tuned"
    assert main(["--data", "synthetic:6", "--out", str(out), "--init", str(trained), "--epochs", "1"]) == 0
    settings = json.loads((out / "train.json").read_text())
    assert {name: settings[name] for name in FINE_TUNE_DEFAULTS} == {**FINE_TUNE_DEFAULTS, "epochs": 1}
    assert json.loads((trained / "train.json").read_text())["batch_size"] == TrainConfig().batch_size  # no --init
    # Whole lines from the zero state: the validation NLL is the score model.evaluate gives the held-out lines.
    scored = evaluate(load_model(str(out))[0], held_out_lines(str(out)))["nll_per_point"]
    assert metrics(out)["best_val_nll"] == pytest.approx(scored, abs=1e-4)


@pytest.mark.parametrize("arguments, message", [
    (["--data", "no/such/folder"], "no/such/folder"),
    (["--data", "synthetic:1"], "at least 2"),
    (["--init", "no/such/artefact"], "no/such/artefact"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, arguments, message):
    assert main([*TINY, *arguments, "--out", str(tmp_path / "run")]) == 2
    assert message in one_line_error(capsys)


def test_out_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("the author's own file")
    assert main([*TINY, "--out", str(out), "--epochs", "1"]) == 2
    assert "not a training run" in one_line_error(capsys)
    assert sorted(path.name for path in out.iterdir()) == ["notes.txt"]


TINY_TEXT = ["--text", "--data", "synthetic:8:chars=2-4", "--cells", "8", "--mixtures", "2", "--window-mixtures", "2"]


def test_text_batches_are_whole_lines_with_their_codes():
    alphabet = Alphabet.default()
    lines = [Line(np.ones((n, 3), np.float32) * 40, text=text) for n, text in ((5, "ab"), (3, "xyz"), (9, "q"))]
    (inputs, codes), targets = line_batch(lines[:2], alphabet)
    assert inputs.shape == (2, 5, 3) and targets.shape == (2, 5, 4)
    np.testing.assert_array_equal(inputs[:, 0], 0)  # zero start: the window starts at the first character
    np.testing.assert_array_equal(targets[:, :, 3], [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    np.testing.assert_array_equal(codes, [[*alphabet.encode("ab"), TEXT_PADDING], alphabet.encode("xyz")])
    batches = list(line_dataset(lines, alphabet, batch_size=2, shuffle_seed=0).as_numpy_iterator())
    assert sorted(batch[1].shape[1] for batch in batches) == [5, 9]  # grouped by length: (3, 5), (9,)


def test_text_training_writes_a_model_that_writes(tmp_path):
    out = tmp_path / "writer"
    assert main([*TINY_TEXT, "--out", str(out), "--epochs", "1", "--publish", str(tmp_path / "published")]) == 0
    model, config, _ = load_model(str(tmp_path / "published"))
    assert config.conditional and config.alphabet_size == Alphabet.default().size
    assert Alphabet.load(tmp_path / "published") == Alphabet.default()
    assert metrics(out)["points_per_character"] > 10 and metrics(out)["unknown_characters"] == 0
    assert model.input_shape == [(None, None, 3), (None, None)]


def test_text_training_needs_texts_and_a_text_model_to_start_from(trained, tmp_path, capsys):
    lines = tmp_path / "lines"
    points = np.tile(np.array([[40, 0, 0]], np.float32), (30, 1))
    write_json_lines([Line(points) for _ in range(3)], lines)
    assert main([*TINY_TEXT, "--data", str(lines), "--out", str(tmp_path / "a")]) == 2
    assert "3 of 3 lines" in one_line_error(capsys)
    assert main([*TINY_TEXT, "--init", str(trained), "--out", str(tmp_path / "b")]) == 2
    assert "--text only with a model trained with it" in one_line_error(capsys)


def test_the_training_loss_is_both_terms_of_the_nll_over_real_points(random_model, textbook_nll):
    """The loss Keras minimises and the three logged metrics, on a fixed batch with padding,
    against Graves's eq. 26 transcribed in NumPy: the xy term and the pen-lift term, each
    averaged over the real points only (the loss going down would not notice a term missing)."""
    from model.network import ModelConfig
    from model.train import compile_for_training, masked_nll

    lines = [Line(np.column_stack([np.random.default_rng(seed).normal(0, 20, (n, 2)),
                                   np.arange(n) % 7 == 6]).astype(np.float32)) for seed, n in [(1, 70), (2, 45)]]
    inputs, targets = windows(lines, seq_len=30)  # 70 + 45 points in 5 windows of 30: 35 padded
    model = compile_for_training(random_model(ModelConfig(layers=1, cells=8, mixtures=3), seed=2),
                                 TrainConfig(model=ModelConfig(layers=1, cells=8, mixtures=3)))
    nll_xy, nll_eos = textbook_nll(model.predict(inputs, verbose=0), targets[..., :3])
    real = targets[..., 3] == 1
    assert real.sum() == 115 and (~real).sum() == 35
    expected = {"nll_xy": nll_xy[real].mean(), "nll_eos": nll_eos[real].mean()}
    expected["nll"] = expected["loss"] = expected["nll_xy"] + expected["nll_eos"]
    assert expected["nll_eos"] > 0.1 and abs(expected["nll_xy"]) > 0.1  # both terms weigh
    got = model.evaluate(inputs, targets, batch_size=len(inputs), verbose=0, return_dict=True)
    assert got == pytest.approx(expected, rel=1e-4)
    assert float(masked_nll(targets, model(inputs))) == pytest.approx(expected["loss"], rel=1e-4)
