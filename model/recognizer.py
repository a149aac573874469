"""A small handwriting recogniser: pen points in, text out; the project's legibility meter.

Issue 14 measures a text-conditional model by whether what it writes can be read. This file
is the reader: strided 1-D convolutions over the points (dx, dy, pen_up in model units) shorten
the sequence eight times (three frames or so per letter), bidirectional LSTM layers read the result both ways, and a
softmax per frame over the alphabet's codes plus one blank is trained with Connectionist
Temporal Classification (Graves, Fernandez, Gomez and Schmidhuber 2006, "Connectionist
Temporal Classification: labelling unsegmented sequence data with recurrent neural
networks"), which sums over every way the text can be spread over the frames, so no
alignment of letters to points is ever needed. Reading is best-path decoding (section 3.2
of that paper): the likeliest class per frame, repeats merged, blanks removed.

It is trained on lines that know their text (the synthetic corpus by default). The character
error rate is the edit distance between what it reads and the true text, summed over lines
and divided by the true texts' total length.

    python -m model.recognizer train --out DIR [--data synthetic:12000] [--minutes 30]
    python -m model.recognizer cer [--weights DIR] --data SRC [--lines N]
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from model.alphabet import Alphabet
from model.base import (
    CONFIG_FILE,
    MODELS_DIR,
    WEIGHTS_FILE,
    DataError,
    Line,
    ModelError,
    not_new,
    replacing_folder,
    run_cli,
    unloadable_weights,
)
from model.data import load
from model.network import keras, tf

DEFAULT_RECOGNIZER_DIR = MODELS_DIR / "recognizer"


@dataclass
class RecognizerConfig:
    """The recogniser's shape. Each convolution halves the number of frames."""

    conv_layers: int = 3
    filters: int = 128
    kernel: int = 5
    lstm_layers: int = 1
    cells: int = 192
    classes: int = Alphabet.default().size + 1  # the alphabet's codes, then the CTC blank

    @property
    def blank(self) -> int:
        return self.classes - 1


@dataclass
class RecognizerTrainConfig:
    data: str = "synthetic:12000"
    val_lines: int = 300  # for choosing the best epoch
    test_lines: int = 500  # never seen in training or choosing: the reported character error rate
    epochs: int = 30
    minutes: float | None = None  # stop after the first epoch that ends past this budget
    batch_size: int = 32
    lr: float = 2e-3
    clip: float = 5.0
    patience: int = 4  # epochs without a lower validation CER before stopping
    seed: int = 0


def frames(points, config: RecognizerConfig, convolutions: int | None = None):
    """How many frames a line of this many points gives after the convolutions ('same'
    padding, stride 2; by default all of them); for a number, an array or a tensor of them."""
    for _ in range(config.conv_layers if convolutions is None else convolutions):
        points = (points + 1) // 2
    return points


def build_recognizer(config: RecognizerConfig) -> keras.Model:
    """[points (batch, T, 3) in model units, lengths (batch,)] -> logits (batch, frames, classes)."""
    points = keras.Input(shape=(None, 3), name="points")
    lengths = keras.Input(shape=(), dtype="int32", name="lengths")
    hidden = points
    for index in range(config.conv_layers):
        hidden = keras.layers.Conv1D(config.filters, config.kernel, strides=2, padding="same",
                                     activation="relu", name=f"conv_{index}")(hidden)
        # Frames made of padding are zeroed, as beyond the end of an unpadded line, so that
        # the next convolution sees a line's end the same alone or in a batch.
        hidden = keras.layers.Lambda(
            lambda pair, done=index + 1: pair[0] * tf.sequence_mask(
                frames(pair[1], config, done), tf.shape(pair[0])[1], dtype=pair[0].dtype)[..., None],
            name=f"conv_{index}_padding")([hidden, lengths])
    # The LSTMs skip the frames made of padding too.
    mask = keras.layers.Lambda(lambda pair: tf.sequence_mask(frames(pair[1], config), tf.shape(pair[0])[1]),
                               name="frame_mask")([hidden, lengths])
    for index in range(config.lstm_layers):
        hidden = keras.layers.Bidirectional(keras.layers.LSTM(config.cells, return_sequences=True),
                                            name=f"bilstm_{index}")(hidden, mask=mask)
    logits = keras.layers.Dense(config.classes, name="classes")(hidden)
    return keras.Model([points, lengths], logits, name="recognizer")


# --- CTC: batches, loss and decoding -----------------------------------------------------------


def batch_inputs(lines: list[Line], config: RecognizerConfig) -> tuple[np.ndarray, np.ndarray]:
    """(points (batch, padded, 3), lengths (batch,)) of the lines in model units, zero-padded to
    a multiple of 2^conv_layers: a strided 'same' convolution places its frames by the parity
    of its input's length, so a line is read on the same grid alone or in any batch."""
    lengths = np.array([len(line.points) for line in lines], np.int32)
    padded = -(-lengths.max() // 2**config.conv_layers) * 2**config.conv_layers
    points = np.zeros((len(lines), padded, 3), np.float32)
    for row, line in enumerate(lines):
        points[row, :lengths[row]] = line.model_inputs()
    return points, lengths


def batch_labels(texts: list[str], alphabet: Alphabet) -> tuple[np.ndarray, np.ndarray]:
    """(codes (batch, longest) zero-padded, lengths (batch,)) of the texts."""
    lengths = np.array([len(text) for text in texts], np.int32)
    codes = np.zeros((len(texts), max(lengths.max(), 1)), np.int32)
    for row, text in enumerate(texts):
        codes[row, :len(text)] = alphabet.encode(text)
    return codes, lengths


def ctc_loss(logits, codes, code_lengths, line_lengths, config: RecognizerConfig):
    """Mean over the batch of -log p(text | line), CTC's sum over every alignment."""
    return tf.reduce_mean(tf.nn.ctc_loss(codes, logits, code_lengths, frames(line_lengths, config),
                                         logits_time_major=False, blank_index=config.blank))


def best_path(frame_classes: np.ndarray, blank: int) -> np.ndarray:
    """CTC best-path decoding of one line's likeliest class per frame: repeats merged, blanks dropped."""
    frame_classes = np.asarray(frame_classes)
    changed = np.r_[True, frame_classes[1:] != frame_classes[:-1]]
    return frame_classes[changed & (frame_classes != blank)]


def fits(text: str, points: int, config: RecognizerConfig) -> bool:
    """Whether CTC can emit the text from a line of this many points: a frame per letter,
    plus a blank between each pair of equal neighbours."""
    repeats = sum(a == b for a, b in itertools.pairwise(text))
    return 0 < len(text) + repeats <= frames(points, config)


# --- the recogniser and its measure ---------------------------------------------------------


@dataclass
class Recognizer:
    model: keras.Model
    config: RecognizerConfig
    alphabet: Alphabet
    batch_lines: int = 32

    def read(self, lines: list[Line]) -> list[str]:
        """The text of each line, read by best path; lines are batched by length."""
        order = sorted(range(len(lines)), key=lambda index: len(lines[index].points))
        texts = [""] * len(lines)
        for start in range(0, len(order), self.batch_lines):
            chosen = order[start:start + self.batch_lines]
            points, lengths = batch_inputs([lines[index] for index in chosen], self.config)
            classes = np.argmax(self.model([points, lengths], training=False), axis=-1)
            for row, index in enumerate(chosen):
                codes = best_path(classes[row, :frames(lengths[row], self.config)], self.config.blank)
                texts[index] = self.alphabet.decode(codes)
        return texts


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions from a to b."""
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        previous = current
    return previous[-1]


CHARACTER_CLASSES = {"lower case": str.islower, "capitals": str.isupper, "digits": str.isdigit,
                     "punctuation": lambda char: not char.isalnum() and not char.isspace(), "space": str.isspace}


def class_errors(read: str, truth: str) -> dict[str, list[int]]:
    """Per character class: [errors, characters of the true text]. An error is a true character
    substituted or deleted, or a character inserted (counted in the inserted one's class)."""
    rows = [list(range(len(truth) + 1))]
    for i, char in enumerate(read, start=1):
        rows.append([i])
        for j, other in enumerate(truth, start=1):
            rows[i].append(min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + (char != other)))
    counts = {name: [0, sum(map(test, truth))] for name, test in CHARACTER_CLASSES.items()}

    def count(char: str) -> None:
        counts[next(name for name, test in CHARACTER_CLASSES.items() if test(char))][0] += 1

    i, j = len(read), len(truth)
    while i or j:  # walk back along one cheapest alignment
        if i and j and rows[i][j] == rows[i - 1][j - 1] + (read[i - 1] != truth[j - 1]):
            if read[i - 1] != truth[j - 1]:
                count(truth[j - 1])
            i, j = i - 1, j - 1
        elif j and rows[i][j] == rows[i][j - 1] + 1:
            count(truth[j - 1])  # deleted
            j -= 1
        else:
            count(read[i - 1])  # inserted
            i -= 1
    return counts


def read_texts(recognizer: Recognizer, lines_or_pairs) -> tuple[list[str], list[str]]:
    """What the recogniser reads in each line, and the true texts, for the error rates below.

    lines_or_pairs: Lines that know their text, or (Line, text) pairs (a model's writing and
    the text it was asked to write).
    """
    pairs = [(item, item.text) if isinstance(item, Line) else tuple(item) for item in lines_or_pairs]
    truth = [text for _, text in pairs]
    if not pairs or not sum(map(len, truth)):
        raise DataError("no text to compare with: give lines that know their text")
    return recognizer.read([line for line, _ in pairs]), truth


def error_rate(read: list[str], truth: list[str]) -> float:
    """Edit distance from what was read to the true texts, over their total length."""
    return sum(edit_distance(got, want) for got, want in zip(read, truth)) / sum(map(len, truth))


def class_rates(read: list[str], truth: list[str]) -> dict[str, float]:
    """The error rate of each character class (lower case, capitals, digits, punctuation, space)."""
    totals = {name: [0, 0] for name in CHARACTER_CLASSES}
    for got, want in zip(read, truth):
        for name, (errors, characters) in class_errors(got, want).items():
            totals[name][0] += errors
            totals[name][1] += characters
    return {name: round(errors / max(characters, 1), 4) for name, (errors, characters) in totals.items()}


def character_error_rate(recognizer: Recognizer, lines_or_pairs) -> float:
    """The recogniser's character error rate on lines (or (Line, text) pairs: read_texts)."""
    return error_rate(*read_texts(recognizer, lines_or_pairs))


# --- artefact ---------------------------------------------------------------------------------


def save_recognizer(recognizer: Recognizer, folder, **extra) -> Path:
    """config.json, alphabet.json, float16 weights.h5 (half the size to commit; read back as
    float32) and NAME.json for each extra NAME=value, in a new or empty folder, written whole
    or not at all (model.base.replacing_folder: a full disk leaves no half-written recogniser)."""
    import h5py

    folder = Path(folder)
    with replacing_folder(folder) as building:
        recognizer.alphabet.save(building)
        (building / CONFIG_FILE).write_text(json.dumps(asdict(recognizer.config), indent=2) + "\n")
        with h5py.File(building / WEIGHTS_FILE, "w") as file:
            for index, weight in enumerate(recognizer.model.weights):
                dataset = file.create_dataset(f"{index:03d}", data=weight.numpy().astype(np.float16))
                dataset.attrs["name"] = weight.name
        for name, value in extra.items():
            (building / f"{name}.json").write_text(json.dumps(value, indent=2) + "\n")
    return folder


def load_recognizer(folder=DEFAULT_RECOGNIZER_DIR) -> Recognizer:
    import h5py

    folder = Path(folder)
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        if not (folder / name).is_file():
            raise ModelError(f"{folder}: no {name}, so not a recogniser; train one with "
                                  "`python -m model.recognizer train --out DIR`")
    try:
        settings = json.loads((folder / CONFIG_FILE).read_text())
        config = RecognizerConfig(**{f.name: settings[f.name] for f in fields(RecognizerConfig)})
    except (ValueError, TypeError, KeyError) as error:
        raise ModelError(f"{folder / CONFIG_FILE}: unreadable recogniser config ({error}); retrain") from None
    alphabet = Alphabet.load(folder)
    if alphabet.size + 1 != config.classes:
        raise ModelError(f"{folder}: {config.classes} classes do not fit an alphabet of "
                              f"{alphabet.size} codes plus the blank; retrain")
    model = build_recognizer(config)
    try:
        with h5py.File(folder / WEIGHTS_FILE, "r") as file:
            model.set_weights([file[name][()].astype(np.float32) for name in sorted(file)])
    except (ValueError, OSError) as error:
        raise unloadable_weights(folder / WEIGHTS_FILE, asdict(config), error) from None
    return Recognizer(model, config, alphabet)


# --- training ---------------------------------------------------------------------------------


def length_batches(lines: list[Line], batch_size: int, rng) -> list[list[Line]]:
    """Batches of lines of similar length, in random order: little padding, every line once."""
    order = rng.permutation(len(lines))
    pool = batch_size * 20  # sort within pools, so batches still differ from epoch to epoch
    batches = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start:start + pool], key=lambda index: len(lines[index].points))
        batches += [[lines[index] for index in chunk[at:at + batch_size]] for at in range(0, len(chunk), batch_size)]
    return [batches[index] for index in rng.permutation(len(batches))]


def split(lines: list[Line], config: RecognizerTrainConfig) -> tuple[list[Line], list[Line], list[Line]]:
    """(train, validation, test): a seeded random choice of whole lines."""
    if len(lines) <= config.val_lines + config.test_lines:
        raise DataError(f"{config.data}: {len(lines)} lines with text leave none to train on beside "
                              f"{config.val_lines} validation and {config.test_lines} test lines; give more lines")
    order = np.random.default_rng(config.seed).permutation(len(lines))
    held = config.val_lines + config.test_lines
    pick = lambda indices: [lines[index] for index in indices]  # noqa: E731
    return pick(order[held:]), pick(order[:config.val_lines]), pick(order[config.val_lines:held])


def train(config: RecognizerTrainConfig, shape: RecognizerConfig, out, log=print) -> dict:
    """Train a recogniser into folder `out` (the best epoch's weights); returns its metrics."""
    out = Path(out)
    if why := not_new(out):
        raise ModelError(f"{out}: {why}: give a new or empty --out")
    keras.utils.set_random_seed(config.seed)
    alphabet = Alphabet.default()
    shape = RecognizerConfig(**{**asdict(shape), "classes": alphabet.size + 1})
    lines = [line for line in load(config.data) if line.text]
    usable = [line for line in lines if fits(line.text, len(line.points), shape)]
    if len(usable) < len(lines):
        log(f"skipping {len(lines) - len(usable)} lines with too few points for their text")
    train_lines, val_lines, test_lines = split(usable, config)
    recognizer = Recognizer(build_recognizer(shape), shape, alphabet)
    model = recognizer.model
    optimizer = keras.optimizers.Adam(config.lr, clipnorm=config.clip)

    @tf.function(reduce_retracing=True)
    def step(points, lengths, codes, code_lengths):
        with tf.GradientTape() as tape:
            loss = ctc_loss(model([points, lengths], training=True), codes, code_lengths, lengths, shape)
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    rng = np.random.default_rng(config.seed)
    history: list[dict] = []
    metrics = {"data": config.data, "alphabet": alphabet.chars, "train_lines": len(train_lines),
               "val_lines": len(val_lines), "test_lines": len(test_lines), "epochs": history}
    best, best_weights, started = math.inf, None, time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        epoch_started, losses = time.perf_counter(), []
        for batch in length_batches(train_lines, config.batch_size, rng):
            loss = float(step(*batch_inputs(batch, shape), *batch_labels([line.text for line in batch], alphabet)))
            if not math.isfinite(loss):
                raise ModelError(f"the CTC loss became {loss} in epoch {epoch}; lower --lr")
            losses.append(loss)
        val_cer = character_error_rate(recognizer, val_lines)
        record = {"epoch": epoch, "seconds": round(time.perf_counter() - epoch_started, 1),
                  "train_ctc": round(float(np.mean(losses)), 4), "val_cer": round(val_cer, 4)}
        history.append(record)
        log(json.dumps(record))
        if val_cer < best:
            best, best_weights = val_cer, model.get_weights()
        best_epoch = min(history, key=lambda record: record["val_cer"])["epoch"]
        over_time = config.minutes is not None and time.perf_counter() - started > 60 * config.minutes
        if epoch - best_epoch >= config.patience or over_time:
            break
    model.set_weights(best_weights)
    read, truth = read_texts(recognizer, test_lines)  # read once for both rates
    metrics.update(best_epoch=best_epoch, best_val_cer=best, test_cer=error_rate(read, truth),
                   test_cer_by_class=class_rates(read, truth),
                   train_minutes=round((time.perf_counter() - started) / 60, 1))
    save_recognizer(recognizer, out, train=asdict(config), metrics=metrics)
    log(f"test CER {metrics['test_cer']:.4f} on {len(test_lines)} held-out lines; saved {out}")
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.recognizer", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    trainer = commands.add_parser("train", help="train a recogniser on lines that know their text")
    trainer.add_argument("--out", required=True, help="new or empty folder for the recogniser")
    for config in (RecognizerTrainConfig(), RecognizerConfig()):
        for item in fields(config):
            if item.name not in ("classes",):
                kind = float if item.name in ("minutes", "lr", "clip") else (str if item.name == "data" else int)
                trainer.add_argument(f"--{item.name.replace('_', '-')}", type=kind, default=getattr(config, item.name),
                                     help="default %(default)s")
    measure = commands.add_parser("cer", help="print the character error rate on a source's lines as JSON")
    measure.add_argument("--weights", default=str(DEFAULT_RECOGNIZER_DIR), help="a recogniser folder")
    measure.add_argument("--data", required=True, help="a model.data source whose lines know their text")
    measure.add_argument("--lines", type=int, help="only the first N lines")
    args = parser.parse_args(argv)
    if min(getattr(args, name, 1) for name in ("epochs", "batch_size", "cells", "filters", "kernel")) < 1:
        parser.error("--epochs, --batch-size, --cells, --filters and --kernel must be at least 1")

    def command():
        if args.command == "train":
            values = vars(args)

            def given(cls):
                return cls(**{item.name: values[item.name] for item in fields(cls) if item.name in values})

            train(given(RecognizerTrainConfig), given(RecognizerConfig), args.out,
                  log=lambda text: print(text, flush=True))
        else:
            lines = [line for line in load(args.data, limit=args.lines) if line.text]
            recognizer = load_recognizer(args.weights)
            print(json.dumps({"cer": character_error_rate(recognizer, lines), "lines": len(lines)}))

    return run_cli(command)


if __name__ == "__main__":
    sys.exit(main())
