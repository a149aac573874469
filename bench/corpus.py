"""How fast the synthetic corpus (model/corpus.py) renders, and how human its numbers are.

Renders N lines (default 2,000, fonts parsed from cold) and prints one JSON object: lines per
second in wall and CPU time (the machine is shared, so CPU time says more about the code),
and the corpus statistics of model.data.stats beside those of the original article's 145
human lines, with their ratios (synthetic / human). The human lines carry no text, so the
points per character are compared through line width: median width and points per 1,000 raw
units of width. The goal (issue 2): 2,000 lines in under a minute on 2 cores, median step
length and points per stroke within a factor 1.5 of the human lines.

    python bench/corpus.py [--lines 2000] [--seed 0]
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from model import data
from model.base import run_cli
from model.corpus import synthesize

COMPARED = ("median_step_raw", "p99_step_raw", "median_points_per_stroke", "mean_points_per_line",
            "median_move_raw")


def shape(lines: list[data.Line]) -> dict:
    """The corpus statistics compared, plus line width and points per width."""
    widths = np.array([np.ptp(line.absolute()[:, 0]) for line in lines])
    points = np.array([len(line.points) for line in lines])
    corpus = data.stats(lines)
    return {
        **{name: corpus[name] for name in COMPARED},
        "median_line_width_raw": round(float(np.median(widths)), 1),
        "points_per_1000_raw_width": round(float(1000 * points.sum() / widths.sum()), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000, help="lines to render (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    args = parser.parse_args()
    human = shape(data.load("distill"))
    wall, cpu = time.perf_counter(), time.process_time()
    lines = synthesize(args.lines, args.seed)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    synthetic = shape(lines)
    print(json.dumps({
        "lines": args.lines,
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "lines_per_s": round(args.lines / wall, 1),
        "lines_per_cpu_s": round(args.lines / cpu, 1),
        "points_per_char": data.stats(lines)["points_per_char"],
        "ratio": {name: round(synthetic[name] / human[name], 3) for name in synthetic},
        "synthetic": synthetic,
        "human": human,
    }))


if __name__ == "__main__":
    sys.exit(run_cli(main))
