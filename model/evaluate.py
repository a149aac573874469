"""How well a handwriting model predicts lines: mean negative log-likelihood per point.

The score is Graves (2013, section 4.2)'s sequence loss, the one `model.network.nll_terms`
defines, in nats per point for the density per model unit^2 (raw offsets / 40; add 2 ln 40
for raw units). Convention "zero-start": the model is fed [0, 0, 0] and then the line's
points, so a line of T points gives T terms, the first predicted from nothing. Whole lines,
never truncated. The original Distill weights score -1.9104 on the article's 145 lines.

    python -m model.evaluate --weights {default|distill|FOLDER} --data SRC
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from model.base import DataError, Line, run_cli
from model.data import load
from model.network import keras, nll_terms, tf
from model.weights import load_model


@dataclass
class EvaluateConfig:
    # Lines are sorted by length and scored this many at a time, padded to the longest of the
    # batch: a causal LSTM never sees the padding, and its terms are masked out of the sums.
    batch_lines: int = 16


def zero_start_batch(lines: list[Line]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inputs, targets, mask), each (batch, longest, ...): inputs are [0, 0, 0] then every
    point but the last, targets every point, mask 1 where a line has a point."""
    longest = max(len(line.points) for line in lines)
    targets = np.zeros((len(lines), longest, 3), np.float32)
    mask = np.zeros((len(lines), longest), np.float32)
    for row, line in enumerate(lines):
        targets[row, :len(line.points)] = line.model_inputs()
        mask[row, :len(line.points)] = 1.0
    inputs = np.concatenate([np.zeros_like(targets[:, :1]), targets[:, :-1]], axis=1)
    return inputs, targets, mask


def evaluate(model: keras.Model, lines: list[Line], config: EvaluateConfig = EvaluateConfig()) -> dict:
    """{"nll_per_point", "nll_xy", "nll_eos", "points", "lines"} of the model on the lines."""
    if not lines:
        raise DataError("no lines to evaluate: give a source with at least one line")

    @tf.function(reduce_retracing=True)
    def masked_sums(inputs, targets, mask):
        nll_xy, nll_eos = nll_terms(model(inputs, training=False), targets)
        return tf.reduce_sum(nll_xy * mask, axis=1), tf.reduce_sum(nll_eos * mask, axis=1)

    ordered = sorted(lines, key=lambda line: len(line.points))
    batches = [ordered[start:start + config.batch_lines] for start in range(0, len(ordered), config.batch_lines)]
    total_xy = total_eos = 0.0
    for batch in tqdm(batches, desc="evaluating", unit="batch", disable=None, leave=False):
        line_xy, line_eos = masked_sums(*zero_start_batch(batch))
        # Per-line sums in float32, the total over lines in float64.
        total_xy += float(np.sum(line_xy, dtype=np.float64))
        total_eos += float(np.sum(line_eos, dtype=np.float64))
    points = sum(len(line.points) for line in lines)
    return {"nll_per_point": (total_xy + total_eos) / points, "nll_xy": total_xy / points,
            "nll_eos": total_eos / points, "points": points, "lines": len(lines)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.evaluate", description=(
        "Print one JSON line: the model's mean negative log-likelihood per point (nats, density "
        "per model unit^2, zero-start) on every point of every line of a source."))
    parser.add_argument("--weights", default="default",
                        help="default (model/default), distill (the original article's) or an artefact folder")
    parser.add_argument("--data", default="distill",
                        help="any source model.data.load reads (default: the article's 145 lines)")
    parser.add_argument("--batch-lines", type=int, default=EvaluateConfig.batch_lines,
                        help="lines scored together (default %(default)s)")
    args = parser.parse_args(argv)
    return run_cli(lambda: _evaluate(args))


def _evaluate(args: argparse.Namespace) -> None:
    if args.batch_lines < 1:
        raise DataError(f"--batch-lines {args.batch_lines}: must be at least 1")
    model, _, _ = load_model(args.weights)  # a wrong --weights is named before any download of --data
    lines = load(args.data)
    print(json.dumps(evaluate(model, lines, EvaluateConfig(batch_lines=args.batch_lines))))


if __name__ == "__main__":
    sys.exit(main())
