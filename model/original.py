"""The Distill article's pretrained weights, imported exactly into the Keras network.

Carter, Ha, Johnson, Olah, "Experiments in Handwriting with a Neural Network" (Distill, 2016)
published one LSTM layer of 500 cells with a 20-component mixture head (Graves 2013, section
4.2), quantised to 8 bits in `b64_weights.json`. The facts used here (byte codes, scales, the
TensorFlow-1 gate order i, j, f, o, the forget bias of 1.0 added at run time) are in the
README of the shared distill folder; tests/test_original.py checks the result against the
original JavaScript's own outputs.
"""
from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path

import numpy as np

from model import remote
from model.base import ModelError
from model.network import ModelConfig, build_model, keras

WEIGHTS_NAME = "b64_weights.json"

ABOUT = {
    "name": "distill",
    "source": "github.com/distillpub/post--handwriting, public/assets/model/b64_weights.json",
    "credit": ("Pretrained weights by Shan Carter, David Ha, Ian Johnson and Chris Olah, "
               "\"Experiments in Handwriting with a Neural Network\", Distill, 2016; CC-BY 4.0."),
}

# The file's five arrays in order: name, shape, dequantisation scale.
LAYOUT = [
    ("output_w", (500, 121), 1.5),
    ("output_b", (121,), 2.5),
    ("LSTM_Wxh", (3, 2000), 2.0),
    ("LSTM_Whh", (500, 2000), 0.8),
    ("LSTM_bias", (2000,), 1.5),
]
FORGET_BIAS = 1.0  # TensorFlow-1 BasicLSTMCell adds it at run time; it is not in the file


def decode(path) -> dict[str, np.ndarray]:
    """The five float32 arrays of b64_weights.json, dequantised as the original does.

    Each byte u holds q = u - 127 and the weight is (q / 127) * scale, computed in float64
    in that order, then rounded once to float32.
    """
    path = Path(path)
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ModelError(f"{path}: cannot read the weights file ({error}); "
                         f"use the article's {WEIGHTS_NAME}") from error
    if not isinstance(entries, list) or len(entries) != len(LAYOUT):
        raise ModelError(f"{path}: expected a JSON array of {len(LAYOUT)} weight arrays; "
                         f"use the article's {WEIGHTS_NAME}")
    arrays = {}
    for index, ((name, shape, scale), entry) in enumerate(zip(LAYOUT, entries)):
        rows = entry if isinstance(entry, list) else [entry]
        try:
            codes = np.concatenate([np.frombuffer(base64.b64decode(row, validate=True), np.uint8)
                                    for row in rows])
        except (binascii.Error, TypeError, ValueError) as error:
            raise ModelError(f"{path}: entry {index} ({name}) is not base64 ({error}); "
                             f"use the article's {WEIGHTS_NAME}") from error
        if codes.size != np.prod(shape):
            raise ModelError(f"{path}: entry {index} ({name}) has {codes.size} bytes, expected "
                             f"{int(np.prod(shape))} for shape {shape}; use the article's {WEIGHTS_NAME}")
        signed = codes.astype(np.float64) - 127.0
        arrays[name] = ((signed / 127.0) * scale).astype(np.float32).reshape(shape)
    return arrays


def keras_gate_order(array: np.ndarray) -> np.ndarray:
    """Reorder the last axis's four gate blocks from TensorFlow-1 (i, j, f, o) to Keras (i, f, j, o)."""
    i, j, f, o = np.split(array, 4, axis=-1)
    return np.concatenate([i, f, j, o], axis=-1)


def weights_file(path_or_url=None) -> Path:
    """A local copy of the weights: by default the shared distill folder's copy or else the
    published file (model.remote); a URL is downloaded once into the Keras cache and must
    match the published file's sha256; anything else is a local path."""
    if path_or_url is None:
        return remote.fetch(WEIGHTS_NAME)
    if "://" in str(path_or_url):
        try:
            return Path(keras.utils.get_file(fname=WEIGHTS_NAME, origin=str(path_or_url),
                                             file_hash=remote.SHA256[WEIGHTS_NAME],
                                             cache_subdir=remote.CACHE_SUBDIR))
        except Exception as error:
            reason = " ".join(str(error).split()) or type(error).__name__
            raise ModelError(f"{path_or_url}: fetching the weights failed ({reason}); "
                             f"give a local {WEIGHTS_NAME} or set HANDWRITING_DISTILL") from None
    path = Path(path_or_url)
    if not path.is_file():
        raise ModelError(f"{path}: no such weights file; give the article's {WEIGHTS_NAME} "
                         "or set HANDWRITING_DISTILL")
    return path


def load_original(path_or_url=None) -> keras.Model:
    """The article's model (one LSTM layer of 500 cells, 20 mixtures) with its weights."""
    arrays = decode(weights_file(path_or_url))
    bias = keras_gate_order(arrays["LSTM_bias"])
    cells = arrays["LSTM_Whh"].shape[0]
    bias[cells:2 * cells] += FORGET_BIAS  # the forget gate is Keras's second block
    model = build_model(ModelConfig())
    model.get_layer("lstm_0").set_weights([keras_gate_order(arrays["LSTM_Wxh"]),
                                           keras_gate_order(arrays["LSTM_Whh"]), bias])
    model.get_layer("mixture").set_weights([arrays["output_w"], arrays["output_b"]])
    return model
