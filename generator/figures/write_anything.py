"""`write-anything`: the reader types, the text model writes it (Graves 2013, section 5).

The page runs the synthesis network (templates/js/writer-model.js, in the model worker) on
the export in site/writer/ and draws the points as they are sampled, with the soft window's
weights over the characters beneath (Graves's figure 13). The build gives only the settings:
the default sentence, the bias, how texts are cut into rows, and the alphabet, so the page
names the characters it skips before the model has even loaded. No figure without --writer.
"""
from __future__ import annotations

from dataclasses import dataclass

from generator.figures import Figure
from model.base import shown_name
from model.synthesis import POINTS_PER_CHARACTER


@dataclass
class WriteAnythingConfig:
    # Short words the corpus (model/words.txt) has: the model learned lines of 3 to 12 characters.
    text: str = "write what you like"
    bias: float = 1.0  # Graves's section 5.4: 0 samples the model as trained, higher is neater
    row_chars: int = 12  # longer texts are written in rows of at most this many characters
    max_chars: int = 200
    scale: float = 7.0  # CSS pixels per model unit, less when a row would not fit the width
    row_units: float = 16.0  # model units per row: the corpus's tallest lines are about 13


def build(ctx) -> list[Figure]:
    if ctx.writer is None:
        return []
    config = WriteAnythingConfig()
    return [Figure("write-anything", data={
        "text": config.text, "bias": config.bias, "rowChars": config.row_chars, "maxChars": config.max_chars,
        "scale": config.scale, "rowUnits": config.row_units, "seed": ctx.seed, "alphabet": ctx.writer.alphabet.chars,
        "pointsPerCharacter": POINTS_PER_CHARACTER, "corpus": corpus(ctx.writer.trained_on)})]


def corpus(trained_on: str) -> str:
    """What the page says the text model learned from: 'synthetic' (the article words it), the
    lines' source as the page names it (never a local path), or '' when unknown."""
    if trained_on.startswith("synthetic"):
        return "synthetic"
    return shown_name(trained_on) if trained_on else ""
