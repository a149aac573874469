"""TensorFlow.js export: the files load in real TF.js in headless Chromium and agree with Keras."""
import json
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from generator import assets
from model.alphabet import Alphabet
from model.base import MODEL_UNIT, REPO_ROOT
from model.data import load
from model.export import (
    COLUMN_KERNELS,
    HEAD_KERNEL,
    ExportConfig,
    export_tfjs,
    input_moments,
    main,
    read_exported,
    rounded_codes,
    set_exported_weights,
    tensor_range,
)
from model.network import ModelConfig, keras, tf
from model.text_network import build_synthesis_model
from model.weights import load_model, save_artefact
from model.write import GIVE_UP_POINTS_PER_CHARACTER, READ_HAND_POINTS

TINY = ModelConfig(layers=2, cells=16, mixtures=3)
TFJS = REPO_ROOT / "node_modules" / "@tensorflow" / "tfjs" / "dist" / "tf.min.js"
PAGE = "<!doctype html><meta charset=utf-8><link rel=icon href='data:,'><script src=tf.min.js></script>"

PREDICT = """async ([url, input]) => {
    await tf.setBackend('cpu');
    const model = await tf.loadLayersModel(url);
    const y = model.predict(tf.tensor3d([input]));
    return {shape: y.shape, values: Array.from(await y.data())};
}"""


@pytest.fixture(scope="module")
def tiny(random_model):
    return random_model(TINY, seed=2)


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(3)
    return np.column_stack([rng.normal(0, 1, (40, 2)), rng.random(40) < 0.1]).astype(np.float32)


def tfjs_page(folder):
    """`folder` made servable: the page with TF.js."""
    if not TFJS.is_file():
        pytest.skip(f"{TFJS} missing: run npm ci")
    shutil.copy(TFJS, folder / "tf.min.js")
    (folder / "index.html").write_text(PAGE)
    return folder


@pytest.fixture(scope="module")
def site(tmp_path_factory, tiny):
    """A served folder: the page with TF.js, and one export per storage type."""
    folder = tfjs_page(tmp_path_factory.mktemp("tfjs"))
    for quantize in (None, "float16", "uint8"):
        export_tfjs(tiny, folder / str(quantize), quantize)
    return folder


def predict_in_browser(page, serve, site, quantize, inputs):
    base = serve(site)
    page.goto(base + "index.html")
    result = page.evaluate(PREDICT, [f"{base}{quantize}/model.json", inputs.tolist()])
    assert page.console_errors == [] and page.foreign_requests == []
    return np.array(result["values"]).reshape(result["shape"])


def test_float32_export_matches_keras_in_tfjs(page, serve, site, tiny, inputs):
    expected = tiny.predict(inputs[None], verbose=0)
    ours = predict_in_browser(page, serve, site, None, inputs)
    assert ours.shape == expected.shape == (1, 40, TINY.outputs)
    print("float32 max abs error vs Keras:", np.abs(ours - expected).max())
    assert np.abs(ours - expected).max() < 1e-4


def test_a_trained_model_exports_and_matches_in_tfjs(page, serve, tiny_artefact, inputs, tmp_path):
    """The whole path: trained by model.train, loaded as an artefact, exported, run in TF.js."""
    model, _, _ = load_model(str(tiny_artefact))
    folder = tfjs_page(tmp_path)
    export_tfjs(model, folder / "None")
    expected = model.predict(inputs[None], verbose=0)
    ours = predict_in_browser(page, serve, folder, None, inputs)
    assert np.abs(ours - expected).max() < 1e-4


def stored_types(folder) -> dict:
    """{manifest entry: its quantisation dtype, None if float32} of an export."""
    manifest = json.loads((folder / "model.json").read_text())["weightsManifest"][0]
    return {weight["name"]: weight.get("quantization", {}).get("dtype") for weight in manifest["weights"]}


def test_float16_export_loads_in_tfjs_and_stays_close(page, serve, site, tiny, inputs):
    expected = tiny.predict(inputs[None], verbose=0)
    error = np.abs(predict_in_browser(page, serve, site, "float16", inputs) - expected).max()
    print("float16 max abs error vs Keras:", error)
    assert 0 < error < 0.005  # changed by the rounding, but not much
    stored = stored_types(site / "float16")
    assert {name for name, dtype in stored.items() if dtype == "float16"} == {
        name for name in stored if name.endswith("kernel")}
    assert {dtype for name, dtype in stored.items() if name.endswith("bias")} == {None}


def test_uint8_export_rounds_each_kernel_within_half_a_step(site, tiny, inputs):
    """uint8 per tensor, the head's kernel per column: each weight within half of its range's step."""
    arrays = read_exported(site / "uint8")
    assert sorted(arrays) == sorted(weight.name.split(":")[0] for weight in tiny.weights)
    for weight in tiny.weights:
        name, original = weight.name.split(":")[0], weight.numpy()
        if original.ndim == 1:
            np.testing.assert_array_equal(arrays[name], original)  # biases stay float32
            continue
        over = 0 if name in COLUMN_KERNELS else None
        half_step = (original.max(axis=over) - original.min(axis=over)) / 255 / 2
        assert np.all(np.abs(arrays[name] - original) <= half_step * 1.001 + 1e-7), name
    stored = stored_types(site / "uint8")
    assert {name for name, dtype in stored.items() if dtype == "uint8"} == {
        "lstm_0/lstm_cell/kernel", "lstm_0/lstm_cell/recurrent_kernel", "lstm_1/lstm_cell/kernel",
        "lstm_1/lstm_cell/recurrent_kernel", f"{HEAD_KERNEL}/codes"}
    assert {dtype for name, dtype in stored.items() if name.endswith(("bias", "min", "step"))} == {None}
    rebuilt = keras.models.clone_model(tiny)
    set_exported_weights(rebuilt, site / "uint8")
    error = np.abs(rebuilt.predict(inputs[None], verbose=0) - tiny.predict(inputs[None], verbose=0)).max()
    assert 0 < error < 0.05


def test_export_is_deterministic_and_sized(tiny, tmp_path):
    first = export_tfjs(tiny, tmp_path / "a", "uint8")
    second = export_tfjs(tiny, tmp_path / "b", "uint8")
    assert [path.name for path in first] == [path.name for path in second]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second))
    kernels = sum(w.size for w in tiny.get_weights() if w.ndim == 2)
    biases = sum(w.size for w in tiny.get_weights() if w.ndim == 1)
    shard_bytes = sum(path.stat().st_size for path in first if path.suffix == ".bin")
    head_columns = tiny.get_layer("mixture").units
    # one byte per kernel weight; float32 biases and the head's columns' ranges (min and step)
    assert shard_bytes == kernels + 4 * biases + 2 * 4 * head_columns
    metadata = json.loads(first[0].read_text())["userDefinedMetadata"]
    assert metadata["model"] == {"layers": 2, "cells": 16, "mixtures": 3, "window_mixtures": 0, "alphabet_size": 0,
                                 "hands": []}
    # what the page's model reads instead of repeating it (test_handwriting_js.py, test_writer_js.py)
    assert metadata["model_unit"] == MODEL_UNIT and metadata["start_point"] == [0, 0, 0]


def test_a_new_export_leaves_no_stale_shards(tiny, tmp_path):
    assert len(export_tfjs(tiny, tmp_path, config=ExportConfig(shard_bytes=4096))) > 3
    written = export_tfjs(tiny, tmp_path)
    assert len(written) == 3
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(path.name for path in written)


def test_cli(tiny, tmp_path, capsys):
    save_artefact(tiny, TINY, tmp_path / "model")
    assert main(["--weights", str(tmp_path / "model"), "--out", str(tmp_path / "web"), "--quantize", "uint8"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["files"][0] == "model.json" and (tmp_path / "web" / "model.json").is_file()
    assert main(["--weights", str(tmp_path / "nothing"), "--out", str(tmp_path / "web2")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1


def test_an_export_that_fails_leaves_the_earlier_one_or_no_folder(tiny, tmp_path, monkeypatch, capsys):
    save_artefact(tiny, TINY, tmp_path / "model")
    web = tmp_path / "my web"
    assert main(["--weights", str(tmp_path / "model"), "--out", str(web)]) == 0
    before = {path.name: path.read_bytes() for path in web.iterdir()}
    capsys.readouterr()
    import tensorflowjs

    def full_disk(*args, **kwargs):  # as tf.io.gfile, which tensorflowjs writes with, reports it
        (Path(args[1]) / "group1-shard1of1.bin").write_bytes(b"half")
        raise tf.errors.ResourceExhaustedError(None, None, f"{args[1]}/group1-shard1of1.bin; No space left on device")

    monkeypatch.setattr(tensorflowjs.write_weights, "write_weights", full_disk)
    assert main(["--weights", str(tmp_path / "model"), "--out", str(web), "--quantize", "uint8"]) == 2
    assert capsys.readouterr().err == (f"error: {web}: cannot write (No space left on device); the earlier one is "
                                       "kept: free some space or choose another place, then run the command again\n")
    assert {path.name: path.read_bytes() for path in web.iterdir()} == before  # no hidden folder left either
    assert main(["--weights", str(tmp_path / "model"), "--out", str(tmp_path / "new parent" / "web")]) == 2
    assert "; nothing was written: free some space" in capsys.readouterr().err
    assert not (tmp_path / "new parent").exists()
    (tmp_path / "notes").write_text("a file")
    assert main(["--weights", str(tmp_path / "model"), "--out", str(tmp_path / "notes" / "web")]) == 2
    assert capsys.readouterr().err == (f"error: {tmp_path / 'notes' / 'web'}: cannot write ({tmp_path / 'notes'} is a "
                                       "file, not a folder); nothing was written: choose another place, then run the "
                                       "command again\n")


@pytest.fixture(scope="module")
def writer_export(tmp_path_factory):
    """A tiny text-conditional model and its exports (float32 and uint8), weights only."""
    config = ModelConfig(layers=1, cells=8, mixtures=2, window_mixtures=2, alphabet_size=Alphabet.default().size)
    keras.utils.set_random_seed(4)
    model = build_synthesis_model(config)
    folder = tfjs_page(tmp_path_factory.mktemp("writer"))
    for quantize in (None, "uint8"):
        export_tfjs(model, folder / str(quantize), quantize, alphabet=Alphabet.default())
    return model, config, folder


def test_a_text_model_exports_its_weights_and_window_settings(writer_export):
    model, config, folder = writer_export
    document = json.loads((folder / "None" / "model.json").read_text())
    metadata = document["userDefinedMetadata"]
    assert document["format"] == "weights-only" and metadata["model"] == asdict(config)
    assert metadata["alphabet"]["chars"] == Alphabet.default().chars and metadata["text_padding"] == -1
    assert metadata["give_up_points_per_character"] == GIVE_UP_POINTS_PER_CHARACTER
    assert metadata["read_hand_points"] == READ_HAND_POINTS
    assert metadata["start_point"] == [0, 0, 0]
    manifest = json.loads((folder / "uint8" / "model.json").read_text())["weightsManifest"][0]["weights"]
    stored = {weight["name"]: weight.get("quantization", {}).get("dtype") for weight in manifest}
    assert {name for name, dtype in stored.items() if dtype == "uint8"} == {
        "synthesis/window_cell/lstm_0/kernel/codes", "synthesis/window_cell/lstm_0/recurrent_kernel/codes",
        "synthesis/window_cell/window/kernel/codes", f"{HEAD_KERNEL}/codes"}
    points = np.random.default_rng(5).normal(0, 1, (2, 30, 3)).astype(np.float32)
    codes = np.array([Alphabet.default().encode("hello"), Alphabet.default().encode("abc\0\0")])
    codes[1, 3:] = -1
    expected = model.predict([points, codes], verbose=0)
    for quantize, tolerance in (("None", 0.0), ("uint8", 0.05)):
        arrays = read_exported(folder / quantize)
        assert sorted(arrays) == sorted(weight.name.split(":")[0] for weight in model.weights)
        rebuilt = build_synthesis_model(config)
        set_exported_weights(rebuilt, folder / quantize)
        np.testing.assert_allclose(rebuilt.predict([points, codes], verbose=0), expected, atol=tolerance)


def gptq_as_written(kernel, low, step, moments):
    """Frantar et al. 2022's equations as written (their OBQ form, no Cholesky): round row q, send
    its error to the rows left by the inverse moments' column q, then remove q from the inverse."""
    remaining, inverse = kernel.astype(np.float64).copy(), np.linalg.inv(moments + 0.01 * np.mean(np.diag(moments))
                                                                         * np.eye(len(moments)))
    codes = np.empty(kernel.shape)
    for q in range(len(kernel)):
        codes[q] = np.clip(np.round((remaining[q] - low) / step), 0, 255)
        error = (remaining[q] - (codes[q] * step + low)) / inverse[q, q]
        remaining[q + 1:] -= np.outer(inverse[q + 1:, q], error)
        inverse = inverse - np.outer(inverse[:, q], inverse[q, :]) / inverse[q, q]
    return codes


def test_rounding_with_error_feedback_is_the_papers_and_beats_rounding_to_nearest():
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(12, 12)) + np.eye(12)
    inputs = rng.normal(size=(500, 12)) @ mixing  # inputs that go together, as an LSTM's do
    kernel = rng.normal(size=(12, 40)).astype(np.float32)
    low, step = np.float32(kernel.min() - 60), np.float32(0.5)  # no weight at an end of the grid
    moments = inputs.T @ inputs
    codes = rounded_codes(kernel, low, step, moments)
    np.testing.assert_array_equal(codes, gptq_as_written(kernel, low, step, moments))
    nearest = rounded_codes(kernel, low, step)
    assert np.all(np.abs(nearest * step + low - kernel) <= step / 2)
    error_of = {name: np.linalg.norm(inputs @ (found * step + low - kernel)) for name, found in
                (("feedback", codes), ("nearest", nearest))}
    assert error_of["feedback"] < 0.85 * error_of["nearest"], error_of
    # Inputs that never go together leave nothing to spread: rounding to nearest.
    np.testing.assert_array_equal(rounded_codes(kernel, low, step, np.eye(12)), nearest)
    # A grid's ends keep their codes, so the codes span all 256 and tensorflowjs stores them exactly.
    low, step = kernel.min(), (kernel.max() - kernel.min()) / 255
    assert {0, 255} <= set(rounded_codes(kernel, low, step, moments).ravel())


def test_the_longest_tails_do_not_coarsen_a_whole_tensors_grid():
    rng = np.random.default_rng(1)
    kernel = (rng.standard_t(3, size=(89, 256)) * 0.1).astype(np.float32)  # long tails, as trained weights'

    def squared_error(low, high):
        step = (high - low) / 255
        return np.square(rounded_codes(kernel, low, step) * step + low - kernel).sum()

    low, high = tensor_range(kernel)
    assert high - low < 0.96 * (kernel.max() - kernel.min())
    assert squared_error(low, high) < 0.96 * squared_error(kernel.min(), kernel.max())
    even = rng.uniform(-1, 1, size=(80, 64)).astype(np.float32)  # no outliers: its whole range
    assert tensor_range(even) == (even.min(), even.max())


def test_a_text_models_uint8_kernels_are_rounded_for_how_its_inputs_go_together(writer_export):
    model, _, folder = writer_export
    arrays = read_exported(folder / "uint8")
    unseen = load("synthetic:8:chars=3-20:seed=11")  # not the export's calibration lines
    moments = input_moments(model, unseen, Alphabet.default())
    name = "synthesis/window_cell/lstm_0/kernel"
    pair = [name, "synthesis/window_cell/lstm_0/recurrent_kernel"]
    original = {weight.name.split(":")[0]: weight.numpy() for weight in model.weights}
    errors = np.concatenate([arrays[part] - original[part] for part in pair])
    nearest = []
    for part in pair:  # one range per tensor, its ends codes 0 and 255, on which the weights lie exactly
        low, step = arrays[part].min(), (arrays[part].max() - arrays[part].min()) / 255
        on_grid = (arrays[part] - low) / step
        np.testing.assert_allclose(on_grid, np.round(on_grid), atol=1e-3)
        nearest.append(rounded_codes(original[part], low, step) * step + low - original[part])
    error_of = {"feedback": np.trace(errors.T @ moments[name] @ errors),
                "nearest": np.trace(np.concatenate(nearest).T @ moments[name] @ np.concatenate(nearest))}
    assert error_of["feedback"] < 0.8 * error_of["nearest"], error_of


@pytest.fixture(scope="module")
def page_loader(tmp_path_factory, site, writer_export):
    """A served folder with the page's modules (assets/) and both uint8 exports."""
    folder = tmp_path_factory.mktemp("loader")
    assets.copy_vendor(folder)
    assets.copy_page_files(folder)
    (folder / "index.html").write_text(PAGE.replace("<script src=tf.min.js></script>", ""))
    shutil.copytree(site / "uint8", folder / "model")
    shutil.copytree(writer_export[2] / "uint8", folder / "writer")
    return folder


@pytest.mark.parametrize("export", ["model", "writer"])
def test_the_pages_loader_reads_the_weights_as_python_does(page, serve, page_loader, export):
    base = serve(page_loader)
    page.goto(base + "index.html")
    loaded = page.evaluate("""async (url) => {
        const {fetchExport, useBackend} = await import('./assets/js/handwriting.js');
        await useBackend('wasm');
        const {weights} = await fetchExport(url);
        const arrays = Object.entries(weights).map(([name, tensor]) => [name, Array.from(tensor.dataSync())]);
        return Object.fromEntries(arrays);
    }""", f"{base}{export}/model.json")
    assert page.console_errors == [] and page.foreign_requests == []
    arrays = read_exported(page_loader / export)
    assert HEAD_KERNEL in loaded and sorted(loaded) == sorted(arrays)
    for name, values in loaded.items():
        np.testing.assert_allclose(np.array(values, np.float32), arrays[name].ravel(), rtol=1e-6, atol=1e-7)
