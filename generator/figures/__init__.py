"""The article's figures: what a figure module gets, what it returns, and finding them all.

Every module in this package exposes `build(ctx: BuildContext) -> list[Figure]` (DESIGN.md,
"Figures"). The build imports each module it finds here, so adding a figure is adding a file;
its markup is templates/partials/<name>.html.j2 and its page script
templates/js/figures/<name>.js, which the article picks up by name.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.base import DataError, read_record
from model.data import CONFIG_NAME, longest_text

# Where each figure sits in the article (templates/article.html.j2 places them by these names).
FIGURE_NAMES = ("continue", "writes", "write-anything", "possibilities", "cells", "cells-sorted", "cells-live",
                "model-card")


@dataclass
class Figure:
    """One figure's build output.

    data: small and JSON-able, inlined into the page so the default view shows at once.
    files: path under site/data/<name>/ -> JSON-able data the page fetches on demand.
    spec: a Vega-Lite spec (Altair `chart.to_dict()`): drawn into SVG at build time, then live in
    the page (templates/js/charts.js).
    """

    name: str
    data: Any = None
    files: dict[str, Any] = field(default_factory=dict)
    spec: dict | None = None


def line_label(line, index: int) -> str:
    """How the pickers name ctx.lines[index]: by its source file's number when it has one, so
    every figure calls a line the same, and by its text when known."""
    name = line.source.rsplit("/", 1)[-1].removesuffix(".json") if line.source else ""
    label = f"line {name}" if name.isdigit() else f"line {index + 1}"
    return label + (f": “{line.text}”" if line.text else "")


# How the page names the lines it shows, by what they are (`lines_kind`): every sentence that
# names the data takes its words from here, so an offline build never calls its lines human.
LINE_WORDS = {
    "human": {"kind": "human", "a_line": "a line of human handwriting", "lines": "human handwriting",
              "picker": "Human line"},
    "synthetic": {"kind": "synthetic", "a_line": "a line of synthetic handwriting",
                  "lines": "synthetic handwriting", "picker": "Synthetic line"},
    "": {"kind": "", "a_line": "a line of handwriting", "lines": "handwriting", "picker": "Line"},
}


# An IAM-OnDB line's name (a01-000u-01), kept by `model.data convert` (model.data.line_names,
# which may put the line's position before it or a -2 after it).
IAM_LINE = re.compile(r"(\d+-)?[a-z]\d\d-\d{3}[a-z]?-\d\d(-\d+)?")


def _source_kind(source: str, followed: frozenset[Path] = frozenset()) -> str:
    """'human', 'synthetic' or '' for one source as model.data.load names it (and, for a line
    file, as the _config.json beside it says; `followed`: those read so far, never read twice)."""
    if source == "distill" or source.startswith("distill:") or source.lower().endswith(".xml"):
        return "human"  # the original article's lines, or IAM-OnDB's (XML, in a folder or archive)
    if source.startswith("synthetic"):
        return "synthetic"
    path = Path(source)
    described = (path.parent / CONFIG_NAME).resolve()  # lines written by `model.data synth` or `convert`
    read = path.suffix == ".json" and described.is_file() and described not in followed
    stage = read_record(described, {"stage?": str, "source?": str}, "write the lines again with model.data, "
                        "or remove it", DataError) if read else {}
    if stage.get("stage") == "synth":
        return "synthetic"
    converted = _source_kind(stage.get("source", ""), followed | {described}) if stage.get("stage") == "convert" else ""
    # a converted IAM-OnDB folder or archive says nothing of its kind, but its lines keep IAM's names
    return converted or ("human" if path.suffix == ".json" and IAM_LINE.fullmatch(path.stem) else "")


def lines_kind(lines) -> str:
    """What the shown lines are, from where they came: 'human', 'synthetic', or '' when their
    source does not say (a folder of someone's own lines) or they are mixed."""
    kinds = {_source_kind(line.source) for line in lines}
    return kinds.pop() if len(kinds) == 1 else ""


@dataclass
class TextModel:
    """The text-conditional model (model.text_network) the write-anything figure runs: the tf-keras
    model, its model.alphabet.Alphabet, what model.weights.load_model said about it, and the
    data it was trained on (train.json's `data`; '' when unknown)."""

    model: Any
    alphabet: Any
    about: dict
    trained_on: str = ""

    @property
    def longest_text(self) -> int | None:
        """The most characters of a line it learned from: what model.train recorded in its
        metrics, else the synthetic corpus's chars=LOW-HIGH; None when neither says."""
        return longest_text(self.about.get("metrics", {}), self.trained_on)


@dataclass
class BuildContext:
    """What every figure module may use: the model and its description, the lines, the seed.

    model: the tf-keras model; config: its model.network.ModelConfig; about: what
    model.weights.load_model said about it (source, metrics, ...); lines: the human (or
    synthetic) lines the figures show; seed: the build's seed (derive, don't reuse blindly);
    cache: generator.cache.Cache, for anything that runs the model; writer: the TextModel of
    the build's --writer, or None when the page leaves that section out.
    """

    model: Any
    config: Any
    about: dict
    lines: list
    seed: int
    cache: Any
    data_source: str = ""
    writer: TextModel | None = None

    @functools.cached_property
    def words(self) -> dict:
        """LINE_WORDS for the shown lines: how the page names them."""
        return LINE_WORDS[lines_kind(self.lines)]

    @functools.cached_property
    def runner(self):
        """One model.network.Runner per build (it compiles a trace model and a sampling graph)."""
        from model.network import Runner

        return Runner(self.model)


def modules() -> list:
    """Every figure module in this package, in name order (the build's order is fixed)."""
    return [importlib.import_module(f"{__name__}.{info.name}")
            for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name)
            if not info.name.startswith("_")]


def build_all(ctx: BuildContext, progress=print) -> list[Figure]:
    """Build every figure; names must be known and unique, so each has its place in the article."""
    figures: list[Figure] = []
    for module in modules():
        started = time.perf_counter()
        built = module.build(ctx)
        progress(f"  {module.__name__.rsplit('.', 1)[-1]}: {', '.join(figure.name for figure in built)} "
                 f"({time.perf_counter() - started:.1f} s)")
        for figure in built:
            if figure.name not in FIGURE_NAMES:
                raise ValueError(f"{module.__name__}: unknown figure name {figure.name!r}; "
                                 f"use one of {', '.join(FIGURE_NAMES)}")
            if any(other.name == figure.name for other in figures):
                raise ValueError(f"{module.__name__}: figure {figure.name!r} is built twice")
            figures.append(figure)
    return figures
