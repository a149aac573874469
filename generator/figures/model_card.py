"""The model card (Mitchell et al. 2019, in brief): which model this page runs, trained on
what, its architecture and size, how well it predicts held-out handwriting, and its training
curve as a Vega-Lite chart.

NLL is in nats per point for the density per model unit² (raw offsets ÷ 40), the project's
one convention (model.network.nll_terms, "zero-start": feed [0, 0, 0], then score every
point). Numbers come from the artefact's metrics.json (model.train's log, which build.py passes in
as about["metrics"]) when it has one; otherwise (the original weights) they are measured here
on the lines the article shows by model.evaluate, and cached.

The card speaks to readers: a training source is named in words (`learned_from`), never by its
corpus spec or path. With a text model (build.py --writer, ctx.writer) the card covers it too:
its shape, read from the network itself; the data it learned from (train.json's) and its longest
line; its size; and what
model.evaluate measured of it, as the folder's about.json records it (`measured`: the held-out
NLL beside an unconditional baseline's, the recogniser's character error rate on its writing,
overall and per kind of character, the share of texts it stopped on time, and how often a prime
in one of the corpus's hands kept that hand); a folder that records nothing shows no measures,
and one measured before a measure existed shows the others. A synthetic source's fonts are
named by kind, counted from model.corpus (`hershey_fonts`), which the acknowledgements use too.
"""
from __future__ import annotations

from collections import Counter

import altair as alt
import numpy as np

from generator.figures import Figure
from generator.render import listed, spelled
from model.base import shown_name
from model.corpus import FONT_KINDS, SynthConfig
from model.data import SYNTHETIC_SOURCE
from model.evaluate import evaluate
from model.export import model_config


def parameter_count(model) -> int:
    return int(sum(np.prod(weight.shape) for weight in model.get_weights()))


def training_curve(epochs: list[dict]):
    """Train and validation NLL per epoch, one line each. Hovering anywhere picks the nearest
    epoch (a rule, and a tooltip with both NLLs); clicking a legend entry highlights that
    series (shift-click for both, double-click to reset)."""
    rows = [{"epoch": row["epoch"], "split": split, "nll": row[key]}
            for row in epochs for split, key in (("train", "train_nll"), ("validation", "val_nll"))
            if row.get(key) is not None]
    series = alt.selection_point(name="series", fields=["split"], bind="legend")
    hovered = alt.selection_point(name="hovered", fields=["epoch"], nearest=True, on="pointerover",
                                  clear="pointerout", empty=False)
    epoch_axis = alt.X("epoch:Q", title="epoch", axis=alt.Axis(tickMinStep=1, format="d"))
    base = alt.Chart(alt.Data(values=rows)).encode(x=epoch_axis)
    curves = base.mark_line(point=True).encode(
        y=alt.Y("nll:Q", title="NLL (nats per point)", scale=alt.Scale(zero=False)),
        color=alt.Color("split:N", title=None, scale=alt.Scale(range=["#1a5fb4", "#e66100"])),
        opacity=alt.when(series).then(alt.value(1)).otherwise(alt.value(0.15)),
    ).add_params(series)
    # one row per epoch, so the tooltip shows both NLLs of the epoch under the pointer
    epoch_rule = base.transform_pivot("split", value="nll", groupby=["epoch"]).mark_rule(color="#777").encode(
        opacity=alt.when(hovered).then(alt.value(0.7)).otherwise(alt.value(0)),
        tooltip=[alt.Tooltip("epoch:Q"), alt.Tooltip("train:Q", title="train NLL", format=".4f"),
                 alt.Tooltip("validation:Q", title="validation NLL", format=".4f")],
    ).add_params(hovered)
    # width is the whole chart's (autosize fit): the page refits it to the column
    return alt.layer(curves, epoch_rule).properties(
        width=560, height=240, autosize=alt.AutoSizeParams(type="fit", contains="padding"),
    ).configure_axis(labelFontSize=12, titleFontSize=13).configure_legend(labelFontSize=13)


def duration(seconds: float) -> str:
    """How long training took, in words the card prints: "10 seconds", "4 minutes", "2.5 hours"
    (never "0 minutes" for a short run), each unit until it rounds to 60 of itself."""
    if seconds < 59.5:
        count, unit = float(round(seconds)), "second"
        if count == 0:
            return "under a second"
    elif seconds < 59.5 * 60:
        count, unit = round(seconds / 60), "minute"
    else:
        count, unit = round(seconds / 3600, 1), "hour"
    return f"{count:g} {unit}{'' if count == 1 else 's'}"


def hershey_fonts() -> dict:
    """The synthetic corpus's fonts as the page names them, counted from model.corpus: how many
    (`count`) and of what kinds (`kinds`, "three scripts, a print, a roman and an italic")."""
    def counted(kind: str, count: int) -> str:
        return f"{spelled(count)} {kind}s" if count > 1 else f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"

    kinds = Counter(FONT_KINDS[font] for font in SynthConfig.fonts)  # in the corpus's order
    return {"count": len(SynthConfig.fonts), "kinds": listed(counted(kind, count) for kind, count in kinds.items())}


def learned_from(spec: str) -> str:
    """A training source in a reader's words, to follow "from": never a corpus spec, a module or
    a local path (a folder of the author's own lines by its name)."""
    synthetic = SYNTHETIC_SOURCE.fullmatch(spec)
    if synthetic:
        low, high = synthetic["low"], synthetic["high"]
        fonts = hershey_fonts()
        return (f"synthetic handwriting, written by a program in {spelled(fonts['count'])} of A. V. Hershey’s "
                f"fonts — {fonts['kinds']} — with a pen’s rhythm"
                + (f", in lines of about {low} to {high} characters" if low else ""))
    if spec == "distill":
        return "the original article’s lines of human handwriting"
    if "linestrokes" in spec.lower():
        return "people’s handwriting in the IAM On-Line Handwriting Database"
    return shown_name(spec)


def held_out_from_training(metrics: dict) -> dict | None:
    """Validation NLL of the best epoch (the weights the artefact keeps), from metrics.json."""
    best = [record for record in metrics.get("epochs", []) if record["epoch"] == metrics.get("best_epoch")]
    if not best:
        return None
    return {"nll_per_point": best[0]["val_nll"], "nll_xy": best[0]["val_nll_xy"], "nll_eos": best[0]["val_nll_eos"],
            "points": metrics["val_points"], "lines": metrics["val_lines"], "epoch": best[0]["epoch"]}


def build(ctx) -> list[Figure]:
    metrics = ctx.about.get("metrics", {})
    held_out = held_out_from_training(metrics)
    if held_out is None:
        held_out = ctx.cache.memo("model-card-nll", [], lambda: evaluate(ctx.model, ctx.lines))
        held_out = {**held_out, "measured_on": f"the {held_out['lines']} lines shown in this article"}
    data = {
        "name": ctx.about.get("name", ""),
        "credit": ctx.about.get("credit", ""),
        "architecture": architecture(ctx.config),
        "parameters": parameter_count(ctx.model),
        "held_out": held_out,
        "hershey_fonts": hershey_fonts(),  # the article's acknowledgements name them
        "training": {key: metrics[key] for key in ("train_lines", "train_points", "train_seconds") if key in metrics}
                    | ({"epochs": len(metrics["epochs"])} if metrics.get("epochs") else {})
                    | ({"duration": duration(metrics["train_seconds"])} if "train_seconds" in metrics else {})
                    | {key: shown_name(metrics[key]) for key in ("data", "init") if key in metrics}
                    | ({"learned_from": learned_from(shown_name(metrics["data"]))} if "data" in metrics else {}),
    }
    spec = training_curve(metrics["epochs"]).to_dict() if metrics.get("epochs") else None
    return [Figure("model-card", data=data | {"writer": writer_card(ctx.writer)}, spec=spec)]


def architecture(config) -> dict:
    """A ModelConfig as the card shows it: the network's shape, and a text model's window."""
    shape = {"layers": config.layers, "cells": config.cells, "mixtures": config.mixtures, "outputs": config.outputs}
    return shape | ({"window_mixtures": config.window_mixtures, "alphabet_size": config.alphabet_size}
                    if config.conditional else {})


def writer_card(writer) -> dict | None:
    """The text model's part of the card (module docstring), or None without one."""
    if writer is None:
        return None
    config = model_config(writer.model)
    return {"name": writer.about.get("name", ""), "credit": writer.about.get("credit", ""),
            "architecture": architecture(config),
            "parameters": parameter_count(writer.model), "trained_on": shown_name(writer.trained_on),
            "learned_from": learned_from(shown_name(writer.trained_on)) if writer.trained_on else "",
            "longest_text": writer.longest_text,
            "measured": writer.about.get("measured")}
