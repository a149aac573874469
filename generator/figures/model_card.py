"""The model card (Mitchell et al. 2019, in brief): which model this page runs, trained on
what, its architecture and size, how well it predicts held-out handwriting, and its training
curve as a Vega-Lite chart.

NLL is in nats per point for the density per model unit² (raw offsets ÷ 40), the project's
one convention (model.network.nll_terms, "zero-start": feed [0, 0, 0], then score every
point). Numbers come from the artefact's metrics.json when it has one; otherwise (the
original weights) they are measured here on the lines the article shows, and cached.
"""
from __future__ import annotations

import json
from pathlib import Path

import altair as alt
import numpy as np
from tqdm import tqdm

from generator import precompute
from generator.figures import Figure


def parameter_count(model) -> int:
    return int(sum(np.prod(weight.shape) for weight in model.get_weights()))


def _artefact_metrics(about: dict) -> dict | None:
    source = Path(str(about.get("source", "")))
    if (source / "metrics.json").is_file():
        return json.loads((source / "metrics.json").read_text())
    return about.get("metrics")


def measured_nll(ctx) -> dict:
    """NLL of the model on the article's lines, every point scored from the zero start."""
    from model.network import nll_terms

    total_xy = total_eos = 0.0
    points = 0
    for line in tqdm(ctx.lines, desc="held-out NLL", unit="line", leave=False):
        targets = line.model_inputs()
        nll_xy, nll_eos = nll_terms(ctx.runner.run(precompute.zero_start_inputs(targets)).y, targets)
        total_xy += float(np.sum(nll_xy))
        total_eos += float(np.sum(nll_eos))
        points += len(targets)
    return {"nll_per_point": (total_xy + total_eos) / points, "nll_xy": total_xy / points,
            "nll_eos": total_eos / points, "points": points, "lines": len(ctx.lines)}


def training_curve(epochs: list[dict]):
    """Train and validation NLL per epoch, one line each."""
    rows = [{"epoch": row["epoch"], "split": split, "nll": row[key]}
            for row in epochs for split, key in (("train", "train_nll"), ("validation", "val_nll"))
            if row.get(key) is not None]
    return alt.Chart(alt.Data(values=rows)).mark_line(point=True).encode(
        x=alt.X("epoch:Q", title="epoch", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("nll:Q", title="NLL (nats per point)", scale=alt.Scale(zero=False)),
        color=alt.Color("split:N", title=None, scale=alt.Scale(range=["#1a5fb4", "#e66100"])),
        tooltip=["epoch:Q", "split:N", alt.Tooltip("nll:Q", format=".4f")],
    ).properties(width="container", height=220)


def build(ctx) -> list[Figure]:
    metrics = _artefact_metrics(ctx.about) or {}
    held_out = metrics.get("held_out") or metrics.get("test")
    if not held_out:
        held_out = ctx.cache.memo("model-card-nll", [], lambda: measured_nll(ctx))
        held_out = {**held_out, "measured_on": f"the {held_out['lines']} lines shown in this article"}
    data = {
        "name": ctx.about.get("name", ""),
        # a local folder is named, not located: the page must not depend on where it was built
        "source": Path(source).name if Path(source := str(ctx.about.get("source", ""))).exists() else source,
        "credit": ctx.about.get("credit", ""),
        "architecture": {"layers": ctx.config.layers, "cells": ctx.config.cells,
                         "mixtures": ctx.config.mixtures, "outputs": ctx.config.outputs},
        "parameters": parameter_count(ctx.model),
        "held_out": held_out,
        "training": {key: value for key, value in metrics.items() if key not in ("epochs", "held_out", "test")},
    }
    epochs = metrics.get("epochs") or []
    spec = training_curve(epochs).to_dict() if epochs else None
    return [Figure("model-card", data=data, spec=spec)]
