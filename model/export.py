"""Export a handwriting model to TensorFlow.js, so the article's page can run it.

The Keras network of model.network (Graves 2013, section 4.2) is written as a TF.js
LayersModel with the tensorflowjs package: model.json (topology and weight manifest) plus
binary weight shards, loadable with tf.loadLayersModel. Kernels can be stored as float32,
float16, or uint8 (per tensor affine, as tensorflowjs quantises: a quarter of the size, like
the original article's 8-bit file). The same model always gives byte-identical files, so the
site build and its cache can compare exports.

A text-conditional model (Graves section 5, model.synthesis) has a custom window cell that no
TF.js layer implements, so it is exported as weights only: model.json holds the weights
manifest (the same shards and quantisation, but its mixture head's kernel in float16 under
uint8: TEXT_MODEL_UINT8) and, as metadata, its ModelConfig, window settings and alphabet; the
page steps the network itself, as it does the LSTM of section 4.2.
`read_exported` reads any export back into NumPy arrays by weight name, as the page does.

    python -m model.export --weights {default|distill|FOLDER} --out site/model --quantize uint8
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from model.alphabet import Alphabet
from model.base import ModelError, run_cli
from model.network import ModelConfig, keras
from model.synthesis import POINTS_PER_CHARACTER, TEXT_PADDING, window_cell
from model.weights import artefact_folder, load_model

MODEL_JSON = "model.json"
CONFIG_FILE = "export_config.json"
QUANTIZE_CHOICES = (None, "float16", "uint8")
# Only the kernels are quantised; biases stay float32. They are a few kilobytes, and
# quantising them (the forget-gate block sits 1.0 above the rest) costs the original weights
# 0.014 nats per point in uint8, where quantising the kernels alone costs nothing measurable.
QUANTIZED_WEIGHTS = ["*kernel"]
# A text model's mixture head is the exception, kept in float16 when the rest is uint8: its
# kernel spans -3.3 to 4.0 in the committed writer, and one uint8 step (0.028) over that range
# cost it 2.8 nats per point and tripled its character error rate at bias 1 (8.6% to 27% on 100
# texts; alignment 99% to 86%). Exported so, it scores -4.21 against -4.34 in float32, writes with
# 9.6% errors, 97% aligned, and weighs 337 kB gzipped instead of 287 kB.
TEXT_MODEL_UINT8 = {"uint8": ["*window_cell*kernel"], "float16": ["mixture/kernel"]}


@dataclass
class ExportConfig:
    quantize: str | None = None  # None (float32), "float16" or "uint8"
    shard_bytes: int = 4 * 1024 * 1024  # tensorflowjs's default: small enough to cache well


def model_config(model: keras.Model) -> ModelConfig:
    """The ModelConfig a built handwriting network has, read from its layers: the LSTM layers
    of model.network, or the window cell of a text-conditional model.synthesis network."""
    mixtures = (model.get_layer("mixture").units - 1) // 6
    if any(layer.name == "synthesis" for layer in model.layers):
        cell = window_cell(model)
        return ModelConfig(layers=cell.layers, cells=cell.cells, mixtures=mixtures,
                           window_mixtures=cell.window_mixtures, alphabet_size=cell.alphabet_size)
    lstms = [layer for layer in model.layers if layer.name.startswith("lstm_")]
    return ModelConfig(layers=len(lstms), cells=lstms[0].units, mixtures=mixtures)


def _tensorflowjs():
    # tensorflowjs imports tensorflow_decision_forests, whose welcome banner needs IPython
    # whenever stdout is not a terminal (pipes, pytest): switch the banner off.
    os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")
    import tensorflowjs  # slow to import and only needed here

    return tensorflowjs


def export_tfjs(model: keras.Model, out_dir, quantize: str | None = None,
                config: ExportConfig | None = None, alphabet: Alphabet | None = None) -> list[Path]:
    """Write model.json, its weight shards and export_config.json into out_dir; return them.

    model.json also carries the network's shape and the export settings as user-defined
    metadata, so the page can read the mixture count without parsing the topology. With an
    alphabet, the model is text-conditional and exported as weights only (module docstring).
    """
    tensorflowjs = _tensorflowjs()
    config = config or ExportConfig(quantize=quantize)
    if config.quantize not in QUANTIZE_CHOICES:
        raise ModelError(f"quantize={config.quantize!r}: not supported; use none, float16 or uint8")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in [out_dir / MODEL_JSON, *out_dir.glob("group*-shard*of*.bin")]:
        stale.unlink(missing_ok=True)  # a previous, larger export must not leave shards behind
    quantization = {config.quantize: QUANTIZED_WEIGHTS} if config.quantize else None
    if alphabet is not None and config.quantize == "uint8":
        quantization = TEXT_MODEL_UINT8
    metadata: dict = {"model": asdict(model_config(model)), "export": asdict(config)}
    if alphabet is None:
        tensorflowjs.converters.save_keras_model(model, str(out_dir), weight_shard_size_bytes=config.shard_bytes,
                                                 metadata=metadata, quantization_dtype_map=quantization)
    else:
        metadata |= {"alphabet": alphabet.to_json(), "text_padding": TEXT_PADDING,
                     "points_per_character": POINTS_PER_CHARACTER}
        weights = [{"name": weight.name.split(":")[0], "data": weight.numpy()} for weight in model.weights]
        manifest = tensorflowjs.write_weights.write_weights(
            [weights], str(out_dir), shard_size_bytes=config.shard_bytes, write_manifest=False,
            quantization_dtype_map=quantization)
        document = {"format": "weights-only", "generatedBy": "model.export", "weightsManifest": manifest,
                    "userDefinedMetadata": metadata}
        (out_dir / MODEL_JSON).write_text(json.dumps(document))
    (out_dir / CONFIG_FILE).write_text(json.dumps(asdict(config), indent=2) + "\n")
    manifest = json.loads((out_dir / MODEL_JSON).read_text())["weightsManifest"]
    shards = [out_dir / path for group in manifest for path in group["paths"]]
    return [out_dir / MODEL_JSON, *shards, out_dir / CONFIG_FILE]


def read_exported(out_dir) -> dict:
    """{weight name: float32 array} of an export, dequantised as tf.io.loadWeights does in the page."""
    out_dir = Path(out_dir)
    manifest = json.loads((out_dir / MODEL_JSON).read_text())["weightsManifest"]
    groups = _tensorflowjs().read_weights.read_weights(manifest, str(out_dir))
    return {item["name"]: item["data"].astype("float32") for group in groups for item in group}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.export", description=(
        "Export a handwriting model as a TensorFlow.js LayersModel (model.json + weight shards)."))
    parser.add_argument("--weights", default="default",
                        help="default (model/default), distill (the original article's), writer (model/writer) "
                        "or an artefact folder")
    parser.add_argument("--out", required=True, help="folder to write model.json and the shards into")
    parser.add_argument("--quantize", choices=["none", "float16", "uint8"], default="none",
                        help="weight storage (default %(default)s: float32)")
    args = parser.parse_args(argv)
    return run_cli(lambda: _export(args))


def _export(args: argparse.Namespace) -> None:
    model, config, _ = load_model(args.weights)
    alphabet = Alphabet.load(artefact_folder(args.weights)) if config.conditional else None
    written = export_tfjs(model, args.out, None if args.quantize == "none" else args.quantize, alphabet=alphabet)
    print(json.dumps({"out": args.out, "files": [path.name for path in written],
                      "bytes": sum(path.stat().st_size for path in written)}))


if __name__ == "__main__":
    sys.exit(main())
