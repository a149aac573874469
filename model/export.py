"""Export a handwriting model to TensorFlow.js, so the article's page can run it.

The Keras network of model.network (Graves 2013, section 4.2) is written as a TF.js
LayersModel with the tensorflowjs package: model.json (topology and weight manifest) plus
binary weight shards. Kernels can be stored as float32, float16, or uint8 (per tensor affine,
as tensorflowjs quantises: a quarter of the size, like the original article's 8-bit file),
except the mixture head's and the text window's kernels, which uint8 stores with a range per
column (COLUMN_KERNELS). A text model's uint8 kernels are rounded with error feedback (GPTQ,
Frantar et al. 2022: see CALIBRATION), not each to its nearest code, and its LSTM kernels are
stored as codes too. The same model always gives byte-identical files on one machine, so the
site build and its cache can compare exports. tf.loadLayersModel reads the float32 and float16
exports; the uint8 one is the page's, read by its own loader (templates/js/handwriting.js
fetchExport), which joins the columns.

A text-conditional model (Graves section 5, model.text_network) has a custom window cell that no
TF.js layer implements, so it is exported as weights only: model.json holds the weights
manifest (the same shards and quantisation) and, as metadata, its ModelConfig, window settings
and alphabet; the page steps the network itself, as it does the LSTM of section 4.2.
`read_exported` reads any export back into NumPy arrays by weight name, as the page does.

    python -m model.export --weights {default|distill|FOLDER} --out site/model --quantize uint8
"""
from __future__ import annotations

import argparse
import errno
import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from model.alphabet import Alphabet
from model.base import MODEL_UNIT, ArgumentParser, Line, ModelError, cannot_write, folders_for, run_cli


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = ArgumentParser(prog="python -m model.export", description=(
        "Export a handwriting model as a TensorFlow.js LayersModel (model.json + weight shards)."))
    parser.add_argument("--weights", default="default",
                        help="default (models/default), distill (the original article's), writer (models/writer) "
                        "or an artefact folder")
    parser.add_argument("--out", required=True, help="folder to write model.json and the shards into")
    parser.add_argument("--quantize", choices=["none", "float16", "uint8"], default="none",
                        help="weight storage (default %(default)s: float32)")
    return parser.parse_args(argv)


if __name__ == "__main__":  # --help and a bad argument are answered at once, before TensorFlow's seconds below
    parse_arguments(sys.argv[1:])

from model.batches import line_batch, zero_start_batch  # noqa: E402
from model.data import load  # noqa: E402
from model.network import ModelConfig, keras, tf  # noqa: E402
from model.text_network import POINTS_PER_CHARACTER, TEXT_PADDING, one_hot_text, window_cell  # noqa: E402
from model.weights import build_network, pretrained  # noqa: E402
from model.write import FOLLOWED_NLL, GIVE_UP_POINTS_PER_CHARACTER, READ_HAND_POINTS  # noqa: E402

MODEL_JSON = "model.json"
CONFIG_FILE = "export_config.json"
SHARD_GLOB = "group*-shard*of*.bin"
QUANTIZE_CHOICES = (None, "float16", "uint8")
# Only the kernels are quantised; biases stay float32. They are a few kilobytes, and
# quantising them (the forget-gate block sits 1.0 above the rest) costs the original weights
# 0.014 nats per point in uint8, where quantising the kernels alone costs nothing measurable.
QUANTIZED_WEIGHTS = ["*kernel"]
# Under uint8 the mixture head's kernel gets a range per column. Per tensor, its widest column
# sets one step for all (in the default model the pen-lift column spans -2.8 to 2.8, the means'
# columns -1.2 to 1.3), too coarse for the means that fine handwriting needs: the page's copy of
# the default model lost 1.63 nats per point (-4.31 to -2.68 on 100 synthetic lines) and the text
# model's 2.84 (-4.40 to -1.56 on 100 held-out lines). Per column the copies lose 0.10 and 0.14
# (most of it now the LSTM's kernels), and the text model's head weighs half its float16 copy's.
# The LSTM's kernels stay per tensor: per column they would lose 0.02 instead of 0.10, but their
# codes, spread over all 256 values, gzip a third larger (+240 kB for the default model).
# The text window's kernel too: its 30 columns set each window's weight, width and step along
# the text, and per tensor they cost the writer 0.023 nats per point of its copy's 0.069 (300
# held-out lines); per column nothing measurable, for 1.1 kB more gzip.
# Stored as KERNEL/codes (uint8 codes 0-255, kept exact by tensorflowjs's quantisation at
# min 0, step 1) and the columns' float32 KERNEL/column_min and /column_step:
# kernel = codes * step + min.
HEAD_KERNEL = "mixture/kernel"
COLUMN_KERNELS = (HEAD_KERNEL, "synthesis/window_cell/window/kernel")
CODES, COLUMN_MIN, COLUMN_STEP = "codes", "column_min", "column_step"
# Under uint8 a text model's kernels are rounded with error feedback (GPTQ: Frantar et al. 2022,
# "Accurate post-training quantization for generative pre-trained transformers"), not each to its
# nearest code. Row by row (one input of the kernel at a time), each row's rounding error is
# spread over the rows still to round, as the kernel's inputs go together when the model reads
# CALIBRATION's lines (their second moments X^T X): an error that later rows can undo costs
# nothing. Its LSTM kernels are then stored as codes too, with their one range per tensor. The
# codes are as many and gzip alike (+0.3 kB for the writer); the writer's copy loses 0.027 nats
# per point where rounding to nearest lost 0.099 (stage 21 on 600 held-out lines: -3.5418 and
# -3.4696 against float32's -3.5687); 50 lines calibrate as well as 200 (-3.5416).
CALIBRATION = "synthetic:50:chars=3-50:seed=7"
# Added to the moments' diagonal, as a share of its mean, as GPTQ does: an input that never
# varies on the calibration lines (a hand none of them is in) leaves them invertible.
DAMPING = 0.01
# The grid of an LSTM's input kernel spans the range whose rounding to nearest errs least
# (squared error), chosen among its own range shrunk by these factors; the few weights beyond
# take the end codes. The kernel reads inputs of different kinds (pen offsets, the window, the
# hand), and spanning all its weights, the pen rows' (the writer's reach 2.4 where most rows stay
# within 0.9) coarsen every other weight's step. The writer's copy, on 900 held-out texts: 7.8%
# misread, 7.4% with this grid (0.88 of the range; +0.9 kB of gzip), float32 7.0%; with the
# recurrent kernel's clipped too (0.80) 7.2%, but 8.7 kB more, which the page's budget lacks.
RANGE_SHRINKS = np.linspace(0.3, 1.0, 36)


@dataclass
class ExportConfig:
    quantize: str | None = None  # None (float32), "float16" or "uint8"
    shard_bytes: int = 4 * 1024 * 1024  # tensorflowjs's default: small enough to cache well
    calibration: str = CALIBRATION  # the lines a text model's uint8 kernels are rounded for


def model_config(model: keras.Model) -> ModelConfig:
    """The ModelConfig a built handwriting network has, read from its layers: the LSTM layers
    of model.network, or the window cell of a text-conditional model.text_network network."""
    mixtures = (model.get_layer("mixture").units - 1) // 6
    if any(layer.name == "synthesis" for layer in model.layers):
        cell = window_cell(model)
        return ModelConfig(layers=cell.layers, cells=cell.cells, mixtures=mixtures,
                           window_mixtures=cell.window_mixtures, alphabet_size=cell.alphabet_size,
                           hands=list(cell.hands))
    lstms = [layer for layer in model.layers if layer.name.startswith("lstm_")]
    return ModelConfig(layers=len(lstms), cells=lstms[0].units, mixtures=mixtures)


def start_point() -> list[float]:
    """The point fed before a line's first (model.batches.zero_start_batch's, as in training)."""
    inputs, _, _ = zero_start_batch([Line(np.ones((1, 3), np.float32))])
    return inputs[0, 0].tolist()


def _tensorflowjs():
    # tensorflowjs imports tensorflow_decision_forests, whose welcome banner needs IPython
    # whenever stdout is not a terminal (pipes, pytest): switch the banner off.
    os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")
    import tensorflowjs  # slow to import and only needed here

    return tensorflowjs


def export_tfjs(model: keras.Model, out_dir, quantize: str | None = None,
                config: ExportConfig | None = None, alphabet: Alphabet | None = None) -> list[Path]:
    """Write model.json, its weight shards and export_config.json into out_dir, all of them or
    none (an export that fails leaves out_dir as it was); return them.

    model.json also carries the network's shape and the export settings as user-defined
    metadata, so the page can read the mixture count without parsing the topology, and the
    constants the page shares with Python, so that they have one source: raw units per model
    unit, the start point and, for a text model, the stop rule's give-up pace. With an
    alphabet, the model is text-conditional and exported as weights only (module docstring).
    """
    tensorflowjs = _tensorflowjs()
    config = config or ExportConfig(quantize=quantize)
    if config.quantize not in QUANTIZE_CHOICES:
        raise ModelError(f"quantize={config.quantize!r}: not supported; use none, float16 or uint8")
    out_dir = Path(out_dir)
    kept = "the earlier one is kept" if (out_dir / MODEL_JSON).exists() else "nothing was written"
    # Written whole into a hidden folder inside out_dir first: a full disk or a kill on the way
    # leaves the earlier export as it was, never a model.json naming shards that are not there.
    try:
        with folders_for(out_dir / MODEL_JSON), \
                tempfile.TemporaryDirectory(dir=out_dir, prefix=".export-") as building:
            shards = _write_export(tensorflowjs, model, Path(building), config, alphabet)
            for name in (*shards, CONFIG_FILE, MODEL_JSON):  # model.json, which names the shards, last
                os.replace(Path(building) / name, out_dir / name)
    except tf.errors.OpError as error:  # tensorflowjs writes through tf.io.gfile: a full disk ends here
        raise cannot_write(out_dir, _os_error(error), kept) from None
    except OSError as error:
        raise cannot_write(out_dir, error, kept) from None
    for stale in out_dir.glob(SHARD_GLOB):  # a previous, larger export's
        if stale.name not in shards:
            stale.unlink()
    return [out_dir / name for name in (MODEL_JSON, *shards, CONFIG_FILE)]


def _os_error(error: tf.errors.OpError) -> OSError:
    """TensorFlow's report of a failed file operation as the OSError it stands for: TensorFlow
    maps a full disk (ENOSPC, EDQUOT) to RESOURCE_EXHAUSTED and keeps no errno."""
    full = isinstance(error, tf.errors.ResourceExhaustedError)
    return OSError(errno.ENOSPC if full else 0, error.message)


def _write_export(tensorflowjs, model: keras.Model, folder: Path, config: ExportConfig,
                  alphabet: Alphabet | None) -> list[str]:
    """export_tfjs's files written into an empty `folder`; returns the names of the weight shards."""
    quantization = {config.quantize: [*QUANTIZED_WEIGHTS, f"*/{CODES}"]} if config.quantize else None
    metadata: dict = {"model": asdict(model_config(model)), "export": asdict(config), "model_unit": MODEL_UNIT,
                      "start_point": start_point()}
    if alphabet is None:  # tensorflowjs writes the topology; its weights are replaced by ours below
        tensorflowjs.converters.save_keras_model(model, str(folder), metadata=metadata)
        document = json.loads((folder / MODEL_JSON).read_text())
    else:
        metadata |= {"alphabet": alphabet.to_json(), "text_padding": TEXT_PADDING,
                     "points_per_character": POINTS_PER_CHARACTER,
                     "give_up_points_per_character": GIVE_UP_POINTS_PER_CHARACTER, "read_hand_points": READ_HAND_POINTS,
                     "followed_nll": FOLLOWED_NLL}
        document = {"format": "weights-only", "generatedBy": "model.export", "userDefinedMetadata": metadata}
    coded = _coded_kernels(model, alphabet, config.calibration) if config.quantize == "uint8" else {}
    weights = [stored for weight in model.weights for stored in _stored(weight, coded)]
    document["weightsManifest"] = tensorflowjs.write_weights.write_weights(
        [weights], str(folder), shard_size_bytes=config.shard_bytes, write_manifest=False,
        quantization_dtype_map=quantization)
    (folder / MODEL_JSON).write_text(json.dumps(document))
    (folder / CONFIG_FILE).write_text(json.dumps(asdict(config), indent=2) + "\n")
    return [path for group in document["weightsManifest"] for path in group["paths"]]


def _name(weight) -> str:
    return weight.name.split(":")[0]


def _stored(weight, coded: dict[str, tuple[np.ndarray, ...]]) -> list[dict]:
    """One weight as the manifest's entries: itself, or a kernel of `coded` as its codes and its
    columns' ranges."""
    name = _name(weight)
    if name not in coded:
        return [{"name": name, "data": weight.numpy()}]
    parts = zip((CODES, COLUMN_MIN, COLUMN_STEP), coded[name])
    return [{"name": f"{name}/{part}", "data": data} for part, data in parts]


def _coded_kernels(model: keras.Model, alphabet: Alphabet | None,
                   calibration: str) -> dict[str, tuple[np.ndarray, ...]]:
    """{kernel name: (codes, column_min, column_step)} of the kernels uint8 stores as codes: those
    of COLUMN_KERNELS, with a range per column, and a text model's LSTM kernels, with one range per
    tensor; a text model's rounded with error feedback for `calibration`'s lines (CALIBRATION)."""
    kernels = {_name(weight): weight.numpy() for weight in model.weights}
    moments = input_moments(model, load(calibration), alphabet) if alphabet else {}
    kinds = {_name(weight): kind for weight, kind in coded_kernel_grids(model, text=alphabet is not None)}
    coded: dict[str, tuple[np.ndarray, ...]] = {}
    for name in COLUMN_KERNELS:
        if name in kernels:
            low, step = _grid(kernels[name], **kinds[name])
            coded[name] = (rounded_codes(kernels[name], low, step, moments.get(name)), low, step)
    for lstm in window_cell(model).lstms if alphabet else []:
        # Both kernels feed the same gates, so they are rounded as one: the recurrent rows below.
        names = _name(lstm.kernel), _name(lstm.recurrent_kernel)
        grids = [_grid(kernels[name], **kinds[name]) for name in names]
        low, step = (np.concatenate([np.broadcast_to(grid[part], kernels[name].shape)
                                     for name, grid in zip(names, grids)]) for part in (0, 1))
        codes = rounded_codes(np.concatenate([kernels[name] for name in names]), low, step, moments.get(names[0]))
        rows = len(kernels[names[0]])
        coded[names[0]] = (codes[:rows], *grids[0])
        coded[names[1]] = (codes[rows:], *grids[1])
    return coded


def coded_kernel_grids(model: keras.Model, text: bool) -> list[tuple]:
    """(kernel variable, its grid's kind as _grid's keywords) of each kernel uint8 stores as codes:
    those of COLUMN_KERNELS, and a text model's LSTM kernels (the input kernel's grid clipped)."""
    grids = [(weight, {"per_column": True}) for weight in model.weights if _name(weight) in COLUMN_KERNELS]
    for lstm in window_cell(model).lstms if text else []:
        grids += [(lstm.kernel, {"per_column": False, "clipped": True}), (lstm.recurrent_kernel, {"per_column": False})]
    return grids


def on_grid(kernel: np.ndarray, per_column: bool, clipped: bool = False) -> np.ndarray:
    """`kernel` rounded to the nearest code of its grid (_grid), as the numbers the codes stand for.

    The grid's ends are moved to the nearest float16 numbers, so that a model published in
    float16 keeps them exactly and its export finds the same grid. With ends off float16, the
    published writer's export shifted a whole kernel by 0.03 steps and cost 0.007 nats per point."""
    low, step = _grid(kernel, per_column, clipped)
    high, low = (ends.astype(np.float16).astype(np.float32) for ends in (low + 255 * step, low))
    step = (high - low) / 255
    step[step == 0] = 1  # a constant column, as _grid's
    return rounded_codes(kernel, low, step) * step + low


def _grid(kernel: np.ndarray, per_column: bool, clipped: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(low, step) for each column (float32): 256 codes over the column's range, or the whole
    kernel's, or its `tensor_range`."""
    if per_column:
        low, high = kernel.min(axis=0), kernel.max(axis=0)
    else:
        low, high = tensor_range(kernel) if clipped else (kernel.min(), kernel.max())
    step = np.broadcast_to((high - low) / 255, kernel.shape[1:]).astype(np.float32)
    step[step == 0] = 1  # a constant column: all its codes 0
    return np.broadcast_to(low, kernel.shape[1:]).astype(np.float32), step


def tensor_range(kernel: np.ndarray) -> tuple[float, float]:
    """(low, high) of a whole tensor's grid: its range shrunk by the one of RANGE_SHRINKS whose
    rounding to nearest errs least."""
    return min(((kernel.min() * shrink, kernel.max() * shrink) for shrink in RANGE_SHRINKS),
               key=lambda ends: _rounding_error(kernel, *ends))


def _rounding_error(kernel: np.ndarray, low: float, high: float) -> float:
    """The squared error of `kernel` rounded to the nearest of 256 codes from low to high."""
    step = (high - low) / 255 or 1.0
    return float(np.square(kernel - (rounded_codes(kernel, low, step) * step + low)).sum())


def rounded_codes(kernel: np.ndarray, low, step, moments: np.ndarray | None = None) -> np.ndarray:
    """uint8 codes (as float32) of `kernel` (inputs x outputs) on the grid low + code * step (low and
    step broadcast to its shape). Given its inputs' second moments, rounded with error feedback
    (GPTQ, CALIBRATION's note): row by row, each row's error is spread over the rows below it by
    the Cholesky factor of the moments' inverse; without them, each to its nearest code."""
    low, step = np.broadcast_to(low, kernel.shape), np.broadcast_to(step, kernel.shape)
    nearest = np.clip(np.round((kernel - low) / step), 0, 255).astype(np.float32)
    if moments is None:
        return nearest
    # The weights at the ends of the grid keep their codes, 0 and 255: tensorflowjs stores the codes
    # exactly only while they span all 256 (its range is theirs), which feedback could undo.
    ends = (nearest == 0) | (nearest == 255)
    damped = moments + DAMPING * np.mean(np.diag(moments)) * np.eye(len(moments))
    spread = np.linalg.cholesky(np.linalg.inv(damped)).T  # upper triangular: inverse = spread.T @ spread
    remaining = kernel.astype(np.float64)
    codes = nearest.copy()
    for row in range(len(kernel)):
        free = ~ends[row]
        codes[row, free] = np.clip(np.round((remaining[row, free] - low[row, free]) / step[row, free]), 0, 255)
        error = (remaining[row] - (codes[row] * step[row] + low[row])) / spread[row, row]
        remaining[row + 1:] -= np.outer(spread[row, row + 1:], error)
    return codes


class _Recording:
    """A layer of a window cell that, called as before, also keeps the rows it multiplies at this
    step (its inputs, and an LSTM's h before them) in seen[name]."""

    def __init__(self, layer, name: str, seen: dict):
        self.layer, self.name, self.seen = layer, name, seen

    def __call__(self, inputs, states=None):
        self.seen[self.name] = inputs if states is None else tf.concat([inputs, states[0]], axis=-1)
        return self.layer(inputs) if states is None else self.layer(inputs, states)


def input_moments(model: keras.Model, lines: list[Line], alphabet: Alphabet) -> dict[str, np.ndarray]:
    """{kernel name: X^T X} (float64) of the rows X each kernel of a text model multiplies as it
    reads `lines` (fed their points, as in training): an LSTM's kernel and recurrent kernel
    together ([inputs, h before], under the kernel's name), the window's and the head's."""
    cell, head = window_cell(model), model.get_layer("mixture")
    (points, text, *hand), targets = line_batch(lines, alphabet, cell.hands)
    constants = [one_hot_text(text, cell.alphabet_size), *(one_hot_text(codes, len(cell.hands)) for codes in hand)]
    seen: dict = {}

    @tf.function  # traced once: every step has the same shapes
    def step(points, states, inside):
        output, states, _ = cell.step(points, states, *constants)
        seen[_name(head.kernel)] = output
        return states, {name: tf.matmul(rows * inside[:, None], rows, transpose_a=True) for name, rows in seen.items()}

    layers = cell.lstms, cell.window
    # Set past Keras's attribute tracking, and set back below: the model's weights stay as they were.
    object.__setattr__(cell, "lstms", [_Recording(lstm, _name(lstm.kernel), seen) for lstm in cell.lstms])
    object.__setattr__(cell, "window", _Recording(cell.window, _name(cell.window.kernel), seen))
    moments: dict[str, np.ndarray] = {}
    try:
        states = [tf.zeros((len(lines), size)) for size in cell.state_size]
        for t in range(points.shape[1]):  # a padded step (inside 0) adds nothing
            states, added = step(tf.constant(points[:, t]), states, tf.constant(targets[:, t, 3]))
            for name, moment in added.items():
                moments[name] = moments.get(name, 0.0) + moment.numpy().astype(np.float64)
    finally:
        object.__setattr__(cell, "lstms", layers[0])
        object.__setattr__(cell, "window", layers[1])
    return moments


def read_exported(out_dir) -> dict:
    """{weight name: float32 array} of an export, dequantised as the page's fetchExport does."""
    out_dir = Path(out_dir)
    manifest = json.loads((out_dir / MODEL_JSON).read_text())["weightsManifest"]
    groups = _tensorflowjs().read_weights.read_weights(manifest, str(out_dir))
    arrays = {item["name"]: item["data"].astype(np.float32) for group in groups for item in group}
    for name in [name.removesuffix(f"/{CODES}") for name in arrays if name.endswith(f"/{CODES}")]:
        codes, low, step = (arrays.pop(f"{name}/{part}") for part in (CODES, COLUMN_MIN, COLUMN_STEP))
        arrays[name] = codes * step + low
    return arrays


def set_exported_weights(model: keras.Model, out_dir) -> None:
    """Fill `model`, of the exported model's shape, with an export's weights as the page reads them."""
    arrays = read_exported(out_dir)
    model.set_weights([arrays[_name(weight)] for weight in model.weights])


def as_exported(model: keras.Model, quantize: str | None, alphabet: Alphabet | None = None) -> keras.Model:
    """A new network with `model`'s weights as an export with this storage gives them back: the
    numbers the page computes with, for measuring in Python what the storage costs."""
    copy = build_network(model_config(model))
    with tempfile.TemporaryDirectory() as folder:
        export_tfjs(model, folder, quantize, alphabet=alphabet)
        set_exported_weights(copy, folder)
    return copy


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    return run_cli(lambda: _export(args))


def _export(args: argparse.Namespace) -> None:
    artefact = pretrained(args.weights)
    written = export_tfjs(artefact.model, args.out, None if args.quantize == "none" else args.quantize,
                          alphabet=artefact.alphabet)
    print(json.dumps({"out": args.out, "files": [path.name for path in written],
                      "bytes": sum(path.stat().st_size for path in written)}))


if __name__ == "__main__":
    sys.exit(main())
