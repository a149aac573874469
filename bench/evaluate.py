"""Benchmark: evaluation of the original Distill weights on the article's 145 lines.

Prints one JSON line per run: points scored per second over the whole set (93,429 points,
zero-start, model.evaluate) after a warm-up that traces the graph, and the NLL. With
--quantize, the weights first go through model.export.export_tfjs and are read back as the
page reads them (model.export.as_exported), so the line also tells what that storage costs
the site's model in NLL.

    .venv/bin/python bench/evaluate.py [--batch-lines 16 64] [--quantize uint8 float16]
"""
import argparse
import json
import os
import sys
import time
from dataclasses import asdict

from model.base import run_cli
from model.data import load
from model.evaluate import EvaluateConfig, evaluate
from model.export import as_exported
from model.original import load_original


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-lines", type=int, nargs="+", default=[EvaluateConfig.batch_lines])
    parser.add_argument("--quantize", nargs="*", default=[], choices=["float16", "uint8"],
                        help="also score the weights as exported with these storages")
    args = parser.parse_args()
    lines, original = load("distill"), load_original()
    for quantize in [None, *args.quantize]:
        model = as_exported(original, quantize) if quantize else original
        for batch_lines in args.batch_lines:
            config = EvaluateConfig(batch_lines=batch_lines)
            evaluate(model, lines[:batch_lines], config)
            started = time.perf_counter()
            result = evaluate(model, lines, config)
            seconds = time.perf_counter() - started
            print(json.dumps({"benchmark": "evaluate", "weights": "distill", "export": quantize,
                              "config": asdict(config), "cpus": os.cpu_count(), "seconds": round(seconds, 2),
                              "points_per_second": round(result["points"] / seconds), **result}), flush=True)


if __name__ == "__main__":
    sys.exit(run_cli(main))
