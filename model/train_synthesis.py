"""Training the text-conditional synthesis network (Graves 2013, section 5) on lines with text.

A prototype beside model/train.py, reusing its loss, per-point metrics, epoch log and resumption
(BackupAndRestore): to be folded into `python -m model.train` as a flag. Whole lines from the
zero state (the window starts at the first character), sorted by length into batches so
padding stays small; padding is masked out of the loss; batches are made one at a time by a
generator, so memory is bounded by the batch, not the corpus.

    python -m model.train_synthesis --lines 4000 --chars 4 16 --out runs/writer --epochs 20
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from model.alphabet import Alphabet
from model.base import DataError, Line, UserError
from model.data import CleanConfig, clean
from model.network import keras, tf
from model.synth import SynthConfig, synthesize
from model.synthesis import TEXT_PADDING, SynthesisConfig, build_synthesis_model
from model.train import (BACKUP_DIR, CHECKPOINT_PATTERN, METRICS_FILE, EpochLog, TrainError, _prepare_out,
                         compile_for_training, split_lines, use_threads)
from model.weights import save_artefact


@dataclass
class SynthesisTrainConfig:
    lines: int = 4000
    chars: tuple[int, int] = (4, 16)  # characters per synthetic line: short lines, more updates an hour
    layers: int = 1
    cells: int = 256
    mixtures: int = 20
    window_mixtures: int = 10
    epochs: int = 20
    batch_size: int = 32
    lr: float = 1e-3
    clip: float = 10.0
    val_fraction: float = 0.05
    patience: int = 3
    seed: int = 0

    def model_config(self, alphabet: Alphabet) -> SynthesisConfig:
        return SynthesisConfig(self.layers, self.cells, self.mixtures, self.window_mixtures, alphabet.size)

    def to_json(self) -> dict:
        return {**asdict(self), "chars": list(self.chars)}


def text_batch(lines: list[Line], alphabet: Alphabet):
    """((inputs (B, T, 3), text codes (B, U)), targets (B, T, 4)): zero-start inputs, padding
    masked by target channel 3 and text padded with TEXT_PADDING."""
    longest = max(len(line.points) for line in lines)
    letters = max(len(line.text) for line in lines)
    targets = np.zeros((len(lines), longest, 4), np.float32)
    codes = np.full((len(lines), letters), TEXT_PADDING, np.int32)
    for row, line in enumerate(lines):
        targets[row, :len(line.points), :3] = line.model_inputs()
        targets[row, :len(line.points), 3] = 1.0
        codes[row, :len(line.text)] = alphabet.encode(line.text)
    inputs = np.concatenate([np.zeros_like(targets[:, :1, :3]), targets[:, :-1, :3]], axis=1)
    return (inputs, codes), targets


def length_batches(lines: list[Line], alphabet: Alphabet, batch_size: int, shuffle_seed: int | None = None):
    """A tf.data pipeline of text_batch batches of lines of similar length, batch order
    reshuffled every epoch when seeded."""
    ordered = sorted(lines, key=lambda line: len(line.points))
    groups = [ordered[start:start + batch_size] for start in range(0, len(ordered), batch_size)]
    epoch = [0]

    def generate():
        order = np.arange(len(groups))
        if shuffle_seed is not None:
            np.random.default_rng([shuffle_seed, epoch[0]]).shuffle(order)
            epoch[0] += 1
        for index in order:
            yield text_batch(groups[index], alphabet)

    signature = ((tf.TensorSpec((None, None, 3), tf.float32), tf.TensorSpec((None, None), tf.int32)),
                 tf.TensorSpec((None, None, 4), tf.float32))
    return tf.data.Dataset.from_generator(generate, output_signature=signature).prefetch(2)


def train(config: SynthesisTrainConfig, out, verbose: int = 2) -> dict:
    out = Path(out)
    if _prepare_out(out, config):
        return json.loads((out / METRICS_FILE).read_text())
    keras.utils.set_random_seed(config.seed)
    alphabet = Alphabet.default()
    synth = SynthConfig(chars_per_line=tuple(config.chars))
    lines = clean(synthesize(config.lines, config.seed, synth), CleanConfig())
    if any(not line.text for line in lines):
        raise DataError("a line without text: the synthesis network needs each line's text")
    train_lines, val_lines = split_lines(lines, config.val_fraction, config.seed)
    unknown = sum(len(alphabet.unknown(line.text)) for line in lines)
    about = {"data": f"synthetic:{config.lines} chars {list(config.chars)}", "train_lines": len(train_lines),
             "val_lines": len(val_lines), "train_points": sum(len(line.points) for line in train_lines),
             "val_points": sum(len(line.points) for line in val_lines), "unknown_characters": unknown,
             "points_per_character": sum(len(line.points) for line in lines) / sum(len(line.text) for line in lines)}
    model = compile_for_training(build_synthesis_model(config.model_config(alphabet)), config)
    validation = length_batches(val_lines, alphabet, config.batch_size)
    early_stopping = keras.callbacks.EarlyStopping(monitor="val_nll", patience=config.patience)
    log = EpochLog(out, early_stopping, about)
    callbacks = [keras.callbacks.TerminateOnNaN(),
                 keras.callbacks.ModelCheckpoint(str(out / CHECKPOINT_PATTERN), save_weights_only=True),
                 early_stopping, log, keras.callbacks.BackupAndRestore(str(out / BACKUP_DIR))]
    model.fit(length_batches(train_lines, alphabet, config.batch_size, shuffle_seed=config.seed),
              validation_data=validation, epochs=config.epochs, callbacks=callbacks, verbose=verbose)
    if log.diverged_at is not None:
        raise TrainError(f"{out}: the loss became non-finite in epoch {log.diverged_at}; lower --lr or --clip")
    metrics = log.summarise()
    metrics["finished"] = "early stopping" if early_stopping.stopped_epoch else "all epochs"
    model.load_weights(str(out / CHECKPOINT_PATTERN.format(epoch=metrics["best_epoch"])))
    save_artefact(model, config.model_config(alphabet), out, train=config.to_json(), metrics=metrics,
                  about={"name": out.name, "source": "model.train_synthesis on synthetic lines", "credit": ""})
    alphabet.save(out)
    return metrics


def main(argv: list[str] | None = None) -> int:
    defaults = SynthesisTrainConfig()
    parser = argparse.ArgumentParser(prog="python -m model.train_synthesis", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder for checkpoints, metrics and the trained model")
    parser.add_argument("--chars", type=int, nargs=2, default=defaults.chars, metavar=("LOW", "HIGH"),
                        help="characters per synthetic line (default %(default)s)")
    for name in ("lines", "layers", "cells", "mixtures", "window_mixtures", "epochs", "batch_size", "patience",
                 "seed"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name),
                            help="default %(default)s")
    for name in ("lr", "clip", "val_fraction"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=float, default=getattr(defaults, name),
                            help="default %(default)s")
    args = parser.parse_args(argv)
    use_threads(1, os.cpu_count())
    settings = {name: getattr(args, name) for name in asdict(defaults)}
    settings["chars"] = tuple(settings["chars"])
    try:
        train(SynthesisTrainConfig(**settings), args.out, verbose=1 if sys.stdout.isatty() else 2)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
