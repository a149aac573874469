"""How well a handwriting model predicts lines: mean negative log-likelihood per point; and
how well a text-conditional model writes: legibility and alignment.

The score is Graves (2013, section 4.2)'s sequence loss, the one `model.network.nll_terms`
defines, in nats per point for the density per model unit^2 (raw offsets / 40; add 2 ln 40
for raw units). Convention "zero-start": the model is fed [0, 0, 0] and then the line's
points, so a line of T points gives T terms, the first predicted from nothing. Whole lines,
never truncated. The original Distill weights score -1.9104 on the article's 145 lines.

A text-conditional model (section 5) reads each line's text too. `--data held-out` scores
exactly the lines its training held out, and `--baseline W` scores an unconditional model on
the same lines beside it: the text should lower the NLL. `--write N` then writes the texts
of N of those lines (model.write, bias `--bias`) and reports two more measures:
- legibility: the character error rate of the project's recogniser (model.recognizer,
  trained on the synthetic corpus) reading the writing, overall and per class of character
  (lower case, capitals, digits, punctuation, space) and per hand of the lines (the corpus's
  fonts), beside its rate on the real lines; a writer trained with hands writes each text in
  its line's hand;
- alignment: the share of texts whose stop rule fired within 1.5 times as many points as the
  held-out line of the same text has (a text of capitals or digits takes more points a
  character than one of lower-case letters, in the corpus as in the writing).
`--hands N` measures whether priming (section 5.5) carries the hand: N held-out lines of each
of the corpus's hands prime the writer (a writer with hands in the hand it reads there,
model.write's read_hand), which then writes another held-out line's text; a
classifier of hands (model.hands), trained on fresh corpus lines the writer never saw, labels
each writing, and the report holds the confusion matrix (rows: the prime's hand); a writer
trained with hands also writes the same texts told each prime's hand, with no prime (`told`).
`--writings K` writes each text K times (sampling seeds 0 to K-1) and pools the rates: the
writing is sampled, and one writing of 300 texts misreads a point more or less by the draw
alone (the writer of stage 22: 6.8%, 6.7% and 7.6% for seeds 0 to 2); `cer_by_writing` shows
each writing's rate. `--export uint8` measures all of it with the weights as the site stores
them (model.export).

    python -m model.evaluate --weights {default|distill|FOLDER} --data SRC
    python -m model.evaluate --weights writer --data held-out --baseline runs/baseline --write 100 [--writings 3]
    python -m model.evaluate --weights writer --data held-out --hands 20
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace

import numpy as np
from tqdm import tqdm

from model.alphabet import Alphabet
from model.base import MAX_BIAS, SEED_MAX, ArgumentParser, DataError, Line, ranged, run_cli
from model.corpus import synthesize
from model.data import CleanConfig, clean, load, split_lines
from model.hands import confusion, hand_label, hand_of, train_hand_classifier

WRITE_BATCH = 50  # texts written side by side
HAND_TRAINING_LINES = 1200  # fresh corpus lines (seed HAND_TRAINING_SEED) the hand classifier learns from
# A corpus seed no writer trains on (models/writer's stages: 0, then 1): line i of a seed has the same
# hand and style whatever the line lengths asked, so a classifier taught on a writer's seed has seen
# the hands of the writer's held-out lines.
HAND_TRAINING_SEED = 1000
ALIGNED_WITHIN = 1.5  # times the real line's points: a text written in about its own length


@dataclass(frozen=True)
class EvaluateConfig:
    # Lines are sorted by length and scored this many at a time, padded to the longest of the
    # batch: a causal LSTM never sees the padding, and its terms are masked out of the sums.
    batch_lines: int = 16


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = ArgumentParser(prog="python -m model.evaluate", description=(
        "Print one JSON line: the model's mean negative log-likelihood per point (nats, density "
        "per model unit^2, zero-start) on every point of every line of a source; for a model that "
        "writes a text, also its legibility and alignment (--write)."))
    parser.add_argument("--weights", default="default",
                        help="default (models/default), distill (the original article's), writer (models/writer) "
                        "or an artefact folder")
    parser.add_argument("--data", default="distill",
                        help="any source model.data.load reads (default: the article's 145 lines), or held-out: "
                        "the lines the model's training held out")
    parser.add_argument("--batch-lines", type=ranged(int, 1), default=EvaluateConfig.batch_lines,
                        help="lines scored together (default %(default)s)")
    parser.add_argument("--baseline", help="also score this unconditional model on the same lines")
    parser.add_argument("--write", type=ranged(int, 0), default=0, metavar="N",
                        help="a model that writes a text: write the texts of the first N lines and measure them")
    parser.add_argument("--writings", type=ranged(int, 1, SEED_MAX + 1), default=1, metavar="K",
                        help="with --write: write each text K times (sampling seeds 0 to K-1) and pool the rates "
                        "(default %(default)s)")
    parser.add_argument("--hands", type=ranged(int, 0), default=0, metavar="N",
                        help="a model that writes a text, on corpus lines: prime it with N lines of each hand "
                        "and measure whether the writing keeps the hand")
    parser.add_argument("--export", choices=["float16", "uint8"],
                        help="score and write with the weights as an export with this storage gives them back "
                        "(the site stores uint8)")
    parser.add_argument("--bias", type=ranged(float, 0, MAX_BIAS), default=1.0,
                        help="with --write and --hands: sampling bias (default %(default)s)")
    return parser.parse_args(argv)


if __name__ == "__main__":  # --help and a bad argument are answered at once, before TensorFlow's seconds below
    parse_arguments(sys.argv[1:])

from model import weights  # noqa: E402
from model.batches import line_batch  # noqa: E402
from model.export import as_exported  # noqa: E402
from model.network import keras, line_nll_sums, tf  # noqa: E402
from model.recognizer import (  # noqa: E402
    Recognizer,
    character_error_rate,
    class_rates,
    error_rate,
    load_recognizer,
    read_texts,
)
from model.text_network import window_cell  # noqa: E402
from model.write import WriteConfig, Writer, Written, load_writer  # noqa: E402


def evaluate(model: keras.Model, lines: list[Line], config: EvaluateConfig = EvaluateConfig(),
             alphabet: Alphabet | None = None) -> dict:
    """{"nll_per_point", "nll_xy", "nll_eos", "points", "lines"} of the model on the lines;
    a text-conditional model reads their texts in `alphabet`."""
    if not lines:
        raise DataError("no lines to evaluate: give a source with at least one line")
    if alphabet and not all(line.text for line in lines):
        raise DataError("a text-conditional model is scored on lines with their text; some have none")

    @tf.function(reduce_retracing=True)
    def masked_sums(inputs, targets):
        return line_nll_sums(model(inputs, training=False), targets)

    hands = window_cell(model).hands if alphabet else []

    def scored(batch):
        return masked_sums(*line_batch(batch, alphabet, hands))

    ordered = sorted(lines, key=lambda line: len(line.points))
    batches = [ordered[start:start + config.batch_lines] for start in range(0, len(ordered), config.batch_lines)]
    total_xy = total_eos = 0.0
    for batch in tqdm(batches, desc="evaluating", unit="batch", disable=None, leave=False):
        line_xy, line_eos = scored(batch)
        # Per-line sums in float32, the total over lines in float64.
        total_xy += float(np.sum(line_xy, dtype=np.float64))
        total_eos += float(np.sum(line_eos, dtype=np.float64))
    points = sum(len(line.points) for line in lines)
    return {"nll_per_point": (total_xy + total_eos) / points, "nll_xy": total_xy / points,
            "nll_eos": total_eos / points, "points": points, "lines": len(lines)}


def held_out_lines(model: str | weights.Artefact) -> list[Line]:
    """The lines a training run (a model name, or the model loaded) held out for validation,
    cleaned as it cleaned them (its train.json)."""
    artefact = weights.pretrained(model) if isinstance(model, str) else model
    settings = artefact.train
    if not settings:
        raise DataError(f"--data held-out: {artefact.about['source']} has no {weights.TRAIN_FILE}; it needs a "
                        "model trained by model.train, or give --data a source")
    clean_config = CleanConfig.from_json(settings.get("clean", {}), f"{artefact.about['source']} {weights.TRAIN_FILE}")
    lines = clean(load(settings["data"], limit=settings.get("lines")), clean_config)
    return split_lines(lines, settings["val_fraction"], settings["seed"])[1]


def measure_writing(writer: Writer, lines: list[Line], bias: float, recognizer: Recognizer,
                    writings: int = 1) -> dict:
    """Legibility and alignment of the writer's writing of the lines' texts (module docstring),
    each written `writings` times, with sampling seeds 0, 1, ...: every rate pools them all."""
    texts, hands = [line.text for line in lines], [hand_label(line) for line in lines]
    written = [item for seed in range(writings) for item in written_in(writer, texts, hands, bias, seed=seed)]
    read, truth = read_texts(recognizer, [item.line for item in written])  # read once for every rate
    by_hand: dict[str, list[int]] = {}
    for index, hand in enumerate(hands * writings):
        if hand is not None:
            by_hand.setdefault(hand, []).append(index)
    each = [slice(seed * len(lines), (seed + 1) * len(lines)) for seed in range(writings)]
    return {"texts": len(lines), "writings": writings, "bias": bias,
            "cer": error_rate(read, truth), "cer_by_writing": [error_rate(read[part], truth[part]) for part in each],
            "cer_by_class": class_rates(read, truth),
            "cer_by_hand": {hand: error_rate([read[i] for i in indices], [truth[i] for i in indices])
                            for hand, indices in sorted(by_hand.items())},
            "recogniser_cer_on_the_real_lines": character_error_rate(recognizer, lines),
            "aligned_share": aligned_share(written, lines * writings), "aligned_within": ALIGNED_WITHIN}


def aligned_share(written: list[Written], lines: list[Line]) -> float:
    """The share of the lines' texts written on time (module docstring): stopped by the stop
    rule within ALIGNED_WITHIN times as many points as the line itself has."""
    return float(np.mean([item.stopped and item.points <= ALIGNED_WITHIN * len(line.points)
                          for item, line in zip(written, lines, strict=True)]))


def written_in(writer: Writer, texts: list[str], hands: list[str | None], bias: float,
               primes: list[Line] | None = None, seed: int = 0) -> list[Written]:
    """The texts written, in order, each after its prime when given, and told its hand where the
    writer learned it; a text of no learned hand gets model.write's default (the first hand,
    or after a prime none). `seed` is model.write's sampling seed."""
    by_hand: dict[str | None, list[int]] = {}
    for index, hand in enumerate(hands):
        by_hand.setdefault(hand if hand in writer.hands else None, []).append(index)
    written: dict[int, Written] = {}
    for hand, indices in by_hand.items():
        for start in range(0, len(indices), WRITE_BATCH):
            batch = indices[start:start + WRITE_BATCH]
            config = WriteConfig(bias, hand=hand, seed=seed)
            written |= zip(batch, writer.write([texts[i] for i in batch], config,
                                               prime=[primes[i] for i in batch] if primes else None))
    return [written[index] for index in range(len(texts))]


def measure_hands(writer: Writer, lines: list[Line], per_hand: int, bias: float,
                  training_lines: int = HAND_TRAINING_LINES) -> dict:
    """Whether priming carries the hand (module docstring): the confusion matrix of the hands
    of `per_hand` primes per hand against the hands the classifier reads in the writing; for a
    writer with hands, also `told`: the same texts written told the primes' hands, no prime."""
    hands: dict[str, list[int]] = {}
    for index, line in enumerate(lines):
        hands.setdefault(hand_of(line), []).append(index)
    chosen = [index for hand in sorted(hands) for index in hands[hand][:per_hand]]
    primes = [lines[index] for index in chosen]
    # Each prime writes the text of the next held-out line, so no prime writes its own words.
    texts = [lines[(index + 1) % len(lines)].text for index in chosen]
    truth = [hand_of(prime) for prime in primes]
    written = [item.line for item in written_in(writer, texts, [None] * len(primes), bias, primes)]
    classifier = train_hand_classifier(synthesize(training_lines, HAND_TRAINING_SEED))
    report = {"primes": len(primes), "bias": bias, **confusion(truth, classifier.predict(written), classifier.hands)}
    if writer.hands:
        told = [item.line for item in written_in(writer, texts, list(truth), bias)]
        report["told"] = confusion(truth, classifier.predict(told), classifier.hands)
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    return run_cli(lambda: _evaluate(args))


def _evaluate(args: argparse.Namespace) -> None:
    # A wrong --weights or --baseline is named before any download of --data and before the scoring.
    artefact = weights.pretrained(args.weights)
    baseline = weights.pretrained(args.baseline, "--baseline", text=False).model if args.baseline else None
    if (args.write or args.hands) and not artefact.alphabet:
        raise DataError(f"--write/--hands: {args.weights} is an unconditional model, which writes no given text")
    if args.export:
        artefact = replace(artefact, model=as_exported(artefact.model, args.export, artefact.alphabet))
    lines = held_out_lines(artefact) if args.data == "held-out" else load(args.data)
    settings = EvaluateConfig(batch_lines=args.batch_lines)
    report = evaluate(artefact.model, lines, settings, artefact.alphabet)
    if args.export:
        report["export"] = args.export
    if baseline is not None:
        report["baseline"] = {"weights": args.baseline, **evaluate(baseline, lines, settings)}
        report["text_lowers_nll_by"] = report["baseline"]["nll_per_point"] - report["nll_per_point"]
    if args.write:
        report["written"] = measure_writing(load_writer(artefact), lines[:args.write], args.bias,
                                            load_recognizer(), args.writings)
    if args.hands:
        report["hands"] = measure_hands(load_writer(artefact), lines, args.hands, args.bias)
    print(json.dumps(report))


if __name__ == "__main__":
    sys.exit(main())
