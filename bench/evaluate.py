"""Benchmark: evaluation speed of the original Distill weights on the article's 145 lines.

Prints one JSON line per batch size: points scored per second over the whole set (93,429
points, zero-start, model.evaluate), after a warm-up that traces the graph.

    .venv/bin/python bench/evaluate.py [--batch-lines 1 16 64]
"""
import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from model.data import load  # noqa: E402
from model.evaluate import EvaluateConfig, evaluate  # noqa: E402
from model.original import load_original  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-lines", type=int, nargs="+", default=[EvaluateConfig.batch_lines])
    args = parser.parse_args()
    lines, model = load("distill"), load_original()
    for batch_lines in args.batch_lines:
        config = EvaluateConfig(batch_lines=batch_lines)
        evaluate(model, lines[:batch_lines], config)
        started = time.perf_counter()
        result = evaluate(model, lines, config)
        seconds = time.perf_counter() - started
        print(json.dumps({"benchmark": "evaluate", "weights": "distill", "config": asdict(config),
                          "cpus": os.cpu_count(), "seconds": round(seconds, 2),
                          "points_per_second": round(result["points"] / seconds), **result}), flush=True)


if __name__ == "__main__":
    main()
