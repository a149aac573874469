"""Training and fine-tuning the handwriting model (Graves 2013, section 4.2) with Keras's own machinery.

Every line of a source (model.data.load, then the training clean-up model.data.clean) is
teacher-forced the way evaluation scores it: the model reads [0, 0, 0] and then each point
but the last, and after every input predicts the next point. Long lines are cut into windows
of `seq_len` steps, each started from the zero state; the last window of a line is padded and
a mask keeps the padding out of the loss. With `seq_len` 0, and always with --text (the
network also reads each line's text, Graves section 5, model.text_network, so the window starts
at its first character), lines stay whole, each from the zero state as evaluation scores
them, and are batched with lines of similar length, one batch made at a time, so memory is
bounded by the batch and not by the corpus. With --init, the settings the user does not give
are FINE_TUNE_DEFAULTS'. The loss is the mean of `network.nll_terms` over the
real points of a batch (--jump-weight counts the offsets after a pen lift more); the reported
train and validation NLL are exact, unweighted means per point over the epoch (nats, density
per model unit^2), on a held-out set of whole lines.

Keras `fit` does the rest: Adam with gradient clipping, BackupAndRestore (a run killed even
with SIGKILL and started again with the same arguments continues after its last finished
epoch; a finished one given a higher --epochs goes on from its last epoch's weights),
tf.distribute (`--strategy mirrored`: every GPU of a machine; `multi-worker`: the machines
TF_CONFIG names, each running the same command, --out on a filesystem they share; the chief
writes the run), a weights checkpoint per epoch, early stopping on the validation
NLL, and TerminateOnNaN, turned into a one-line error. The output folder is an artefact that
`weights.load_model(OUT)` reads: the best epoch's weights, config.json (the ModelConfig),
train.json (this stage's TrainConfig) and metrics.json, beside the per-epoch checkpoints.
A run is its settings and the digest of the lines it read (data_sha256: their contents, not
the source's name), so other lines under the same name are another run; one model.train at a
time trains into a folder (model.base.locked), and --publish writes a copy to commit.

    python -m model.train --data synthetic:2000 --out runs/default --epochs 20
    python -m model.train --data distill --init distill --out runs/finetune --lr 1e-4
    python -m model.train --text --data synthetic:30000:chars=3-12 --cells 256 --out runs/writer
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import shutil
import signal
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from model.alphabet import ALPHABET_FILE, Alphabet
from model.base import (
    METRICS_FILE,
    MODEL_UNIT,
    PARTIAL_SUFFIX,
    ArgumentParser,
    Line,
    UserError,
    cannot_write,
    locked,
    not_new,
    ranged,
    replacing_folder,
    run_cli,
    seed_argument,
    shown_name,
    write_file,
)
from model.corpus import FONT_KINDS
from model.data import CleanConfig, clean, load, split_lines
from model.hands import hand_label

BACKUP_DIR = "backup"
PUBLICATION_FILE = "publication.json"  # in a --publish folder: which run it is a copy of
CHECKPOINT_PATTERN = "epoch-{epoch:03d}.weights.h5"
# Settings that may change between a run and its resumption: they do not change what has
# been trained so far.
RESUMABLE_CHANGES = ("epochs", "patience", "strategy")
# With --init, unless given: the best that bench/finetune.py measured (the original weights
# tuned on 90 of the article's lines, scored on 42 others; models/default/MODEL_CARD.md). A
# small learning rate keeps the pretrained weights (1e-3 first undoes them) and its cosine
# decay settles the validation NLL; whole lines from the zero state are what evaluation
# scores, where windows also train on zero states in mid-line.
FINE_TUNE_DEFAULTS = {"lr": 5e-5, "lr_decay": "cosine", "seq_len": 0, "batch_size": 8, "epochs": 20, "patience": 5}
LR_DECAYS = ("none", "cosine")
STRATEGIES = ("default", "mirrored", "multi-worker")


class TrainError(UserError):
    """Training cannot start or went wrong."""


@dataclass
class TrainConfig:
    data: str = "synthetic"
    lines: int | None = None  # keep only the first N lines of the source
    init: str | None = None  # start from these weights: "distill", "default" or an artefact folder
    # the shape of --init when there is one; model.network's ModelConfig, imported after the arguments are parsed
    model: ModelConfig = field(default_factory=lambda: ModelConfig())
    epochs: int = 20
    batch_size: int = 32
    seq_len: int = 300  # 0: whole lines
    lr: float = 1e-3
    lr_decay: str = "none"  # LR_DECAYS; cosine: from lr along a half cosine to 0 at the end of `epochs`
    clip: float = 10.0  # Keras clipnorm: each weight's gradient is rescaled to at most this norm
    # std of normal noise on the offsets the network reads in training (model units; targets
    # stay clean), so it leans less on its own last points, which drift when it writes alone
    input_noise: float = 0.0
    # how many times the loss counts the offset of each pen-up jump (where a new stroke starts):
    # the maximum-likelihood optimum is the same, but a small network spends more of itself on
    # where strokes go (a print letter's bars and serifs, the gaps between words), few of the points
    jump_weight: float = 1.0
    # a text model's coded kernels trained as the page's uint8 copy stores them (OnThePageGrid), so
    # that the copy is the model and not an approximation of it
    page_grid: bool = False
    val_fraction: float = 0.1
    patience: int = 3  # epochs without a better validation NLL before stopping
    seed: int = 0
    data_sha256: str = ""  # of the lines read (contents, not the source's name): set by train()
    clean: CleanConfig = field(default_factory=CleanConfig)
    strategy: str = "default"  # STRATEGIES: where the replicas are; batch_size is the global batch
    mixed_precision: bool = False  # float16 compute, float32 weights and head (for GPUs)

    def to_json(self) -> dict:
        return asdict(self)


def _positive(kind, zero: bool = False):
    def parse(text: str):
        value = kind(text)
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
            raise argparse.ArgumentTypeError(f"{text} is not {'0 or more' if zero else 'above 0'}")
        return value
    return parse


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    # TrainConfig's defaults, read without building its ModelConfig (model.network's, imported below)
    defaults = {f.name: f.default for f in fields(TrainConfig)}
    parser = ArgumentParser(prog="python -m model.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=defaults["data"], help="a model.data source (default %(default)s)")
    parser.add_argument("--out", required=True, help="folder for checkpoints, metrics and the trained model")
    parser.add_argument("--lines", type=_positive(int), help="use only the first N lines of the source")
    parser.add_argument("--init", help="start from weights: distill, default or an artefact folder; then the "
                        "defaults below marked 'with --init' apply (measured by bench/finetune.py)")
    shape = parser.add_argument_group("model shape (default 1 x 500 x 20, or the shape of --init)")
    for name in ("layers", "cells", "mixtures"):
        shape.add_argument(f"--{name}", type=_positive(int))
    shape.add_argument("--text", action="store_true",
                       help="learn to write each line's text: Graves's synthesis network (section 5)")
    shape.add_argument("--window-mixtures", type=_positive(int),
                       help="with --text: Gaussians in the window over the text (default 10)")
    shape.add_argument("--hands", action="store_true",
                       help="with --text: also read each line's hand (the synthetic corpus's fonts), so that the "
                       "writer can be told which hand to write in")

    def default_help(name: str) -> str:
        tuned = f"; with --init {FINE_TUNE_DEFAULTS[name]}" if name in FINE_TUNE_DEFAULTS else ""
        return f"default {defaults[name]}{tuned}"  # the defaults apply in _train, after --init is known

    for name in ("epochs", "batch_size", "patience"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=_positive(int), help=default_help(name))
    parser.add_argument("--seq-len", type=_positive(int, zero=True), help=f"{default_help('seq_len')} (0: whole lines)")
    for name in ("lr", "clip"):
        parser.add_argument(f"--{name}", type=_positive(float), help=default_help(name))
    parser.add_argument("--lr-decay", choices=LR_DECAYS, help=default_help("lr_decay"))
    parser.add_argument("--input-noise", type=_positive(float, zero=True), default=defaults["input_noise"],
                        help="whole lines only: std of noise on the offsets the network reads in training, model "
                        "units (default %(default)s)")
    parser.add_argument("--jump-weight", type=_positive(float), default=defaults["jump_weight"],
                        help="how many times the loss counts each pen-up jump's offset (default %(default)s)")
    parser.add_argument("--page-grid", action="store_true",
                        help="text models: train the kernels on the grid of the page's uint8 copy (model.export), "
                        "so that the copy writes as the model does")
    parser.add_argument("--val-fraction", type=float, default=defaults["val_fraction"], help="default %(default)s")
    parser.add_argument("--seed", type=seed_argument, default=defaults["seed"], help="default %(default)s")
    parser.add_argument("--publish", help="then copy the trained model, float16 and without checkpoints, here: "
                        "a new or empty folder, or an earlier publication of this run")
    parser.add_argument("--name", help="with --publish: the model's name in about.json (default: the folder's, "
                        "or what the earlier publication says)")
    parser.add_argument("--credit", help="with --publish: who made it, as about.json and the page credit it "
                        "(default: what the earlier publication says)")
    scale = parser.add_argument_group("more devices (--batch-size stays the global batch: lines per update)")
    scale.add_argument("--strategy", choices=STRATEGIES, default=defaults["strategy"],
                       help="mirrored: every GPU of this machine; multi-worker: the machines TF_CONFIG names, "
                       "each running this command with --out on a shared filesystem (default %(default)s)")
    scale.add_argument("--mixed-precision", action="store_true", help="float16 compute on GPUs (weights stay float32)")
    parser.add_argument("--threads-per-op", type=ranged(int, 0, 1024), default=1,
                        help="TensorFlow threads inside one op (default %(default)s; 0: TensorFlow's choice)")
    args = parser.parse_args(argv)
    if (args.name is not None or args.credit is not None) and not args.publish:
        parser.error("--name and --credit name a publication: give them with --publish")
    if not 0 < args.val_fraction < 1:
        parser.error(f"--val-fraction {args.val_fraction}: must be between 0 and 1")
    return args


if __name__ == "__main__":  # --help and a bad argument are answered at once, before TensorFlow's seconds below
    parse_arguments(sys.argv[1:])

from model.batches import dataset, line_dataset, windows  # noqa: E402
from model.export import as_exported, coded_kernel_grids, on_grid  # noqa: E402
from model.network import ModelConfig, keras, nll_terms, tf  # noqa: E402
from model.weights import (  # noqa: E402
    ABOUT_FILE,
    CONFIG_FILE,
    TRAIN_FILE,
    WEIGHTS_FILE,
    build_network,
    load_model,
    pretrained,
    save_artefact,
)


def use_threads(per_op: int = 1, side_by_side: int = os.cpu_count() or 1) -> None:
    """TensorFlow's thread pools (0: TensorFlow chooses). One thread inside each op, with as
    many ops of a step side by side as there are cores, trains twice as fast on 2 cores as
    TensorFlow's own choice, which oversubscribes them (bench/train.py --compare)."""
    try:
        tf.config.threading.set_intra_op_parallelism_threads(per_op)
        tf.config.threading.set_inter_op_parallelism_threads(side_by_side)
    except RuntimeError:  # TensorFlow has already run in this process (main() called from Python): its pools stay
        pass


# --- loss and metrics --------------------------------------------------------------------------


def masked_nll(jump_weight: float = 1.0):
    """The training loss: mean NLL per real point of the batch (padding excluded), the offsets
    of the points that follow a pen lift counted `jump_weight` times."""
    def loss(targets, y):
        nll_xy, nll_eos = nll_terms(y, targets[..., :3])
        mask = targets[..., 3]
        lifted_before = tf.pad(targets[:, :-1, 2], [[0, 0], [1, 0]])
        weighted = nll_xy * (1.0 + (jump_weight - 1.0) * lifted_before) + nll_eos
        return tf.reduce_sum(weighted * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)
    return loss


class PointNLL(keras.metrics.Metric):
    """Mean NLL per real point over an epoch: sums over points, not a mean of batch means,
    so that batches with more padding do not count more. term: "nll", "nll_xy" or "nll_eos"."""

    def __init__(self, term: str = "nll", **kwargs):
        super().__init__(name=term, **kwargs)
        self.term = term
        self.total = self.add_weight(name="total", initializer="zeros", dtype=tf.float64)
        self.points = self.add_weight(name="points", initializer="zeros", dtype=tf.float64)

    def update_state(self, targets, y, sample_weight=None):
        nll_xy, nll_eos = nll_terms(y, targets[..., :3])
        per_point = {"nll": nll_xy + nll_eos, "nll_xy": nll_xy, "nll_eos": nll_eos}[self.term]
        mask = targets[..., 3]
        self.total.assign_add(tf.cast(tf.reduce_sum(per_point * mask), tf.float64))
        self.points.assign_add(tf.cast(tf.reduce_sum(mask), tf.float64))

    def result(self):
        return self.total / tf.maximum(self.points, 1.0)

    def reset_state(self):
        self.total.assign(0.0)
        self.points.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "term": self.term}


# --- the epoch log: metrics.json, kept across resumption -----------------------------------------


class EpochLog(keras.callbacks.Callback):
    """Writes metrics.json after every epoch and carries it, and early stopping's memory,
    over a resumption: BackupAndRestore restores the weights and the epoch counter only."""

    def __init__(self, out: Path, early_stopping: keras.callbacks.EarlyStopping, about: dict, write: bool = True):
        super().__init__()
        self.path = out / METRICS_FILE
        self.write = write  # False on the workers of a multi-worker run other than the chief
        self.early_stopping = early_stopping
        self.about = about
        self.metrics = read_run_file(self.path) if self.path.is_file() else {}
        self.first_epoch = None
        self.diverged_at = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.first_epoch is None:  # the first epoch of this process: 0, or where a backup left off
            self.first_epoch = epoch
            done = [record for record in self.metrics.get("epochs", []) if record["epoch"] <= epoch]
            starts = [start for start in self.metrics.get("starts", []) if start <= epoch]
            self.metrics = {**self.about, "epochs": done, "starts": [*starts, epoch + 1]}
            if done:
                print(f"resuming after epoch {epoch} in {self.path.parent}", flush=True)
                self._restore_early_stopping(done)
        self.started = time.perf_counter()

    def _restore_early_stopping(self, done: list[dict]) -> None:
        best = min(done, key=lambda record: record["val_nll"])
        self.early_stopping.best = best["val_nll"]
        self.early_stopping.best_epoch = best["epoch"] - 1
        self.early_stopping.wait = done[-1]["epoch"] - best["epoch"]

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        record = {"epoch": epoch + 1, "seconds": round(time.perf_counter() - self.started, 2)}
        for name in ("nll", "nll_xy", "nll_eos"):
            record[f"train_{name}"] = float(logs.get(name, math.nan))
            record[f"val_{name}"] = float(logs.get(f"val_{name}", math.nan))
        if not (math.isfinite(record["train_nll"]) and math.isfinite(record["val_nll"])):
            self.diverged_at = epoch + 1
            self.model.stop_training = True
            return  # a diverged epoch is neither logged nor a checkpoint to resume from
        self.metrics["epochs"].append(record)
        self.summarise()
        if self.write:
            write_file(self.path, json.dumps(self.metrics, indent=2) + "\n")

    def summarise(self) -> dict:
        done = self.metrics["epochs"]
        best = min(done, key=lambda record: record["val_nll"])
        self.metrics.update(best_epoch=best["epoch"], best_val_nll=best["val_nll"],
                            train_seconds=round(sum(record["seconds"] for record in done), 1))
        return self.metrics


class InterruptBetweenBatches(keras.callbacks.Callback):
    """Ctrl-C ends `fit` at the end of the batch it lands in, as a KeyboardInterrupt raised here.

    Python's own handler raises it wherever the signal lands, and one that lands in a weakref
    callback (fit drops many) is printed and swallowed: the run went on, about one Ctrl-C in four."""

    def __init__(self):
        super().__init__()
        self._supports_tf_logs = True  # the batch logs are not read: no copy to NumPy per batch
        self.requested = False

    @contextlib.contextmanager
    def installed(self):
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:  # ignored, or someone else's
            yield
            return
        previous = signal.signal(signal.SIGINT, self._request)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def _request(self, signum, frame):
        self.requested = True

    def on_train_batch_end(self, batch, logs=None):
        if self.requested:
            raise KeyboardInterrupt

    on_test_batch_end = on_train_batch_end


class OnThePageGrid(keras.callbacks.Callback):
    """Keeps a text model's coded kernels on the grid of the page's uint8 copy while it trains
    (quantisation-aware training with the straight-through estimator: Bengio et al. 2013; Jacob et
    al. 2018, "Quantization and training of neural networks for efficient integer-arithmetic-only
    inference").

    Each batch computes its loss and gradient at the kernels as the page stores them, each weight
    rounded to the nearest code of its grid (model.export's), and the optimiser's step goes to a
    float shadow of them: a step smaller than the grid's adds up over batches instead of being
    rounded away. Checkpoints, validation and the trained model hold the rounded kernels, so the
    export gives back the same numbers. A resumed run starts its shadow from them. Started from
    --init, the kernels are first its uint8 copy's, rounded with error feedback (model.export),
    which loses less than rounding each weight to its nearest code.
    """

    def on_train_begin(self, logs=None):
        self.shadows: list[np.ndarray] = []  # taken at the first batch: BackupAndRestore, after this, resumes a run

    def on_train_batch_begin(self, batch, logs=None):
        if not self.shadows:
            self.kernels = coded_kernel_grids(self.model, text=True)
            self.shadows = [kernel.numpy() for kernel, _ in self.kernels]
            self._round()

    def on_train_batch_end(self, batch, logs=None):
        for shadow, (kernel, _), rounded in zip(self.shadows, self.kernels, self.rounded):
            shadow += kernel.numpy() - rounded
        self._round()

    def _round(self):
        self.rounded = [on_grid(shadow, **grid) for shadow, (_, grid) in zip(self.shadows, self.kernels)]
        for (kernel, _), rounded in zip(self.kernels, self.rounded):
            kernel.assign(rounded)


# --- the run -----------------------------------------------------------------------------------


def read_run_file(path: Path) -> dict:
    """A JSON file of a run folder; one damaged (a disk that filled before these files were
    written whole, a hand edit) ends in one line saying what to delete."""
    try:
        return json.loads(path.read_text())
    except ValueError as error:
        remedy = (f"delete the folder {path.parent} to train afresh" if path.name == TRAIN_FILE else
                  "delete it and run the same command again")
        raise TrainError(f"{path}: damaged, not JSON ({error}); {remedy}") from None


def data_digest(lines: list[Line]) -> str:
    """sha256 of what a run learns from: every line's points, start and text, in order."""
    digest = hashlib.sha256()
    for line in lines:
        for part in (np.ascontiguousarray(line.points, np.float32).tobytes(),
                     np.asarray(line.start, np.float64).tobytes(), line.text.encode()):
            digest.update(len(part).to_bytes(8, "little") + part)
    return digest.hexdigest()


def run_identity(settings: dict) -> str:
    """What a run is, from its train.json: every setting but those it may change when resumed."""
    kept = {name: value for name, value in settings.items() if name not in RESUMABLE_CHANGES}
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()


def _earlier_run(out: Path, config: TrainConfig) -> dict:
    """The metrics of the run in OUT ({} when there is none yet), after checking it is this
    run: the same settings and the same data, by contents (another folder's lines under the
    same name are another run)."""
    train_file = out / TRAIN_FILE
    if not train_file.is_file():
        if why := not_new(out, ours=lambda path: path.name.endswith(PARTIAL_SUFFIX)):
            raise TrainError(f"--out {out}: {why}, not a training run (no {TRAIN_FILE}); "
                             "give a new or empty folder")
        return {}
    earlier = {**TrainConfig().to_json(), **read_run_file(train_file)}  # settings added since: defaults
    now = config.to_json()
    if earlier["data_sha256"] and earlier["data_sha256"] != now["data_sha256"]:  # older runs recorded none
        raise TrainError(f"{out}: holds a run on other lines than {config.data} holds now (their contents "
                         "changed); give another --out for these lines")
    changed = [f"{name} {earlier[name]!r} -> {now[name]!r}" for name in now
               if name not in (*RESUMABLE_CHANGES, "data_sha256") and earlier[name] != now[name]]
    if changed:
        raise TrainError(f"{out}: holds a run with other settings ({', '.join(changed)}); "
                         "give another --out, or the same settings to resume it")
    metrics_file = out / METRICS_FILE
    return read_run_file(metrics_file) if metrics_file.is_file() else {}


def _initial_model(config: TrainConfig, alphabet: Alphabet | None) -> keras.Model:
    model = build_network(config.model)
    if config.init:  # main() has made the shape that of the init model, with hands perhaps added
        init_weights = load_model(config.init)[0].get_weights()
        model.set_weights([_grown(new, old) for new, old in zip(model.get_weights(), init_weights)])
        if config.page_grid:  # from the page's copy of it, rounded with error feedback, not to each nearest code
            model.set_weights(as_exported(model, "uint8", alphabet).get_weights())
    return model


def _grown(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """old in a zero array of new's shape: the hand inputs that --hands adds to an init model are
    the last rows of layer 1's kernel, and at zero the model writes as it did before."""
    if new.shape == old.shape:
        return old
    grown = np.zeros_like(new)
    grown[:old.shape[0]] = old
    return grown


def distribution(name: str) -> tf.distribute.Strategy:
    """The tf.distribute strategy a run trains under; Keras fit splits each global batch over its replicas."""
    if name == "mirrored":  # every GPU; without one, every logical CPU device (one, unless configured)
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    if name == "multi-worker":
        if "TF_CONFIG" not in os.environ:
            raise TrainError("--strategy multi-worker: set TF_CONFIG on every machine (the cluster's addresses "
                             "and this machine's task); see the README")
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def compile_for_training(model: keras.Model, config: TrainConfig, batches_per_epoch: int = 1) -> keras.Model:
    lr = config.lr
    if config.lr_decay == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(config.lr, decay_steps=config.epochs * batches_per_epoch)
    model.compile(optimizer=keras.optimizers.Adam(lr, clipnorm=config.clip), loss=masked_nll(config.jump_weight),
                  metrics=[PointNLL(term) for term in ("nll", "nll_xy", "nll_eos")])
    return model


def train(config: TrainConfig, out: str | Path, verbose: int = 1) -> dict:
    """Train (or resume training) into the folder `out`; returns its metrics. One run at a time
    trains into a folder (model.base.locked, as build.py locks its site)."""
    out = Path(out)
    strategy = distribution(config.strategy)
    # Under multi-worker, every worker runs this with the same --out on a shared filesystem:
    # the chief writes the run's files (and holds the lock), the others only temporary checkpoints.
    chief = strategy.extended.should_checkpoint
    held = locked(out, f"--out {out}: another model.train is training into this folder; wait for it "
                  "to finish or give another --out") if chief else contextlib.nullcontext()
    with held:
        return _train_locked(config, out, strategy, chief, verbose)


def _train_locked(config: TrainConfig, out: Path, strategy, chief: bool, verbose: int) -> dict:
    lines = clean(load(config.data, limit=config.lines), config.clean)
    config.data_sha256 = data_digest(lines)
    if chief:
        earlier = _earlier_run(out, config)
    else:  # the chief checks the folder; the other workers only start from the same epoch as it
        earlier = read_run_file(out / METRICS_FILE) if (out / METRICS_FILE).is_file() else {}
    initial_epoch = 0
    if "finished" in earlier:
        done = earlier["epochs"][-1]["epoch"]
        if earlier["finished"] == "early stopping" or done >= config.epochs:
            print(f"{out}: this run already finished ({earlier['finished']}, after epoch {done}); nothing to "
                  "train (its model written again)", flush=True)
            if chief:
                _save_run(out, config.model, read_run_file(out / TRAIN_FILE), earlier,
                          _alphabet(config, lines) if config.model.conditional else None)
            return earlier
        # Keras deleted the backup at the end: go on from the last epoch's weights (Adam's
        # moments start afresh, as after any restart of the optimiser)
        print(f"{out}: continuing the finished run from epoch {done} to {config.epochs}", flush=True)
        initial_epoch = done
    out.mkdir(parents=True, exist_ok=True)
    keras.mixed_precision.set_global_policy("mixed_float16" if config.mixed_precision else "float32")
    keras.utils.set_random_seed(config.seed)
    alphabet = _alphabet(config, lines) if config.model.conditional else None
    train_lines, val_lines = split_lines(lines, config.val_fraction, config.seed)
    train_points = sum(len(line.points) for line in train_lines)
    about: dict = {"data": config.data, "train_lines": len(train_lines), "val_lines": len(val_lines),
                   "train_points": train_points, "val_points": sum(len(line.points) for line in val_lines)}
    if config.init:
        about["init"] = config.init
    if alphabet:
        about["unknown_characters"] = sum(len(alphabet.unknown(line.text)) for line in lines)
        about["points_per_character"] = round(train_points / sum(len(line.text) for line in train_lines), 2)
        about["longest_text"] = max(len(line.text) for line in train_lines)  # model.write's and the page's rows
        about["units_per_character"] = units_per_character(train_lines)  # how many fit the page's width
    if config.model.hands:
        about["hands"] = {hand: sum(hand_label(line) == hand for line in lines) for hand in config.model.hands}
        if not any(about["hands"].values()):
            raise TrainError(f"--hands: no line of {config.data} is in a known hand ({', '.join(config.model.hands)}); "
                             "give synthetic corpus lines")
    if alphabet or not config.seq_len:
        training = line_dataset(train_lines, alphabet, config.batch_size, config.seed, config.model.hands,
                                config.input_noise)
        validation = line_dataset(val_lines, alphabet, config.batch_size, hands=config.model.hands)
        sequences = len(train_lines)
    else:
        inputs, targets = windows(train_lines, config.seq_len)
        training = dataset(inputs, targets, config.batch_size, shuffle_seed=config.seed)
        validation = dataset(*windows(val_lines, config.seq_len), config.batch_size)
        sequences = len(inputs)

    batches = math.ceil(sequences / config.batch_size)
    with strategy.scope():
        model = compile_for_training(_initial_model(config, alphabet), config, batches)
        if initial_epoch:
            model.load_weights(str(out / CHECKPOINT_PATTERN.format(epoch=initial_epoch)))
            model.optimizer.iterations.assign(initial_epoch * batches)  # the learning rate's schedule goes on
    # Where training starts from: for fine-tuning, the score the later epochs have to beat.
    about["initial_val_nll"] = earlier.get("initial_val_nll") or \
        model.evaluate(validation, verbose=0, return_dict=True)["nll"]
    early_stopping = keras.callbacks.EarlyStopping(monitor="val_nll", patience=config.patience)
    log = EpochLog(out, early_stopping, about, write=chief)
    interrupt = InterruptBetweenBatches()
    callbacks = [
        *([OnThePageGrid()] if config.page_grid else []),  # first: the batch's other callbacks see the grid
        interrupt,
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.ModelCheckpoint(str(out / CHECKPOINT_PATTERN), save_weights_only=True),
        early_stopping,
        log,  # before the backup: a kill between the two then repeats an epoch, never loses one
        keras.callbacks.BackupAndRestore(str(out / BACKUP_DIR)),
    ]
    # Only now: a run that fails before training (bad data, a bad --init) leaves no run in `out`
    # for the corrected command to be refused by.
    if chief:
        write_file(out / TRAIN_FILE, json.dumps(config.to_json(), indent=2) + "\n")
    try:
        with interrupt.installed():
            model.fit(training, validation_data=validation, epochs=config.epochs, initial_epoch=initial_epoch,
                      callbacks=callbacks, verbose=verbose)
    except OSError as error:  # a full disk as an epoch ends: its checkpoint half written, the epoch not logged
        if chief:  # the other workers' checkpoints are temporary files of their own
            logged = [entry["epoch"] for entry in log.metrics.get("epochs", [])]
            (out / CHECKPOINT_PATTERN.format(epoch=max(logged, default=initial_epoch) + 1)).unlink(missing_ok=True)
        raise cannot_write(out, error, "the epochs before are kept") from None
    if log.diverged_at is not None:
        raise TrainError(f"{out}: the loss became non-finite in epoch {log.diverged_at} (lr {config.lr}, "
                         f"clip {config.clip}); lower --lr or --clip, or check the data for extreme values")

    metrics = log.summarise()
    metrics["finished"] = "early stopping" if early_stopping.stopped_epoch else "all epochs"
    # The same on every worker of a run, as its replicas hold the same weights: a check for clusters.
    metrics["final_weights_sha256"] = hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest()
    print(f"finished after epoch {metrics['epochs'][-1]['epoch']} ({metrics['finished']}); best epoch "
          f"{metrics['best_epoch']}, val NLL {metrics['best_val_nll']:.4f}; final weights sha256 "
          f"{metrics['final_weights_sha256'][:16]}", flush=True)
    if not chief:
        return metrics
    _save_run(out, config.model, config.to_json(), metrics, alphabet)
    return metrics


def _save_run(out: Path, shape: ModelConfig, settings: dict, metrics: dict, alphabet: Alphabet | None) -> None:
    """The run's artefact, as `weights.load_model(OUT)` reads it: the best epoch's weights,
    config.json, train.json (`settings`), metrics.json, about.json and a text model's alphabet."""
    best = build_network(shape)  # outside the strategy: the artefact is the same whatever trained it
    best.load_weights(str(out / CHECKPOINT_PATTERN.format(epoch=metrics["best_epoch"])))
    about = {"name": out.name, "source": f"model.train on {shown_name(settings['data'])}", "credit": ""}
    save_artefact(best, shape, out, train=settings, metrics=metrics, about=about)
    if alphabet:
        alphabet.save(out)


def units_per_character(lines: list[Line]) -> float:
    """The lines' median width per character of their text, in model units."""
    return round(float(np.median([np.ptp(line.absolute()[:, 0]) / MODEL_UNIT / len(line.text) for line in lines])), 2)


def _alphabet(config: TrainConfig, lines: list[Line]) -> Alphabet:
    """The alphabet a text-conditional run reads: its --init model's, or the default."""
    untexted = sum(not line.text for line in lines)
    if untexted:
        raise TrainError(f"--text: {untexted} of {len(lines)} lines of {config.data} have no text; give lines "
                         "with their text (N.txt beside N.json, IAM-OnDB with ascii-all, or synthetic)")
    alphabet = (pretrained(config.init, "--init", text=True).alphabet if config.init else None) or Alphabet.default()
    if alphabet.size != config.model.alphabet_size:
        raise TrainError(f"the alphabet has {alphabet.size} codes, the model reads {config.model.alphabet_size}")
    return alphabet


def publish(run: Path, dest: Path, name: str | None = None, credit: str | None = None) -> None:
    """Copy a finished run's artefact, without its checkpoints, to dest with float16 weights:
    half the size to commit, and `load_artefact` reads them unchanged (Keras casts on load).
    What is meant to be committed names no local path (sources by model.base.shown_name).

    dest must be new, empty, or an earlier publication of this same run (PUBLICATION_FILE says
    which run: its settings and the digest of its data); it is written beside and swapped in
    whole (model.base.replacing_folder). Its about.json keeps every field of the earlier publication's,
    so what an author set there (name, credit, anything else) stays; `name` and `credit` set
    those two."""
    import h5py

    settings = read_run_file(run / TRAIN_FILE)
    identity = run_identity(settings)
    about = read_run_file(run / ABOUT_FILE)
    about = {**about, "name": dest.name, "source": shown_name(about.get("source", "")),
             **_earlier_publication(dest, identity),
             **{field: value for field, value in (("name", name), ("credit", credit)) if value is not None}}
    unlocated = {key: shown_name(value) for key, value in settings.items() if key in ("data", "init") and value}
    metrics = read_run_file(run / METRICS_FILE)
    metrics.update({key: shown_name(value) for key, value in metrics.items() if key in ("data", "init")})

    def halve(name, item):
        if isinstance(item, h5py.Dataset):
            target.create_dataset(name, data=item[()].astype(np.float16))
        else:
            target.require_group(name).attrs.update(item.attrs)

    with replacing_folder(dest) as building:
        for file, value in ((TRAIN_FILE, {**settings, **unlocated}), (METRICS_FILE, metrics), (ABOUT_FILE, about),
                            (PUBLICATION_FILE, {"run": identity})):
            (building / file).write_text(json.dumps(value, indent=2) + "\n")
        for file in (CONFIG_FILE, ALPHABET_FILE):
            if (run / file).is_file():
                shutil.copyfile(run / file, building / file)
        with h5py.File(run / WEIGHTS_FILE, "r") as source, h5py.File(building / WEIGHTS_FILE, "w") as target:
            target.attrs.update(source.attrs)
            source.visititems(halve)
    print(f"published {run} to {dest} (float16 weights; name {about['name']!r}, credit {about['credit']!r})",
          flush=True)


def _holds_a_publication(dest: Path) -> bool:
    """Whether dest holds a publication of some run (False where it is new or empty); anything
    else there is someone's files, and refused."""
    why = not_new(dest)
    if why and not (dest / PUBLICATION_FILE).is_file():
        raise TrainError(f"--publish {dest}: {why}, not a publication of a run (no {PUBLICATION_FILE}); "
                         "give a new or empty folder, or move them away yourself")
    return bool(why)


def _earlier_publication(dest: Path, identity: str) -> dict:
    """The about.json of an earlier publication of the run `identity` at dest ({} for a new or
    empty folder)."""
    if not _holds_a_publication(dest):
        return {}
    if read_run_file(dest / PUBLICATION_FILE).get("run") != identity:
        raise TrainError(f"--publish {dest}: holds the publication of another run (other settings or "
                         "other data); give another folder, or delete that one yourself")
    return read_run_file(dest / ABOUT_FILE) if (dest / ABOUT_FILE).is_file() else {}


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    use_threads(args.threads_per_op, (os.cpu_count() or 1) if args.threads_per_op else 0)
    return run_cli(lambda: _train(args), interrupted=lambda: f"interrupted; the same command resumes the run in "
                   f"{args.out} after its last finished epoch")


def _train(args: argparse.Namespace) -> None:
    given = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if getattr(args, f.name, None) is not None}
    settings = {**(FINE_TUNE_DEFAULTS if args.init else {}), **given}
    shape = {name: getattr(args, name) for name in ("layers", "cells", "mixtures") if getattr(args, name) is not None}
    if args.text:
        shape.update(window_mixtures=args.window_mixtures or 10, alphabet_size=Alphabet.default().size)
    if args.init:
        init_shape = asdict(load_model(args.init)[1])
        conflicts = {k: v for k, v in shape.items() if v != init_shape[k]}
        if conflicts:
            raise TrainError(f"--init {args.init}: its shape is {init_shape}, not {conflicts}; drop --layers/"
                             "--cells/--mixtures when fine-tuning, and give --text only with a model trained with it")
        shape = init_shape
    if args.hands and not shape.get("window_mixtures"):
        raise TrainError("--hands: give --text too, or --init a text-conditional model")
    if args.input_noise and settings.get("seq_len", TrainConfig.seq_len) and not shape.get("window_mixtures"):
        raise TrainError("--input-noise: give --seq-len 0 (whole lines), or train a text-conditional model")
    if args.page_grid and not shape.get("window_mixtures"):
        raise TrainError("--page-grid: give --text too, or --init a text-conditional model")
    if args.hands and not shape.get("hands"):
        shape["hands"] = list(FONT_KINDS)
    if args.publish:  # before the training's hours, not after them
        _holds_a_publication(Path(args.publish))
    train(TrainConfig(**settings, model=ModelConfig(**shape)), args.out, verbose=1 if sys.stdout.isatty() else 2)
    if args.publish:
        publish(Path(args.out), Path(args.publish), args.name, args.credit)


if __name__ == "__main__":
    sys.exit(main())
