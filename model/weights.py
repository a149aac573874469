"""Handwriting models by name: `default`, `distill` or an artefact folder, and the folder format.

The network (model.network, Graves 2013, section 4.2) is only a shape; this module fills it.
`default` is the model this project trained on its synthetic corpus, committed in
models/default/; `distill` is the pretrained model of the Distill article by Carter, Ha,
Johnson and Olah (2016), imported by model.original; any other name is an artefact folder
that model.train wrote: config.json (the ModelConfig), weights.h5, and NAME.json for each
further record (train.json, metrics.json, about.json: the name, source and credit shown).
A text-conditional model (Graves section 5, model.text_network) also has its alphabet.json.
"""
from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path

from model import original
from model.base import CONFIG_FILE, MODELS_DIR, WEIGHTS_FILE, ModelError
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


def load_artefact(folder) -> tuple[keras.Model, ModelConfig]:
    """The model and config that `save_artefact` wrote into folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError(f"{folder}: does not exist; give default, distill, writer or a folder written by model.train")
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        if not (folder / name).is_file():
            raise ModelError(f"{folder}: no {name}, so not a model artefact; "
                             "give a folder written by model.train (or 'default' / 'distill')")
    try:
        settings = json.loads((folder / CONFIG_FILE).read_text())
        config = ModelConfig(**{f.name: settings[f.name] for f in fields(ModelConfig) if f.name in settings})
    except (ValueError, TypeError) as error:
        raise ModelError(f"{folder / CONFIG_FILE}: unreadable model config ({error}); "
                         "rewrite it or retrain") from error
    model = build_network(config)
    try:
        model.load_weights(str(folder / WEIGHTS_FILE))
    except (ValueError, OSError) as error:
        raise ModelError(f"{folder / WEIGHTS_FILE}: weights do not fit config {asdict(config)} "
                         f"({str(error).splitlines()[0]}); retrain or fix config.json") from error
    return model, config


def load_model(spec: str) -> tuple[keras.Model, ModelConfig, dict]:
    """spec 'default' (models/default/), 'distill' (the original weights) or an artefact folder.

    Returns (model, config, about) where about has the name, source and credit to show.
    """
    if spec == "distill":
        return original.load_original(), ModelConfig(), dict(original.ABOUT)
    folder = artefact_folder(spec)
    if spec in NAMED_MODEL_DIRS and not (folder / CONFIG_FILE).is_file():
        raise ModelError(f"{folder}: the {spec} model is not there yet; "
                         "train it with `python -m model.train` or give another --weights")
    model, config = load_artefact(folder)
    about = {"name": folder.name, "source": str(folder), "credit": ""}
    if (folder / ABOUT_FILE).is_file():
        about.update(json.loads((folder / ABOUT_FILE).read_text()))
    return model, config, about
