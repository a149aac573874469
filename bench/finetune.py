"""Does fine-tuning make the model write like a given hand? The original weights before and after.

The top request for handwriting models is "make it write like me". This takes the Distill
article's pretrained weights (Carter, Ha, Johnson, Olah 2016; Graves 2013, section 4.2),
fine-tunes them with model/train.py (`--init distill`, so with its FINE_TUNE_DEFAULTS unless
--epochs or --lr is given) on the first `--train-lines` of the article's 145 human lines, and
scores the remaining lines with model/evaluate.py before and after: the zero-start NLL in
nats per point (density per model unit^2; lower is better).
Held-out lines that are exact copies of a training line (the set has 8 duplicated pairs) are
left out of the score. Prints one JSON object.

    python bench/finetune.py [--train-lines 100 --epochs 30 --lr 3e-5] --out runs/finetune
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from model.base import run_cli
from model.data import load, write_json_lines
from model.evaluate import evaluate
from model.train import FINE_TUNE_DEFAULTS, TrainConfig, train
from model.weights import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder for the training lines and the fine-tuned model")
    parser.add_argument("--train-lines", type=int, default=100, help="default %(default)s")
    parser.add_argument("--epochs", type=int, help=f"default {FINE_TUNE_DEFAULTS['epochs']}")
    parser.add_argument("--lr", type=float, help=f"default {FINE_TUNE_DEFAULTS['lr']}")
    parser.add_argument("--seed", type=int, default=0, help="default %(default)s")
    args = parser.parse_args()

    lines = load("distill")
    tuning, rest = lines[:args.train_lines], lines[args.train_lines:]
    seen = {line.points.tobytes() for line in tuning}
    held_out = [line for line in rest if line.points.tobytes() not in seen]
    out = Path(args.out)
    if not (out / "lines").is_dir():
        write_json_lines(tuning, out / "lines")

    given = {name: getattr(args, name) for name in ("epochs", "lr") if getattr(args, name) is not None}
    config = TrainConfig(**{**FINE_TUNE_DEFAULTS, **given}, data=str(out / "lines"), init="distill", seed=args.seed)
    started = time.perf_counter()
    metrics = train(config, out / "model", verbose=2)
    seconds = time.perf_counter() - started
    before = evaluate(load_model("distill")[0], held_out)
    after = evaluate(load_model(str(out / "model"))[0], held_out)
    print(json.dumps({"train_lines": len(tuning), "held_out_lines": len(held_out), "held_out_points": after["points"],
                      "nll_before": before["nll_per_point"], "nll_after": after["nll_per_point"],
                      "nll_xy": [before["nll_xy"], after["nll_xy"]], "nll_eos": [before["nll_eos"], after["nll_eos"]],
                      "epochs": len(metrics["epochs"]), "best_epoch": metrics["best_epoch"],
                      "train_seconds": round(seconds), "train": config.to_json()}))


if __name__ == "__main__":
    sys.exit(run_cli(main))
