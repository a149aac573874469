"""Reading a written line back: the text the recogniser (model/recognizer.py) sees in it.

    python -m model.read LINE.json [--weights model/recognizer]
    python -m model.read hello.svg

A line is a JSON line in the project's format (rows [dx, dy, pen_up] in raw units, as
`model.write --out x.json` or `model.data synth` write them) or an SVG that `model.write`
drew (`to_svg`: one polyline per pen-down stroke, in raw units; its title is not read). A
wrapped text comes as rows stacked one under another; each row is read on its own and the
rows are joined by spaces. The recogniser reads raw units at the size the writer and the
corpus write (an x-height of about 100), so a picture scaled by hand reads badly.
"""
from __future__ import annotations

import argparse
import itertools
import re
import sys
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from model.base import DataError, Line, run_cli
from model.data import load

SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
# A stroke starts a new row when its middle lies this far below the middle of the row so far
# (in the row's heights) and it begins in the row's left quarter: a carriage return, not a
# dot or a descender.
ROW_DROP = 0.6
ROW_RETURN = 0.25


def svg_line(path: Path) -> Line:
    """The strokes of an SVG's polylines (each one pen-down stroke) as a line in raw units."""
    try:
        root = ElementTree.fromstring(path.read_bytes())
    except ElementTree.ParseError as error:
        raise DataError(f"{path}: line {error.position[0]}, column {error.position[1]}: not an SVG "
                        f"(unreadable XML): give an SVG written by `python -m model.write`") from None
    strokes = []
    for number, polyline in enumerate(root.iter(f"{SVG_NAMESPACE}polyline"), start=1):
        numbers = re.split(r"[\s,]+", polyline.get("points", "").strip())
        try:
            values = np.array([float(value) for value in numbers if value], np.float64)
        except ValueError:
            raise DataError(f"{path}: polyline {number}: its points are not numbers: "
                            f"give x,y pairs like points=\"1,2 3,4\"") from None
        if len(values) < 2 or len(values) % 2 or not np.isfinite(values).all():
            raise DataError(f"{path}: polyline {number}: its points are not whole x,y pairs: "
                            f"give x,y pairs like points=\"1,2 3,4\"")
        strokes.append(values.reshape(-1, 2))
    if not strokes:
        raise DataError(f"{path}: no <polyline> strokes in this SVG: give an SVG written by "
                        "`python -m model.write`")
    xy = np.vstack(strokes)
    pen_up = np.zeros(len(xy), np.float32)
    pen_up[np.cumsum([len(stroke) for stroke in strokes]) - 1] = 1
    offsets = np.diff(xy, axis=0, prepend=xy[:1])
    return Line(np.column_stack([offsets, pen_up]).astype(np.float32), tuple(xy[0]), source=str(path))


def rows(line: Line) -> list[Line]:
    """A line cut into its rows where the pen goes back to the left and down (a wrapped text)."""
    xy = line.absolute()
    ends = np.flatnonzero(line.points[:, 2]) + 1
    starts = np.r_[0, ends[ends < len(xy)]]
    cuts, row_start = [0], 0
    for start in starts[1:]:
        row = xy[row_start:start]
        height = max(np.ptp(row[:, 1]), 1.0)
        stroke_end = ends[ends > start][0] if (ends > start).any() else len(xy)
        stroke = xy[start:stroke_end]
        dropped = np.median(stroke[:, 1]) > (row[:, 1].min() + row[:, 1].max()) / 2 + ROW_DROP * height
        returned = stroke[0, 0] < row[:, 0].min() + ROW_RETURN * np.ptp(row[:, 0])
        if dropped and returned:
            cuts.append(start)
            row_start = start
    bounds = [*cuts, len(xy)]
    parts = []
    for begin, end in itertools.pairwise(bounds):
        points = line.points[begin:end].copy()
        points[0, :2] = 0.0
        parts.append(Line(points, tuple(xy[begin]), source=line.source))
    return parts


def read_line(path: Path) -> Line:
    """The line in a .json or .svg file."""
    suffix = path.suffix.lower()
    if suffix not in (".json", ".svg"):
        raise DataError(f"{path}: not a .json or .svg file: give a line written by `python -m model.write` "
                        "or `python -m model.data`")
    if not path.is_file():
        raise DataError(f"{path}: no such file: check the path")
    line = svg_line(path) if suffix == ".svg" else load(path)[0]
    if not len(line.points):
        raise DataError(f"{path}: the line has no points: give a written line")
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.read", description=__doc__.split("\n\n")[0])
    parser.add_argument("line", help="a line: LINE.json (the project's format) or LINE.svg (from model.write)")
    parser.add_argument("--weights", help="a recogniser folder (default models/recognizer/)")
    args = parser.parse_args(argv)

    def command():
        line = read_line(Path(args.line))
        # TensorFlow is imported only now, so --help and bad files answer at once.
        from model.recognizer import DEFAULT_RECOGNIZER_DIR, load_recognizer

        recognizer = load_recognizer(args.weights or DEFAULT_RECOGNIZER_DIR)
        print(" ".join(text for text in recognizer.read(rows(line)) if text))

    return run_cli(command)


if __name__ == "__main__":
    sys.exit(main())
