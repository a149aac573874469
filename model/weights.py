"""Handwriting models by name: `default`, `distill` or an artefact folder, and the folder format.

The network (model.network, Graves 2013, section 4.2) is only a shape; this module fills it.
`default` is the model this project trained on its synthetic corpus, committed in
models/default/; `distill` is the pretrained model of the Distill article by Carter, Ha,
Johnson and Olah (2016), imported by model.original; any other name is an artefact folder
that model.train wrote: config.json (the ModelConfig), weights.h5, and NAME.json for each
further record (train.json, metrics.json, about.json: the name, source and credit shown).
A text-conditional model (Graves section 5, model.text_network) also has its alphabet.json.

`pretrained(spec)` is the one place that reads such a folder (as nanoGPT's from_pretrained):
the model with its config, about, alphabet, metrics and training settings, every file
checked first, so a hand-edited or cut file is one line naming it, never a traceback.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from model import original
from model.alphabet import ALPHABET_FILE, Alphabet
from model.base import (
    CONFIG_FILE,
    METRICS_FILE,
    MODELS_DIR,
    WEIGHTS_FILE,
    DataError,
    ModelError,
    read_record,
    unloadable_weights,
)
from model.network import ModelConfig, build_model, keras
from model.text_network import build_synthesis_model

# Models committed with the project, by name: the unconditional default and the writer, which
# writes a given text (Graves section 5).
NAMED_MODEL_DIRS = {"default": MODELS_DIR / "default", "writer": MODELS_DIR / "writer"}
ABOUT_FILE = "about.json"
TRAIN_FILE = "train.json"


def artefact_folder(spec: str) -> Path:
    """The folder a model name stands for: a committed model's, or the name itself."""
    return NAMED_MODEL_DIRS.get(spec, Path(spec))


def build_network(config: ModelConfig) -> keras.Model:
    """The untrained network of a config: Graves's section 5 synthesis network when it reads a text."""
    return (build_synthesis_model if config.conditional else build_model)(config)


def save_artefact(model: keras.Model, config: ModelConfig, folder, **extra) -> Path:
    """Write config.json and weights.h5 into folder, plus NAME.json for each extra NAME=value.

    `about={"name", "source", "credit"}` is what `load_model` reports for the folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG_FILE).write_text(json.dumps(asdict(config), indent=2) + "\n")
    model.save_weights(str(folder / WEIGHTS_FILE))
    for name, value in extra.items():
        (folder / f"{name}.json").write_text(json.dumps(value, indent=2) + "\n")
    return folder


# The sizes a network may have: far above any model here (500 cells), and low enough that a
# mistyped config.json cannot ask TensorFlow for gigabytes. Then what each record of a model
# folder holds (model.base.read_record's schemas).
SHAPE_RANGES = {"layers": (1, 8), "cells": (1, 2048), "mixtures": (1, 100), "window_mixtures": (0, 100),
                "alphabet_size": (0, 1000)}
CONFIG_SCHEMA = {**{f"{name}?": int for name in SHAPE_RANGES}, "hands?": [str]}
ABOUT_SCHEMA = {"name?": str, "source?": str, "credit?": str, "measured?": {
    "held_out": {"nll_per_point": float, "nll_xy": float, "nll_eos": float, "points": int, "lines": int},
    "baseline?": {"nll_per_point": float, "epochs": int, "this_model_after_as_many?": float},
    "written?": {"texts": int, "writings?": int, "bias": float, "cer": float, "cer_by_writing?": [float],
                 "recogniser_cer_on_the_real_lines": float,
                 "aligned_share": float, "aligned_within": float,
                 "cer_by_class?": {"lower case?": float, "capitals?": float, "digits?": float, "punctuation?": float,
                                   "space?": float},
                 "cer_by_hand?": dict},
    "hands?": {"primes": int, "bias": float, "hands": [str], "matrix": [[int]], "accuracy": float, "too_short?": int,
               "told?": {"hands": [str], "matrix": [[int]], "accuracy": float, "too_short?": int}}}}
EPOCH_SCHEMA = {"epoch": int, "seconds?": float, "train_nll?": float, "val_nll": float, "val_nll_xy": float,
                "val_nll_eos": float}
METRICS_SCHEMA = {"data?": str, "init?": (str, None), "train_lines?": int, "train_points?": int,
                  "val_lines?": int, "val_points?": int, "epochs?": [EPOCH_SCHEMA], "best_epoch?": int,
                  "train_seconds?": float, "longest_text?": int, "points_per_character?": float,
                  "units_per_character?": float}
TRAIN_SCHEMA = {"data": str, "lines?": (int, None), "val_fraction": float, "seed": int, "clean?": {
    "max_step_raw?": (float, None), "step_percentile?": float, "step_factor?": float, "clip_raw?": float,
    "min_points?": int}}


@dataclass
class Artefact:
    """A model and everything its folder says about it, each file checked (pretrained)."""

    model: keras.Model
    config: ModelConfig
    about: dict  # name, source, credit (and a text model's `measured`): what the page shows
    alphabet: Alphabet | None = None  # a text model's (alphabet.json)
    metrics: dict = field(default_factory=dict)  # model.train's log (metrics.json), {} without one
    train: dict = field(default_factory=dict)  # model.train's settings (train.json), {} without one


def _read_config(folder: Path) -> ModelConfig:
    """The ModelConfig in folder/config.json, every size a whole number in range."""
    path = folder / CONFIG_FILE
    settings = read_record(path, CONFIG_SCHEMA, "rewrite it as model.train wrote it, or retrain", ModelError)
    config = ModelConfig(**{f.name: settings[f.name] for f in fields(ModelConfig) if f.name in settings})
    for name, (low, high) in SHAPE_RANGES.items():
        if not low <= getattr(config, name) <= high:
            raise ModelError(f"{path}: {name} is {getattr(config, name)}, outside {low}..{high}: "
                             "rewrite it as model.train wrote it, or retrain")
    if len(set(config.hands)) != len(config.hands) or (config.hands and not config.conditional):
        raise ModelError(f"{path}: hands {config.hands} must be different names, given to a text model only: "
                         "rewrite it as model.train wrote it, or retrain")
    if config.conditional and config.alphabet_size < 2:
        raise ModelError(f"{path}: window_mixtures {config.window_mixtures} needs an alphabet_size of 2 "
                         f"or more, not {config.alphabet_size}: rewrite it as model.train wrote it, or retrain")
    return config


def load_artefact(folder) -> tuple[keras.Model, ModelConfig]:
    """The model and config that `save_artefact` wrote into folder."""
    config = _read_config(_artefact_dir(folder))
    return _filled(Path(folder), config), config


def _artefact_dir(folder) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        why = "a file, not a model's folder" if folder.exists() else "does not exist"
        raise ModelError(f"{folder}: {why}; give default, distill, writer or a folder written by model.train")
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        if not (folder / name).is_file():
            raise ModelError(f"{folder}: no {name}, so not a model artefact; "
                             "give a folder written by model.train (or 'default' / 'distill')")
    return folder


def _filled(folder: Path, config: ModelConfig) -> keras.Model:
    """The network of config with the folder's weights."""
    model = build_network(config)
    try:
        model.load_weights(str(folder / WEIGHTS_FILE))
    except (ValueError, OSError, KeyError) as error:
        raise unloadable_weights(folder / WEIGHTS_FILE, asdict(config), error) from error
    return model


def pretrained(spec: str, option: str = "--weights", text: bool | None = None) -> Artefact:
    """The model a name stands for ('default', 'writer', 'distill' or an artefact folder) with
    its config, about, alphabet, metrics and training settings: the one place that knows a
    model folder's layout. Each file is checked (missing, not JSON, wrong type, out of range,
    an alphabet that does not fit the weights): a ModelError names the file and what to do.
    `text` True asks for a text model, False for a handwriting model; `option` names the
    command-line option in those messages."""
    def check_kind(config: ModelConfig) -> None:
        if text is not None and config.conditional != text:
            raise ModelError(f"{option} {spec}: a text model (it writes a given text), not a handwriting model; "
                             "give default, distill or a folder made by `python -m model.train`" if not text else
                             f"{option} {spec}: an unconditional model, which reads no text; give writer or a "
                             "folder made by `python -m model.train --text`")

    if spec == "distill":
        check_kind(ModelConfig())
        return Artefact(original.load_original(), ModelConfig(), dict(original.ABOUT))
    return _load_folder(spec, check_kind)


def _load_folder(spec: str, check_kind: Callable[[ModelConfig], None]) -> Artefact:
    folder = artefact_folder(spec)
    if spec in NAMED_MODEL_DIRS and not (folder / CONFIG_FILE).is_file():
        raise ModelError(f"{folder}: the {spec} model is not there yet; "
                         "train it with `python -m model.train` or give another --weights")
    # every small file is checked before the network is built: a mistake costs no TensorFlow time
    config = _read_config(_artefact_dir(folder))
    check_kind(config)
    hand_edit = "fix it by hand, or remove it"
    about = {"name": folder.name, "source": str(folder), "credit": ""}
    if (folder / ABOUT_FILE).is_file():
        about.update(read_record(folder / ABOUT_FILE, ABOUT_SCHEMA, hand_edit, ModelError))
    metrics = read_record(folder / METRICS_FILE, METRICS_SCHEMA, f"restore model.train's log, or {hand_edit}",
                          ModelError) if (folder / METRICS_FILE).is_file() else {}
    if metrics.get("longest_text", 1) < 1:  # model.write's row width
        raise ModelError(f"{folder / METRICS_FILE}: longest_text is {metrics['longest_text']}, not 1 or more: "
                         f"restore model.train's log, or {hand_edit}")
    train = read_record(folder / TRAIN_FILE, TRAIN_SCHEMA, f"restore model.train's settings, or {hand_edit}",
                        ModelError) if (folder / TRAIN_FILE).is_file() else {}
    alphabet = _alphabet(folder, config) if config.conditional else None
    return Artefact(_filled(folder, config), config, about, alphabet, metrics, train)


def _alphabet(folder: Path, config: ModelConfig) -> Alphabet:
    try:
        alphabet = Alphabet.load(folder)
    except DataError as error:
        raise ModelError(str(error)) from None
    if alphabet.size != config.alphabet_size:
        raise ModelError(f"{folder / ALPHABET_FILE}: {alphabet.size} codes ({len(alphabet.chars)} characters and "
                         f"the placeholder), but the weights read {config.alphabet_size} (config.json): "
                         "put back the alphabet.json the model was trained with")
    return alphabet


def load_model(spec: str) -> tuple[keras.Model, ModelConfig, dict]:
    """spec 'default' (models/default/), 'distill' (the original weights) or an artefact folder.

    Returns (model, config, about) where about has the name, source and credit to show.
    """
    artefact = pretrained(spec)
    return artefact.model, artefact.config, artefact.about
