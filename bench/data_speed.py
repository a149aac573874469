"""How fast model/data.py reads and prepares handwriting lines.

Writes a corpus (the article's 145 human lines, or synthetic lines without them) as JSON
lines, as an IAM-OnDB lineStrokes XML folder tree and as a lineStrokes tar.gz in a temporary
folder, then prints one JSON object: seconds and microseconds per point for loading each
form, for `clean` and for `stats`, in CPU time of this process (the machine is shared, so
wall time says more about the neighbours than about the code). The full IAM-OnDB (about 12,000 lines, 8.5 million
points) takes about that many points times the XML figure.

    python bench/data_speed.py [--source distill] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from model import data
from model.base import run_cli


def best_of(repeat: int, work) -> float:
    """The fastest of `repeat` runs, in CPU seconds."""
    times = []
    for _ in range(repeat):
        began = time.process_time()
        work()
        times.append(time.process_time() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="distill", help="any source model.data.load reads (default distill)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best counts")
    args = parser.parse_args()
    lines = data.load(args.source)
    points = sum(len(line.points) for line in lines)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        data.write_json_lines(lines, folder / "json")
        (folder / "lineStrokes").mkdir()
        for index, line in enumerate(lines):
            data.write_iam_xml(line, folder / "lineStrokes" / f"{index}.xml")
        with tarfile.open(folder / "lineStrokes-all.tar.gz", "w:gz") as archive:
            archive.add(folder / "lineStrokes", arcname="lineStrokes")
        seconds = {
            "load_json": best_of(args.repeat, lambda: data.load(folder / "json")),
            "load_iam_xml": best_of(args.repeat, lambda: data.load(folder / "lineStrokes")),
            "load_iam_tar_gz": best_of(args.repeat, lambda: data.load(folder / "lineStrokes-all.tar.gz")),
            "clean": best_of(args.repeat, lambda: data.clean(lines)),
            "stats": best_of(args.repeat, lambda: data.stats(lines)),
        }
    print(json.dumps({"source": args.source, "lines": len(lines), "points": points,
                      **{f"{name}_cpu_s": round(value, 3) for name, value in seconds.items()},
                      **{f"{name}_us_per_point": round(1e6 * value / points, 2) for name, value in seconds.items()}}))


if __name__ == "__main__":
    sys.exit(run_cli(main))
