"""`write-anything`: the reader types, the text model writes it (Graves 2013, section 5).

The page runs the synthesis network (templates/js/writer-model.js, in the model worker) on
the export in site/writer/ and draws the points as they are sampled, with the soft window's
weights over the characters beneath (Graves's figure 13). The build gives only the settings:
the default sentence, the bias, how texts are cut into rows, the alphabet, so the page names
the characters it skips before the model has even loaded, and the hands a writer trained with
hands can be told, for the hand picker. No figure without --writer.
"""
from __future__ import annotations

from dataclasses import dataclass

from generator.figures import Figure
from model.base import shown_name
from model.corpus import HAND_LABELS
from model.text_network import POINTS_PER_CHARACTER, window_cell


@dataclass
class WriteAnythingConfig:
    text: str = "Write what you like, in your own words!"
    bias: float = 1.0  # Graves's section 5.4: 0 samples the model as trained, higher is neater
    # Rows hold as many characters as fit the box at `scale`, at most the longest lines the model
    # learned (its metrics' longest_text; this for a model that doesn't say).
    row_chars: int = 12
    # Width of its writing per character (model units), for models whose metrics don't say: the
    # synthetic corpus's median, as model.train measures it (units_per_character).
    units_per_character: float = 4.8
    max_chars: int = 200
    # CSS pixels per model unit, less when a row would not fit the width: at 4.7 the 896 px a
    # 960 px figure leaves for ink holds 39 characters (a 38-character sentence in one row).
    scale: float = 4.7
    row_units: float = 16.0  # model units per row: the corpus's tallest lines are about 13


def build(ctx) -> list[Figure]:
    if ctx.writer is None:
        return []
    config = WriteAnythingConfig()
    metrics = ctx.writer.about.get("metrics", {})
    return [Figure("write-anything", data={
        "text": config.text, "bias": config.bias, "rowChars": ctx.writer.longest_text or config.row_chars,
        "unitsPerCharacter": metrics.get("units_per_character", config.units_per_character),
        "maxChars": config.max_chars,
        "scale": config.scale, "rowUnits": config.row_units, "seed": ctx.seed, "alphabet": ctx.writer.alphabet.chars,
        "pointsPerCharacter": POINTS_PER_CHARACTER, "corpus": corpus(ctx.writer.trained_on),
        "hands": [{"name": hand, "label": HAND_LABELS.get(hand, hand)}
                  for hand in window_cell(ctx.writer.model).hands]})]


def corpus(trained_on: str) -> str:
    """What the page says the text model learned from: 'synthetic' (the article words it), the
    lines' source as the page names it (never a local path), or '' when unknown."""
    if trained_on.startswith("synthetic"):
        return "synthetic"
    return shown_name(trained_on) if trained_on else ""
