"""model/train.py on a tiny real Keras model: learning, resumption after SIGKILL, the guards."""
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from model.alphabet import Alphabet
from model.base import Line, locked
from model.batches import HAND_DROPOUT, hand_codes, line_batch, line_dataset, windows
from model.corpus import FONT_KINDS
from model.data import split_lines, write_json_lines
from model.evaluate import evaluate, held_out_lines
from model.export import export_tfjs, on_grid, read_exported
from model.network import ModelConfig, keras
from model.text_network import NO_HAND, TEXT_PADDING
from model.train import FINE_TUNE_DEFAULTS, OnThePageGrid, TrainConfig, main, publish
from model.weights import build_network, load_model, pretrained

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


def test_hand_codes_name_each_lines_hand_and_training_drops_a_share():
    hands = ["scripts", "timesi"]
    lines = [Line(np.ones((4, 3), np.float32) * 40, text="ab", meta={"writer": {"font": font}})
             for font in ("timesi", "scripts", "futural")] + [Line(np.ones((4, 3), np.float32) * 40, text="ab")]
    np.testing.assert_array_equal(hand_codes(lines, hands), [1, 0, NO_HAND, NO_HAND])
    (_, _, codes), _ = line_batch(lines, Alphabet.default(), hands)
    np.testing.assert_array_equal(codes, [1, 0, NO_HAND, NO_HAND])
    many = lines[:2] * 500
    dropped = hand_codes(many, hands, HAND_DROPOUT, np.random.default_rng(0))
    assert abs(np.mean(dropped == NO_HAND) - HAND_DROPOUT) < 0.05
    assert set(dropped[dropped != NO_HAND]) == {0, 1} and (dropped[::2] != 0).all()


def test_input_noise_moves_the_offsets_read_in_training_never_the_targets(tmp_path, capsys):
    lines = [Line(np.ones((400, 3), np.float32) * [40, -40, 0], text="ab") for _ in range(4)]
    (clean, _), clean_targets = line_batch(lines, Alphabet.default(), rng=np.random.default_rng(0))
    (noisy, _), targets = line_batch(lines, Alphabet.default(), rng=np.random.default_rng(0), input_noise=0.1)
    np.testing.assert_array_equal(targets, clean_targets)
    np.testing.assert_array_equal(noisy[..., 2], clean[..., 2])  # the pen is never moved
    assert np.std(noisy[..., :2] - clean[..., :2]) == pytest.approx(0.1, rel=0.05)
    (unmoved, _), _ = line_batch(lines, Alphabet.default(), input_noise=0.1)  # no rng: validation, scoring
    np.testing.assert_array_equal(unmoved, clean)
    out = tmp_path / "noisy"
    assert main([*TINY_TEXT, "--input-noise", "0.1", "--jump-weight", "2", "--out", str(out), "--epochs", "1"]) == 0
    settings = json.loads((out / "train.json").read_text())
    assert (settings["input_noise"], settings["jump_weight"]) == (0.1, 2.0)
    assert main(["--data", "synthetic:8", "--cells", "8", "--input-noise", "0.1", "--out", str(tmp_path / "cut")]) == 2
    assert "--input-noise: give --seq-len 0" in one_line_error(capsys)


def test_hands_grow_a_text_model_that_writes_as_before_until_trained(tmp_path, capsys):
    """--hands on a model trained without: zero weights for the new inputs, so the validation
    NLL before any step (an lr too small to move it) is the init model's."""
    before = tmp_path / "before"
    assert main([*TINY_TEXT, "--out", str(before), "--epochs", "1"]) == 0
    after = tmp_path / "after"
    assert main(["--init", str(before), "--hands", "--data", "synthetic:8:chars=2-4", "--out", str(after),
                 "--epochs", "1", "--lr", "1e-30"]) == 0
    model, config, _ = load_model(str(after))
    assert config.hands == list(FONT_KINDS) and model.input_shape[-1] == (None,)
    assert metrics(after)["epochs"][0]["val_nll"] == pytest.approx(metrics(before)["epochs"][0]["val_nll"], abs=1e-5)
    assert sum(metrics(after)["hands"].values()) == 8
    assert main(["--hands", "--data", "synthetic:8:chars=2-4", "--out", str(tmp_path / "no-text")]) == 2
    assert "give --text too" in one_line_error(capsys)


def test_page_grid_trains_the_model_its_uint8_copy_gives_back(tmp_path, capsys):
    """--page-grid: the trained kernels are on the export's grid, so the page's copy is the model;
    trained without it, they are not."""
    gridded, plain = tmp_path / "on-grid", tmp_path / "off-grid"
    for out, flags in ((gridded, ["--page-grid"]), (plain, [])):
        assert main([*TINY_TEXT, *flags, "--out", str(out), "--epochs", "2", "--lr", "3e-3"]) == 0
    assert json.loads((gridded / "train.json").read_text())["page_grid"] is True
    # From --init, the kernels start as the init model's copy (an lr too small to move them), up to
    # the grid's ends moved to float16 numbers: within a small part of a step
    from_copy = tmp_path / "from-copy"
    assert main([*TINY_TEXT[1:], "--init", str(plain), "--page-grid", "--out", str(from_copy), "--epochs", "1",
                 "--lr", "1e-30"]) == 0
    copies = {}
    for out, matches in ((gridded, True), (plain, False), (from_copy, True)):
        model = pretrained(str(out)).model
        export_tfjs(model, tmp_path / out.name / "web", "uint8", alphabet=Alphabet.default())
        copies[out.name] = read_exported(tmp_path / out.name / "web")
        farthest = max(np.abs(copies[out.name][weight.name.split(":")[0]] - weight.numpy()).max()
                       for weight in model.weights)
        assert (farthest < 1e-5) == matches, farthest
    for name, weight in copies["off-grid"].items():
        step = (weight.max() - weight.min()) / 255
        assert np.abs(copies["from-copy"][name] - weight).max() < step / 8, name
    # Published in float16, the on-grid model still exports to the numbers it was trained with
    publish(gridded, tmp_path / "published", name="on grid")
    export_tfjs(pretrained(str(tmp_path / "published")).model, tmp_path / "published-web", "uint8",
                alphabet=Alphabet.default())
    trained = {weight.name.split(":")[0]: weight.numpy() for weight in pretrained(str(gridded)).model.weights}
    for name, weight in read_exported(tmp_path / "published-web").items():
        if name.endswith("kernel"):
            np.testing.assert_allclose(weight, trained[name], rtol=0, atol=1e-6, err_msg=name)
    assert main([*TINY, "--page-grid", "--out", str(tmp_path / "unconditional")]) == 2
    assert "--page-grid: give --text too" in one_line_error(capsys)


def test_page_grid_starts_from_the_weights_a_resumed_run_restores():
    """BackupAndRestore sets a resumed run's weights after the callbacks' on_train_begin: the
    shadow is taken at the first batch, from them."""
    model = build_network(ModelConfig(cells=8, mixtures=2, window_mixtures=2, alphabet_size=Alphabet.default().size))
    grid = OnThePageGrid()
    grid.set_model(model)
    grid.on_train_begin()
    restored = [weight * 0.5 for weight in model.get_weights()]
    model.set_weights(restored)
    grid.on_train_batch_begin(0)
    grid.on_train_batch_end(0)
    restored_by_name = {weight.name: value for weight, value in zip(model.weights, restored)}
    assert len(grid.kernels) == 4  # the window's, the head's, the LSTM's two
    for (kernel, kind), shadow in zip(grid.kernels, grid.shadows):
        np.testing.assert_array_equal(shadow, restored_by_name[kernel.name])
        np.testing.assert_array_equal(kernel.numpy(), on_grid(shadow, **kind))


def test_hands_need_lines_in_a_known_hand(tmp_path, capsys):
    lines = tmp_path / "lines"
    write_json_lines([Line(np.tile(np.array([[40, 0, 0]], np.float32), (30 + n, 1)), text="ab") for n in range(3)],
                     lines)
    assert main([*TINY_TEXT, "--hands", "--data", str(lines), "--out", str(tmp_path / "out")]) == 2
    assert "no line of" in one_line_error(capsys)
    assert not (tmp_path / "out" / "train.json").exists()


# --- a run knows its data and its folder; what --publish writes ---------------------------------


def tiny_lines(folder: Path, seed: int) -> Path:
    lines = [Line(np.random.default_rng([seed, index]).normal(0, 20, (60, 3)).astype(np.float32) * [1, 1, 0]
                  + [0, 0, 0]) for index in range(6)]
    for line in lines:
        line.points[9::10, 2] = 1
    write_json_lines(lines, folder)
    return folder


def test_other_lines_under_the_same_name_are_another_run(tmp_path, capsys):
    lines = tiny_lines(tmp_path / "lines", seed=1)
    arguments = [*TINY, "--data", str(lines), "--out", str(tmp_path / "run"), "--epochs", "1"]
    assert main(arguments) == 0
    shutil.rmtree(lines)
    tiny_lines(lines, seed=2)  # the author's real lines, converted into the demo's folder
    assert main(arguments) == 2
    assert "other lines" in one_line_error(capsys)


def test_raising_epochs_continues_a_finished_run(trained, tmp_path):
    run = shutil.copytree(trained, tmp_path / "run")
    assert main([*TINY, "--out", str(run), "--epochs", "4"]) == 0
    record, before = metrics(run), metrics(trained)
    assert [epoch["epoch"] for epoch in record["epochs"]] == [1, 2, 3, 4]
    assert record["epochs"][:3] == before["epochs"] and record["finished"] == "all epochs"
    assert record["initial_val_nll"] == before["initial_val_nll"]
    # it went on from epoch 3's weights, not from scratch
    assert record["epochs"][3]["val_nll"] < before["epochs"][0]["val_nll"]
    assert json.loads((run / "train.json").read_text())["epochs"] == 4


def test_a_second_run_into_the_same_out_stops_at_once(tmp_path, capsys):
    out = tmp_path / "run"
    with locked(out, "held"):  # what a first model.train holds while it trains (model.base.locked)
        assert main([*TINY, "--out", str(out), "--epochs", "1"]) == 2
    assert "another model.train is training into this folder" in one_line_error(capsys)
    assert not out.exists()


@pytest.mark.parametrize("damaged", ["metrics.json", "train.json", "about.json", "config.json"])
def test_a_truncated_json_file_is_mended_or_named(trained, tmp_path, capsys, damaged):
    run = shutil.copytree(trained, tmp_path / "run")
    text = (run / damaged).read_text()
    (run / damaged).write_text(text[:len(text) // 2])
    code = main([*TINY, "--out", str(run), "--epochs", "3"])
    if damaged in ("metrics.json", "train.json"):  # what the run is, or where it stands: the author decides
        assert code == 2
        error = one_line_error(capsys)
        assert str(run / damaged) in error and "delete" in error
    else:  # written again from the finished run
        assert code == 0 and (run / damaged).read_text() == text
        load_model(str(run))


def published_files(folder: Path) -> dict:
    return {path.name: path.read_text() for path in folder.iterdir() if path.suffix == ".json"}


def test_publish_names_no_local_path_and_keeps_what_the_author_set(tmp_path):
    lines = tiny_lines(tmp_path / "my lines", seed=1)
    run, published = tmp_path / "runs" / "mine", tmp_path / "models" / "mine"
    command = [*TINY, "--data", str(lines), "--out", str(run), "--epochs", "1", "--publish", str(published)]
    assert main(command) == 0
    files = published_files(published)
    assert sorted(files) == ["about.json", "config.json", "metrics.json", "publication.json", "train.json"]
    assert not [name for name, text in files.items() if str(tmp_path) in text]
    assert json.loads(files["train.json"])["data"] == "my lines"
    about = json.loads(files["about.json"])
    assert about == {"name": "mine", "source": "model.train on my lines", "credit": ""}
    (published / "about.json").write_text(json.dumps({**about, "name": "My hand", "credit": "Ada",
                                                      "licence": "CC-BY 4.0"}))
    assert main(command) == 0  # a rerun keeps what the author wrote
    assert json.loads((published / "about.json").read_text()) == {
        "name": "My hand", "source": "model.train on my lines", "credit": "Ada", "licence": "CC-BY 4.0"}
    assert main([*command, "--credit", "Ada Lovelace"]) == 0
    assert json.loads((published / "about.json").read_text())["credit"] == "Ada Lovelace"
    assert load_model(str(published))[2]["name"] == "My hand"


def test_publish_writes_only_into_an_empty_folder_or_its_own_publication(trained, tmp_path, capsys):
    someone = tmp_path / "someone"
    someone.mkdir()
    (someone / "thesis.tex").write_text("years of work")
    arguments = [*TINY, "--out", str(trained), "--epochs", "3"]
    assert main([*arguments, "--publish", str(someone)]) == 2
    assert "not a publication" in one_line_error(capsys)
    assert [path.name for path in someone.iterdir()] == ["thesis.tex"]
    other = tmp_path / "other"
    other_run = [*TINY, "--out", str(tmp_path / "other-run"), "--epochs", "1", "--seed", "1"]
    assert main([*other_run, "--publish", str(other)]) == 0
    capsys.readouterr()
    before = published_files(other)
    assert main([*arguments, "--publish", str(other)]) == 2
    assert "another run" in one_line_error(capsys)
    assert published_files(other) == before


def test_a_publication_that_fails_keeps_the_earlier_one(trained, tmp_path, capsys, monkeypatch):
    published = tmp_path / "published"
    arguments = [*TINY, "--out", str(trained), "--epochs", "3", "--publish", str(published)]
    assert main(arguments) == 0
    capsys.readouterr()
    before = published_files(published)

    def full_disk(*args, **kwargs):  # a full disk simulated: no root, no small tmpfs here
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(shutil, "copyfile", full_disk)
    assert main(arguments) == 2
    error = one_line_error(capsys)
    assert str(published) in error and "No space left" in error and "kept" in error
    assert published_files(published) == before
    assert [path.name for path in tmp_path.iterdir()] == ["published"]


def test_a_disk_that_fills_as_an_epoch_ends_keeps_the_epochs_before(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    save_weights = keras.Model.save_weights

    def full_at_epoch_2(model, path, *args, **kwargs):  # a full disk simulated: no root, no small tmpfs here
        if str(path).endswith("epoch-002.weights.h5"):
            Path(path).write_bytes(b"\x89HDF")  # half written
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return save_weights(model, path, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "save_weights", full_at_epoch_2)
    assert main([*TINY, "--out", str(out), "--epochs", "3"]) == 2  # was h5py's report, over two lines
    assert one_line_error(capsys) == (f"error: {out}: cannot write (No space left on device); the epochs before are "
                                      "kept: free some space or choose another place, then run the command again")
    assert [epoch["epoch"] for epoch in metrics(out)["epochs"]] == [1] and not (out / "epoch-002.weights.h5").exists()
    monkeypatch.undo()  # the space freed: the same command goes on
    assert main([*TINY, "--out", str(out), "--epochs", "3"]) == 0
    assert [epoch["epoch"] for epoch in metrics(out)["epochs"]] == [1, 2, 3]


def test_a_half_written_file_of_a_killed_first_run_is_no_ones(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / ".train.json.4242.partial").write_text('{"data": "synth')  # killed while train.json was written
    assert main([*TINY, "--out", str(out), "--epochs", "1"]) == 0


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
    y = model(inputs)
    assert float(masked_nll()(targets, y)) == pytest.approx(expected["loss"], rel=1e-4)
    # --jump-weight 3: the offset of each point after a pen lift counts three times (window
    # edges aside: a window's first point is never a jump)
    jumps = np.zeros_like(real)
    jumps[:, 1:] = targets[:, :-1, 2] == 1
    assert (jumps & real).sum() > 10
    weighted = (nll_xy * np.where(jumps, 3.0, 1.0) + nll_eos)[real].mean()
    assert abs(weighted - expected["loss"]) > 0.1
    assert float(masked_nll(3.0)(targets, y)) == pytest.approx(weighted, rel=1e-4)
